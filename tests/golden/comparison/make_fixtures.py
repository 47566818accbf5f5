#!/usr/bin/env python3
"""Writes the input files of the comparison golden cases (tests/it/comparison.rs).

The inputs are written by this script so that their numbers can be read off here; the
expected CSVs beside them are written by hand from ../shared/spec/comparison.md §3.5
and §5, not by maaltal. Run it from anywhere: python3 tests/golden/comparison/make_fixtures.py
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

NAMES = {350: "Lejre", 316: "Holbæk", 253: "Greve", 259: "Køge", 265: "Roskilde",
         269: "Solrød", 270: "Gribskov", 219: "Hillerød", 250: "Frederikssund", 210: "Fredensborg",
         217: "Helsingør"}
OFFERS = ["Ansættelse med løntilskud i alt", "Virksomhedspraktik i alt", "Nytteindsats i alt"]
RECIPIENTS = "Modtagere i alt"


def offers_rows(period, table):
    """table: {code: (numerator or '..' when suppressed, denominator)} for sex "I alt"."""
    rows = []
    for code, (num, den) in table.items():
        name = NAMES[code]
        if num == "..":
            parts = [num, 3, 2]  # one company-oriented part suppressed: the numerator is unknown
        else:
            parts = [num - num // 2 - num // 4, num // 2, num // 4]
        for label, v in zip(OFFERS, parts):
            rows.append([name, period, "I alt", label, v])
        rows.append([name, period, "I alt", RECIPIENTS, den])
    return rows


def write_jobindsats(case, periods):
    """periods: {period: table} → <case>/jobindsats/Y60A05/{metadata.json, <period>.json}."""
    d = os.path.join(HERE, case, "jobindsats", "Y60A05")
    os.makedirs(d, exist_ok=True)
    areas = sorted({NAMES[c] for t in periods.values() for c in t})
    meta = [{"Period": sorted(periods), "Area": areas, "Measurements": [],
             "Dimensions": [{"DimensionID": "_kon", "DimensionName": "Køn", "Values": ["I alt", "Mænd", "Kvinder"]},
                            {"DimensionID": "_tilbud", "DimensionName": "Tilbud", "Values": OFFERS + [RECIPIENTS]}]}]
    with open(os.path.join(d, "metadata.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
    for period, table in periods.items():
        data = [{"Variables": [{"Name": "area", "Label": "Område"}, {"Name": "period", "Label": "Periode"},
                               {"Name": "_kon", "Label": "Køn"}, {"Name": "_tilbud", "Label": "Tilbud"},
                               {"Name": "antal_personer", "Label": "Antal personer"}],
                 "Data": offers_rows(period, table)}]
        with open(os.path.join(d, f"{period}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)


WEEKS_2018Q4 = [f"y_18{w:02}" for w in range(40, 53)]  # 13 weeks; the quarter ends Sunday 2018-12-30
serial = [0]


def person(koen, born, kommune, first, meets):
    serial[0] += 1
    s = serial[0] * 2 + (1 if koen == "M" else 0)  # odd for men
    y, m, d = born.split("-")
    cpr = f"{d}{m}{y[2:]}{s:04d}"
    weeks = [""] * 13 if meets else ["130"] * 13  # 13 weeks without benefit, or on integrationsydelse
    return ";".join([cpr, koen, born, "3", str(kommune), "1", first] + weeks)


def cell(koen, born, first, kommune, n, meeting):
    return [person(koen, born, kommune, first, i < meeting) for i in range(n)]


def write_dream(case, people):
    d = os.path.join(HERE, case, "dream")
    os.makedirs(d, exist_ok=True)
    header = "cpr;koen;foedselsdato;herkomst;kommune;integrationsprogram;foerste_integrationsydelse;" + ";".join(WEEKS_2018Q4)
    with open(os.path.join(d, "dream_2018Q4.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join([header] + people) + "\n")


# Women aged 30-39 in their first year; men aged 18-29 in their third year (2018Q4).
WOMEN_30_FIRST = ("K", "1985-06-15", "2018-03-01")
MEN_18_THIRD = ("M", "1995-06-15", "2016-03-01")


def worked_example_people(with_reference=True):
    serial[0] = 0
    people = []
    # Lejre: 6 women 30-39 in the first year (2 meet M1), 4 men 18-29 in the third (3 meet).
    people += cell(*WOMEN_30_FIRST, 350, 6, 2)
    people += cell(*MEN_18_THIRD, 350, 4, 3)
    if with_reference:
        # Greve, outside the programme: 250 such women (50 meet: 20 %), 80 such men (40 meet: 50 %).
        people += cell(*WOMEN_30_FIRST, 253, 250, 50)
        people += cell(*MEN_18_THIRD, 253, 80, 40)
    return people


def main():
    for case in ["m3_worked_example", "too_few_members", "expected_worked_example",
                 "thin_reference_cells", "programme_only_dream"]:
        for sub in ["jobindsats", "dream"]:
            shutil.rmtree(os.path.join(HERE, case, sub), ignore_errors=True)
    # §3.5: M3 2018Q4 and the baseline 2016Q3. Roskilde suppressed in 2018Q4, Køge without
    # a row at the baseline; Holbæk (a programme municipality in the group) has its own
    # cell suppressed in 2018Q4.
    write_jobindsats("m3_worked_example", {
        "2018Q4": {350: (60, 100), 253: (30, 80), 259: (45, 90), 265: ("..", 100), 269: (12, 40),
                   270: (20, 50), 316: ("..", 70)},
        "2016Q3": {350: (20, 80), 253: (20, 70), 265: (25, 100), 269: (8, 35), 270: (10, 45),
                   316: (15, 60)},
    })
    # §5: a group of three members of which one contributes (one suppressed, one with
    # zero recipients): no group value.
    write_jobindsats("too_few_members", {
        "2018Q4": {217: (40, 100), 219: (10, 50), 250: ("..", 60), 210: (0, 0)},
        "2016Q3": {217: (20, 100), 219: (5, 50), 250: (6, 60), 210: (2, 10)},
    })
    write_dream("expected_worked_example", worked_example_people())
    write_dream("thin_reference_cells", worked_example_people())
    write_dream("programme_only_dream", worked_example_people(with_reference=False))


if __name__ == "__main__":
    main()
