//! Landing each extract kind from the sample data, idempotence, replacement, and
//! recovery from an interrupted landing.

use crate::common::{Workspace, files, sample_dir};

fn data_lines(path: &std::path::Path) -> i64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as i64
}

#[test]
fn lands_each_kind_with_the_rows_of_the_extract() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018-12"]);
    ws.ok(&[
        "ingest",
        "fagsystem",
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ]);

    let dream = sample_dir().join("dream/dream_2018Q4.csv");
    let persons = data_lines(&dream);
    assert!(persons > 2000, "sample too small: {persons}");
    assert_eq!(ws.count("select count(*) from dream_persons"), persons);
    // 2018Q4 has 13 ISO weeks; the extract's extra week column (2018W39) is not landed.
    assert_eq!(ws.count("select count(*) from dream_weeks"), persons * 13);
    assert_eq!(
        ws.count("select count(*) from dream_weeks where week = '2018W39'"),
        0
    );
    assert_eq!(ws.count("select count(distinct week) from dream_weeks"), 13);

    let offers: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sample_dir().join("jobindsats/Y60A05/2018Q4.json")).unwrap(),
    )
    .unwrap();
    let offer_rows = offers[0]["Data"].as_array().unwrap().len() as i64;
    assert_eq!(
        ws.count("select count(*) from jobindsats_offers"),
        offer_rows
    );
    let visit: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sample_dir().join("jobindsats/Y60V02/2018M12.json")).unwrap(),
    )
    .unwrap();
    // Two measurements per row: antal_personer and andel_pct.
    assert_eq!(
        ws.count("select count(*) from jobindsats_visitation"),
        2 * visit[0]["Data"].as_array().unwrap().len() as i64
    );
    // Suppressed counts land as null with their token kept.
    assert_eq!(
        ws.count(
            "select count(*) from jobindsats_offers where value is null and raw_value <> '..'"
        ),
        0
    );

    let fdir = sample_dir().join("fagsystem/350/2018-11");
    for entity in [
        "medarbejdere",
        "sager",
        "samtaler",
        "virksomhedsbesoeg",
        "placeringer",
    ] {
        let n = data_lines(&fdir.join(format!("{entity}.csv")));
        assert!(n > 0, "{entity}");
        assert_eq!(
            ws.count(&format!(
                "select count(*) from fagsystem_{entity} where kommune = 350 and month = '2018-11'"
            )),
            n,
            "{entity}"
        );
    }
    // Names with æøå survive.
    assert!(ws.count("select count(*) from fagsystem_medarbejdere where navn like '%ø%' or navn like '%å%' or navn like '%æ%'") > 0);

    // The ledger has one row per file and table landed.
    assert_eq!(
        ws.count(
            "select count(*) from ledger_fetches where status = 'landed' and source = 'dream'"
        ),
        2
    );
    assert_eq!(
        ws.count("select sum(rows) from ledger_fetches where table_name = 'dream_persons'"),
        persons
    );
}

#[test]
fn landing_again_is_idempotent_and_a_changed_extract_replaces_the_period() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q3..2018Q4"]);
    let before = ws.count("select count(*) from dream_persons");
    let out = ws.ok(&["ingest", "dream", "--period", "2018Q4"]);
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(ws.count("select count(*) from dream_persons"), before);

    // A revised 2018Q4 extract with fewer persons replaces the partition, not appends.
    let original = std::fs::read_to_string(sample_dir().join("dream/dream_2018Q4.csv")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let revised: String = lines[..lines.len() - 100]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let path = ws.dir.path().join("dream_2018Q4_revised.csv");
    std::fs::write(&path, revised).unwrap();
    ws.ok(&[
        "ingest",
        "dream",
        path.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    let q3 = ws.count("select count(*) from dream_persons where quarter = '2018Q3'");
    let q4 = ws.count("select count(*) from dream_persons where quarter = '2018Q4'");
    assert_eq!(q4, lines.len() as i64 - 1 - 100);
    assert_eq!(q3 + q4, ws.count("select count(*) from dream_persons"));
    let part_files = files(&ws.lake().join("raw/dream/persons/quarter=2018Q4"));
    assert_eq!(part_files.len(), 1, "{part_files:?}");
    assert!(
        !ws.lake()
            .join("_staging")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        "staging left behind"
    );
}

#[test]
fn an_interrupted_commit_is_rolled_forward_and_an_unfinished_staging_discarded() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q3"]);
    // Simulate a crash after the journal was written: the 2018Q3 files staged as 2018Q2.
    let lake = ws.lake();
    let staged = lake.join("_staging/crashed-run/raw/dream/persons/quarter=2018Q2");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::copy(
        lake.join("raw/dream/persons/quarter=2018Q3/part-0.parquet"),
        staged.join("part-0.parquet"),
    )
    .unwrap();
    std::fs::write(
        lake.join("_staging/crashed-run/COMMIT"),
        "raw/dream/persons/quarter=2018Q2\n",
    )
    .unwrap();
    // And a crash before the journal: half-written files that must never appear.
    let half = lake.join("_staging/half-run/raw/dream/persons/quarter=2017Q1");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join("part-0.parquet"), b"PAR1 not finished").unwrap();

    ws.ok(&["ingest", "dream", "--period", "2018Q4"]);
    assert!(
        lake.join("raw/dream/persons/quarter=2018Q2/part-0.parquet")
            .exists()
    );
    assert!(!lake.join("raw/dream/persons/quarter=2017Q1").exists());
    assert!(!lake.join("_staging/half-run").exists());
    assert_eq!(
        ws.count("select count(*) from dream_persons where quarter = '2018Q2'"),
        ws.count("select count(*) from dream_persons where quarter = '2018Q3'")
    );
}

#[test]
fn sql_formats_and_errors() {
    let ws = Workspace::new();
    ws.ok(&[
        "ingest",
        "fagsystem",
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ]);
    let json = ws.ok(&["sql", "select afdeling, count(*) as n from fagsystem_medarbejdere group by afdeling order by afdeling", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3, "{json}");
    let table = ws.ok(&["sql", "select count(*) as n from fagsystem_sager"]);
    assert!(table.contains("| n "), "{table}");
    let bad = ws.run(&["sql", "select nope from fagsystem_sager"]);
    assert_eq!(bad.status.code(), Some(3));
    let err = crate::common::text(&bad.stderr);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn latin1_bom_header_case_and_extra_columns() {
    let src = sample_dir().join("fagsystem/350/2018-11");
    let ws = Workspace::with_config(|t| {
        t.replacen(
            "encoding = \"utf8\"\nmunicipalities",
            "encoding = \"latin1\"\nmunicipalities",
            1,
        )
    });
    let dir = ws.dir.path().join("latin1");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "medarbejdere",
        "sager",
        "samtaler",
        "virksomhedsbesoeg",
        "placeringer",
    ] {
        let mut t = std::fs::read_to_string(src.join(format!("{f}.csv"))).unwrap();
        if f == "medarbejdere" {
            // Upper-case headers and a column the contract does not know.
            let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
            lines[0] = format!("{};telefon", lines[0].to_uppercase());
            for l in lines.iter_mut().skip(1) {
                l.push_str(";46 30 00 00");
            }
            t = lines.join("\n") + "\n";
        }
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&t);
        assert!(!unmappable);
        std::fs::write(dir.join(format!("{f}.csv")), bytes).unwrap();
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
    let names = ws.sql("select navn from fagsystem_medarbejdere order by medarbejder_id");
    let original: Vec<String> = std::fs::read_to_string(src.join("medarbejdere.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(';').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        names.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        original
    );
    assert!(
        original
            .iter()
            .any(|n| n.contains(['æ', 'ø', 'å', 'Å', 'Ø', 'Æ']))
    );
    let extra = ws.ok(&[
        "sql",
        "select extra_columns from fagsystem_medarbejdere limit 1",
        "--format",
        "json",
    ]);
    assert!(
        extra.contains("telefon") && extra.contains("46 30 00 00"),
        "{extra}"
    );

    // The same bytes declared as UTF-8 are rejected, naming the line.
    let ws8 = Workspace::new();
    let out = ws8.run(&[
        "ingest",
        "fagsystem",
        dir.to_str().unwrap(),
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::common::text(&out.stderr).contains("not valid UTF-8 at byte offset"),
        "{}",
        crate::common::text(&out.stderr)
    );

    // A UTF-8 byte-order mark is accepted.
    let bom = ws8.dir.path().join("bom");
    std::fs::create_dir_all(&bom).unwrap();
    for f in [
        "medarbejdere",
        "sager",
        "samtaler",
        "virksomhedsbesoeg",
        "placeringer",
    ] {
        let t = std::fs::read_to_string(src.join(format!("{f}.csv"))).unwrap();
        std::fs::write(bom.join(format!("{f}.csv")), format!("\u{feff}{t}")).unwrap();
    }
    ws8.ok(&[
        "ingest",
        "fagsystem",
        bom.to_str().unwrap(),
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ]);
    assert_eq!(
        ws8.count("select count(*) from fagsystem_medarbejdere"),
        original.len() as i64
    );
}
