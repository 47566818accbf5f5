//! Golden test of the månedsbog: a hand-made export for 2018-11 with hand-written
//! expected figures for every column, and the visibility model read from the lake.

use maaltal::visibility::{Row, Visibility};

use crate::common::Workspace;

const MEDARBEJDERE: &str = "medarbejder_id;navn;email;afdeling;rolle
A1;Anne Østergaard;anne@lejre.dk;Team Nord;sagsbehandler
A2;Bjørn Holm;bjoern@lejre.dk;Team Nord;virksomhedskonsulent
A3;Åse Lund;;Team Nord;mentor
B1;Søren Dahl;soeren@lejre.dk;Team Syd;virksomhedskonsulent
L1;Lene Kjær;lene@lejre.dk;Team Syd;leder
";

// S2 closed on the month's last day: not active. S3 opened on it: active.
const SAGER: &str = "sag_id;cpr;medarbejder_id;visitationskategori;oprettet;afsluttet
S1;0101900001;A1;Jobparat;2018-01-10;
S2;0101900002;A1;Jobparat;2018-02-01;2018-11-30
S3;0101900003;A1;Aktivitetsparat;2018-11-30;
S4;0101900004;A1;Jobparat;2018-03-01;2018-12-01
S5;0101900005;B1;Jobparat;2018-12-01;
";

const SAMTALER: &str = "samtale_id;cpr;medarbejder_id;dato;type
T1;0101900001;A1;2018-11-01;Jobsamtale
T2;0101900001;A1;2018-11-30;Jobsamtale
T3;0101900002;A1;2018-10-31;Jobsamtale
T4;0101900003;L1;2018-11-15;Opfølgningssamtale
";

// The six months are 2018-06-01 to 2018-11-30: V1 (first day) in, V2 (a day before) out.
const BESOEG: &str = "besoeg_id;medarbejder_id;cvr;dato
V1;A2;12345678;2018-06-01
V2;A2;12345678;2018-05-31
V3;A2;12345678;2018-11-30
V4;B1;87654321;2018-09-15
V5;B1;87654321;2018-12-01
";

// P1 overlaps the month's start and ends in it (wait 14); P2 spans several months;
// P3 starts and ends in the month (wait 4); P4 is person 1 again; P5 ended before;
// P8 starts after the month. Team Syd: B1 ends two (waits 31 and 13), L1 one (wait 1),
// and person 5 has placements with both B1 and L1.
const PLACERINGER: &str = "placering_id;cpr;medarbejder_id;cvr;tilbud;henvist;start;slut
P1;0101900001;A2;12345678;Virksomhedspraktik;2018-10-01;2018-10-15;2018-11-10
P2;0101900002;A2;12345678;Virksomhedspraktik;2018-08-01;2018-09-01;2019-01-31
P3;0101900003;A2;12345678;Nytteindsats;2018-11-01;2018-11-05;2018-11-20
P4;0101900001;A2;12345678;Ansættelse med løntilskud;2018-11-11;2018-11-12;
P5;0101900004;A2;12345678;Virksomhedspraktik;2018-09-01;2018-09-10;2018-10-31
P8;0101900007;A2;12345678;Virksomhedspraktik;2018-11-20;2018-12-01;
P6;0101900005;B1;87654321;Virksomhedspraktik;2018-10-01;2018-11-01;2018-11-30
P9;0101900008;B1;87654321;Virksomhedspraktik;2018-10-20;2018-11-02;2018-11-15
P7;0101900006;L1;87654321;Virksomhedspraktik;2018-11-01;2018-11-02;2018-11-29
P10;0101900005;L1;87654321;Nytteindsats;2018-11-02;2018-11-03;
";

/// id, department, the five counts, the mean waiting time.
type Figures = (String, String, i64, i64, i64, i64, i64, Option<f64>);

fn rows(ws: &Workspace, sql: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(&ws.ok(&["sql", sql, "--format", "json"])).unwrap()
}

#[test]
fn maanedsbog_figures_per_employee_and_department() {
    let ws = Workspace::new();
    let dir = ws.dir.path().join("export");
    std::fs::create_dir_all(&dir).unwrap();
    for (f, t) in [
        ("medarbejdere", MEDARBEJDERE),
        ("sager", SAGER),
        ("samtaler", SAMTALER),
        ("virksomhedsbesoeg", BESOEG),
        ("placeringer", PLACERINGER),
    ] {
        std::fs::write(dir.join(format!("{f}.csv")), t).unwrap();
    }
    ws.ok(&[
        "ingest",
        "fagsystem",
        dir.to_str().unwrap(),
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ]);
    ws.ok(&["transform", "--month", "2018-11"]);

    let emp = rows(
        &ws,
        "select medarbejder_id, afdeling, aktive_sager, aktiverede, samtaler, virksomhedsbesoeg_6_mdr, afsluttede_placeringer, gns_ventetid_dage from maanedsbog where month = '2018-11' order by medarbejder_id",
    );
    let got: Vec<Figures> = emp
        .iter()
        .map(|r| {
            (
                r["medarbejder_id"].as_str().unwrap().into(),
                r["afdeling"].as_str().unwrap().into(),
                r["aktive_sager"].as_i64().unwrap(),
                r["aktiverede"].as_i64().unwrap(),
                r["samtaler"].as_i64().unwrap(),
                r["virksomhedsbesoeg_6_mdr"].as_i64().unwrap(),
                r["afsluttede_placeringer"].as_i64().unwrap(),
                r["gns_ventetid_dage"].as_f64(),
            )
        })
        .collect();
    let s = String::from;
    assert_eq!(
        got,
        vec![
            (s("A1"), s("Team Nord"), 3, 0, 2, 0, 0, None),
            (s("A2"), s("Team Nord"), 0, 3, 0, 2, 2, Some(9.0)),
            (s("A3"), s("Team Nord"), 0, 0, 0, 0, 0, None), // an employee with no rows
            (s("B1"), s("Team Syd"), 0, 2, 0, 1, 2, Some(22.0)),
            (s("L1"), s("Team Syd"), 0, 2, 1, 0, 1, Some(1.0)),
        ]
    );

    let dep = rows(
        &ws,
        "select afdeling, aktive_sager, aktiverede, samtaler, virksomhedsbesoeg_6_mdr, afsluttede_placeringer, gns_ventetid_dage from maanedsbog_afdeling where month = '2018-11' order by afdeling",
    );
    assert_eq!(dep.len(), 2);
    let nord = &dep[0];
    assert_eq!(
        (
            nord["aktive_sager"].as_i64(),
            nord["aktiverede"].as_i64(),
            nord["samtaler"].as_i64()
        ),
        (Some(3), Some(3), Some(2))
    );
    assert_eq!(
        (
            nord["virksomhedsbesoeg_6_mdr"].as_i64(),
            nord["afsluttede_placeringer"].as_i64(),
            nord["gns_ventetid_dage"].as_f64()
        ),
        (Some(2), Some(2), Some(9.0))
    );
    let syd = &dep[1];
    // Person 5 is with both B1 and L1: counted once in the department (B1 2 + L1 2 would be 4).
    assert_eq!(
        (
            syd["aktive_sager"].as_i64(),
            syd["aktiverede"].as_i64(),
            syd["samtaler"].as_i64()
        ),
        (Some(0), Some(3), Some(1))
    );
    // Waiting time over all three placements, (31 + 13 + 1) / 3 = 15, not the mean of the means (22 + 1) / 2.
    assert_eq!(
        (
            syd["virksomhedsbesoeg_6_mdr"].as_i64(),
            syd["afsluttede_placeringer"].as_i64(),
            syd["gns_ventetid_dage"].as_f64()
        ),
        (Some(1), Some(3), Some(15.0))
    );

    // Visibility: from the same export, as data in the lake.
    let grants = rows(
        &ws,
        "select recipient_email, afdeling from maanedsbog_visibility order by recipient_email, afdeling",
    );
    let pairs: Vec<(String, String)> = grants
        .iter()
        .map(|r| {
            (
                r["recipient_email"].as_str().unwrap().into(),
                r["afdeling"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (s("anne@lejre.dk"), s("Team Nord")),
            (s("bjoern@lejre.dk"), s("Team Nord")),
            (s("lene@lejre.dk"), s("Team Nord")),
            (s("lene@lejre.dk"), s("Team Syd")),
            (s("soeren@lejre.dk"), s("Team Syd")),
        ]
    );
    let v = Visibility::load(&ws.lake());
    let emp_row = |a| Row::Employee {
        kommune: 350,
        month: "2018-11",
        afdeling: a,
    };
    assert!(v.may_see("anne@lejre.dk", emp_row("Team Nord")));
    assert!(!v.may_see("anne@lejre.dk", emp_row("Team Syd")));
    assert!(v.may_see(
        "anne@lejre.dk",
        Row::Department {
            kommune: 350,
            month: "2018-11"
        }
    ));
    assert!(
        v.may_see("lene@lejre.dk", emp_row("Team Nord"))
            && v.may_see("lene@lejre.dk", emp_row("Team Syd"))
    );
    assert_eq!(
        v.recipients(350, "2018-11").len(),
        4,
        "Åse has no email: no månedsbog"
    );

    // Idempotent.
    let before = crate::common::hash_tree(&ws.lake().join("marts"));
    ws.ok(&["transform", "--month", "2018-11"]);
    let after = crate::common::hash_tree(&ws.lake().join("marts"));
    assert_eq!(
        before.get("maanedsbog/part-0.parquet"),
        after.get("maanedsbog/part-0.parquet")
    );
}

#[test]
fn the_department_is_the_one_in_each_months_export() {
    // In the sample, one sagsbehandler moves to the second department in June 2018.
    let ws = Workspace::new();
    ws.ok(&[
        "ingest",
        "fagsystem",
        "--period",
        "2018-05..2018-06",
        "--municipality",
        "350",
    ]);
    ws.ok(&["transform"]);
    let moved = rows(
        &ws,
        "select a.medarbejder_id, a.afdeling as before, b.afdeling as after from maanedsbog a join maanedsbog b on a.medarbejder_id = b.medarbejder_id and a.kommune = b.kommune where a.month = '2018-05' and b.month = '2018-06' and a.afdeling <> b.afdeling",
    );
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0]["before"], "Integration");
    assert_eq!(moved[0]["after"], "Jobcenter Erhverv");
}
