#!/usr/bin/env python3
"""Writes the CPA-005 sample files in this folder (synthetic, made for this project).

Run from this folder: python3 make_samples.py
"""

RECORD_LEN = 1464


def put(buf, pos, text):
    """Writes text (str -> Windows-1252, or bytes) at 1-based position pos."""
    data = text.encode("cp1252") if isinstance(text, str) else text
    buf[pos - 1 : pos - 1 + len(data)] = data


# American Express Canada's own institution id and account: the payee of every credit below,
# the originator's account for returns of every debit.
OUR_NAME, OUR_SHORT_NAME = "AMERICAN EXPRESS CANADA", "AMEX CANADA"
OUR_INST, OUR_ACCOUNT = "000300011", "1000017"


def segment(kind, amount_cents, date, inst, account, trace, name, xref="", sundry="", original="", invalid=""):
    """One 240-byte segment of a `kind` record. `name`, `inst` and `account` are the payer's.

    By the standard, 20-40 and 81-110 are the payee's for a credit (who receives the money: us)
    and the payor's for a debit; the originator's names are at 66-80 and 111-140 and its account
    for returns at 170-190. So in a credit-family record (C, E, I) the payer is the originator,
    and in a debit-family record (D, F, J) the payer is the payor and we are the originator.
    """
    s = bytearray(b" " * 240)
    put(s, 1, "450")
    put(s, 4, f"{amount_cents:010d}")
    put(s, 14, date)
    put(s, 41, trace)
    put(s, 63, "000")
    if kind in "CEI":
        put(s, 20, OUR_INST)  # institution id of the payee
        put(s, 29, OUR_ACCOUNT)  # payee account no.
        put(s, 66, name[:15])  # originator's short name
        put(s, 81, OUR_NAME)  # payee name
        put(s, 111, name)  # originator's long name
        put(s, 170, inst)  # institution id for returns
        put(s, 179, account)  # account no. for returns
    else:
        put(s, 20, inst)  # institution id of the payor
        put(s, 29, account)  # payor account no.
        put(s, 66, OUR_SHORT_NAME)  # originator's short name
        put(s, 81, name)  # payor name
        put(s, 111, OUR_NAME)  # originator's long name
        put(s, 141, "AMEXCA0001")  # originating direct clearer's user id
        put(s, 170, OUR_INST)  # institution id for returns
        put(s, 179, OUR_ACCOUNT)  # account no. for returns
    put(s, 151, xref)
    put(s, 191, sundry)
    put(s, 206, original)  # E/F/I/J: the original item's trace number
    put(s, 230, invalid)  # I/J: invalid data element id (why it was returned)
    assert len(s) == 240, name
    return bytes(s)


def header(originator, file_no, date, currency, full):
    h = bytearray(b" " * (RECORD_LEN if full else 58))
    put(h, 1, "A000000001")
    put(h, 11, originator)
    put(h, 21, file_no)
    put(h, 25, date)
    put(h, 31, "00310")
    put(h, 56, currency)
    return bytes(h)


def detail(kind, number, originator, file_no, segments):
    return f"{kind}{number:09d}{originator}{file_no}".encode() + b"".join(segments)


def trailer(number, originator, file_no, segs_c, segs_d):
    debit = sum(a for a in segs_d)
    credit = sum(a for a in segs_c)
    z = bytearray(b" " * RECORD_LEN)
    put(z, 1, f"Z{number:09d}{originator}{file_no}")
    put(z, 25, f"{debit:014d}{len(segs_d):08d}{credit:014d}{len(segs_c):08d}")
    put(z, 69, "0" * 44)
    return bytes(z)


def rbc():
    """Routing line, CRLF, CAD header, a full C record and a short D record."""
    org, fno, day = "0003012345", "0117", "026074"
    trace = lambda n: f"000301234{n:013d}"
    credits = [
        (25000, "000300011", "5012345", "Tremblay Jean", "3726 018159 08301", ""),
        (7550, "081530012", "0423178", "Côté Marie-Ève", "346613186091396", ""),
        (12000, "000600432", "1187654", "Bélanger François", "3499 6030 8246 284", ""),
        (150000, "000200451", "8807112", "Gagnon Holdings Inc.", "349482199351818", "FACTURE 2291"),
        (500000, "001000077", "64021987", "Lévesque Construction Ltée", "3493-786579-75439", ""),
        (4217, "000400190", "3319045", "Roy Sylvie", "", "PAIEMENT CARTE"),
    ]
    debits = [(1999, "000300011", "5012345", "Tremblay Jean", "3726 018159 08301", "RAPPEL PAIEMENT")]
    segs_c = [segment("C", a, "026073", i, acc, trace(n + 1), nm, x, s) for n, (a, i, acc, nm, x, s) in enumerate(credits)]
    segs_d = [segment("D", a, "026074", i, acc, trace(n + 7), nm, x, s) for n, (a, i, acc, nm, x, s) in enumerate(debits)]
    records = [
        header(org, fno, day, "CAD", full=True),
        detail("C", 2, org, fno, segs_c),
        detail("D", 3, org, fno, segs_d),  # short last detail record: one segment
        trailer(4, org, fno, [c[0] for c in credits], [d[0] for d in debits]),
    ]
    with open("cpa005-rbc-20260315.txt", "wb") as f:
        f.write(b"$$AAPACPA1464[PROD[NL$$\r\n")
        for r in records:
            f.write(r + b"\r\n")


def desjardins():
    """LF, 58-byte header with blank currency, one short C record of five segments."""
    org, fno, day = "0815054321", "0008", "026075"
    trace = lambda n: f"081530001{n:013d}"
    credits = [
        (6000, "081530012", "0423178", "COTE MARIE-EVE", "3466 131860 91396", ""),
        (30000, "081530045", "0098112", "Tremblay Jean", "372601815908301", ""),
        (275025, "081530101", "0550731", "Lévesque Construction Ltée", "3493 786579 75439", "FACT 2026-031"),
        (8500, "081530012", "0771204", "Ouellet Gaétan", "MERCI", ""),
        (4000, "081530088", "0310045", "Bélanger François", "349960308246284", ""),
    ]
    segs_c = [segment("C", a, "026075", i, acc, trace(n + 1), nm, x, s) for n, (a, i, acc, nm, x, s) in enumerate(credits)]
    records = [
        header(org, fno, day, "   ", full=False),
        detail("C", 2, org, fno, segs_c),
        trailer(3, org, fno, [c[0] for c in credits], []),
    ]
    with open("cpa005-desjardins-20260316.txt", "wb") as f:
        for r in records:
            f.write(r + b"\n")


def returns():
    """Returns and reversals of the RBC file's items (same originator, a later file number).

    An I (returned credit) of its first credit, 250.00 to the card ending 8301, which the demo
    posted, so it is reversed; an E (credit reversal) of its 42.17 credit, which went to research,
    so nothing was posted and the reversal goes to research too. The trailer counts I with the
    credits (47-68) and E in its own fields (69-90).
    """
    org, fno, day = "0003012345", "0118", "026077"
    original = lambda n: f"000301234{n:013d}"
    own = lambda n: f"000301234{n + 500:013d}"
    i_seg = segment("I", 25000, day, "000300011", "5012345", own(1), "Tremblay Jean", "", "COMPTE FERME",
                    original(1), "00000000903")
    e_seg = segment("E", 4217, day, "000400190", "3319045", own(2), "Roy Sylvie", "", "", original(6))
    z = bytearray(trailer(4, org, fno, [25000], []))
    put(z, 69, f"{4217:014d}{1:08d}")
    records = [
        header(org, fno, day, "CAD", full=True),
        detail("I", 2, org, fno, [i_seg]),
        detail("E", 3, org, fno, [e_seg]),
        bytes(z),
    ]
    with open("cpa005-returns-20260318.txt", "wb") as f:
        for r in records:
            f.write(r + b"\r\n")


def pad():
    """A pre-authorized debit (PAD) file WE originate (originator id 0003099001, ours in
    config/remit.toml `own.CA.originator_ids`) and, a week later, its returns.

    Each D segment debits a cardmember's bank account (payor: 20-40 and 81-110) for the card in
    the cross-reference (151-169); we are the originator (66-80, 111-140, account for returns at
    170-190). The returns file holds one J (returned debit) of the second collection, NSF, with
    the original item's trace number at 206-227. Written to ../pad/, which the demo does not
    ingest: whether these are collections is configuration (`own.CA.collect_debits`), and the
    tests read them both ways.
    """
    org, day = "0003099001", "026079"
    trace = lambda n: f"000300011{n:013d}"
    debits = [
        (25000, "000300011", "5012345", "Tremblay Jean", "372601815908301"),
        (7550, "081530012", "0423178", "Cote Marie-Eve", "346613186091396"),
        (12000, "000600432", "1187654", "Belanger Francois", "349960308246284"),
    ]
    segs_d = [segment("D", a, day, i, acc, trace(900 + n), nm, x) for n, (a, i, acc, nm, x) in enumerate(debits)]
    records = [
        header(org, "0201", day, "CAD", full=True),
        detail("D", 2, org, "0201", segs_d),
        trailer(3, org, "0201", [], [d[0] for d in debits]),
    ]
    with open("../pad/cpa005-pad-collections-20260320.txt", "wb") as f:
        for r in records:
            f.write(r + b"\r\n")
    back = "026086"
    a, i, acc, nm, x = debits[1]
    j = segment("J", a, back, i, acc, trace(950), nm, x, "", trace(901), "00000000900")
    records = [
        header(org, "0202", back, "CAD", full=True),
        detail("J", 2, org, "0202", [j]),
        trailer(3, org, "0202", [], [a]),
    ]
    with open("../pad/cpa005-pad-returns-20260327.txt", "wb") as f:
        for r in records:
            f.write(r + b"\r\n")


if __name__ == "__main__":
    rbc()
    desjardins()
    returns()
    pad()
