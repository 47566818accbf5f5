//! The operator's view: `serve --http` on the demo's configuration, its page loaded in a
//! real headless browser (Debian's Chromium), `/metrics` read by a parser nobody here
//! wrote (Python's prometheus-client) and compared with the ledgers, the actions refused
//! without the token and done with it; markup in data shown escaped; `maaltal status`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Workspace, no_personal_data, text};
use crate::mail::{Sink, copy_dir, free_port};
use crate::reports::full;

const TOKEN: &str = "status-token-7f3a9c1e";

/// One HTTP/1.1 request on 127.0.0.1; (status, headers and body as text).
pub(crate) fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn serve(ws: &Workspace, port: u16, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(ws.dir.path().join("serve.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(ws.dir.path().join("maaltal.toml"))
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .current_dir(ws.dir.path())
        .env_remove("MAALTAL_LAKE")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

fn stop(ws: &Workspace, child: Child) -> String {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait_with_output().unwrap().status;
    let log = std::fs::read(ws.dir.path().join("serve.log")).unwrap();
    let out = no_personal_data(
        std::process::Output {
            status,
            stdout: Vec::new(),
            stderr: log,
        },
        &[TOKEN],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr)
}

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < Duration::from_secs(secs), "{what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn chromium(args: &[&str], url: &str) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium (tests/run installs Debian's package)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The text of an HTML page, tags dropped and entities of `&`, `<`, `>` decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in html.chars() {
        match c {
            '<' => tag = true,
            '>' => {
                tag = false;
                out.push(' ');
            }
            _ if !tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Metric samples as Python's prometheus-client parses them: (name, labels, value).
fn parse_metrics(body: &str) -> Vec<(String, serde_json::Value, f64)> {
    let script = "import json,sys\n\
from prometheus_client.openmetrics.parser import text_string_to_metric_families as f\n\
print(json.dumps([[s.name, s.labels, s.value] for m in f(sys.stdin.read()) for s in m.samples]))";
    let mut py = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with prometheus-client (tests/run installs it)");
    py.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused /metrics: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(
    samples: &[(String, serde_json::Value, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[*k] == *v))
        .map(|(_, _, v)| v)
        .sum()
}

#[test]
fn the_status_page_in_a_browser_metrics_that_match_the_ledger_and_guarded_actions() {
    let ws = Workspace::with_config(|t| {
        format!("{t}\n[status]\ntoken_env = \"MAALTAL_STATUS_TOKEN\"\n")
    });
    let sink = Sink::start(free_port(), &[]);
    let port = free_port();
    let url = sink.url();
    let env = [
        ("MAALTAL_NOW", "2019-01-10T09:00:00Z"),
        ("MAALTAL_SMTP_URL", url.as_str()),
        ("MAALTAL_STATUS_TOKEN", TOKEN),
    ];
    let child = serve(&ws, port, &env);
    wait_until("the page answers while catching up", 60, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/healthz", "").0 == 200
    });
    assert_eq!(
        http(port, "GET", "/readyz", "").0,
        503,
        "not ready while catching up"
    );
    wait_until("ready once the catch-up is done", 600, || {
        http(port, "GET", "/readyz", "").0 == 200
    });

    // The page, as a real browser renders it.
    let page = format!("http://127.0.0.1:{port}/");
    let dom = visible(&chromium(&["--dump-dom"], &page));
    for job in ["dream", "jobindsats", "maanedsbog", "quarterly"] {
        assert!(dom.contains(job), "job {job} on the page: {dom}");
    }
    for cell in ["2018Q2", "2018Q3", "2018-09", "2018-12", "landed"] {
        assert!(dom.contains(cell), "{cell} in the grid: {dom}");
    }
    assert!(dom.contains("Reports and mails"), "{dom}");
    assert!(dom.contains(" 57 "), "57 månedsbøger sent a month: {dom}");
    assert!(dom.contains(" 16 "), "16 status reports a quarter: {dom}");
    let shot = ws.dir.path().join("status.png");
    chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1250",
        ],
        &page,
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot"
    );
    if std::env::var_os("MAALTAL_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/status-page.png");
        std::fs::copy(&shot, docs).unwrap();
    }

    // /metrics, parsed by prometheus-client, against the ledgers.
    let (code, body) = http(port, "GET", "/metrics", "");
    assert_eq!(code, 200);
    let body = body.split_once("\r\n\r\n").unwrap().1.to_string();
    let samples = parse_metrics(&body);
    for row in ws.sql("select job, state, count(*) from ledger_runs group by job, state") {
        let n: f64 = row[2].parse().unwrap();
        let seen = sample(
            &samples,
            "maaltal_runs_total",
            &[("job", &row[0]), ("outcome", &row[1])],
        );
        assert_eq!(seen, n, "runs of {} {}", row[0], row[1]);
    }
    let delivered = ws.count("select count(*) from ledger_deliveries where state = 'delivered'");
    assert_eq!(delivered, 205);
    assert_eq!(
        sample(&samples, "maaltal_mails_total", &[("outcome", "sent")]),
        delivered as f64
    );
    let rows = ws
        .count("select sum(rows) from ledger_fetches where status = 'landed' and source = 'dream'");
    assert_eq!(
        sample(
            &samples,
            "maaltal_rows_landed_total",
            &[("source", "dream")]
        ),
        rows as f64
    );
    assert!(sample(&samples, "maaltal_lake_bytes", &[]) > 1e6);
    assert_eq!(
        sample(
            &samples,
            "maaltal_run_duration_seconds_count",
            &[("job", "maanedsbog")]
        ),
        3.0
    );

    // Actions: refused without the token, done with it.
    let runs = || ws.count("select count(*) from ledger_runs");
    let before = runs();
    let form = "job=maanedsbog&period=2018-12";
    assert_eq!(http(port, "POST", "/actions/rerun", form).0, 401);
    assert_eq!(
        http(
            port,
            "POST",
            "/actions/rerun",
            &format!("{form}&token=wrong")
        )
        .0,
        401
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(runs(), before, "a refused action changes nothing");
    let (code, answer) = http(
        port,
        "POST",
        "/actions/rerun",
        &format!("{form}&token={TOKEN}"),
    );
    assert_eq!(code, 303, "{answer}");
    wait_until("the re-run is recorded", 300, || runs() == before + 1);
    let (_, history) = http(port, "GET", "/jobs/maanedsbog", "");
    assert_eq!(
        history.matches("<tr><td>2018-12</td>").count(),
        2,
        "two runs of 2018-12 in the history: {history}"
    );
    let log = stop(&ws, child);
    assert!(log.contains("action refused"), "{log}");
    // The re-run found every månedsbog delivered: no mail twice.
    assert_eq!(sink.messages().len(), 205);
}

#[test]
fn markup_in_a_quarantined_line_and_a_recipient_is_shown_escaped() {
    let evil = "<script>alert(1)</script>";
    let ws = Workspace::with_config(|t| {
        let cut = t.find("\n# Scheduled jobs").expect("the jobs part");
        let t = t[..cut].replace(
            "secretariat = [\"sekretariat@imi.example\"]",
            "secretariat = [\"\\\"<script>alert(1)</script>\\\" <sekretariat@imi.example>\"]",
        );
        format!(
            "{t}\n[jobs.quarterly]\nperiod = \"quarter\"\nsteps = [\"transform backfill\", \"send quarterly\", \"send overview\"]\nschedule = \"0 7 20 2,5,8,11 *\"\ncatch_up_days = 1\n"
        )
    });
    copy_dir(&full().lake(), &ws.lake());
    // A DREAM line whose sex is markup: rejected and quarantined.
    let sample = crate::common::sample_dir().join("dream/dream_2018Q4.csv");
    let bad = ws.dir.path().join("dream_bad.csv");
    let t = std::fs::read_to_string(sample).unwrap();
    let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(';').map(str::to_string).collect();
    fields[1] = evil.to_string();
    lines[1] = fields.join(";");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = ws.run(&[
        "ingest",
        "dream",
        bad.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // The secretariat's overview refused by the server: a failed delivery to the name.
    let sink = Sink::start(free_port(), &["--fail-550", "sekretariat@imi.example"]);
    let out = ws.run_env(
        &["send", "overview", "--period", "2018Q4"],
        &[("MAALTAL_SMTP_URL", &sink.url())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let port = free_port();
    let child = serve(&ws, port, &[("MAALTAL_NOW", "2019-01-10T09:00:00Z")]);
    wait_until("the page answers", 60, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/healthz", "").0 == 200
    });
    let (code, page) = http(port, "GET", "/", "");
    assert_eq!(code, 200);
    assert!(!page.contains(evil), "raw markup on the page: {page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    let shown = visible(&page);
    assert!(shown.contains("quarantined"), "{shown}");
    assert!(
        shown.contains(evil),
        "the quarantined line and the recipient are shown: {shown}"
    );
    // The browser shows the text and runs nothing.
    let dom = chromium(&["--dump-dom"], &format!("http://127.0.0.1:{port}/"));
    assert!(!dom.contains(evil), "{dom}");
    stop(&ws, child);
    // The same, in the terminal.
    let status = ws.ok(&["status"]);
    assert!(status.contains("quarantined dream 2018Q4"), "{status}");
    assert!(status.contains("1 failed"), "{status}");
    let json: serde_json::Value =
        serde_json::from_str(&ws.ok(&["status", "--format", "json"])).unwrap();
    let cell = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "dream" && c["period"] == "2018Q4")
        .unwrap();
    assert!(cell["reason"].as_str().unwrap().contains(evil), "{cell}");
    let overview = json["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["report"] == "overview" && d["period"] == "2018Q4")
        .unwrap();
    assert!(
        overview["failed"][0][1].as_str().unwrap().contains("550"),
        "{overview}"
    );
}

#[test]
fn owed_extracts_are_waiting_then_late_after_the_deadline() {
    let ws = Workspace::new();
    let out = ws.run_env(
        &["status", "--format", "json"],
        &[("MAALTAL_NOW", "2019-01-10T09:00:00Z")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = |source: &str, period: &str| {
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == source && c["period"] == period)
            .map(|c| c["state"].as_str().unwrap().to_string())
    };
    // DREAM's 2018Q3 fired on 15 November: 56 days ago, past its 14 days.
    assert_eq!(state("dream", "2018Q3").as_deref(), Some("late"), "{json}");
    // Jobindsats' December fired this morning at 05:00: waited for.
    assert_eq!(
        state("jobindsats", "2018-12").as_deref(),
        Some("waiting"),
        "{json}"
    );
    let text = ws.ok(&["status"]);
    assert!(text.contains("never run"), "{text}");
}
