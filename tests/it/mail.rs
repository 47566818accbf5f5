//! Delivery end to end against a real SMTP server on 127.0.0.1 (aiosmtpd, installed by
//! tests/run; `tests/smtp_sink.py` stores every accepted message): envelopes, decoded
//! subjects, attachment bytes equal to the rendered PDF, the ledger that never sends
//! twice, and the faults: server down then up, 451 then success, 421 and a closed
//! connection, a 550 for one recipient, the process killed mid-run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Workspace, text};
use crate::reports::full;

/// A running smtp_sink.py.
pub(crate) struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    pub(crate) fn start(port: u16, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--dir",
                dir.path().to_str().unwrap(),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (tests/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Self { child, port, dir }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every stored message, oldest first.
    pub(crate) fn messages(&self) -> Vec<(Value, Vec<u8>)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            // Whole messages only: the sink writes `.<n>.json` and renames it last.
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                (v, std::fs::read(p.with_extension("pdf")).unwrap())
            })
            .collect()
    }

    /// How many mails each envelope recipient got.
    fn per_recipient(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (v, _) in self.messages() {
            for r in v["rcpt_tos"].as_array().unwrap() {
                *m.entry(r.as_str().unwrap().to_string()).or_default() += 1;
            }
        }
        m
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A workspace with fast retries and its own copy of the fully landed lake.
fn workspace() -> Workspace {
    let ws = Workspace::with_config(|t| {
        t.replace(
            "retries = 3\nbackoff_ms = 1000",
            "retries = 6\nbackoff_ms = 150",
        )
        .replace("timeout_secs = 60", "timeout_secs = 10")
    });
    copy_dir(&full().lake(), &ws.lake());
    ws
}

fn send(ws: &Workspace, smtp: &str, args: &[&str]) -> Output {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    ws.run_env(&all, &[("MAALTAL_SMTP_URL", smtp)])
}

fn json(ws: &Workspace, sql: &str) -> Vec<Value> {
    serde_json::from_str(&ws.ok(&["sql", sql, "--format", "json"])).unwrap()
}

#[test]
fn each_project_lead_gets_their_report_once() {
    let ws = workspace();
    let sink = Sink::start(free_port(), &[]);
    let out = send(&ws, &sink.url(), &["quarterly", "--period", "2018Q4"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("16 mails for 2018Q4: 16 delivered"),
        "{}",
        text(&out.stdout)
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 16);
    // The PDF Lejre's project lead got is byte for byte the rendered report.
    let rendered = tempfile::tempdir().unwrap();
    ws.ok(&[
        "report",
        "quarterly",
        "--period",
        "2018Q4",
        "--municipality",
        "350",
        "--out",
        rendered.path().to_str().unwrap(),
    ]);
    let pdf = std::fs::read(rendered.path().join("statusrapport_2018Q4_lejre.pdf")).unwrap();
    let (lejre, bytes) = msgs
        .iter()
        .find(|(v, _)| v["rcpt_tos"] == serde_json::json!(["projektleder@lejre.example"]))
        .expect("a mail to Lejre's project lead");
    assert_eq!(
        lejre["subject"],
        "Statusrapport for Lejre Kommune, 4. kvartal 2018"
    );
    assert_eq!(lejre["attachment"], "statusrapport_2018Q4_lejre.pdf");
    assert_eq!(
        lejre["to"], "projektleder@lejre.example",
        "nobody else's address in the header"
    );
    assert_eq!(lejre["reply_to"], "sekretariat@imi.example");
    assert!(
        lejre["body"]
            .as_str()
            .unwrap()
            .contains("Kære projektleder")
    );
    assert!(bytes == &pdf, "attachment = rendered PDF");
    for (v, _) in &msgs {
        assert_eq!(
            v["rcpt_tos"].as_array().unwrap().len(),
            1,
            "one recipient per mail"
        );
        assert_eq!(v["mail_from"], "maaltal@imi.example");
    }
    // The ledger, queried like any table.
    let rows = json(
        &ws,
        "select recipient, state, attempts, message_id, pdf_sha256, last_reply from ledger_deliveries where report = 'quarterly' and period = '2018Q4'",
    );
    assert_eq!(rows.len(), 16);
    let lejre_row = rows
        .iter()
        .find(|r| r["recipient"] == "projektleder@lejre.example")
        .unwrap();
    assert_eq!(lejre_row["state"], "delivered");
    assert_eq!(lejre_row["message_id"], lejre["message_id"]);
    assert!(lejre_row["last_reply"].as_str().unwrap().starts_with("250"));
    use sha2::Digest;
    assert_eq!(
        lejre_row["pdf_sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&pdf))
    );
    // Again: nothing new is sent; --resend forces.
    let again = send(&ws, &sink.url(), &["quarterly", "--period", "2018Q4"]);
    assert!(
        text(&again.stdout).contains("0 delivered, 16 delivered before (skipped)"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(sink.messages().len(), 16);
    let forced = send(
        &ws,
        &sink.url(),
        &["overview", "--period", "2018Q4", "--resend"],
    );
    assert!(forced.status.success());
    assert_eq!(sink.messages().len(), 17);
}

#[test]
fn dry_run_and_preview_send_nothing() {
    let ws = workspace();
    let sink = Sink::start(free_port(), &[]);
    let out = send(
        &ws,
        &sink.url(),
        &["maanedsbog", "--month", "2018-11", "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("would send maanedsbog_2018-11_lejre_"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dry run: 57 mails, nothing sent"),
        "{stdout}"
    );
    let who = "anders.aagaard@lejre.dk";
    let dir = tempfile::tempdir().unwrap();
    let out = send(
        &ws,
        &sink.url(),
        &[
            "maanedsbog",
            "--month",
            "2018-11",
            "--preview-as",
            who,
            "--out",
            dir.path().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "the one PDF {who} would get");
    assert!(sink.messages().is_empty());
    assert_eq!(
        json(
            &ws,
            "select count(*) as n from (select 1 from ledger_fetches limit 1)"
        )[0]["n"],
        1
    );
    assert!(
        !ws.lake().join("ledger/deliveries").exists(),
        "a dry run writes no delivery ledger"
    );
}

#[test]
fn a_server_that_is_down_then_up_gets_each_mail_once() {
    let ws = workspace();
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maaltal"));
    cmd.arg("--config").arg(ws.dir.path().join("maaltal.toml"));
    cmd.args(["send", "quarterly", "--period", "2018Q4"])
        .env("MAALTAL_SMTP_URL", &url)
        .env_remove("MAALTAL_LAKE");
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Rendering comes first; once it sends, nobody listens yet: the first sends are
    // refused and retried with backoff (150, 300, 600 ms …).
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("transient failure; retrying") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("a refused connection, retried");
    std::thread::sleep(Duration::from_millis(300));
    let sink = Sink::start(port, &[]);
    let status = child.wait().unwrap();
    let err = reader.join().unwrap();
    assert!(status.success(), "{err}");
    let per = sink.per_recipient();
    assert_eq!(per.len(), 16);
    assert!(per.values().all(|n| *n == 1), "{per:?}");
    let retried = json(&ws, "select max(attempts) as a from ledger_deliveries");
    assert!(retried[0]["a"].as_i64().unwrap() > 1);
}

#[test]
fn a_451_is_retried_and_then_delivered() {
    let ws = workspace();
    let sink = Sink::start(free_port(), &["--fail-451", "2"]);
    let out = send(&ws, &sink.url(), &["overview", "--period", "2018Q4"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        sink.per_recipient().get("sekretariat@imi.example"),
        Some(&1)
    );
    let row = &json(&ws, "select attempts, state from ledger_deliveries")[0];
    assert_eq!(row["attempts"], 3);
    assert_eq!(row["state"], "delivered");
}

/// Sends the overview through a sink with `fault`; the secretariat gets it exactly once,
/// on the second attempt, and the first attempt's answer is not lost from the log.
fn overview_survives(fault: &str) -> String {
    let ws = workspace();
    let sink = Sink::start(free_port(), &[fault, "1"]);
    let out = send(&ws, &sink.url(), &["overview", "--period", "2018Q4"]);
    assert!(out.status.success(), "{fault}: {}", text(&out.stderr));
    assert_eq!(sink.messages().len(), 1, "{fault}");
    assert_eq!(
        sink.per_recipient().get("sekretariat@imi.example"),
        Some(&1)
    );
    let row = &json(&ws, "select attempts, state from ledger_deliveries")[0];
    assert_eq!(row["attempts"], 2, "{fault}: {}", text(&out.stderr));
    assert_eq!(row["state"], "delivered", "{fault}");
    text(&out.stderr)
}

#[test]
fn a_connection_dropped_in_the_middle_of_data_is_retried_once_delivered() {
    let log = overview_survives("--drop-data");
    assert!(log.contains("transient failure; retrying"), "{log}");
}

#[test]
fn a_421_busy_server_that_closes_the_connection_is_retried_once_delivered() {
    let log = overview_survives("--fail-421");
    assert!(log.contains("421"), "the first answer is in the log: {log}");
}

#[test]
fn a_server_that_stalls_is_given_up_on_after_the_timeout_and_retried() {
    // The workspace's mail timeout is 10 s: the stalled attempt ends there.
    let log = overview_survives("--stall-data");
    assert!(log.contains("no reply within 10 s"), "{log}");
}

#[test]
fn a_550_for_one_recipient_is_recorded_and_the_others_go_out() {
    let ws = workspace();
    let sink = Sink::start(free_port(), &["--fail-550", "projektleder@lejre.example"]);
    let out = send(&ws, &sink.url(), &["quarterly", "--period", "2018Q4"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("1 of 16 mails not delivered: projektleder@lejre.example (")
            && err.contains("550"),
        "{err}"
    );
    let per = sink.per_recipient();
    assert_eq!(per.len(), 15);
    assert!(!per.contains_key("projektleder@lejre.example"));
    let failed = json(
        &ws,
        "select recipient, attempts, last_reply from ledger_deliveries where state = 'failed'",
    );
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["attempts"], 1,
        "a permanent refusal is not retried"
    );
    assert!(failed[0]["last_reply"].as_str().unwrap().contains("550"));
}

#[test]
fn a_run_killed_midway_resumes_with_only_the_unsent() {
    let ws = workspace();
    let slow = Sink::start(free_port(), &["--delay", "0.15"]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maaltal"));
    cmd.arg("--config").arg(ws.dir.path().join("maaltal.toml"));
    cmd.args(["send", "maanedsbog", "--month", "2018-11"])
        .env("MAALTAL_SMTP_URL", slow.url())
        .env_remove("MAALTAL_LAKE");
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while slow.messages().len() < 10 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Kill it in the middle of the next mail's dialogue (each RCPT waits 150 ms).
    std::thread::sleep(Duration::from_millis(70));
    child.kill().unwrap();
    let _ = child.wait();
    let before = slow.per_recipient();
    assert!(
        before.len() >= 10 && before.len() < 57,
        "killed midway: {} sent",
        before.len()
    );
    // The same server, run again: only the unsent go out.
    let out = send(&ws, &slow.url(), &["maanedsbog", "--month", "2018-11"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let per = slow.per_recipient();
    assert_eq!(per.len(), 57, "every recipient has their månedsbog");
    assert!(
        per.values().all(|n| *n == 1),
        "exactly one mail each: {per:?}"
    );
}

#[test]
fn two_sends_at_once_mail_each_recipient_once() {
    let ws = workspace();
    let sink = Sink::start(free_port(), &[]);
    let url = sink.url();
    // Both render at the same pace and reach the delivery ledger together: without
    // the lake's lock both would find nothing delivered and send everything.
    let outs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| s.spawn(|| send(&ws, &url, &["quarterly", "--period", "2018Q4"])))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outs {
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let stdout: String = outs.iter().map(|o| text(&o.stdout)).collect();
    assert!(
        stdout.contains("16 delivered, 0 delivered before"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 delivered, 16 delivered before"),
        "{stdout}"
    );
    let per = sink.per_recipient();
    assert_eq!(per.len(), 16, "{per:?}");
    assert!(per.values().all(|n| *n == 1), "{per:?}");
    assert_eq!(sink.messages().len(), 16);
}
