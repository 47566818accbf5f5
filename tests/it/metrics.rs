//! Golden tests of the target metrics: small hand-made extracts, one scenario per rule
//! and border, expected values written by hand (not computed by the code under test).
//! And a differential test: M1 computed in plain Rust over the sample data agrees with
//! the SQL mart for every municipality, quarter and sex.

use std::collections::BTreeMap;

use crate::common::{Workspace, sample_dir};

/// (municipality, metric, period, sex) → (numerator, denominator, share).
type Mart = BTreeMap<(i32, String, String, String), (Option<i64>, Option<i64>, Option<f64>)>;

/// A person in a hand-made DREAM extract.
struct P {
    cpr: &'static str,
    koen: &'static str,
    born: &'static str,
    herkomst: u8,
    kommune: &'static str,
    program: u8,
    first: &'static str,
    /// `e` empty (no benefit), or a code, repeated: e.g. [("e", 5), ("130", 8)]
    weeks: &'static [(&'static str, usize)],
}

fn dream_csv(weeks: &[&str], people: &[P]) -> String {
    let mut s = format!(
        "cpr;koen;foedselsdato;herkomst;kommune;integrationsprogram;foerste_integrationsydelse;{}\n",
        weeks.join(";")
    );
    for p in people {
        let mut codes: Vec<&str> = Vec::new();
        for (c, n) in p.weeks {
            for _ in 0..*n {
                codes.push(if *c == "e" { "" } else { c });
            }
        }
        assert_eq!(codes.len(), weeks.len(), "{}", p.cpr);
        s += &format!(
            "{};{};{};{};{};{};{};{}\n",
            p.cpr,
            p.koen,
            p.born,
            p.herkomst,
            p.kommune,
            p.program,
            p.first,
            codes.join(";")
        );
    }
    s
}

const E13_SELV: &[(&str, usize)] = &[("e", 13)];
const B13: &[(&str, usize)] = &[("130", 13)];

fn q4_2018() -> Vec<P> {
    let first = "2017-06-05";
    vec![
        // 217 Helsingør: weeks. M1 4/7, selv 3/7, udd 2/7; men 2/4, women 2/3.
        P {
            cpr: "0101900001",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 5), ("130", 8)],
        },
        P {
            cpr: "0101900002",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 4), ("130", 9)],
        },
        P {
            cpr: "0101900003",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 3), ("881", 2), ("130", 8)],
        },
        P {
            cpr: "0101900004",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("882", 5), ("130", 8)],
        },
        P {
            cpr: "0101900005",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("651", 5), ("130", 8)],
        },
        P {
            cpr: "0101900006",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("652", 4), ("130", 9)],
        },
        P {
            cpr: "0101900007",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 5), ("651", 5), ("130", 3)],
        },
        // 316 Holbæk: age on the quarter's end, Sunday 2018-12-30. In: 18 that day, 63, 64. Out: 17, 65 that day.
        P {
            cpr: "3012000011",
            koen: "M",
            born: "2000-12-30",
            herkomst: 3,
            kommune: "316",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "3112000012",
            koen: "M",
            born: "2000-12-31",
            herkomst: 3,
            kommune: "316",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "3112540013",
            koen: "K",
            born: "1954-12-31",
            herkomst: 3,
            kommune: "316",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "3112530014",
            koen: "K",
            born: "1953-12-31",
            herkomst: 3,
            kommune: "316",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "3012530015",
            koen: "K",
            born: "1953-12-30",
            herkomst: 3,
            kommune: "316",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        // 350 Lejre: 36 months before 2018-12-30 is 2015-12-30. In: that day, the end day. Out: a day earlier, none, after the end.
        P {
            cpr: "0101900021",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "350",
            program: 1,
            first: "2015-12-30",
            weeks: B13,
        },
        P {
            cpr: "0101900022",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "350",
            program: 1,
            first: "2015-12-29",
            weeks: E13_SELV,
        },
        P {
            cpr: "0101900023",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "350",
            program: 1,
            first: "2018-12-30",
            weeks: B13,
        },
        P {
            cpr: "0101900024",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "350",
            program: 1,
            first: "",
            weeks: E13_SELV,
        },
        P {
            cpr: "0101900025",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "350",
            program: 1,
            first: "2018-12-31",
            weeks: E13_SELV,
        },
        // 420 Assens: origin and programme. Only the first is in the population.
        P {
            cpr: "0101900031",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "420",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "0101900032",
            koen: "M",
            born: "1990-01-01",
            herkomst: 5,
            kommune: "420",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "0101900033",
            koen: "M",
            born: "1990-01-01",
            herkomst: 2,
            kommune: "420",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        P {
            cpr: "0101900034",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "420",
            program: 0,
            first,
            weeks: E13_SELV,
        },
        // 430 Faaborg-Midtfyn, written with four digits.
        P {
            cpr: "0101900041",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "0430",
            program: 1,
            first,
            weeks: E13_SELV,
        },
        // 751 Aarhus: outside the programme: in target_metrics, not in the project average.
        P {
            cpr: "0101900051",
            koen: "K",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "751",
            program: 1,
            first,
            weeks: E13_SELV,
        },
    ]
}

/// (municipality, metric, period, sex) → (numerator, denominator, share) from the mart.
fn mart(ws: &Workspace) -> Mart {
    let json = ws.ok(&["sql", "select municipality_code, metric, period, sex, numerator, denominator, share from target_metrics", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["municipality_code"].as_i64().unwrap() as i32,
                    r["metric"].as_str().unwrap().into(),
                    r["period"].as_str().unwrap().into(),
                    r["sex"].as_str().unwrap().into(),
                ),
                (
                    r["numerator"].as_i64(),
                    r["denominator"].as_i64(),
                    r["share"].as_f64(),
                ),
            )
        })
        .collect()
}

fn check(
    m: &Mart,
    k: i32,
    metric: &str,
    period: &str,
    sex: &str,
    num: Option<i64>,
    den: Option<i64>,
) {
    let got = m
        .get(&(k, metric.into(), period.into(), sex.into()))
        .unwrap_or_else(|| panic!("no row {k} {metric} {period} {sex}"));
    assert_eq!((got.0, got.1), (num, den), "{k} {metric} {period} {sex}");
    match (num, den) {
        (Some(n), Some(d)) if d > 0 => {
            assert!((got.2.unwrap() - n as f64 / d as f64).abs() < 1e-12)
        }
        _ => assert_eq!(
            got.2, None,
            "{k} {metric} {period} {sex}: share must be null"
        ),
    }
}

fn weeks_of(year: u32, from: u32, to: u32) -> Vec<String> {
    (from..=to)
        .map(|w| format!("y_{:02}{w:02}", year % 100))
        .collect()
}

#[test]
fn m1_follows_every_rule_of_the_definition() {
    let ws = Workspace::new();
    let weeks = weeks_of(2018, 40, 52);
    let w: Vec<&str> = weeks.iter().map(String::as_str).collect();
    let path = ws.dir.path().join("q4.csv");
    std::fs::write(&path, dream_csv(&w, &q4_2018())).unwrap();
    ws.ok(&[
        "ingest",
        "dream",
        path.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    let out = ws.ok(&["transform"]);
    assert!(
        out.contains("missing source table `jobindsats_visitation`"),
        "{out}"
    );
    let m = mart(&ws);
    let q = "2018Q4";
    // weeks: 5 vs 4, IGU praktik counts, IGU skole does not, SU 5 vs 4, both counted once.
    check(&m, 217, "M1", q, "alle", Some(4), Some(7));
    check(&m, 217, "M1_selvforsoergelse", q, "alle", Some(3), Some(7));
    check(&m, 217, "M1_uddannelse", q, "alle", Some(2), Some(7));
    check(&m, 217, "M1", q, "M", Some(2), Some(4));
    check(&m, 217, "M1_uddannelse", q, "M", Some(1), Some(4));
    check(&m, 217, "M1", q, "K", Some(2), Some(3));
    check(&m, 217, "M1_selvforsoergelse", q, "K", Some(1), Some(3));
    // age 18-64 on the exact day.
    check(&m, 316, "M1", q, "alle", Some(3), Some(3));
    check(&m, 316, "M1", q, "M", Some(1), Some(1));
    check(&m, 316, "M1", q, "K", Some(2), Some(2));
    // 36 months to the day.
    check(&m, 350, "M1", q, "alle", Some(0), Some(2));
    // origin and programme filters.
    check(&m, 420, "M1", q, "alle", Some(1), Some(1));
    // 4-digit municipality code.
    check(&m, 430, "M1", q, "K", Some(1), Some(1));
    check(&m, 430, "M1", q, "M", Some(0), Some(0));
    // outside the programme: computed.
    check(&m, 751, "M1", q, "alle", Some(1), Some(1));
    // a programme municipality without anybody: a row, no share.
    check(&m, 461, "M1", q, "alle", Some(0), Some(0));

    // Project average: plain mean of the shares of programme municipalities with a share:
    // (4/7 + 3/3 + 0/2 + 1/1 + 1/1) / 5 = 5/7; Aarhus (outside) and Odense (no share) left out.
    let json = ws.ok(&["sql", "select share, method, municipalities from project_average where metric = 'M1' and period = '2018Q4' and sex = 'alle'", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        (v[0]["share"].as_f64().unwrap() - 5.0 / 7.0).abs() < 1e-12,
        "{json}"
    );
    assert_eq!(v[0]["method"], "mean_of_shares");
    assert_eq!(v[0]["municipalities"], 5);

    // What the reports print: rank among programme municipalities with a share (ties share
    // a rank), the spread, and no baseline (2016Q4 is not landed here).
    let json = ws.ok(&["sql", "select municipality_code, rank, ranked_municipalities, lowest_share, lowest_municipality, highest_share, baseline_share, change_pp, project_average from metric_comparison where metric = 'M1' and period = '2018Q4' and sex = 'alle' order by municipality_code", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let by = |k: i64| {
        rows.iter()
            .find(|r| r["municipality_code"] == k)
            .cloned()
            .unwrap_or_else(|| panic!("{k}: {json}"))
    };
    assert_eq!(
        rows.len(),
        16,
        "every programme municipality, none outside: {json}"
    );
    assert_eq!(by(316)["rank"], 1);
    assert_eq!(by(420)["rank"], 1);
    assert_eq!(by(217)["rank"], 4);
    assert_eq!(by(350)["rank"], 5);
    assert!(by(461)["rank"].is_null());
    assert_eq!(by(217)["ranked_municipalities"], 5);
    assert_eq!(by(217)["lowest_share"].as_f64(), Some(0.0));
    assert_eq!(by(217)["lowest_municipality"], "Lejre");
    assert_eq!(by(217)["highest_share"].as_f64(), Some(1.0));
    assert!(by(217)["baseline_share"].is_null() && by(217)["change_pp"].is_null());
    assert!((by(217)["project_average"].as_f64().unwrap() - 5.0 / 7.0).abs() < 1e-12);

    // Idempotent: a second transform gives the same mart.
    let before = crate::common::hash_tree(&ws.lake().join("marts"));
    ws.ok(&["transform"]);
    assert_eq!(before, crate::common::hash_tree(&ws.lake().join("marts")));
}

#[test]
fn m1_uses_five_weeks_in_14_and_12_week_quarters_and_the_sunday_of_the_last_week() {
    let ws = Workspace::new();
    let first = "2019-06-03";
    // 2020Q4 has 14 ISO weeks (2020W40-W53) and ends Sunday 2021-01-03.
    let w14 = weeks_of(2020, 40, 53);
    let people14 = [
        P {
            cpr: "0101900061",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 5), ("130", 9)],
        },
        P {
            cpr: "0101900062",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 4), ("130", 10)],
        },
        // 18 on Sunday 2021-01-03, the quarter's end (still 17 on 31 December).
        P {
            cpr: "0301030063",
            koen: "K",
            born: "2003-01-03",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("651", 5), ("130", 9)],
        },
    ];
    // 2021Q1 has 12 ISO weeks (2021W01-W12).
    let w12 = weeks_of(2021, 1, 12);
    let people12 = [
        P {
            cpr: "0101900061",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 5), ("130", 7)],
        },
        P {
            cpr: "0101900062",
            koen: "M",
            born: "1990-01-01",
            herkomst: 3,
            kommune: "217",
            program: 1,
            first,
            weeks: &[("e", 4), ("130", 8)],
        },
    ];
    for (q, weeks, people) in [
        ("2020Q4", &w14, &people14[..]),
        ("2021Q1", &w12, &people12[..]),
    ] {
        let w: Vec<&str> = weeks.iter().map(String::as_str).collect();
        let path = ws.dir.path().join(format!("{q}.csv"));
        std::fs::write(&path, dream_csv(&w, people)).unwrap();
        ws.ok(&["ingest", "dream", path.to_str().unwrap(), "--period", q]);
    }
    ws.ok(&["transform"]);
    let m = mart(&ws);
    check(&m, 217, "M1", "2020Q4", "alle", Some(2), Some(3));
    check(&m, 217, "M1_uddannelse", "2020Q4", "K", Some(1), Some(1));
    check(&m, 217, "M1", "2021Q1", "alle", Some(1), Some(2));
    assert_eq!(
        ws.count("select count(distinct week) from dream_weeks where quarter = '2020Q4'"),
        14
    );
    assert_eq!(
        ws.count("select count(distinct week) from dream_weeks where quarter = '2021Q1'"),
        12
    );
}

fn jobindsats_dir(ws: &Workspace) -> std::path::PathBuf {
    let dir = ws.dir.path().join("ji");
    let meta = |period: &str, dim: &str| {
        serde_json::json!([{ "Period": [period], "Area": ["Lejre", "Holbæk"], "Measurements": [],
            "Dimensions": [{"DimensionID": "_kon", "DimensionName": "Køn", "Values": ["I alt", "Mænd", "Kvinder"]},
                           {"DimensionID": dim, "DimensionName": "x", "Values": []}] }])
        .to_string()
    };
    let data = |dim: &str, rows: serde_json::Value| {
        serde_json::json!([{ "Variables": [
            {"Name": "area", "Label": "Område"}, {"Name": "period", "Label": "Periode"}, {"Name": "_kon", "Label": "Køn"},
            {"Name": dim, "Label": "x"}, {"Name": "antal_personer", "Label": "Antal personer"}], "Data": rows }])
        .to_string()
    };
    std::fs::create_dir_all(dir.join("Y60V02")).unwrap();
    std::fs::create_dir_all(dir.join("Y60A05")).unwrap();
    std::fs::write(
        dir.join("Y60V02/metadata.json"),
        meta("2018M12", "_visitation"),
    )
    .unwrap();
    std::fs::write(dir.join("Y60A05/metadata.json"), meta("2018Q4", "_tilbud")).unwrap();
    let (j, a, u) = ("Jobparat", "Aktivitetsparat", "Uoplyst visitationskategori");
    let p = "2018M12";
    std::fs::write(
        dir.join("Y60V02/2018M12.json"),
        data(
            "_visitation",
            serde_json::json!([
                ["Lejre", p, "Mænd", j, 10],
                ["Lejre", p, "Mænd", a, 5],
                ["Lejre", p, "Mænd", u, 0],
                ["Lejre", p, "Kvinder", j, 4],
                ["Lejre", p, "Kvinder", a, 6],
                ["Lejre", p, "Kvinder", u, ".."],
                ["Lejre", p, "I alt", j, 14],
                ["Lejre", p, "I alt", a, 11],
                ["Lejre", p, "I alt", u, 3],
                ["Holbæk", p, "Mænd", j, 20],
                ["Holbæk", p, "Mænd", a, 20],
                ["Holbæk", p, "Mænd", u, 0],
                ["Holbæk", p, "Kvinder", j, 10],
                ["Holbæk", p, "Kvinder", a, 30],
                ["Holbæk", p, "Kvinder", u, null],
                ["Holbæk", p, "I alt", j, 30],
                ["Holbæk", p, "I alt", a, 50],
                ["Holbæk", p, "I alt", u, 0],
                ["Hele landet", p, "I alt", j, 9000],
                ["Hele landet", p, "I alt", a, 9000],
                ["Hele landet", p, "I alt", u, 9000]
            ]),
        ),
    )
    .unwrap();
    let (l, v, n, r) = (
        "Ansættelse med løntilskud i alt",
        "Virksomhedspraktik i alt",
        "Nytteindsats i alt",
        "Modtagere i alt",
    );
    let q = "2018Q4";
    std::fs::write(
        dir.join("Y60A05/2018Q4.json"),
        data(
            "_tilbud",
            serde_json::json!([
                ["Lejre", q, "I alt", l, 2],
                ["Lejre", q, "I alt", v, 10],
                ["Lejre", q, "I alt", n, ".."],
                ["Lejre", q, "I alt", r, 40],
                ["Holbæk", q, "I alt", l, 5],
                ["Holbæk", q, "I alt", v, 20],
                ["Holbæk", q, "I alt", n, 5],
                ["Holbæk", q, "I alt", r, 60],
                ["Holbæk", q, "Mænd", l, 3],
                ["Holbæk", q, "Mænd", v, 12],
                ["Holbæk", q, "Mænd", n, 3],
                ["Holbæk", q, "Mænd", r, 35],
                ["Holbæk", q, "Kvinder", l, 2],
                ["Holbæk", q, "Kvinder", v, 8],
                ["Holbæk", q, "Kvinder", n, 2],
                ["Holbæk", q, "Kvinder", r, 25]
            ]),
        ),
    )
    .unwrap();
    dir
}

#[test]
fn m2_and_m3_handle_suppression_sex_and_pooled_averages() {
    let ws = Workspace::new();
    let dir = jobindsats_dir(&ws);
    ws.ok(&[
        "ingest",
        "jobindsats",
        dir.to_str().unwrap(),
        "--period",
        "2018-12",
    ]);
    ws.ok(&[
        "ingest",
        "jobindsats",
        dir.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    let out = ws.ok(&["transform", "--period", "2018Q4"]);
    assert!(out.contains("missing M1: no data"), "{out}");
    let m = mart(&ws);
    // M2: Jobparat / all categories incl. Uoplyst. Lejre women: one category suppressed → denominator unknown.
    check(&m, 350, "M2", "2018M12", "M", Some(10), Some(15));
    check(&m, 350, "M2", "2018M12", "K", Some(4), None);
    check(&m, 350, "M2", "2018M12", "alle", Some(14), Some(28));
    check(&m, 316, "M2", "2018M12", "alle", Some(30), Some(80));
    check(&m, 316, "M2", "2018M12", "K", Some(10), None); // null is missing too
    // M3: (løntilskud + praktik + nytte) / all recipients; a suppressed part makes it unknown.
    check(&m, 350, "M3", "2018Q4", "alle", None, Some(40));
    check(&m, 316, "M3", "2018Q4", "alle", Some(30), Some(60));
    check(&m, 316, "M3", "2018Q4", "M", Some(18), Some(35));
    check(&m, 316, "M3", "2018Q4", "K", Some(12), Some(25));
    // Aggregates ("Hele landet") are not municipalities.
    assert!(!m.keys().any(|k| k.0 == 0));

    // Pooled: (14 + 30) / (28 + 80) = 44/108, not the mean of shares (0.5 + 0.375) / 2.
    let json = ws.ok(&["sql", "select metric, sex, share, method, municipalities from project_average order by metric, sex", "--format", "json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let row = |metric: &str, sex: &str| {
        v.iter()
            .find(|r| r["metric"] == metric && r["sex"] == sex)
            .cloned()
            .unwrap_or_else(|| panic!("{metric} {sex}: {json}"))
    };
    let m2 = row("M2", "alle");
    assert!(
        (m2["share"].as_f64().unwrap() - 44.0 / 108.0).abs() < 1e-12,
        "{json}"
    );
    assert_eq!(m2["method"], "pooled");
    assert_eq!(m2["municipalities"], 2);
    // Women's M2 is unknown in both municipalities: no average is invented.
    assert!(
        !v.iter().any(|r| r["metric"] == "M2" && r["sex"] == "K"),
        "{json}"
    );
    let m3 = row("M3", "alle");
    assert!((m3["share"].as_f64().unwrap() - 30.0 / 60.0).abs() < 1e-12);
    assert_eq!(m3["municipalities"], 1);
}

/// M1 in plain Rust from the landed lake rows (read with DuckDB-free SQL dumps of the
/// raw tables: no metric logic in SQL), compared with the mart.
#[test]
fn m1_differential_against_a_plain_rust_computation() {
    use chrono::{Months, NaiveDate};
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2016Q4..2018Q4"]);
    ws.ok(&["transform"]);
    let persons = ws.sql("select person_id, quarter, koen, cast(foedselsdato as varchar), herkomst, kommune, integrationsprogram, cast(foerste_integrationsydelse as varchar) from dream_persons");
    let weeks = ws.sql("select person_id, quarter, week, cast(week_start as varchar), code, class from dream_weeks");
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    // quarter → its end (Sunday of the last week), from the calendar, not from SQL.
    let mut counts: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new(); // (person, quarter) → (selv weeks, su weeks)
    for w in &weeks {
        let e = counts.entry((w[0].clone(), w[1].clone())).or_default();
        if w[4].is_empty() || w[5] == "igu_praktik" {
            e.0 += 1;
        }
        if w[5] == "su" {
            e.1 += 1;
        }
    }
    let mut expected: BTreeMap<(i32, String, String), [i64; 4]> = BTreeMap::new(); // → [den, m1, selv, udd]
    for p in &persons {
        let quarter: maaltal::period::Period = p[1].parse().unwrap();
        let end = quarter.reference_end();
        let born = date(&p[3]).unwrap();
        let in_age = born.checked_add_months(Months::new(18 * 12)).unwrap() <= end
            && born.checked_add_months(Months::new(65 * 12)).unwrap() > end;
        let first_ok = date(&p[7])
            .is_some_and(|f| f <= end && f >= end.checked_sub_months(Months::new(36)).unwrap());
        if !(p[4] == "3" && p[6] == "true" && in_age && first_ok) {
            continue;
        }
        let (selv_w, su_w) = counts
            .get(&(p[0].clone(), p[1].clone()))
            .copied()
            .unwrap_or_default();
        let (selv, udd) = (selv_w >= 5, su_w >= 5);
        for sex in ["alle", p[2].as_str()] {
            let e = expected
                .entry((p[5].parse().unwrap(), p[1].clone(), sex.to_string()))
                .or_default();
            e[0] += 1;
            e[1] += i64::from(selv || udd);
            e[2] += i64::from(selv);
            e[3] += i64::from(udd);
        }
    }
    assert!(expected.len() > 400, "{}", expected.len());
    let m = mart(&ws);
    let mut compared = 0;
    for ((k, q, sex), [den, m1, selv, udd]) in &expected {
        for (metric, num) in [
            ("M1", m1),
            ("M1_selvforsoergelse", selv),
            ("M1_uddannelse", udd),
        ] {
            let got = m
                .get(&(*k, metric.to_string(), q.clone(), sex.clone()))
                .unwrap();
            assert_eq!(
                (got.0, got.1),
                (Some(*num), Some(*den)),
                "{k} {metric} {q} {sex}"
            );
            compared += 1;
        }
    }
    // Change since the baseline (2016Q4) in percentage points, from the mart's own shares.
    let json = ws.ok(&["sql", "select c.share, c.baseline_share, c.change_pp, b.share as b from metric_comparison c join target_metrics b on b.municipality_code = c.municipality_code and b.metric = c.metric and b.sex = c.sex and b.period = '2016Q4' where c.metric = 'M1' and c.period = '2018Q4' and c.sex = 'alle' and c.municipality_code = 350", "--format", "json"]);
    let r = &serde_json::from_str::<serde_json::Value>(&json).unwrap()[0];
    assert_eq!(r["baseline_share"], r["b"]);
    let expect_pp = (r["share"].as_f64().unwrap() - r["b"].as_f64().unwrap()) * 100.0;
    assert!(
        (r["change_pp"].as_f64().unwrap() - expect_pp).abs() < 1e-9,
        "{json}"
    );
    // The sex split of M1 is compared with 2017Q1.
    assert_eq!(ws.count("select count(*) from metric_comparison where metric = 'M1' and sex = 'K' and baseline_period <> '2017Q1'"), 0);

    // `--period` replaces that period's rows and keeps the others.
    let per_period = "select period, count(*), sum(numerator) from target_metrics group by period order by period";
    let before = ws.sql(per_period);
    ws.ok(&["transform", "--period", "2018Q4"]);
    assert_eq!(ws.sql(per_period), before);

    // And the mart has no population the plain computation lacks.
    let nonzero = m
        .iter()
        .filter(|(k, v)| k.1.starts_with("M1") && v.1.unwrap_or(0) > 0)
        .count();
    assert_eq!(nonzero, compared);
    let _ = sample_dir();
}

#[test]
fn a_periods_transform_reads_only_its_quarter_and_agrees_with_the_full_one() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q2..2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018-10..2018-12"]);
    // The quarterly job on a lake landed by hand: its quarter and every landed quarter
    // without marts get computed.
    ws.ok(&["run", "quarterly", "--period", "2018Q4"]);
    let by_job = mart(&ws);
    let m1_quarters: std::collections::BTreeSet<String> = by_job
        .keys()
        .filter(|(_, m, _, _)| m == "M1")
        .map(|(_, _, p, _)| p.clone())
        .collect();
    assert_eq!(
        m1_quarters.into_iter().collect::<Vec<_>>(),
        ["2018Q2", "2018Q3", "2018Q4"]
    );
    // A quarter's transform replaces that quarter's rows with what the full run computes.
    ws.ok(&["transform"]);
    let full = mart(&ws);
    assert_eq!(by_job, full, "the job's marts are the full transform's");
    ws.ok(&["transform", "--period", "2018Q3"]);
    assert_eq!(
        mart(&ws),
        full,
        "a quarter's transform changes nothing else"
    );
    // Land 2018Q3 again with one person fewer: only a transform of 2018Q3 sees it.
    let csv = std::fs::read_to_string(sample_dir().join("dream/dream_2018Q3.csv")).unwrap();
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    // Surely in Lejre's 2018Q3 population: origin 3, in the programme, aged well
    // inside 18-64, first integrationsydelse well inside the 36 months.
    let gone = lines
        .iter()
        .position(|l| {
            let f: Vec<&str> = l.split(';').collect();
            f[3] == "3"
                && f[4] == "350"
                && f[5] == "1"
                && ("1960-01-01".."1995-01-01").contains(&f[2])
                && ("2016-01-01".."2018-06-30").contains(&f[6])
        })
        .expect("a Lejre person in the population");
    lines.remove(gone);
    let fewer = ws.dir.path().join("dream_2018Q3.csv");
    std::fs::write(&fewer, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    ws.ok(&[
        "ingest",
        "dream",
        fewer.to_str().unwrap(),
        "--period",
        "2018Q3",
    ]);
    ws.ok(&["transform", "--period", "2018Q4"]);
    assert_eq!(mart(&ws), full, "2018Q4's transform does not read 2018Q3");
    ws.ok(&["transform", "--period", "2018Q3"]);
    let after = mart(&ws);
    let den = |m: &Mart, p: &str| m[&(350, "M1".into(), p.into(), "alle".into())].1;
    assert_eq!(den(&after, "2018Q4"), den(&full, "2018Q4"));
    assert_eq!(
        den(&after, "2018Q3"),
        den(&full, "2018Q3").map(|d| d - 1),
        "one person fewer in the population"
    );
}
