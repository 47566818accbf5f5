//! kill -9 at seeded random points of `ingest`, `transform`, `report`, `send` and
//! `serve`, then a rerun. Every kill point is a trial of its own: the command starts
//! from the state an uninterrupted run had before it, is killed after a seeded delay
//! (between 0 and its uninterrupted time), checked, and run again to its end.
//!
//! After the kill, before the rerun: each data file readers see is whole (the bytes of
//! the uninterrupted run before or after the command, never anything else; for `serve`,
//! whose jobs pass through states of their own, readable), no partition that both had
//! is missing, and `maaltal sql`, DuckDB and Polars read every table with the same
//! counts. After the rerun: the lake's data (`raw/`, `marts/`) and the report folder
//! are byte-identical to the uninterrupted run's, and each recipient got the command's
//! mails exactly once (what a real SMTP server on 127.0.0.1 received, plus the outbox);
//! twice only where the delivery ledger marks a mail in doubt (deliver/intent.rs).
//!
//! `tests/run` kills once per command. The soak kills more often:
//! `MAALTAL_SOAK_KILLS=64 tests/run --test it kill:: -- --nocapture` (64 kill points
//! over the CLI commands, one in eight of that in `serve`), seeded by
//! `MAALTAL_SOAK_SEED`; it prints one line per kill point and the totals that
//! docs/reliability.md holds.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{LOG_FILTER, Workspace, hash_tree, no_personal_data, text};
use crate::mail::{Sink, copy_dir, free_port};

/// One command of a scenario.
#[derive(Clone, Debug)]
enum Step {
    /// `maaltal <args>`, done when it exits.
    Cli(Vec<&'static str>),
    /// `maaltal serve` at `MAALTAL_NOW`, done when its catch-up has finished `runs` runs
    /// (then stopped with SIGTERM).
    Serve { now: &'static str, runs: usize },
}

impl Step {
    fn name(&self) -> String {
        match self {
            Self::Cli(args) => args.join(" "),
            Self::Serve { .. } => "serve (catch-up)".to_string(),
        }
    }
}

/// What readers see: the data files of the lake, and the report folder.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    lake: BTreeMap<String, String>,
    reports: BTreeMap<String, String>,
}

fn snapshot(ws: &Workspace) -> Snapshot {
    let lake = hash_tree(&ws.lake())
        .into_iter()
        .filter(|(p, _)| p.starts_with("raw/") || p.starts_with("marts/"))
        .collect();
    Snapshot {
        lake,
        reports: hash_tree(&ws.dir.path().join("reports")),
    }
}

/// A seeded generator (splitmix64): the same kill points for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, max).
    fn below(&mut self, max: Duration) -> Duration {
        let ms = max.as_millis().max(1) as u64;
        Duration::from_millis(self.next() % ms)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spawn(ws: &Workspace, step: &Step, smtp: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maaltal"));
    cmd.arg("--config").arg(ws.dir.path().join("maaltal.toml"));
    match step {
        Step::Cli(args) => {
            cmd.args(args);
        }
        Step::Serve { now, .. } => {
            cmd.arg("serve").env("MAALTAL_NOW", now);
        }
    }
    cmd.current_dir(ws.dir.path())
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_PSEUDONYM_KEY")
        .env("MAALTAL_LOG", LOG_FILTER)
        .env("MAALTAL_SMTP_URL", smtp);
    // Output to files, not pipes: a daemon logging at debug would fill a pipe and stall.
    let log = ws.dir.path().join("run.log");
    let file = std::fs::File::create(&log).unwrap();
    cmd.stdout(file.try_clone().unwrap())
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start maaltal")
}

/// Waits for `child`; checks its whole output for personal data and secrets; returns
/// whether it succeeded and what it wrote.
fn reap(ws: &Workspace, mut child: Child) -> (bool, String) {
    let status = child.wait().unwrap();
    let output = std::process::Output {
        status,
        stdout: std::fs::read(ws.dir.path().join("run.log")).unwrap(),
        stderr: Vec::new(),
    };
    let out = no_personal_data(output, &[]);
    (out.status.success(), text(&out.stdout))
}

/// Finished runs in the runs ledger.
fn runs_done(ws: &Workspace) -> usize {
    if !ws.lake().join("ledger/runs").exists() {
        return 0;
    }
    ws.sql(
        "select count(*) from (select distinct job, period from ledger_runs where state = 'done')",
    )[0][0]
        .parse()
        .unwrap()
}

/// Runs `step` to its end; returns how long it took.
fn complete(ws: &Workspace, step: &Step, smtp: &str) -> Duration {
    let started = Instant::now();
    let child = spawn(ws, step, smtp);
    if let Step::Serve { runs, .. } = step {
        while runs_done(ws) < *runs {
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "serve did not finish its catch-up"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    }
    let (ok, log) = reap(ws, child);
    assert!(ok, "{} failed:\n{log}", step.name());
    started.elapsed()
}

/// What a kill left must be whole: every file readers see is as before or as after the
/// command, none that both had is missing, and three readers agree on every table.
fn check_whole(ws: &Workspace, before: &Snapshot, after: &Snapshot, exact: bool, what: &str) {
    let now = snapshot(ws);
    let empty = BTreeMap::new();
    let lake = if exact { &now.lake } else { &empty };
    for (kind, seen, b, a) in [
        ("lake", lake, &before.lake, &after.lake),
        ("reports", &now.reports, &before.reports, &after.reports),
    ] {
        for (path, hash) in seen {
            assert!(
                b.get(path) == Some(hash) || a.get(path) == Some(hash),
                "{what}: {kind}/{path} is neither the old nor the new file"
            );
        }
        for path in b
            .keys()
            .filter(|p| a.contains_key(*p) && (exact || kind == "reports"))
        {
            assert!(seen.contains_key(path), "{what}: {kind}/{path} is missing");
        }
    }
    if !ws.lake().exists() {
        return;
    }
    let py = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_lake.py"))
        .arg(ws.lake())
        .output()
        .expect("python3 with duckdb and polars (tests/run installs them)");
    assert!(py.status.success(), "{what}: {}", text(&py.stderr));
    let theirs: BTreeMap<String, (i64, i64)> = serde_json::from_slice(&py.stdout).unwrap();
    if theirs.is_empty() {
        return;
    }
    let sql = theirs
        .keys()
        .map(|t| format!("select '{t}' as t, count(*) as n from {t}"))
        .collect::<Vec<_>>()
        .join(" union all ");
    let ours: BTreeMap<String, i64> = ws
        .sql(&sql)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    for (table, (duck, polars)) in &theirs {
        assert_eq!(
            (ours.get(table), *duck),
            (Some(duck), *polars),
            "{what}: {table}: maaltal sql, DuckDB and Polars disagree"
        );
    }
}

/// (envelope recipient, attachment) → how many times the server got it, plus the outbox.
fn mails(sink: &Sink, ws: &Workspace) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for (v, _) in sink.messages() {
        for r in v["rcpt_tos"].as_array().unwrap() {
            let key = (
                r.as_str().unwrap().to_lowercase(),
                v["attachment"].as_str().unwrap_or_default().to_string(),
            );
            *m.entry(key).or_default() += 1;
        }
    }
    for f in crate::common::files(&ws.dir.path().join("outbox")) {
        *m.entry(("outbox".to_string(), f.display().to_string()))
            .or_default() += 1;
    }
    m
}

/// Copies what a step reads and writes (the lake, the reports) from `ws` to `to`.
fn save(ws: &Workspace, to: &Path) {
    for name in ["lake", "reports"] {
        let from = ws.dir.path().join(name);
        if from.exists() {
            copy_dir(&from, &to.join(name));
        }
    }
}

/// Puts `ws` back to what `save` kept, with an empty outbox.
fn restore(ws: &Workspace, from: &Path) {
    for name in ["lake", "reports", "outbox"] {
        let _ = std::fs::remove_dir_all(ws.dir.path().join(name));
        if from.join(name).exists() {
            copy_dir(&from.join(name), &ws.dir.path().join(name));
        }
    }
}

/// Mails in the ledger marked as sent again after an interrupted attempt.
fn marked_in_doubt(ws: &Workspace) -> Vec<(String, String)> {
    if !ws.lake().join("ledger/deliveries").exists() {
        return Vec::new();
    }
    ws.sql(&format!(
        "select lower(recipient), file_name from ledger_deliveries where last_reply like '%{}%'",
        maaltal::deliver::IN_DOUBT
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

/// Totals over every kill point.
#[derive(Default)]
struct Totals {
    points: usize,
    hit: usize,
    expected: usize,
    received: usize,
    twice: usize,
    lost: usize,
}

/// Runs `steps` uninterrupted, then `kills` times a trial: a step started from the
/// uninterrupted run's state before it, killed after a seeded delay, checked, run
/// again to its end, and compared. Returns one line per kill point and the totals.
fn soak(steps: &[Step], kills: usize, seed: u64) -> Vec<String> {
    // The uninterrupted run: the state before each step, what readers see after it,
    // its mails and how long it took.
    let reference = Workspace::new();
    let ref_sink = Sink::start(free_port(), &[]);
    let saved = tempfile::tempdir().unwrap();
    let mut after = vec![snapshot(&reference)];
    let (mut took, mut expected) = (Vec::new(), Vec::new());
    for (i, step) in steps.iter().enumerate() {
        save(&reference, &saved.path().join(i.to_string()));
        let before = mails(&ref_sink, &reference);
        took.push(complete(&reference, step, &ref_sink.url()));
        after.push(snapshot(&reference));
        let all = mails(&ref_sink, &reference);
        assert!(all.values().all(|n| *n == 1), "{all:?}");
        expected.push(
            all.into_keys()
                .filter(|k| !before.contains_key(k))
                .collect::<Vec<_>>(),
        );
    }

    let ws = Workspace::new();
    let mut rng = Rng(seed);
    let (mut lines, mut t) = (Vec::new(), Totals::default());
    for k in 0..kills {
        // Kill points go round the steps.
        let i = k % steps.len();
        let step = &steps[i];
        restore(&ws, &saved.path().join(i.to_string()));
        let sink = Sink::start(free_port(), &[]);
        let delay = rng.below(took[i].mul_f64(1.05));
        let mut child = spawn(&ws, step, &sink.url());
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        reap(&ws, child);
        let what = format!("{} killed at {} ms", step.name(), delay.as_millis());
        // A daemon's run passes through states of its own between its jobs: there,
        // every file must be readable; elsewhere, each file is the old or the new one.
        let exact = matches!(step, Step::Cli(_));
        check_whole(&ws, &after[i], &after[i + 1], exact, &what);
        let state = match step {
            _ if finished => "had finished".to_string(),
            Step::Serve { runs, .. } => format!("killed, {} of {runs} runs done", runs_done(&ws)),
            Step::Cli(_) => "killed".to_string(),
        };

        complete(&ws, step, &sink.url());
        assert!(
            snapshot(&ws) == after[i + 1],
            "{what}, then run again: the lake or reports differ from an uninterrupted run's"
        );
        // A mail sent again after a kill between the server's reply and the ledger's
        // write may arrive twice: the ledger marks it in doubt. Any other twice is a bug.
        let got = mails(&sink, &ws);
        let in_doubt = marked_in_doubt(&ws);
        let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
        let unexplained: Vec<_> = twice
            .iter()
            .filter(|((to, file), n)| {
                **n > 2
                    || !in_doubt
                        .iter()
                        .any(|(r, f)| r.contains(to.as_str()) && f == file)
            })
            .collect();
        let lost: Vec<_> = expected[i]
            .iter()
            .filter(|m| !got.contains_key(*m))
            .collect();
        t.lost += lost.len();
        assert!(
            unexplained.is_empty(),
            "{what}: mailed twice without being marked in doubt: {unexplained:?}"
        );
        assert!(lost.is_empty(), "{what}: never mailed: {lost:?}");
        assert_eq!(got.len(), expected[i].len(), "{what}: {got:?}");

        t.points += 1;
        t.hit += usize::from(!finished);
        t.expected += expected[i].len();
        t.received += got.values().sum::<usize>();
        t.twice += twice.len();
        let mailed = match (expected[i].len(), twice.len()) {
            (0, _) => String::new(),
            (n, 0) => format!(", {n} mails once each"),
            (n, d) => format!(", {n} mails, {d} twice (marked in doubt)"),
        };
        lines.push(format!(
            "| {} | {} ms of {} ms | {state} | whole; rerun byte-identical{mailed} |",
            step.name(),
            delay.as_millis(),
            took[i].as_millis()
        ));
    }
    lines.push(format!(
        "| **all** | {} kill points | {} while the command ran | mails: {} expected, {} received, {} twice (marked in doubt), {} lost |",
        t.points, t.hit, t.expected, t.received, t.twice, t.lost
    ));
    println!("{}", lines.join("\n"));
    lines
}

#[test]
fn kill_9_during_cli_commands_then_rerun() {
    let steps = [
        Step::Cli(vec!["ingest", "dream", "--period", "2016Q3..2018Q4"]),
        Step::Cli(vec!["ingest", "jobindsats", "--period", "2016Q3..2018Q4"]),
        Step::Cli(vec!["ingest", "jobindsats", "--period", "2016-12..2018-12"]),
        Step::Cli(vec!["ingest", "fagsystem", "--period", "2018-06..2018-11"]),
        Step::Cli(vec!["transform"]),
        Step::Cli(vec![
            "report",
            "quarterly",
            "--period",
            "2018Q4",
            "--out",
            "reports",
        ]),
        Step::Cli(vec!["send", "maanedsbog", "--month", "2018-11"]),
        Step::Cli(vec!["send", "quarterly", "--period", "2018Q4"]),
    ];
    let kills = env_number("MAALTAL_SOAK_KILLS", steps.len() as u64) as usize;
    let lines = soak(&steps, kills, env_number("MAALTAL_SOAK_SEED", 2026));
    let killed = lines.iter().filter(|l| l.contains("| killed")).count();
    assert!(
        killed * 2 >= kills,
        "most kill points land while the command runs: {killed} of {kills}"
    );
}

#[test]
fn kill_9_during_serve_then_restart() {
    let steps = [Step::Serve {
        now: "2019-01-10T09:00:00Z",
        runs: 11,
    }];
    let kills = (env_number("MAALTAL_SOAK_KILLS", 8) / 8).max(1) as usize;
    soak(&steps, kills, env_number("MAALTAL_SOAK_SEED", 2026) + 1);
}
