//! Concurrent invocations on one lake: two ingests of the same period, an ingest while
//! the marts are built, and `serve` running a job while a person runs the same by hand.
//! One writer at a time holds the lake's lock; the other says who holds it, waits, and
//! then does its work. Nothing is corrupted and no one is mailed twice. (Two `send` at
//! once: mail.rs.)

use std::collections::BTreeMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{LOG_FILTER, Workspace, hash_tree, no_personal_data, text};
use crate::mail::{Sink, copy_dir, free_port};
use crate::reports::full;

fn start(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maaltal"));
    cmd.arg("--config")
        .arg(ws.dir.path().join("maaltal.toml"))
        .args(args)
        .current_dir(ws.dir.path())
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_PSEUDONYM_KEY")
        .env("MAALTAL_LOG", LOG_FILTER)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn finish(child: Child) -> Output {
    let out = no_personal_data(child.wait_with_output().unwrap(), &[]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Starts `a`, waits until it holds the lake's lock, then starts `b`.
fn one_after_the_other(ws: &Workspace, a: Child, b: impl FnOnce() -> Child) -> (Output, Output) {
    let lock = ws.lake().join(".locks/lake.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |t| t.is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never took the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let b = b();
    (finish(a), finish(b))
}

fn data(ws: &Workspace) -> BTreeMap<String, String> {
    hash_tree(&ws.lake())
        .into_iter()
        .filter(|(p, _)| p.starts_with("raw/") || p.starts_with("marts/"))
        .collect()
}

fn assert_waited(out: &Output, holder: &str) {
    let log = text(&out.stderr);
    assert!(
        log.contains("waiting for the lake's lock, held by process") && log.contains(holder),
        "the second says who holds the lock ({holder}): {log}"
    );
}

#[test]
fn two_ingests_of_one_period_land_it_once() {
    let alone = Workspace::new();
    alone.ok(&["ingest", "dream", "--period", "2018Q4"]);

    let ws = Workspace::new();
    let args = ["ingest", "dream", "--period", "2018Q4"];
    let first = start(&ws, &args, &[]);
    let (_, second) = one_after_the_other(&ws, first, || start(&ws, &args, &[]));
    assert_waited(&second, "ingest dream 2018Q4");
    assert!(
        text(&second.stdout).contains("unchanged"),
        "the second finds the extract already landed: {}",
        text(&second.stdout)
    );
    assert_eq!(data(&ws), data(&alone), "the same lake as one ingest's");
    assert_eq!(
        ws.count("select count(*) from dream_persons"),
        alone.count("select count(*) from dream_persons")
    );
}

#[test]
fn an_ingest_while_the_marts_are_built_waits_and_neither_is_torn() {
    let ws = Workspace::new();
    copy_dir(&full().lake(), &ws.lake());
    let before = data(&ws);
    let transform = start(&ws, &["transform"], &[]);
    let (_, ingest) = one_after_the_other(&ws, transform, || {
        start(&ws, &["ingest", "jobindsats", "--period", "2018Q4"], &[])
    });
    assert_waited(&ingest, "transform");
    // The same data again: the transform rebuilt the same marts, the ingest landed
    // nothing new, and every file is whole.
    assert_eq!(data(&ws), before);
    let py = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/read_lake.py"))
        .arg(ws.lake())
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", text(&py.stderr));
}

#[test]
fn serve_and_a_person_sending_the_same_month_mail_each_recipient_once() {
    let ws = Workspace::with_config(|t| {
        let cut = t.find("\n# Scheduled jobs").expect("the jobs part");
        format!(
            "{}\n[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"0 6 2 * *\"\ncatch_up_days = 20\n",
            &t[..cut]
        )
    });
    copy_dir(&full().lake(), &ws.lake());
    let sink = Sink::start(free_port(), &[]);
    let url = sink.url();
    let env = [
        ("MAALTAL_SMTP_URL", url.as_str()),
        ("MAALTAL_NOW", "2018-12-10T09:00:00Z"),
    ];
    // The daemon owes November's månedsbog; at the same moment someone sends it by hand.
    let serve = start(&ws, &["serve"], &env);
    let by_hand = start(&ws, &["send", "maanedsbog", "--month", "2018-11"], &env);
    let by_hand = finish(by_hand);
    let started = Instant::now();
    while !ws.lake().join("ledger/runs").exists()
        || ws.count("select count(*) from ledger_runs where state = 'done'") < 1
    {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "serve never ran the job"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let serve = finish(serve);
    // Who sent which depends on who got the lock first; together, all of them once.
    let said = format!("{}{}", text(&by_hand.stdout), text(&serve.stderr));
    assert!(said.contains("57 mails for 2018-11"), "{said}");
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for (v, _) in sink.messages() {
        for r in v["rcpt_tos"].as_array().unwrap() {
            *per.entry(r.as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    assert_eq!(per.len(), 57, "every recipient has November's månedsbog");
    assert!(per.values().all(|n| *n == 1), "exactly one each: {per:?}");
}

#[test]
fn maaltal_sql_reads_whole_marts_while_a_transform_replaces_them() {
    // A commit swaps a mart's folder atomically, but a reader may list a file and read
    // it after the swap: `maaltal sql` then reads again instead of failing with a
    // "corrupt footer" (seen once in the serve kill test before the retry).
    let ws = Workspace::new();
    copy_dir(&full().lake(), &ws.lake());
    let want = ws.count("select count(*) from peer_comparison_members");
    let mut writer = start(&ws, &["transform"], &[]);
    let mut reads = 0;
    let mut transforms = 1;
    let started = Instant::now();
    while transforms <= 2 && started.elapsed() < Duration::from_secs(300) {
        let out = ws.run(&[
            "sql",
            "select (select count(*) from peer_comparison_members) + (select count(*) from metric_comparison) * 0 as n",
            "--format",
            "csv",
        ]);
        assert!(
            out.status.success(),
            "a read during a transform failed: {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stdout).lines().nth(1),
            Some(want.to_string().as_str())
        );
        reads += 1;
        if writer.try_wait().unwrap().is_some() {
            transforms += 1;
            writer = start(&ws, &["transform"], &[]);
        }
    }
    let _ = writer.wait();
    assert!(reads >= 10, "only {reads} reads during the transforms");
}
