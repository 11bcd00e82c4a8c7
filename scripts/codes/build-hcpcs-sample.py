#!/usr/bin/env python3
"""Writes Sources/RCMCodes/Resources/hcpcs-sample.txt: a few real HCPCS Level II codes in CMS's
fixed-width contractor record layout (320 characters a record; see Sources/RCMCodes/HCPCS.swift),
so the loader the clinic uses for CMS's full Alpha-Numeric HCPCS file is the one the sample
exercises.

The codes and their long descriptions are CMS's (public domain), transcribed from the HCPCS
Level II file; the sample carries no short descriptions, pricing or dates. It is NOT the HCPCS
code set: a clinic imports CMS's quarterly file (RCM_HCPCS_FILE).
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.path.join(ROOT, "Sources", "RCMCodes", "Resources", "hcpcs-sample.txt")

CODES = [
    ("A0428", "Ambulance service, basic life support, non-emergency transport, (bls)"),
    ("A0429", "Ambulance service, basic life support, emergency transport (bls-emergency)"),
    ("A4253", "Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips"),
    ("E0110", "Crutches, forearm, includes crutches of various materials, adjustable or fixed, pair, "
              "complete with tips and handgrips"),
    ("E0601", "Continuous positive airway pressure (cpap) device"),
    ("G0008", "Administration of influenza virus vaccine"),
    ("G0009", "Administration of pneumococcal vaccine"),
    ("G0438", "Annual wellness visit; includes a personalized prevention plan of service (pps), initial visit"),
    ("G0439", "Annual wellness visit, includes a personalized prevention plan of service (pps), subsequent visit"),
    ("J0696", "Injection, ceftriaxone sodium, per 250 mg"),
    ("J1100", "Injection, dexamethasone sodium phosphate, 1 mg"),
    ("J1885", "Injection, ketorolac tromethamine, per 15 mg"),
    ("Q0091", "Screening papanicolaou smear; obtaining, preparing and conveyance of cervical or vaginal "
              "smear to laboratory"),
]


def segments(text, width=80):
    """Splits at the last space that fits, as a padded segment ends at a word."""
    out = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        out.append(text[:cut])
        text = text[cut + 1:]
    out.append(text)
    return out


def main():
    lines = []
    for code, long in CODES:
        for number, segment in enumerate(segments(long)):
            record = code + str((number + 1) * 100).rjust(5, "0") + ("3" if number == 0 else "4") + segment.ljust(80)
            lines.append(record.ljust(320) + "\n")
    with open(OUTPUT, "w", encoding="ascii", newline="\n") as f:
        f.writelines(lines)
    print(f"{OUTPUT}: {len(CODES)} codes, {len(lines)} records")


if __name__ == "__main__":
    main()
