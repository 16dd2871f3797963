"""Standard-library peers for the profile-driven readers (BENCHMARKS.md, issue 4).

    python3 profile_peers.py fixed FILE   # the bill-payment layout: slice, decode, Decimal amount
    python3 profile_peers.py csv FILE     # the e-collect MIS A layout: csv.reader, Decimal amount

Each reads the file the way a hand-written script for that one bank would: the fields a payment
needs, amounts as exact decimals, dates parsed; no validation of identifiers, no control totals.
Prints the record count.
"""
import csv
import datetime
import decimal
import sys


def fixed(path):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if line[:1] != b"5":
                continue
            rec = line.decode("cp1252")
            account = rec[1:20].strip()
            amount = decimal.Decimal(rec[20:32]).scaleb(-2)
            date = datetime.date(int(rec[32:36]), int(rec[36:38]), int(rec[38:40]))
            trace = rec[40:55].strip()
            name = rec[55:90].strip()
            if account and amount > 0 and date and trace and name is not None:
                n += 1
    return n


def mis(path):
    n = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            if len(row) < 10 or not row[0].isdigit():
                continue
            amount = decimal.Decimal(row[6].replace(",", ""))
            d, m, y = row[7].split("/")
            date = datetime.date(int(y), int(m), int(d))
            if row[1] and row[2] and amount > 0 and date:
                n += 1
    return n


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    print({"fixed": fixed, "csv": mis}[kind](path))
