//! docs/lake.md documents every lake table; this test holds it to the real schemas.

use std::collections::BTreeMap;

use crate::common::Workspace;

/// (table → [(column, type, nullable)]) as docs/lake.md writes it.
fn documented() -> BTreeMap<String, Vec<(String, String, bool)>> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/lake.md")).unwrap();
    let mut out: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
    let mut current: Vec<String> = Vec::new();
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            current = h
                .split(" and ")
                .map(|t| t.trim().trim_matches('`').to_string())
                .collect();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') || current.is_empty() {
            continue;
        }
        for col in cells[1].split(" / ") {
            let col = col.trim().trim_matches('`').to_string();
            for t in &current {
                out.entry(t.clone()).or_default().push((
                    col.clone(),
                    cells[2].to_string(),
                    cells[3] == "yes",
                ));
            }
        }
    }
    out
}

fn simple(data_type: &str) -> String {
    // DataFusion reads Parquet strings as Utf8View; the file's type is utf8.
    let t = data_type
        .trim_start_matches('"')
        .to_lowercase()
        .replace("utf8view", "utf8");
    if t.starts_with("timestamp") {
        "timestamp".into()
    } else if t == "utf8" || t == "string" {
        "utf8".into()
    } else {
        t
    }
}

#[test]
fn every_lake_table_is_documented_with_its_real_schema() {
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
    ws.ok(&["transform"]);
    ws.ok(&["send", "overview", "--period", "2018Q4"]);
    ws.ok(&["run", "quarterly", "--period", "2018Q4"]);
    let tables: Vec<String> = ws.sql("select table_name from information_schema.tables where table_schema = 'public' order by table_name").into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(tables.len(), 21, "{tables:?}");
    holds_to_the_doc(&ws, &tables);
}

/// VIP2's tables, in a lake of its own register: its landed table and its marts.
#[test]
fn vip2_s_tables_are_documented_with_their_real_schema() {
    let ws = Workspace::with_programme("vip2");
    let extract = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/vip2/marts/worked_example_aabenraa/extracts/jobpakker_2019Q3.csv"
    );
    let vip2 = |args: &[&str]| ws.ok(&[&["--programme", "vip2"][..], args].concat());
    vip2(&["ingest", "jobpakker", extract, "--period", "2019Q3"]);
    vip2(&["transform"]);
    let tables: Vec<String> = ws
        .sql("select table_name from information_schema.tables where table_schema = 'public' and (table_name like 'jobpak%') order by table_name")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(tables.len(), 7, "{tables:?}");
    holds_to_the_doc(&ws, &tables);
}

/// Each of `tables` is in docs/lake.md with its real columns, types and nullability.
fn holds_to_the_doc(ws: &Workspace, tables: &[String]) {
    let doc = documented();
    for t in tables {
        let documented = doc
            .get(t)
            .unwrap_or_else(|| panic!("table `{t}` is not in docs/lake.md"));
        let real = ws.sql(&format!(
            "select column_name, data_type, is_nullable from information_schema.columns where table_name = '{t}' order by ordinal_position"
        ));
        let real_cols: Vec<String> = real.iter().map(|r| r[0].clone()).collect();
        let partition = |c: &str| ["quarter", "month", "kommune"].contains(&c);
        let doc_cols: Vec<String> = documented
            .iter()
            .map(|(c, _, _)| c.clone())
            .filter(|c| real_cols.contains(c) || !partition(c))
            .collect();
        assert_eq!(real_cols, doc_cols, "columns of `{t}`");
        for r in &real {
            let (_, ty, nullable) = documented.iter().find(|(c, _, _)| *c == r[0]).unwrap();
            assert_eq!(simple(&r[1]), *ty, "type of `{t}.{}`", r[0]);
            if !partition(&r[0]) {
                assert_eq!(r[2] == "YES", *nullable, "nullability of `{t}.{}`", r[0]);
            }
        }
    }
}
