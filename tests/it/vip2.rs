//! VIP2, the second programme, made of files only (config/programmes/vip2/,
//! queries/vip2/, report-templates/vip2/; ../shared/spec/vip2.md). Golden cases are
//! folders: `tests/golden/vip2/marts/<case>/` holds register extracts
//! (`extracts/jobpakker_<quarter>.csv`) and queries `<name>.sql` with the expected
//! output `<name>.csv`, written by hand from the spec; `tests/golden/vip2/rejected/<case>/`
//! holds one bad extract (`jobpakker_<quarter>.csv`) and `expected.txt`, the parts the
//! rejection must name. Every folder found is run.

use std::path::{Path, PathBuf};

use crate::common::{Workspace, hash_tree, text};

fn golden(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/vip2")
        .join(kind);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == ext));
    out.sort();
    out
}

/// The quarter of `jobpakker_2019Q3.csv`.
fn quarter(file: &Path) -> String {
    let stem = file.file_stem().unwrap().to_string_lossy().to_string();
    stem.trim_start_matches("jobpakker_").to_string()
}

fn vip2(ws: &Workspace, args: &[&str]) -> String {
    let mut all = vec!["--programme", "vip2"];
    all.extend_from_slice(args);
    ws.ok(&all)
}

#[test]
fn every_vip2_golden_case_gives_its_expected_csv() {
    let cases = golden("marts");
    assert!(!cases.is_empty());
    let mut failed = Vec::new();
    for case in &cases {
        let ws = Workspace::with_programme("vip2");
        for f in with_ext(&case.join("extracts"), "csv") {
            let q = quarter(&f);
            vip2(
                &ws,
                &["ingest", "jobpakker", f.to_str().unwrap(), "--period", &q],
            );
        }
        vip2(&ws, &["transform"]);
        let queries = with_ext(case, "sql");
        assert!(!queries.is_empty(), "{}: no queries", case.display());
        for q in queries {
            let sql = std::fs::read_to_string(&q).unwrap();
            let want = std::fs::read_to_string(q.with_extension("csv")).expect("expected CSV");
            let got = vip2(&ws, &["sql", sql.trim(), "--format", "csv"]);
            if got.trim_end() != want.trim_end() {
                failed.push(format!(
                    "{}/{}:\n--- expected\n{want}--- got\n{got}",
                    case.file_name().unwrap().to_string_lossy(),
                    q.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn every_bad_register_extract_is_rejected_whole_naming_where_and_kept_in_quarantine() {
    let cases = golden("rejected");
    assert!(cases.len() >= 20, "{cases:?}");
    let ws = Workspace::with_programme("vip2");
    // A good quarter first: a rejection must leave it byte for byte.
    let good = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/vip2/marts/worked_example_aabenraa/extracts/jobpakker_2019Q3.csv");
    vip2(
        &ws,
        &[
            "ingest",
            "jobpakker",
            good.to_str().unwrap(),
            "--period",
            "2019Q3",
        ],
    );
    let before = hash_tree(&ws.lake().join("raw"));
    let kept_before = std::fs::read_dir(ws.quarantine())
        .map(|d| d.count())
        .unwrap_or(0);
    let mut failed = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let f = with_ext(case, "csv").pop().expect("the case's extract");
        let q = quarter(&f);
        let out = ws.run(&[
            "--programme",
            "vip2",
            "ingest",
            "jobpakker",
            f.to_str().unwrap(),
            "--period",
            &q,
        ]);
        let err = text(&out.stderr);
        if out.status.code() != Some(2) {
            failed.push(format!(
                "{name}: exit {:?}, not 2 (rejected):\n{err}",
                out.status.code()
            ));
            continue;
        }
        let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
        for part in expected.lines().filter(|l| !l.is_empty()) {
            if !err.contains(part) {
                failed.push(format!("{name}: the error does not name `{part}`:\n{err}"));
            }
        }
        if !err.contains("jobpakker_2019Q3.csv") {
            failed.push(format!("{name}: the error does not name the file:\n{err}"));
        }
        let kept = std::fs::read_dir(ws.quarantine())
            .map(|d| d.count())
            .unwrap_or(0);
        if kept != kept_before + n + 1 {
            failed.push(format!(
                "{name}: {kept} entries in quarantine, expected {}",
                kept_before + n + 1
            ));
        }
    }
    assert_eq!(
        hash_tree(&ws.lake().join("raw")),
        before,
        "a rejection changed the lake"
    );
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Points the workspace's VIP2 file at the register served from `base` (a real HTTP
/// server on 127.0.0.1), with the other edits given.
fn serve_register(ws: &Workspace, base: &str, edits: &[(&str, &str)]) {
    let programme = ws.dir.path().join("programmes/vip2/programme.toml");
    let text = std::fs::read_to_string(&programme).unwrap();
    let sample = crate::common::sample_dir().display().to_string();
    let mut served = text.replace(
        &format!("\"{sample}/jobpakker/"),
        &format!("\"{base}/files/jobpakker/"),
    );
    assert_ne!(served, text, "the programme reads the sample register");
    for (from, to) in edits {
        assert!(served.contains(from), "{from}");
        served = served.replace(from, to);
    }
    std::fs::write(&programme, served).unwrap();
}

/// The programme's job, as the scheduler runs it, for one quarter: the register pulled
/// from a real HTTP server on 127.0.0.1, landed, the marts built, both reports rendered
/// and mailed to a real SMTP server, every project lead and the secretariat theirs.
#[test]
fn the_vip2_job_pulls_lands_builds_renders_and_mails_its_reports() {
    use crate::common::{Script, Server, sample_dir};
    use crate::mail::{Sink, free_port};
    use crate::reports::pdf_text;

    let server = Server::start(sample_dir(), Script::default());
    let ws = Workspace::with_programme("vip2");
    serve_register(&ws, &server.base, &[]);
    let sink = Sink::start(free_port(), &[]);
    let url = sink.url();
    let env = [("MAALTAL_SMTP_URL", url.as_str())];
    // An earlier quarter first, so the report has a history to draw.
    let out = ws.run_env(
        &[
            "--programme",
            "vip2",
            "run",
            "jobpakker",
            "--period",
            "2009Q2",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text_of(&out));
    let out = ws.run_env(
        &[
            "--programme",
            "vip2",
            "run",
            "jobpakker",
            "--period",
            "2009Q3",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text_of(&out));

    // Landed over HTTP, and the marts hold the cumulative register of the quarter.
    let seen = server.script.lock().unwrap().seen.clone();
    assert!(
        seen.iter()
            .any(|s| s.path.ends_with("jobpakker_2009Q3.csv") && s.status == 200),
        "{seen:?}"
    );
    let rows = vip2(
        &ws,
        &[
            "sql",
            "select count(*) from jobpakker_forloeb where quarter = '2009Q3'",
            "--format",
            "csv",
        ],
    );
    let packages: i64 = rows.lines().nth(1).unwrap().parse().unwrap();
    let total = vip2(
        &ws,
        &[
            "sql",
            "select i_alt from jobpakke_activity_total where period = '2009Q3' and sex = 'alle'",
            "--format",
            "csv",
        ],
    );
    let in_programme: i64 = total.lines().nth(1).unwrap().parse().unwrap();
    assert!(
        packages > 300 && in_programme < packages,
        "{packages} packages, {in_programme} in the programme"
    );

    // Five project leads and the secretariat, each their own PDF, twice (two quarters).
    let messages = sink.messages();
    let to = |v: &serde_json::Value| v["rcpt_tos"][0].as_str().unwrap().to_string();
    let q3: Vec<_> = messages
        .iter()
        .filter(|(v, _)| {
            v["subject"]
                .as_str()
                .unwrap_or("")
                .contains("3. kvartal 2009")
        })
        .collect();
    assert_eq!(
        q3.len(),
        6,
        "{:?}",
        messages
            .iter()
            .map(|(v, _)| v["subject"].clone())
            .collect::<Vec<_>>()
    );
    let aabenraa = q3
        .iter()
        .find(|(v, _)| to(v) == "projektleder@aabenraa.example")
        .expect("Aabenraa's project lead got a mail");
    assert_eq!(
        aabenraa.0["subject"],
        "Kvartalsrapport om jobpakker for Aabenraa Kommune, 3. kvartal 2009"
    );
    let pdf = ws.dir.path().join("aabenraa.pdf");
    std::fs::write(&pdf, &aabenraa.1).unwrap();
    let t = pdf_text(&pdf);
    let count = |status: &str| -> i64 {
        let q = format!(
            "select count from jobpakke_status where municipality_code = 580 and period = '2009Q3' and sex = 'alle' and view = 'nu' and status = '{status}'"
        );
        vip2(&ws, &["sql", &q, "--format", "csv"])
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    let all: i64 = vip2(&ws, &["sql", "select i_alt from jobpakke_activity where municipality_code = 580 and period = '2009Q3' and sex = 'alle'", "--format", "csv"])
        .lines().nth(1).unwrap().parse().unwrap();
    let work = count("ordinaer_beskaeftigelse") + count("fleksjob");
    assert!(
        all >= 5 && work >= 5,
        "the sample has Aabenraa's figures shown: {all}, {work}"
    );
    let said = format!("Aabenraa har siden projektstart lavet {all} jobpakker");
    assert!(t.contains(&said), "`{said}` not in:\n{t}");
    let share = format!("{:.1}", work as f64 / all as f64 * 100.0).replace('.', ",");
    assert!(
        t.contains(&format!("{work} ({share} pct.) er i arbejde")),
        "{work} ({share} pct.) not in:\n{t}"
    );
    for part in [
        "Tabel 1: Jobpakker i kvartalet",
        "Figur 1: Andel i arbejde",
        "VIP2 i alt",
        "jobpakkeregister",
    ] {
        assert!(t.contains(part), "`{part}` not in:\n{t}");
    }
    // In every municipality's status table, a hidden count never stands alone in a sum
    // that is shown: work and the other statuses add up to all packages, ordinary work
    // and fleksjob to work.
    let top = [
        "I arbejde i alt",
        "Stadig i jobpakkeforløb",
        "Ansat med løntilskud",
        "I uddannelse",
        "Tilbage på offentlig forsørgelse",
        "På pension",
        "Ude af systemet på anden vis",
        "Uoplyst",
    ];
    let mut hidden_seen = 0;
    for (v, pdf_bytes) in q3
        .iter()
        .filter(|(v, _)| to(v).starts_with("projektleder@"))
    {
        let path = ws.dir.path().join("municipality.pdf");
        std::fs::write(&path, pdf_bytes).unwrap();
        let t = pdf_text(&path);
        let table = t.split("Status Antal Pct.").nth(1).expect("table 2");
        let count_of = |label: &str| -> String {
            let line = table
                .lines()
                .find(|l| l.starts_with(label) && l[label.len()..].starts_with(' '))
                .unwrap_or_else(|| panic!("no row `{label}` for {}:\n{table}", to(v)));
            line[label.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        let hidden = |labels: &[&str]| {
            labels
                .iter()
                .filter(|l| ["<5", "x"].contains(&count_of(l).as_str()))
                .count()
        };
        let (h_top, h_pair) = (hidden(&top), hidden(&["I ordinært arbejde", "I fleksjob"]));
        hidden_seen += h_top + h_pair;
        assert_ne!(
            h_top,
            1,
            "one hidden status among shown ones for {}:\n{table}",
            to(v)
        );
        assert_ne!(h_pair, 1, "one hidden part of work for {}:\n{table}", to(v));
    }
    assert!(hidden_seen > 0, "the sample has small groups to hide");
    let secretariat = q3
        .iter()
        .find(|(v, _)| to(v) == "sekretariat@vip2.example")
        .expect("the secretariat got the overview");
    let pdf = ws.dir.path().join("oversigt.pdf");
    std::fs::write(&pdf, &secretariat.1).unwrap();
    let t = pdf_text(&pdf);
    for m in [
        "Aabenraa",
        "Fredensborg",
        "Gladsaxe",
        "Slagelse",
        "Aarhus",
        "Jobpakker efter branche og sektor",
    ] {
        assert!(t.contains(m), "`{m}` not in the overview:\n{t}");
    }
    // Brøndby's packages are in the lake, never in a programme figure.
    assert!(!t.contains("Brøndby"), "{t}");
}

fn text_of(out: &std::process::Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// One daemon runs every programme the config turns on: with the main programme's jobs
/// left out, `maaltal serve` catches up VIP2's quarter from its own file's schedule,
/// pulls the register over HTTP and writes its six mails to the outbox; its status page
/// and `maaltal jobs` show VIP2's job.
#[test]
fn one_daemon_runs_the_other_programme_s_job() {
    use crate::common::{Script, Server, no_personal_data, sample_dir};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let server = Server::start(sample_dir(), Script::default());
    let ws = Workspace::with_programme("vip2");
    // The main programme without jobs.
    let main = ws.dir.path().join("maaltal.toml");
    let text_main = std::fs::read_to_string(&main).unwrap();
    let cut = text_main
        .find("\n# Scheduled jobs")
        .expect("the jobs part of the default");
    std::fs::write(&main, &text_main[..cut]).unwrap();
    serve_register(
        &ws,
        &server.base,
        &[("catch_up_days = 200", "catch_up_days = 30")],
    );
    let port = crate::mail::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(&main)
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .current_dir(ws.dir.path())
        .env("MAALTAL_NOW", "2009-10-21T08:00:00Z")
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_SMTP_URL")
        .env_remove("MAALTAL_PROGRAMME")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let runs = || -> Vec<Vec<String>> {
        if !ws.lake().join("ledger/runs").exists() {
            return Vec::new();
        }
        ws.sql("select job, period, state from ledger_runs order by finished_at")
    };
    while runs().is_empty() && start.elapsed() < Duration::from_secs(180) {
        std::thread::sleep(Duration::from_millis(500));
    }
    // The status page is the daemon's: the other programme's job is on it, with its run.
    let (code, page) = crate::status::http(port, "GET", "/jobs/jobpakker", "");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("2009Q3"), "{page}");
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let out = no_personal_data(child.wait_with_output().unwrap(), &[]);
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(runs(), vec![vec!["jobpakker", "2009Q3", "done"]], "{log}");
    let jobs = ws.ok(&["jobs"]);
    assert!(jobs.contains("jobpakker"), "{jobs}");
    let mails = std::fs::read_dir(ws.dir.path().join("outbox")).map_or(0, |d| d.count());
    assert_eq!(mails, 6, "five project leads and the secretariat: {log}");
    assert!(
        server
            .seen()
            .iter()
            .any(|s| s.path.ends_with("/files/jobpakker/jobpakker_2009Q3.csv"))
    );
}

/// `validate` on the programme plans its marts and compiles its templates with their
/// sample data; its reports are its own, not the main programme's built-in ones.
#[test]
fn validate_plans_the_programme_s_marts_and_compiles_its_templates() {
    let ws = Workspace::with_programme("vip2");
    let out = vip2(&ws, &["validate"]);
    for want in [
        "queries/vip2/target_metrics.sql: plans against the lake's schemas",
        "report-templates/vip2/jobpakker.typ: compiles with jobpakker.sample.json",
        "report-templates/vip2/jobpakker_oversigt.typ: compiles with jobpakker_oversigt.sample.json",
        "programmes/vip2/programme.toml: valid (5 programme municipalities",
    ] {
        assert!(out.contains(want), "`{want}` not in:\n{out}");
    }
    assert!(!out.contains("quarterly.typ"), "{out}");
    let err = ws.run(&[
        "--programme",
        "vip2",
        "send",
        "quarterly",
        "--period",
        "2009Q3",
        "--dry-run",
    ]);
    assert_eq!(err.status.code(), Some(3));
    assert!(
        text(&err.stderr)
            .contains("unknown report `quarterly`; vip2 makes: jobpakker, jobpakker_oversigt"),
        "{}",
        text(&err.stderr)
    );
}

/// The register's two warnings (../shared/spec/vip2.md, "Rules across rows"): an
/// extract that lacks packages the quarter before had lands, saying how many; a
/// header-only file lands as zero packages, saying so. Neither is a rejection.
#[test]
fn a_shrinking_register_and_an_empty_one_land_with_a_warning() {
    use crate::common::sample_dir;
    let ws = Workspace::with_programme("vip2");
    let dir = sample_dir().join("jobpakker");
    let q2 = std::fs::read_to_string(dir.join("jobpakker_2009Q2.csv")).unwrap();
    let q3 = std::fs::read_to_string(dir.join("jobpakker_2009Q3.csv")).unwrap();
    let id = |l: &str| l.split(';').next().unwrap_or_default().to_string();
    let before: std::collections::BTreeSet<String> = q2.lines().skip(1).map(id).collect();
    let header = q3.lines().next().unwrap();
    // Three of the packages 2009Q2 had are left out of 2009Q3.
    let gone: Vec<&str> = q3
        .lines()
        .skip(1)
        .filter(|l| before.contains(&id(l)))
        .take(3)
        .collect();
    assert_eq!(gone.len(), 3);
    let less: Vec<&str> = q3.lines().filter(|l| !gone.contains(l)).collect();
    let less_file = ws.dir.path().join("less.csv");
    std::fs::write(&less_file, less.join("\n") + "\n").unwrap();
    let empty_file = ws.dir.path().join("empty.csv");
    std::fs::write(&empty_file, format!("{header}\n")).unwrap();

    let land = |file: &Path, period: &str| {
        let out = ws.run(&[
            "--programme",
            "vip2",
            "ingest",
            "jobpakker",
            file.to_str().unwrap(),
            "--period",
            period,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let first = land(&dir.join("jobpakker_2009Q2.csv"), "2009Q2");
    assert!(!first.contains("landed with a warning"), "{first}");
    let shrunk = land(&less_file, "2009Q3");
    assert!(
        shrunk.contains(
            "jobpakker 2009Q3: the register lacks 3 packages that last quarter's extract had"
        ) && shrunk.contains("check `ids_gone_since_last_quarter`"),
        "{shrunk}"
    );
    assert!(!shrunk.contains("no_packages"), "{shrunk}");
    let none = land(&empty_file, "2009Q4");
    assert!(
        none.contains(
            "jobpakker 2009Q4: the file has a header and no packages: landed as zero packages"
        ),
        "{none}"
    );
    // Landed as they are: the rows less three, and none.
    let rows =
        ws.sql("select quarter, count(*) from jobpakker_forloeb group by quarter order by quarter");
    let n2 = before.len().to_string();
    let n3 = (q3.lines().count() - 1 - 3).to_string();
    assert_eq!(
        rows,
        vec![vec!["2009Q2", n2.as_str()], vec!["2009Q3", n3.as_str()]]
    );
    // The warnings name counts, never an id or a CPR number.
    for line in &gone {
        let cpr = line.split(';').nth(1).unwrap_or_default();
        assert!(
            !shrunk.contains(cpr) && !shrunk.contains(&id(line)),
            "{shrunk}"
        );
    }
}
