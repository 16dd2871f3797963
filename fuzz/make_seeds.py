#!/usr/bin/env python3
"""Writes the issue-17 seeds of the fuzz corpus (fuzz/corpus/<target>/issue17-*): small files
holding the hostile cases the fuzzers did not reach by themselves, each a miniature of a case
measured in the issue. `cargo test` replays them (shared/formats/tests/fuzz_corpus.rs, and
shared/formats/tests/fuzz_structured.rs for the structured targets). Run from anywhere:

    python3 fuzz/make_seeds.py

Deterministic: running it again rewrites the same bytes.
"""

import gzip
import io
import os
import re

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")

# Decimal::MAX, and the largest amount with two decimals (two of them overflow any sum).
MAX = "79228162514264337593543950335"
TOP = "792281625142643375935439503.35"
NEAR_MAX = "79228162514264337593543950"  # 26 digits: two decimals still fit
INR_28 = "1234567890123456789012345678"  # 28 digits: its paise do not fit
LONG = 70 * 1024  # past the 64 KiB field and line limits


def sample(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def write(target, name, data, issue=17):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "issue%d-%s" % (issue, name)), "wb") as f:
        f.write(data)


def gz(data):
    """Gzip without a timestamp or file name, so the bytes are the same on every run."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as g:
        g.write(data)
    return out.getvalue()


def cr_only(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def lf_only(data):
    return data.replace(b"\r\n", b"\n")


# India e-collect CSV ------------------------------------------------------------------------
CSV = sample("samples/in/india_ecollect_mis_20261121.csv")
CSV_HEADER = CSV.split(b"\n")[0] + b"\n"
ROW = b'%d,HDFCN2632501234%d,AMEX0100012345,Priya Venkataraman,50100234567890,HDFC0001234,"%s",21-11-2026,NEFT,%s\n'


def india_csv(amounts, narration=b"AMEX CARD PAYMENT", total=None):
    rows = b"".join(ROW % (i + 1, i, a.encode(), narration) for i, a in enumerate(amounts))
    total = total if total is not None else amounts[0]
    return CSV_HEADER + rows + b'Total,,,,,,"%s",,,\n' % total.encode()


write("india_csv", "two-amounts-near-max.csv", india_csv([TOP, TOP], total=TOP))
write("india_csv", "decimal-max.csv", india_csv([MAX]))
# A hundred of the largest two-decimal amounts: their sum passes Decimal::MAX.
write("india_csv", "sum-past-decimal-max.csv", india_csv([TOP] * 101, total=TOP))
write("india_csv", "inr-28-digits.csv", india_csv([INR_28]))
write("india_csv", "above-max-payment.csv", india_csv(["20000000000.00"]))
write("india_csv", "cr-only.csv", cr_only(CSV))
write("india_csv", "crlf.csv", CSV.replace(b"\n", b"\r\n"))
write("india_csv", "nul-and-escape-in-fields.csv",
      CSV.replace(b"Priya Venkataraman", b"Priya\x00Venkataraman").replace(b"Amex bill", b"Amex\x1b[31m bill"))
write("india_csv", "long-field.csv", india_csv(["45,000.00"], narration=b"A" * LONG, total="45,000.00"))
write("india_csv", "leading-zeros.csv", india_csv(["0" * 60000 + "45,000.00"], total="45,000.00"))
write("india_csv", "blank-lines.csv", CSV_HEADER + b"\n" * 20000 + india_csv(["1.00"])[len(CSV_HEADER):])

# India e-collect JSON -----------------------------------------------------------------------
JSON = sample("samples/in/india_ecollect_alerts_20261121.json")


def alert(amount, name="Priya Venkataraman", extra=""):
    return ('{"Alert Sequence No": "000000104571", "Virtual Account": "AMEX0100012345", '
            '"Account Number": "000405099999", "Debit Credit": "C", "Mnemonic Code": "NEFT", '
            '"Transaction Amount": %s, "Value Date": "21-11-2026 10:42:17", "Remitter Name": "%s", '
            '"User Reference Number": "HDFCN26325054321", "Currency": "INR"%s}' % (amount, name, extra))


def india_json(*alerts):
    return ('{"GenericCorporateAlertRequest": [%s]}\n' % ", ".join(alerts)).encode()


write("india_json", "two-amounts-near-max.json", india_json(alert('"%s"' % TOP), alert(TOP)))
write("india_json", "decimal-max.json", india_json(alert(MAX)))
write("india_json", "inr-28-digits.json", india_json(alert('"%s"' % INR_28)))
write("india_json", "deep.json", india_json(alert('"1.00"', extra=', "x": ' + "[" * 20000 + "]" * 20000)))
write("india_json", "long-string.json", india_json(alert('"1.00"', name="A" * LONG)))
write("india_json", "long-key.json", india_json(alert('"1.00"', extra=', "%s": 1' % ("k" * LONG))))
write("india_json", "nul-and-escape.json", india_json(alert('"1.00"', name="Priya\\u0000V\\u001b[31m")))
write("india_json", "many-keys.json",
      india_json(alert('"1.00"', extra="".join(', "k%d": %d' % (i, i) for i in range(5000)))))
write("india_json", "cr-only.json", cr_only(JSON))
write("india_json", "leading-zeros.json", india_json(alert('"%s1.00"' % ("0" * 60000))))

# MT940 --------------------------------------------------------------------------------------
MT940 = sample("samples/eu/mt940-abn-two-statements.sta")


def mt940(lines86=None, amount="150,00", opening="1000,00", closing="1150,00", second=None):
    body = [":20:STARTUMSE", ":25:10020030/1234567", ":28C:00001/001", ":60F:C261120EUR" + opening,
            ":61:2611201120CR%sNTRFNONREF//B1" % amount]
    body += lines86 or [":86:166?20RF06AMX4412001?32MULLER"]
    if second:
        body += [":61:2611201120CR%sNTRFNONREF//B2" % second, ":86:166?20SECOND"]
    body += [":62F:C261120EUR" + closing, "-"]
    return ("\r\n".join(body) + "\r\n").encode("latin-1")


write("mt940", "long-86.sta", mt940([":86:166?20"] + ["X" * 65] * (LONG // 65)))
write("mt940", "long-line.sta", mt940([":86:" + "X" * LONG]))
write("mt940", "nul-in-amount.sta", mt940(amount="15\x000,00"))
write("mt940", "escape-in-86.sta", mt940([":86:166?20RF06AMX4412001?32MUL\x1b[31mLER\x00"]))
write("mt940", "amounts-near-max.sta",
      mt940(amount=NEAR_MAX + ",00", second=NEAR_MAX + ",00", opening="0,00", closing=NEAR_MAX + ",00"))
write("mt940", "balance-max.sta", mt940(opening=MAX + ",00", closing=MAX + ",00"))
write("mt940", "cr-only.sta", cr_only(MT940))
write("mt940", "lf-only.sta", lf_only(MT940))

# MT942 (issue 13) -----------------------------------------------------------------------------
def mt942(lines, totals=(":90C:2EUR1320,00",), head=(":34F:EURD0,", ":34F:EURC0,", ":13D:2611201100+0100")):
    body = [":20:INTRA2611201100", ":25:NL91ABNA0417164300", ":28C:00322/1"] + list(head)
    body += lines + list(totals) + ["-"]
    return ("\r\n".join(body) + "\r\n").encode("latin-1")


LINES = [":61:2611201120C820,00NTRFNONREF//COBA26112000001", ":86:166?20RF06AMX4412001?32MUELLER",
         ":61:2611201120C500,00NTRFNONREF//COBA26112000002", ":86:166?20RF76AMX4412002?32ROSSI"]
write("mt942", "two-credits.sta", mt942(LINES), issue=13)
write("mt942", "totals-disagree.sta", mt942(LINES, totals=(":90D:0EUR0,", ":90C:2EUR1320,01")), issue=13)
write("mt942", "no-bank-reference.sta", mt942([":61:2611201120C42,00NTRFNONREF", ":86:X"], totals=()), issue=13)
write("mt942", "repeated-reference.sta", mt942(LINES[:2] * 2, totals=(":90C:2EUR1640,00",)), issue=13)
write("mt942", "february-30.sta", mt942([":61:260230C1,00NTRFNONREF//B1"], totals=()), issue=13)
write("mt942", "mixed-with-balance.sta",
      mt942(LINES, head=(":34F:EURD0,", ":60F:C261119EUR1,00", ":13D:2611201100+0100")), issue=13)
write("mt942", "no-comma-totals.sta", mt942([], totals=(":90D:0EUR0", ":90C:0EUR0")), issue=13)
write("mt942", "then-statement.sta", mt942(LINES) + MT940, issue=13)

# camt.054 -----------------------------------------------------------------------------------
CAMT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>CBK20261123-0004</MsgId><CreDtTm>2026-11-23T09:15:00+01:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>CBK20261123-0004-N1</Id>
      <CreDtTm>2026-11-23T09:15:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE62370400440532013777</IBAN></Id><Ccy>EUR</Ccy></Acct>
"""
CAMT_TAIL = """    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def entry(amount, n=1, name="Luca Rossi", ustrd="RF06AMX4412001", attrs="", inner="", ccy="EUR"):
    return """      <Ntry>
        <Amt Ccy="%s"%s>%s</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-23</Dt></BookgDt>
        <ValDt><Dt>2026-11-22</Dt></ValDt>
        <AcctSvcrRef>CBK261123000040%d</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-%d</EndToEndId></Refs>
          <Amt Ccy="%s">%s</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties><Dbtr><Pty><Nm>%s</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>%s</Ustrd>%s</RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
""" % (ccy, attrs, amount, n, n, ccy, amount, name, ustrd, inner)


def camt(*entries):
    return (CAMT_HEAD + "".join(entries) + CAMT_TAIL).encode("utf-8")


write("camt054", "two-entries-near-max.xml", camt(entry(TOP, 1), entry(TOP, 2)))
write("camt054", "decimal-max.xml", camt(entry(MAX, 1)))
write("camt054", "two-entries-decimal-max-jpy.xml", camt(entry(MAX, 1, ccy="JPY"), entry(MAX, 2, ccy="JPY")))
write("camt054", "28-digit-amount.xml", camt(entry(INR_28, 1)))
write("camt054", "deep.xml", camt(entry("1.00", inner="<X>" * 5000 + "</X>" * 5000)))
write("camt054", "many-attributes.xml",
      camt(entry("1.00", attrs="".join(' a%d="%d"' % (i, i) for i in range(5000)))))
write("camt054", "duplicate-attributes.xml", camt(entry("1.00", attrs=' Ccy="EUR"' * 200)))
write("camt054", "long-tag.xml", camt(entry("1.00", inner="<%s/>" % ("T" * (20 * 1024)))))
write("camt054", "long-text-no-lt.xml", camt(entry("1.00", ustrd="x" * LONG)))
write("camt054", "control-char-refs.xml", camt(entry("1.00", name="Luca&#0;Rossi&#27;[31m")))
write("camt054", "raw-nul-and-escape.xml", camt(entry("1.00", name="Luca\x00Rossi\x1b[31m")))
write("camt054", "cr-only.xml", cr_only(camt(entry("225.00", 1), entry("10.00", 2))))

# Issue 13: the same reader reads camt.052 intraday reports, Documents inside envelopes, and
# entries without dates or with dates no calendar has.
def intraday(*entries):
    text = camt(*entries).decode("utf-8")
    text = text.replace("BkToCstmrDbtCdtNtfctn", "BkToCstmrAcctRpt").replace("Ntfctn>", "Rpt>")
    return text.replace("camt.054.001", "camt.052.001").encode("utf-8")


def undated(data):
    return re.sub(rb"<(BookgDt|ValDt)>.*?</\1>", b"", data, flags=re.S)


write("camt054", "camt052-booked-and-pending.xml",
      intraday(entry("120.00", 1), entry("75.00", 2).replace("<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>")), issue=13)
write("camt054", "envelope-apphdr.xml",
      b'<BizMsgEnvlp><AppHdr><BizMsgIdr>B1</BizMsgIdr><MsgDefIdr>camt.054.001.08</MsgDefIdr>'
      b'<CreDt>2026-11-23T09:15:00Z</CreDt></AppHdr>'
      + camt(entry("1.00")).split(b"?>", 1)[-1] + b"</BizMsgEnvlp>", issue=13)
write("camt054", "undated-entries.xml", undated(camt(entry("1.00", 1), entry("2.00", 2))), issue=13)
write("camt054", "february-30.xml", camt(entry("1.00")).replace(b"2026-11-22", b"2026-02-30"), issue=13)

# CPA-005 ------------------------------------------------------------------------------------
RBC = sample("samples/ca/cpa005-rbc-20260315.txt")
write("cpa005", "cr-only.txt", cr_only(RBC))
write("cpa005", "lf-only.txt", lf_only(RBC))
write("cpa005", "no-line-ends.txt", RBC.replace(b"\r\n", b""))
first_c = RBC.index(b"\nC") + 1
name_at = first_c + 24 + 110  # the first segment's originator long name (111-140)
write("cpa005", "nul-and-escape-in-name.txt", RBC[:name_at] + b"JEAN\x00TREM\x1b[31m" + RBC[name_at + 14:])

# Detection and unwrapping -------------------------------------------------------------------
half = len(CSV) // 2
write("detect", "gzip-two-members.csv.gz", gz(CSV[:half]) + gz(CSV[half:]))
write("detect", "gzip-two-members-camt.xml.gz", gz(camt(entry("1.00"))[:300]) + gz(camt(entry("1.00"))[300:]))
write("detect", "gzip-bomb-small.csv.gz", gz(CSV_HEADER + b"\n" * (16 << 20)))
write("detect", "gzip-bomb-small-86.sta.gz", gz(mt940([":86:" + "X" * (16 << 20)])))
write("detect", "gzip-of-gzip.gz", gz(gz(CSV)))
write("detect", "cr-only.csv", cr_only(CSV))

# Bank profiles: the first byte picks the profile (fuzz/src/lib.rs) -----------------------------
MIS_A = open(os.path.join(CORPUS, "profile", "sample-2"), "rb").read()[1:]
MIS_B = open(os.path.join(CORPUS, "profile", "sample-3"), "rb").read()[1:]
ALERT = open(os.path.join(CORPUS, "profile", "sample-4"), "rb").read()[1:]
BILLPAY = open(os.path.join(CORPUS, "profile", "sample-0"), "rb").read()[1:]
mis_a_rows = MIS_A.split(b"\n")
mis_a_big = [mis_a_rows[0]] + [
    b'%d,HDFCN2632501234%d,AMEX0100012345,Priya,50100234567890,HDFC0001234,"%s",21/11/2026,NEFT,x' % (i, i, TOP.encode())
    for i in range(1, 102)
] + [b'Total,,,,,,"%s",,,' % TOP.encode(), b""]
write("profile", "csv-amounts-near-max", b"\x02" + b"\n".join(mis_a_big))
write("profile", "csv-cr-only", b"\x02" + cr_only(MIS_A))
write("profile", "pipe-cr-only", b"\x03" + cr_only(MIS_B))
write("profile", "json-deep", b"\x04" + ALERT.replace(b'"Narration"', b'"x": ' + b"[" * 20000 + b"]" * 20000 + b', "Narration"', 1))
write("profile", "fixed-nul-and-escape", b"\x00" + BILLPAY.replace(b"Jean Tremblay", b"Jean\x00Tre\x1b[31m", 1))
write("profile", "fixed-cr-only", b"\x00" + cr_only(BILLPAY))

# Structured targets: the first byte is the theme (fuzz/src/structured.rs) ----------------------
for target in ["structured_cpa005", "structured_camt054", "structured_mt940", "structured_india_csv",
               "structured_india_json"]:
    for theme in range(8):
        rest = bytes((theme * 37 + i * 11) & 0xFF for i in range(96))
        write(target, "theme-%d" % theme, bytes([theme]) + rest)
