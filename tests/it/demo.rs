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
            .env_remove("MAALTAL_LOG")
            .output()
            .unwrap();
        let out = crate::common::no_personal_data(out, &[]);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        // Logs (stderr) count too: without -v only warnings (the demo key's).
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let out = run(&["demo"]);
    // A person can read it: a screenful, ending with the summary.
    assert!(
        out.lines().count() <= 40,
        "{} lines:\n{out}",
        out.lines().count()
    );
    assert!(out.contains("extracts from http://127.0.0.1:"), "{out}");
    assert!(out.contains("295 partitions, 967,901 rows landed"), "{out}");
    // The per-table lines add up to what was landed, and agree with the ledger.
    let section = |title: &str| -> Vec<String> {
        out.lines()
            .skip_while(|l| !l.starts_with(title))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(str::to_string)
            .collect()
    };
    let tables = section("Landed in ./lake/");
    let mut sum = 0i64;
    for line in &tables {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let rows: i64 = cells[2].replace(',', "").parse().unwrap();
        let ledger = run(&[
            "sql",
            &format!(
                "select count(*) as p, sum(rows) as r from ledger_fetches where status = 'landed' and table_name = '{}'",
                cells[0]
            ),
            "--format",
            "csv",
        ]);
        assert_eq!(
            ledger.lines().nth(1).unwrap(),
            format!("{},{rows}", cells[1]),
            "{line}"
        );
        sum += rows;
    }
    assert!(tables.len() >= 5, "{out}");
    assert_eq!(sum, 967_901, "{out}");
    let marts = out
        .lines()
        .find(|l| l.starts_with("Marts in ./lake/marts/: "))
        .unwrap_or_else(|| panic!("{out}"));
    for mart in [
        "population_cells",
        "target_metrics",
        "project_average",
        "metric_comparison",
        "peer_comparison_members",
        "peer_comparison",
        "maanedsbog",
        "maanedsbog_afdeling",
        "maanedsbog_visibility",
    ] {
        // The marts with a `program` column are shared with VIP2, which the demo runs too.
        let own = if mart.starts_with("maanedsbog") {
            String::new()
        } else {
            " where program = 'imi'".to_string()
        };
        let n = run(&[
            "sql",
            &format!("select count(*) from {mart}{own}"),
            "--format",
            "csv",
        ]);
        let want = format!("{mart} ({})", n.lines().nth(1).unwrap());
        assert!(marts.contains(&want), "{want} not in {marts}");
    }
    let averages = section("Programme averages");
    assert!(
        averages
            .iter()
            .any(|l| l.contains("M1 ") && l.contains("(2016Q4) → ") && l.ends_with("(2018Q4)")),
        "{out}"
    );
    assert!(
        averages
            .iter()
            .any(|l| l.contains("M2 ") && l.ends_with("(2018M12)")),
        "{out}"
    );
    assert!(
        out.contains("Reports in reports/: 16 quarterly (2018Q4), 1 overview (2018Q4), 57 maanedsbog (2018-12)"),
        "{out}"
    );
    assert!(
        out.contains("Mails in ./outbox/: 74 written, 0 delivered before, 0 failed"),
        "{out}"
    );
    let next = section("Next");
    assert!(
        next.iter()
            .any(|l| l.trim_start().starts_with("maaltal sql \"")),
        "{out}"
    );
    assert!(next.iter().any(|l| l.contains("maaltal serve")), "{out}");
    // The suggested query runs.
    let suggested = next[0]
        .trim_start()
        .trim_start_matches("maaltal sql ")
        .trim_matches('"')
        .to_string();
    let persons = run(&["sql", &suggested, "--format", "csv"]);
    assert!(persons.lines().count() > 2, "{persons}");
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
    // 74 of I mål med integration, 6 of VIP2 (5 municipalities and the secretariat).
    assert_eq!(count("reports", "pdf"), 80);
    assert!(
        out.contains("vip2 (VIP2 – Virksomhedsrettet Integration): 6 reports of 2010Q2 in reports/, 6 mails written to ./outbox/, 0 delivered before"),
        "{out}"
    );
    assert!(
        dir.path()
            .join("reports/jobpakker_2010Q2_aabenraa.pdf")
            .exists()
    );
    assert!(
        dir.path()
            .join("reports/jobpakker_oversigt_2010Q2.pdf")
            .exists()
    );
    // The quarterly reports compare with similar municipalities: Lejre's M3 block
    // prints the mart's group value, with how many members contributed.
    let row = run(&[
        "sql",
        "select group_share, group_municipalities, group_members from peer_comparison where municipality_code = 350 and metric = 'M3' and period = '2018Q4' and sex = 'alle'",
        "--format",
        "json",
    ]);
    let row: serde_json::Value = serde_json::from_str(&row).unwrap();
    let lejre = crate::reports::flat(&crate::reports::pdf_text(
        &dir.path().join("reports/statusrapport_2018Q4_lejre.pdf"),
    ));
    let want = format!(
        "{} ({} af {} kommuner)",
        crate::reports::pct_text(row[0]["group_share"].as_f64().unwrap()),
        row[0]["group_municipalities"],
        row[0]["group_members"]
    );
    assert!(lejre.contains(&want), "`{want}` not in Lejre's report");
    assert!(lejre.contains("Sammenlignet med lignende kommuner"));
    assert_eq!(count("outbox", "eml"), 80);
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
        again.contains("Mails in ./outbox/: 0 written, 74 delivered before"),
        "{again}"
    );
    assert!(
        again.contains("0 mails written to ./outbox/, 6 delivered before"),
        "{again}"
    );
    let v = run(&["validate"]);
    assert!(
        v.contains("queries/imi/target_metrics.sql: plans against the lake's schemas"),
        "{v}"
    );
    assert!(
        v.contains("report-templates/imi/maanedsbog.typ: compiles with maanedsbog.sample.json"),
        "{v}"
    );
}
