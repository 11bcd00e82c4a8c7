#!/usr/bin/env python3
"""Writes a deterministic 835 (005010X221A1) file of about --megabytes MB for bench/x12.sh.

One interchange, one functional group, many transaction sets; each has 1-12 claims (CLP, CAS,
NM1, DTM) with 1-6 service lines (SVC, DTM, CAS, REF, AMT). Payments balance: BPR02 is the sum of
the CLP04s, each CLP04 the sum of its SVC03s. The same seed gives the same bytes, and a smaller
size gives a prefix of the same transaction sets (a "slice" for slow parsers).
"""
import argparse
import random

p = argparse.ArgumentParser()
p.add_argument("--megabytes", type=float, default=100)
p.add_argument("--seed", type=int, default=835)
p.add_argument("output")
args = p.parse_args()
target = int(args.megabytes * 1_000_000)
rng = random.Random(args.seed)
CODES = ["99213", "99214", "80053", "85025", "93000", "71046", "36415", "90471"]
REASONS = [("CO", "45"), ("PR", "1"), ("PR", "2"), ("CO", "253"), ("OA", "23")]


def cents(value):
    return f"{value // 100}.{value % 100:02d}"


def transaction(number):
    claims = []
    paid_total = 0
    for c in range(rng.randint(1, 12)):
        lines = []
        claim_charge = claim_paid = 0
        for s in range(rng.randint(1, 6)):
            charge = rng.randint(2000, 60000)
            adjust = rng.randint(0, charge // 2)
            paid = charge - adjust
            group, reason = rng.choice(REASONS)
            claim_charge += charge
            claim_paid += paid
            lines += [
                f"SVC*HC:{rng.choice(CODES)}*{cents(charge)}*{cents(paid)}**1",
                f"DTM*472*2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                f"CAS*{group}*{reason}*{cents(adjust)}",
                f"REF*6R*L{number:07d}{c:02d}{s:02d}",
                f"AMT*B6*{cents(paid)}",
            ]
        paid_total += claim_paid
        claims += [
            f"CLP*PCN{number:07d}{c:02d}*1*{cents(claim_charge)}*{cents(claim_paid)}*{cents(claim_charge - claim_paid)}*12*PAYER{number:08d}{c:02d}*11*1",
            f"CAS*PR*1*{cents(claim_charge - claim_paid)}",
            f"NM1*QC*1*PATIENT{rng.randint(1, 99999):05d}*ALEX****MI*M{rng.randint(1, 10**8):09d}",
            f"DTM*232*2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        ] + lines
    body = [
        f"ST*835*{number:09d}",
        f"BPR*I*{cents(paid_total)}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20260131",
        f"TRN*1*EFT{number:09d}*1512345678",
        "DTM*405*20260131",
        "N1*PR*ACME HEALTH PLAN",
        "N3*1 PAYER WAY",
        "N4*KANSAS CITY*MO*64108",
        "REF*2U*999",
        "PER*BL*CLAIMS*TE*8005551212",
        "N1*PE*RIVERSIDE CLINIC*XX*1234567893",
        "LX*1",
    ] + claims + ["PLB*1234567893*20261231*WO:PCN0000001*-1.00"]
    body.append(f"SE*{len(body) + 1}*{number:09d}")
    return "~\n".join(body) + "~\n"


head = (
    "ISA*00*          *00*          *ZZ*ACMEPAYER      *ZZ*RIVERSIDE      *260131*1200*^*00501*000000001*0*P*:~\n"
    "GS*HP*ACMEPAYER*RIVERSIDE*20260131*1200*1*X*005010X221A1~\n"
)
with open(args.output, "w") as out:
    out.write(head)
    written = len(head)
    count = 0
    while written < target:
        count += 1
        text = transaction(count)
        out.write(text)
        written += len(text)
    tail = f"GE*{count}*1~\nIEA*1*000000001~\n"
    out.write(tail)
    written += len(tail)
print(f"{args.output}: {written} bytes, {count} transaction sets")
