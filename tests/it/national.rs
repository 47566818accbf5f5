//! `sample-data --scale national` at a small size: all 98 municipalities with a config
//! that reads them, landed and computed end to end; and the benchmark's M1 query
//! (queries/bench/m1.sql) gives the same rows in maaltal and in DuckDB.

use std::path::Path;
use std::process::Command;

use crate::common::text;

/// A query of `queries/bench/`, its comment lines dropped.
fn bench_sql(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries/bench")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn maaltal(config: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_PSEUDONYM_KEY")
        .env("MAALTAL_LOG", crate::common::LOG_FILTER)
        .output()
        .expect("run maaltal");
    let out = crate::common::no_personal_data(out, &[]);
    assert!(
        out.status.success(),
        "maaltal {args:?}:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn national_scale_covers_every_municipality_and_duckdb_agrees_on_m1() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("national");
    let config = data.join("maaltal.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .args(["sample-data", "--scale", "national", "--persons", "40000"])
        .args(["--employees", "980", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The DREAM quarter has the persons asked for, in all 98 municipalities.
    let csv = std::fs::read_to_string(data.join("dream/dream_2018Q4.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 40_000, "persons in 2018Q4");
    let kommuner: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r.split(';').nth(4)).collect();
    assert_eq!(kommuner.len(), 98, "{kommuner:?}");
    assert_eq!(
        std::fs::read_dir(data.join("dream")).unwrap().count(),
        13,
        "twelve quarters and the code mapping"
    );
    // The case systems hold the employees asked for (December: everyone hired).
    let mut employees = 0;
    for office in std::fs::read_dir(data.join("fagsystem")).unwrap() {
        let file = office.unwrap().path().join("2018-12/medarbejdere.csv");
        employees += std::fs::read_to_string(file).unwrap().lines().count() - 1;
    }
    assert_eq!(employees, 980);

    // Its own config is valid and reads it: land two quarters, compute the marts.
    let valid = maaltal(&config, &["validate"]);
    assert!(valid.contains("98 programme municipalities"), "{valid}");
    maaltal(&config, &["ingest", "dream", "--period", "2018Q3..2018Q4"]);
    maaltal(&config, &["transform"]);
    let m1 = maaltal(
        &config,
        &[
            "sql",
            "select count(distinct municipality_code) from target_metrics where metric = 'M1' and period = '2018Q4' and denominator > 0",
            "--format",
            "csv",
        ],
    );
    assert_eq!(m1.lines().nth(1), Some("98"), "{m1}");

    // The benchmark's query: the same rows in both engines, and the same M1 as the mart.
    let m1_sql = bench_sql("m1.sql");
    let ours = maaltal(&config, &["sql", &m1_sql, "--format", "csv"]);
    let lake = data.join("lake");
    let script = format!(
        "import duckdb\ncon = duckdb.connect()\n\
         con.execute(\"create view dream_persons as select * from read_parquet('{l}/raw/dream/persons/*/*.parquet', hive_partitioning = true)\")\n\
         con.execute(\"create view dream_weeks as select * from read_parquet('{l}/raw/dream/weeks/*/*.parquet', hive_partitioning = true)\")\n\
         con.sql('''{q}''').write_csv('{l}/../m1-duckdb.csv')\n",
        l = lake.display(),
        q = m1_sql,
    );
    let py = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", text(&py.stderr));
    let theirs = std::fs::read_to_string(data.join("m1-duckdb.csv")).unwrap();
    assert_eq!(
        ours.trim(),
        theirs.trim(),
        "maaltal and DuckDB differ on M1"
    );
    // The form without the semi-join, which the benchmark gives DuckDB: the same rows.
    let plain = bench_sql("m1_plain.sql");
    assert_ne!(plain, m1_sql, "m1_plain.sql is another form");
    let ours_plain = maaltal(&config, &["sql", &plain, "--format", "csv"]);
    assert_eq!(
        ours.trim(),
        ours_plain.trim(),
        "m1_plain.sql differs from m1.sql"
    );
    let lejre_mart = maaltal(
        &config,
        &[
            "sql",
            "select numerator, denominator from target_metrics where metric = 'M1' and municipality_code = 350 and period = '2018Q4' and sex = 'alle'",
            "--format",
            "csv",
        ],
    );
    let lejre_bench = ours
        .lines()
        .find(|l| l.starts_with("350,2018Q4,alle,"))
        .expect("Lejre 2018Q4 in the benchmark's rows");
    let f: Vec<&str> = lejre_bench.split(',').collect();
    assert_eq!(
        lejre_mart.lines().nth(1),
        Some(format!("{},{}", f[4], f[3]).as_str()),
        "the benchmark's M1 is the mart's M1"
    );
}
