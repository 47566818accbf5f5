//! The README's first command: `maaltal demo` in an empty folder runs the whole
//! pipeline on the embedded default (sample data served over HTTP on 127.0.0.1, the
//! lake, the marts, the PDFs, the mails in the outbox), and `maaltal validate` passes.

use std::process::Command;

use crate::common::text;

#[test]
fn the_demo_runs_everything_from_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_maaltal"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("MAALTAL_LAKE")
            .env_remove("MAALTAL_CONFIG")
            .env_remove("MAALTAL_SMTP_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let out = run(&["demo"]);
    assert!(
        out.contains("serving the sample data on http://127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("landed 295 table partitions, 698945 rows"),
        "{out}"
    );
    assert!(
        out.contains("16 quarterly status reports (2018Q4), 1 overview, 57 månedsbøger (2018-12)"),
        "{out}"
    );
    assert!(out.contains("mails in ./outbox/: 74 written"), "{out}");
    let count = |sub: &str, ext: &str| {
        std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == ext)
            })
            .count()
    };
    assert_eq!(count("reports", "pdf"), 74);
    assert_eq!(count("outbox", "eml"), 74);
    // Every extract came over HTTP.
    let locations = run(&[
        "sql",
        "select count(*) as n from ledger_fetches where location not like 'http://127.0.0.1:%'",
        "--format",
        "csv",
    ]);
    assert_eq!(locations.lines().nth(1), Some("0"), "{locations}");
    // Again: nothing new is landed or mailed.
    let again = run(&["demo"]);
    assert!(
        again.contains("mails in ./outbox/: 0 written, 74 delivered before"),
        "{again}"
    );
    let v = run(&["validate"]);
    assert!(
        v.contains("queries/target_metrics.sql: plans against the lake's schemas"),
        "{v}"
    );
    assert!(
        v.contains("report-templates/maanedsbog.typ: compiles with maanedsbog.sample.json"),
        "{v}"
    );
}
