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

/// A second CSV source written only in the config: a quarterly register with one file
/// for all municipalities, served over HTTP on 127.0.0.1, pulled by a job of its own.
#[test]
fn a_source_written_only_in_the_config_is_pulled_landed_and_checked() {
    use crate::common::{Script, Server};
    const CPRS: [&str; 3] = ["0101901234", "1503854321", "2212771118"];
    let root = tempfile::tempdir().unwrap();
    let write = |period: &str, body: &str| {
        let dir = root.path().join("register").join(period);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("pakker.csv"),
            format!("pakke_id;cpr;kommune;start;slut;status\n{body}"),
        )
        .unwrap();
    };
    write(
        "2019Q3",
        &format!(
            "P1;{};580;2019-07-01;2019-09-30;ordinaer_beskaeftigelse\nP2;{};580;2019-08-15;;igang\nP3;{};751;2019-07-10;2019-08-01;afbrudt\n",
            CPRS[0], CPRS[1], CPRS[2]
        ),
    );
    write(
        "2019Q4",
        &format!("P4;{};580;2019-11-01;2019-10-01;igang\n", CPRS[0]),
    );
    let server = Server::start(root.path(), Script::default());
    let base = server.base.clone();
    let ws = Workspace::with_config(move |t| {
        format!(
            r#"{t}
[sources.jobpakker]
type = "csv"
period = "quarter"
location = "{base}/files/register/{{period}}"

[[sources.jobpakker.files]]
name = "pakker"
columns = [
  {{ name = "pakke_id", rule = "id" }},
  {{ name = "cpr", rule = "cpr" }},
  {{ name = "kommune", rule = "text" }},
  {{ name = "start", rule = "date" }},
  {{ name = "slut", rule = "date", optional = true, not_before = "start" }},
  {{ name = "status", rule = "one_of", values = ["igang", "ordinaer_beskaeftigelse", "afbrudt"] }},
]

[jobs.pakker]
period = "quarter"
steps = ["ingest jobpakker"]
schedule = "0 5 15 1,4,7,10 *"
"#
        )
    });
    let out = ws.run(&["validate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    ws.ok(&["run", "pakker", "--period", "2019Q3"]);
    let rows = ws.sql(
        "select pakke_id, kommune, cast(start as varchar), coalesce(cast(slut as varchar), ''), status, quarter, length(person_id) from jobpakker_pakker order by pakke_id",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                "P1",
                "580",
                "2019-07-01",
                "2019-09-30",
                "ordinaer_beskaeftigelse",
                "2019Q3",
                "64"
            ],
            vec!["P2", "580", "2019-08-15", "", "igang", "2019Q3", "64"],
            vec![
                "P3",
                "751",
                "2019-07-10",
                "2019-08-01",
                "afbrudt",
                "2019Q3",
                "64"
            ],
        ]
    );
    let fetched = ws.sql("select source, table_name, period, status from ledger_fetches");
    assert_eq!(
        fetched,
        vec![vec!["jobpakker", "jobpakker_pakker", "2019Q3", "landed"]]
    );
    let all = ws.sql("select * from jobpakker_pakker");
    for cpr in CPRS {
        assert!(
            !all.iter().flatten().any(|v| v.contains(cpr)),
            "a CPR number reached the lake: {all:?}"
        );
    }

    // The next quarter breaks `not_before`: rejected, named, quarantined, lake intact.
    let out = ws.run(&["ingest", "jobpakker", "--period", "2019Q4"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}/files/register/2019Q4/pakker.csv:2:30: field `slut`: invalid value \"2019-10-01\": expected a date on or after `start` (2019-11-01)",
            server.base
        )),
        "{err}"
    );
    assert!(!err.contains(CPRS[0]), "{err}");
    let quarters = ws.sql("select distinct quarter from jobpakker_pakker");
    assert_eq!(quarters, vec![vec!["2019Q3"]]);

    // A month is not a period of this source.
    let out = ws.run(&["ingest", "jobpakker", "--period", "2019-11"]);
    assert!(
        text(&out.stderr).contains("jobpakker bundles cover a quarter"),
        "{}",
        text(&out.stderr)
    );
    let out = ws.run(&[
        "ingest",
        "jobpakker",
        "--period",
        "2019Q3",
        "--municipality",
        "580",
    ]);
    assert!(
        text(&out.stderr)
            .contains("`--municipality 580`: jobpakker delivers one bundle for all municipalities"),
        "{}",
        text(&out.stderr)
    );
    let out = ws.run(&["ingest", "pakker", "--period", "2019Q3"]);
    assert!(
        text(&out.stderr).contains(
            "no source `pakker` in `[sources]`; sources: dream, fagsystem, jobindsats, jobpakker"
        ),
        "{}",
        text(&out.stderr)
    );
}
