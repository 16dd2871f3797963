#!/usr/bin/env python3
"""Writes the sample files of the shipped bank profiles (profiles/*.toml). Run from this folder."""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))  # samples/


def fw(fields, length):
    """Lays out (start, end, text, align) fields 1-based inclusive in a record of `length`."""
    rec = [" "] * length
    for start, end, text, align in fields:
        width = end - start + 1
        text = str(text)
        assert len(text) <= width, (text, width)
        text = text.rjust(width, "0") if align == "0" else text.ljust(width)
        rec[start - 1:end] = list(text)
    return "".join(rec)


# Canadian bill-payment remittance: windows-1252, CRLF, 120-byte records.
bills = [
    ("372601815908301", 125000, "20260316", "TD2603160000101", "Jean Tremblay", "INT"),
    ("3466 131860 91396", 31045, "20260316", "TD2603160000102", "Marie-Ève Côté", "TEL"),
    ("349960308246284", 5000, "20260315", "TD2603160000103", "François Bélanger", "BRN"),
    ("349378657975439", 1523000, "20260316", "TD2603160000104", "Lévesque Construction Ltée", "INT"),
    ("372601815908301", 2599, "20260316", "TD2603160000105", "Hélène Lefèbvre-Tremblay", "MOB"),
    ("37260181590830", 10000, "20260316", "TD2603160000106", "Benoît Gagné", "ATM"),
    ("346613186091396", 77777, "20260316", "TD2603160000107", "Zoë Côté-Ouellet", "INT"),
    ("349482199351818", 489010, "20260316", "TD2603160000108", "Gagnon Holdings Inc.", "TEL"),
]
lines = [fw([(1, 1, "1", "l"), (2, 11, "AMEXCA0001", "l"), (12, 19, "20260316", "l"), (20, 23, "0042", "l"),
             (24, 26, "CAD", "l"), (27, 56, "AMERICAN EXPRESS CANADA", "l")], 120)]
for acct, cents, date, trace, name, chan in bills:
    lines.append(fw([(1, 1, "5", "l"), (2, 20, acct, "l"), (21, 32, cents, "0"), (33, 40, date, "l"),
                     (41, 55, trace, "l"), (56, 90, name, "l"), (91, 93, chan, "l")], 120))
lines.append(fw([(1, 1, "9", "l"), (2, 9, len(bills), "0"), (10, 23, sum(b[1] for b in bills), "0")], 120))
with open(os.path.join(HERE, "ca/billpay/ca-billpay-remittance-20260316.txt"), "wb") as f:
    f.write(("\r\n".join(lines) + "\r\n").encode("cp1252"))

# Canadian 80-byte EFT: EBCDIC cp037, no line breaks.
eft = [
    ("C", 125000, "160326", "001", "00012", "123456789012", "372601815908301", "EFT0000001", "Jean Tremblay"),
    ("C", 31045, "160326", "815", "30101", "9876543", "346613186091396", "EFT0000002", "Marie-Ève Côté"),
    ("C", 1523000, "160326", "003", "04512", "5500123", "349378657975439", "EFT0000003", "Lévesque Constr."),
    ("D", 5000, "160326", "004", "10092", "7700456", "349960308246284", "EFT0000004", "François Bélanger"),
    ("C", 489010, "160326", "006", "00001", "20001234", "349482199351818", "EFT0000005", "Gagnon Holdings"),
]
recs = [fw([(1, 1, "H", "l"), (2, 11, "0123456789", "l"), (12, 17, "160326", "l"), (18, 21, "0007", "l"),
            (22, 51, "BANQUE EXEMPLE DU CANADA", "l")], 80)]
for d, cents, date, inst, tr, acct, ref, trace, name in eft:
    recs.append(fw([(1, 1, "D", "l"), (2, 2, d, "l"), (3, 12, cents, "0"), (13, 18, date, "l"), (19, 21, inst, "l"),
                    (22, 26, tr, "l"), (27, 38, acct, "l"), (39, 53, ref, "l"), (54, 63, trace, "l"),
                    (64, 80, name, "l")], 80))
recs.append(fw([(1, 1, "T", "l"), (2, 7, len(eft), "0"), (8, 21, sum(e[1] for e in eft), "0")], 80))
with open(os.path.join(HERE, "ca/eft80/ca-eft80-20260316.dat"), "wb") as f:
    f.write("".join(recs).encode("cp037"))

# India MIS variant A: BOM, CRLF, lakh amounts, DD/MM/YYYY, Total row.
a = [
    "Sr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,Credit Amount,Value Date,Mode,Narration",
    '1,HDFCN26325012345,AMEX0100012345,Priya Venkataraman,50100234567890,HDFC0001234,"45,000.00",21/11/2026,NEFT,AMEX CARD PAYMENT NOV 2026',
    '2,ICICR52026112100012345,AMEX0100067890,Rajesh Kumar Sharma,000401234567,ICIC0000456,"1,23,456.78",21/11/2026 10:42:11,RTGS,Card dues full payment',
    '3,632512345678,AMEX0100024680,Ananya Iyer,20012345678,SBIN0004567,"9,800.00",21/11/2026,IMPS,Amex bill',
    '4,SBINN26325004321,AMEX0100013579,Mohammed Farhan Qureshi,30987654321,SBIN0004567,"2,50,000.00",21/11/2026,NEFT,"Payment, card ending 3428"',
    '5,UTIBN26325000777,AMEX0100099999,Suresh Reddy,917010012345678,UTIB0000123,"12,34,567.50",21/11/2026,NEFT,Corporate card settlement',
    '6,632599887766,AMEX0100012345,Priya Venkataraman,50100234567890,HDFC0001234,"1,500.00",22/11/2026,UPI,',
    'Total,,,,,,"16,64,324.28",,,',
]
with open(os.path.join(HERE, "in/mis/in-ecollect-mis-a-20261121.csv"), "wb") as f:
    f.write(b"\xef\xbb\xbf" + ("\r\n".join(a) + "\r\n").encode("utf-8"))

# India MIS variant B: pipe-separated, title line, western grouping, DD-MM-YYYY, payer code only.
b = [
    "E-COLLECTION MIS REPORT FOR 21-11-2026 CLIENT AMEX01",
    "Txn Date||Bank Ref No|Client Payer Code|Sender Name|Sender IFSC|Sender Account|Amt|Dr/Cr|Remarks",
    "21-11-2026|NEFT|KKBKN26325000101|00012345|Priya Venkataraman|KKBK0000789|1811234567|12,500.00|CR|nov dues",
    "21-11-2026|RTGS|PUNBR52026112100000202|00013579|Mohammed Farhan Qureshi|PUNB0123400|0123000100012345|350,000.00|CR|",
    "21-11-2026|IMPS|632577001122|00024680|Ananya Iyer|SBIN0004567|20012345678|4,999.99|CR|AMEX",
    "21-11-2026|UPI|632577001199|00067890|Rajesh Kumar Sharma|ICIC0000456|000401234567|1,000.00|CR|upi/amex",
    "21-11-2026|NEFT|KKBKN26325000105|00011111|Kavita Deshpande|KKBK0000789|1811239999|2,250.00|DR|return of excess",
]
with open(os.path.join(HERE, "in/mis/in-ecollect-mis-b-20261121.txt"), "w", newline="\n") as f:
    f.write("\n".join(b) + "\n")

# India push alerts: the remitter nested in an object.
alerts = {"GenericCorporateAlertRequest": [
    {"Alert Sequence No": "000000104571", "Virtual Account": "AMEX0100012345", "Mode": "NEFT",
     "User Reference Number": "HDFCN26325099001", "Transaction Amount": "45000.00", "Value Date": "2026-11-21",
     "Remitter": {"Name": "Priya Venkataraman", "Account": "50100234567890", "IFSC": "HDFC0001234"},
     "Narration": "AMEX CARD PAYMENT"},
    {"Alert Sequence No": "000000104572", "Virtual Account": "AMEX0100067890", "Mode": "RTGS",
     "User Reference Number": "ICICR52026112100099002", "Transaction Amount": 275000.50, "Value Date": "2026-11-21",
     "Remitter": {"Name": "Rajesh Kumar Sharma", "Account": "000401234567", "IFSC": "ICIC0000456"}},
    {"Alert Sequence No": "000000104573", "Virtual Account": "AMEX0100024680", "Mode": "IMPS",
     "User Reference Number": "632512399003", "Transaction Amount": "2500", "Value Date": "21-11-2026",
     "Remitter": {"Name": "Ananya Iyer", "Account": "20012345678", "IFSC": "SBIN0004567"}},
    {"Alert Sequence No": "000000104571", "Virtual Account": "AMEX0100012345", "Mode": "NEFT",
     "User Reference Number": "HDFCN26325099001", "Transaction Amount": "45000.00", "Value Date": "2026-11-21",
     "Remitter": {"Name": "Priya Venkataraman", "Account": "50100234567890", "IFSC": "HDFC0001234"},
     "Narration": "AMEX CARD PAYMENT"},
]}
with open(os.path.join(HERE, "in/alerts/in-push-alert-20261121.json"), "w") as f:
    json.dump(alerts, f, indent=1, ensure_ascii=False)
    f.write("\n")
