//! `maaltal sql` is the analysts' door into the lake, and only a door to read through:
//! statements that write (COPY, INSERT, CREATE, DROP) or read files outside the lake
//! (CREATE EXTERNAL TABLE) are refused before they run, with exit code 3.

use crate::common::{Workspace, text};

#[test]
fn writing_and_reading_outside_the_lake_are_refused_and_nothing_is_written() {
    let ws = Workspace::new();
    // A landed table, so that the refusals are not just "no such table".
    let sample = crate::common::sample_dir().join("dream/dream_2018Q4.csv");
    ws.ok(&[
        "ingest",
        "dream",
        sample.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    let lake_before = tree(&ws.lake());

    let outside = ws.dir.path().join("evil.csv");
    let secret = ws.dir.path().join("secret.csv");
    std::fs::write(&secret, "cpr\n0101001234\n").unwrap();
    for (sql, what) in [
        (
            format!("COPY (SELECT 1) TO '{}'", outside.display()),
            "COPY",
        ),
        (
            format!(
                "COPY dream_persons TO '{}' STORED AS CSV",
                outside.display()
            ),
            "COPY",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{}'",
                secret.display()
            ),
            "DDL",
        ),
        ("CREATE TABLE t AS SELECT 1 AS x".to_string(), "DDL"),
        ("DROP TABLE dream_persons".to_string(), "DDL"),
        ("DROP VIEW IF EXISTS dream_persons".to_string(), "DDL"),
        (
            "INSERT INTO dream_persons SELECT * FROM dream_persons".to_string(),
            "DML",
        ),
        (
            "SET datafusion.execution.batch_size = 1".to_string(),
            "Statement",
        ),
    ] {
        let out = ws.run(&["sql", &sql]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{sql}: {err}");
        assert!(out.stdout.is_empty(), "{sql}: {}", text(&out.stdout));
        assert!(
            err.contains("`maaltal sql` only reads the lake"),
            "{sql}: {err}"
        );
        assert!(err.contains(what), "{sql}: {err}");
        assert!(!err.contains("0101001234"), "{sql}: {err}");
    }
    assert!(!outside.exists(), "COPY wrote {}", outside.display());
    assert_eq!(tree(&ws.lake()), lake_before, "the lake changed");

    // Reading is what it is for.
    for sql in [
        "SELECT count(*) AS n FROM dream_persons",
        "WITH q AS (SELECT quarter FROM dream_persons) SELECT count(*) FROM q",
        "EXPLAIN SELECT count(*) FROM dream_persons",
        "SHOW TABLES",
        "DESCRIBE dream_persons",
    ] {
        let out = ws.run(&["sql", sql, "--format", "csv"]);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).lines().count() >= 2,
            "{sql}: {}",
            text(&out.stdout)
        );
    }
}

/// Every file under `dir` with its size, sorted.
fn tree(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), e.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}
