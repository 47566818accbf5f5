//! The lake read by tools nobody here wrote: DuckDB (from pip) gets the same counts
//! and sums as `maaltal sql`.

use std::process::Command;

use crate::common::{Workspace, text};

#[test]
fn duckdb_reads_the_lake_with_the_same_counts() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q3..2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    ws.ok(&["ingest", "fagsystem", "--period", "2018-11"]);
    ws.ok(&["transform"]);
    let lake = ws.lake();
    let script = format!(
        r#"
import duckdb, json
lake = {lake:?}
def q(sql): return duckdb.sql(sql).fetchall()
out = {{}}
out["dream_persons"] = q(f"select quarter, count(*), sum(herkomst) from read_parquet('{{lake}}/raw/dream/persons/*/*.parquet', hive_partitioning=true) group by quarter order by quarter")
out["dream_weeks"] = q(f"select count(*) from read_parquet('{{lake}}/raw/dream/weeks/*/*.parquet', hive_partitioning=true)")
out["jobindsats_offers"] = q(f"select count(*), sum(value) from read_parquet('{{lake}}/raw/jobindsats/offers/*/*.parquet', hive_partitioning=true)")
out["fagsystem_sager"] = q(f"select kommune, count(*) from read_parquet('{{lake}}/raw/fagsystem/sager/*/*/*.parquet', hive_partitioning=true) group by kommune order by kommune")
out["ledger"] = q(f"select count(*) from read_parquet('{{lake}}/ledger/fetches/*.parquet')")
out["target_metrics"] = q(f"select metric, count(*), sum(numerator), sum(denominator) from read_parquet('{{lake}}/marts/target_metrics/*.parquet') group by metric order by metric")
print(json.dumps(out, default=str))
"#,
        lake = lake.display().to_string()
    );
    let py = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3");
    assert!(
        py.status.success(),
        "duckdb failed (is it installed? .ci/run installs it):\n{}",
        text(&py.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(text(&py.stdout).trim()).unwrap();

    let ours = ws.sql("select quarter, count(*), sum(herkomst) from dream_persons group by quarter order by quarter");
    let theirs: Vec<Vec<String>> = v["dream_persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.to_string().trim_matches('"').to_string())
                .collect()
        })
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        v["dream_weeks"][0][0].as_i64().unwrap(),
        ws.count("select count(*) from dream_weeks")
    );
    assert_eq!(
        v["jobindsats_offers"][0][0].as_i64().unwrap(),
        ws.count("select count(*) from jobindsats_offers")
    );
    let sum: f64 = ws.sql("select sum(value) from jobindsats_offers")[0][0]
        .parse()
        .unwrap();
    assert!((v["jobindsats_offers"][0][1].as_f64().unwrap() - sum).abs() < 1e-6);
    let sager =
        ws.sql("select kommune, count(*) from fagsystem_sager group by kommune order by kommune");
    let theirs: Vec<Vec<String>> = v["fagsystem_sager"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        })
        .collect();
    assert_eq!(sager, theirs);
    assert_eq!(
        v["ledger"][0][0].as_i64().unwrap(),
        ws.count("select count(*) from ledger_fetches")
    );
    let marts = ws.sql("select metric, count(*), sum(numerator), sum(denominator) from target_metrics group by metric order by metric");
    let theirs: Vec<Vec<String>> = v["target_metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.to_string().trim_matches('"').to_string())
                .collect()
        })
        .collect();
    assert_eq!(marts, theirs);
    // M1 and its parts from DREAM, M3 from the quarterly Jobindsats table (no monthly M2 landed here).
    assert_eq!(marts.len(), 4, "{marts:?}");
}
