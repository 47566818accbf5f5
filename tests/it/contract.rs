//! A CSV source's contract is the config's (`[[sources.fagsystem.files]]`): a rule
//! written there rejects a line naming file, line, column and field, and a column left
//! out of it lands in `extra_columns`, with no change to the Rust.

use crate::common::{Workspace, text};

const TYPE_COLUMN: &str = "  { name = \"type\", rule = \"text\" },\n";

fn workspace(samtaler_type: &str) -> Workspace {
    let line = samtaler_type.to_string();
    Workspace::with_config(move |t| {
        assert!(t.contains(TYPE_COLUMN), "the default's samtaler contract");
        t.replacen(TYPE_COLUMN, &line, 1)
    })
}

fn ingest(ws: &Workspace) -> std::process::Output {
    ws.run(&[
        "ingest",
        "fagsystem",
        "--period",
        "2018-11",
        "--municipality",
        "350",
    ])
}

#[test]
fn a_rule_written_in_the_config_rejects_the_line_that_breaks_it() {
    let ws = workspace(
        "  { name = \"type\", rule = \"one_of\", values = [\"Jobsamtale\", \"Opfølgningssamtale\"] },\n",
    );
    let out = ingest(&ws);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // The sample's first Mentorsamtale, found the way the parser must find it.
    let src = crate::common::sample_dir().join("fagsystem/350/2018-11/samtaler.csv");
    let csv = std::fs::read_to_string(&src).unwrap();
    let line = csv
        .lines()
        .position(|l| l.ends_with(";Mentorsamtale"))
        .unwrap()
        + 1;
    let column = csv.lines().nth(line - 1).unwrap().rfind(';').unwrap() + 2;
    assert!(
        err.contains(&format!(
            "samtaler.csv:{line}:{column}: field `type`: invalid value \"Mentorsamtale\": expected one of `Jobsamtale`, `Opfølgningssamtale`"
        )),
        "{err}"
    );
    assert!(
        !ws.lake().join("raw/fagsystem").exists(),
        "nothing of the rejected export landed"
    );
}

#[test]
fn a_column_the_contract_leaves_out_lands_in_extra_columns() {
    let ws = workspace("");
    let out = ingest(&ws);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cols = ws.sql(
        "select column_name from information_schema.columns where table_name = 'fagsystem_samtaler' order by ordinal_position",
    );
    let cols: Vec<&str> = cols.iter().map(|r| r[0].as_str()).collect();
    assert!(!cols.contains(&"type"), "{cols:?}");
    assert!(cols.contains(&"extra_columns"), "{cols:?}");
    let rows = ws.sql(
        "select count(*) from fagsystem_samtaler where extra_columns like '%\"type\":\"Mentorsamtale\"%'",
    );
    let n: u64 = rows[0][0].parse().unwrap();
    assert!(n > 0, "the left-out column's values are kept: {rows:?}");
}
