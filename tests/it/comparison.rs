//! The comparison with similar municipalities (../shared/spec/comparison.md): golden
//! cases as folders under tests/golden/comparison/, one per worked example and border
//! case. A case holds `comparison.toml` (the `[comparison]` section it runs with), its
//! extracts (`dream/dream_<quarter>.csv`, `jobindsats/<table>/<period>.json`), queries
//! `<name>.sql` with the expected output `<name>.csv` written by hand, and optionally
//! `transform.txt`, lines the transform must print. Every folder found is run.

use std::path::{Path, PathBuf};

use crate::common::{Workspace, text};

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/comparison")
}

/// The embedded default without its `[comparison]` block, plus the case's.
fn workspace(case: &Path) -> Workspace {
    let extra = std::fs::read_to_string(case.join("comparison.toml")).expect("comparison.toml");
    Workspace::with_config(|t| {
        let start = t.find("\n[comparison]").expect("default has [comparison]");
        let end = t.find("# The PDF reports").expect("default has [reports]");
        format!("{}\n{}\n{extra}", &t[..start], &t[end..])
    })
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == ext));
    out.sort();
    out
}

/// Runs one case; returns its problems (empty: passed).
fn run_case(case: &Path) -> Vec<String> {
    let ws = workspace(case);
    let mut problems = Vec::new();
    for f in files(&case.join("dream"), "csv") {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let quarter = stem.trim_start_matches("dream_");
        ws.ok(&["ingest", "dream", f.to_str().unwrap(), "--period", quarter]);
    }
    let ji = case.join("jobindsats");
    if ji.exists() {
        let mut periods: Vec<String> = Vec::new();
        for table in std::fs::read_dir(&ji).unwrap().flatten() {
            for f in files(&table.path(), "json") {
                let stem = f.file_stem().unwrap().to_string_lossy().to_string();
                if stem != "metadata" && !periods.contains(&stem) {
                    periods.push(stem);
                }
            }
        }
        periods.sort();
        for p in &periods {
            ws.ok(&["ingest", "jobindsats", ji.to_str().unwrap(), "--period", p]);
        }
    }
    let out = ws.ok(&["transform"]);
    if let Ok(lines) = std::fs::read_to_string(case.join("transform.txt")) {
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            if !out.contains(line) {
                problems.push(format!("transform did not print `{line}`:\n{out}"));
            }
        }
    }
    let queries = files(case, "sql");
    assert!(!queries.is_empty(), "{}: no queries", case.display());
    for q in queries {
        let sql = std::fs::read_to_string(&q).unwrap();
        let want = std::fs::read_to_string(q.with_extension("csv")).expect("expected CSV");
        let got = ws.ok(&["sql", sql.trim(), "--format", "csv"]);
        if got.trim_end() != want.trim_end() {
            problems.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                q.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    problems
}

#[test]
fn every_golden_case_gives_its_expected_csv() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_root())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "golden cases: {cases:?}");
    let mut failed = Vec::new();
    for case in &cases {
        let problems = run_case(case);
        if !problems.is_empty() {
            failed.push(format!(
                "case {}:\n{}",
                case.file_name().unwrap().to_string_lossy(),
                problems.join("\n")
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn a_municipality_in_two_groups_is_a_config_error_with_its_field() {
    let ws = Workspace::with_config(|t| {
        t.replace(
            "municipalities = [217, 219, 250, 270, 210]",
            "municipalities = [217, 219, 250, 270, 210, 259]",
        )
    });
    let out = ws.run(&["validate"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("comparison.groups.sjaelland.municipalities.2")
            && err.contains("municipality 259 is already in group `hovedstaden`"),
        "{err}"
    );
}

#[test]
fn validate_warns_about_a_programme_municipality_in_no_group() {
    let ws = Workspace::with_config(|t| {
        t.replace(
            "municipalities = [217, 219, 250, 270, 210]",
            "municipalities = [219, 250, 270, 210]",
        )
    });
    let out = ws.ok(&["validate"]);
    assert!(
        out.contains("warning: municipality 217 (Helsingør) is in no [comparison.groups]"),
        "{out}"
    );
    let ws = Workspace::new();
    let out = ws.ok(&["validate"]);
    assert!(!out.contains("warning:"), "{out}");
}

/// "+18,8 procentpoint", the test's own format of a difference in procentpoint.
fn pp_text(v: f64) -> String {
    let n = format!("{:.1}", v.abs()).replace('.', ",");
    let sign = if n == "0,0" {
        ""
    } else if v < 0.0 {
        "-"
    } else {
        "+"
    };
    format!("{sign}{n} procentpoint")
}

#[test]
fn the_quarterly_reports_print_the_comparison_marts_figures() {
    use crate::reports::{flat, full, json, pct_text, pdf_text, report};
    let ws = full();
    let (_out, pdfs) = report(ws, &ws.lake(), &["quarterly", "--period", "2018Q4"]);
    let rows = json(
        ws,
        "select municipality_code, municipality, metric, group_share, group_municipalities, group_members, difference_pp, expected_share, expected_difference_pp \
         from peer_comparison where sex = 'alle' and period in ('2018Q4', '2018M12')",
    );
    assert_eq!(rows.len(), 16 * 5, "a row per municipality and metric");
    let mut groups = 0;
    let mut expected = 0;
    for r in &rows {
        let code = r["municipality_code"].as_i64().unwrap();
        let slug_of = |p: &PathBuf| {
            crate::reports::pdf_title(p).contains(r["municipality"].as_str().unwrap())
        };
        let file = pdfs.iter().find(|p| slug_of(p)).expect("a report");
        let t = flat(&pdf_text(file));
        assert!(t.contains("Sammenlignelige kommuner"), "{code}");
        if let Some(g) = r["group_share"].as_f64() {
            let want = format!(
                "{} ({} af {} kommuner) {}",
                pct_text(g),
                r["group_municipalities"],
                r["group_members"],
                pp_text(r["difference_pp"].as_f64().unwrap())
            );
            assert!(t.contains(&want), "{code} {}: `{want}`", r["metric"]);
            groups += 1;
        }
        if let Some(e) = r["expected_share"].as_f64() {
            let want = format!(
                "{} {}",
                pct_text(e),
                pp_text(r["expected_difference_pp"].as_f64().unwrap())
            );
            assert!(t.contains(&want), "{code} {}: `{want}`", r["metric"]);
            expected += 1;
        }
    }
    // The sample's placeholder groups give every programme municipality a group value
    // on every metric, and the expected level on M1 and its two parts.
    assert_eq!((groups, expected), (80, 48));
    let (_o, pdfs) = report(ws, &ws.lake(), &["overview", "--period", "2018Q4"]);
    let t = flat(&pdf_text(&pdfs[0]));
    for n in ["1", "1a", "1b", "2", "3"] {
        assert!(
            t.contains(&format!("Sammenlignelige kommuner: Målsætning {n}")),
            "{n}"
        );
    }
    assert!(
        t.contains("Det forventede niveau tager ikke højde for forskelle i arbejdsmarkedsforhold")
    );
}

#[test]
fn a_small_own_cell_hides_what_is_derived_from_it() {
    // §3.5's two cells: men's denominator is 4, so men's share, expected level and
    // difference are hidden, and women's go with them by the secondary rule.
    let case = golden_root().join("expected_worked_example");
    let ws = workspace(&case);
    let dream = case.join("dream/dream_2018Q4.csv");
    ws.ok(&[
        "ingest",
        "dream",
        dream.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    ws.ok(&["transform"]);
    let (_out, pdfs) =
        crate::reports::report(&ws, &ws.lake(), &["quarterly", "--period", "2018Q4"]);
    let lejre = pdfs
        .iter()
        .find(|p| p.to_string_lossy().contains("lejre"))
        .expect("Lejre's report");
    let raw = crate::reports::pdf_text(lejre);
    let t = crate::reports::flat(&raw);
    assert!(
        t.contains("Forventet niveau, 4. kvartal 2018 50,0 pct. 32,0 pct. +18,0 procentpoint"),
        "{t}"
    );
    // Men's and women's shares, expected levels and differences. Lejre is the only
    // programme municipality here, so the project average by sex is its hidden share:
    // hidden too.
    for secret in ["75,0 pct.", "33,3 pct.", "20,0 pct.", "+25,0", "+13,3"] {
        assert!(!t.contains(secret), "`{secret}` is printed:\n{raw}");
    }
    let men = raw
        .lines()
        .find(|l| l.starts_with("Mænd ") && !l.starts_with("Mænd og"))
        .expect("the sex table");
    assert!(men.trim_end().ends_with('–'), "men's expected level: {men}");
    let women = raw
        .lines()
        .find(|l| l.starts_with("Kvinder "))
        .expect("the sex table");
    assert!(
        women.trim_end().ends_with('–'),
        "women's expected level: {women}"
    );
}

#[test]
fn duckdb_reads_the_comparison_marts_with_the_same_figures() {
    let ws = crate::reports::full();
    let lake = ws.lake().display().to_string();
    let queries = [
        "select metric, count(*) as n, count(group_share) as g, round(sum(group_share), 9) as gs, count(expected_share) as e, round(sum(expected_share), 9) as es from {peer} group by metric order by metric",
        "select role, count(*) as n, sum(case when contributes then 1 else 0 end) as c from {members} group by role order by role",
    ];
    for q in queries {
        let ours = ws.sql(
            &q.replace("{peer}", "peer_comparison")
                .replace("{members}", "peer_comparison_members"),
        );
        let duck = q
            .replace(
                "{peer}",
                &format!("read_parquet('{lake}/marts/peer_comparison/*.parquet')"),
            )
            .replace(
                "{members}",
                &format!("read_parquet('{lake}/marts/peer_comparison_members/*.parquet')"),
            );
        let py = std::process::Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import duckdb, csv, sys\nw = csv.writer(sys.stdout, lineterminator='\\n')\nfor r in duckdb.sql({duck:?}).fetchall(): w.writerow(r)"
            ))
            .output()
            .expect("python3");
        assert!(py.status.success(), "duckdb: {}", text(&py.stderr));
        let theirs: Vec<Vec<String>> = text(&py.stdout)
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs, "{q}");
    }
}
