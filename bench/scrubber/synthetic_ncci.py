#!/usr/bin/env python3
"""Writes large SYNTHETIC files in CMS's NCCI layouts (random codes, not CMS data) to time the importers.

    synthetic_ncci.py PTP_OUT MUE_OUT [ROWS_PER_COLUMN1_MAX]

PTP: tab-delimited, six heading lines, Column 1, Column 2, *=in existence prior to 1996,
Effective Date, Deletion Date (* = no data), Modifier (0/1/9), PTP Edit Rationale; CRLF lines.
MUE: comma-separated, a quoted notice, a quoted two-line heading, then code, value, MAI text, rationale.
"""
import random
import sys

ptp_path, mue_path = sys.argv[1], sys.argv[2]
per_code = int(sys.argv[3]) if len(sys.argv) > 3 else 20
rng = random.Random(20261204)
rationales = [
    "Misuse of column two code with column one code", "Mutually exclusive procedures",
    "Standards of medical/surgical practice", "CPT Manual or CMS manual coding instruction",
    "HCPCS/CPT procedure code definition",
]
rows = 0
with open(ptp_path, "w", newline="") as out:
    out.write("SYNTHETIC file in the CMS practitioner PTP layout (random codes, not CMS data)\t\t\t\t\t\t\r\n")
    out.write("Column1/Column2 Edits\t\t\t\t\t\t\r\n")
    out.write("Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n")
    out.write("\t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n")
    out.write("\t\t\t\t*=no data\t1=allowed\t\r\n")
    out.write("\t\t\t\t\t9=not applicable\t\r\n")
    for column1 in range(10000, 100000):
        for _ in range(rng.randint(0, per_code)):
            year = rng.randint(1996, 2026)
            deletion = "*" if rng.random() < 0.7 else f"{rng.randint(year, 2026)}1231"
            flag = "*" if year == 1996 else ""
            out.write(f"{column1}\t{rng.randint(10000, 99999)}\t{flag}\t{year}0101\t{deletion}\t"
                      f"{rng.choice('0111119')}\t{rng.choice(rationales)}\r\n")
            rows += 1
mue_rows = 0
with open(mue_path, "w", newline="") as out:
    out.write('"SYNTHETIC file in the CMS Practitioner Services MUE layout (random codes, not CMS data)",,,\r\n')
    out.write('"HCPCS/\r\nCPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\r\n')
    mais = ["1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"]
    for code in range(10000, 100000, 5):
        out.write(f'{code},{rng.randint(1, 20)},"{rng.choice(mais)}","Clinical: Data"\r\n')
        mue_rows += 1
print(f"synthetic NCCI files: {rows} PTP rows, {mue_rows} MUE rows")
