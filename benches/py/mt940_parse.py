"""Python peer for the MT940 benchmark: parse a file with the `mt-940` package and count
transactions. Prints "<transactions> <parse seconds>" (the caller also times the whole process,
interpreter start and import included)."""

import sys
import time

import mt940


def main() -> None:
    start = time.perf_counter()
    transactions = mt940.parse(sys.argv[1])
    count = len(transactions)
    print(count, f"{time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
