//! The scheduled jobs end to end: `maaltal serve` with a schedule firing every few
//! seconds against the sample sources on a real HTTP server on 127.0.0.1, catch-up of
//! missed periods exactly once across restarts, and a revised extract causing exactly
//! one "Opdateret version" mail per affected recipient. `MAALTAL_NOW` starts the clock
//! in 2018/2019, where the sample data lives.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Script, Server, Workspace, no_personal_data, sample_dir, text};
use crate::mail::{Sink, copy_dir, free_port};

/// A workspace whose only job is `job_toml`, the fagsystem served over HTTP.
fn workspace(server: &Server, job_toml: &str) -> Workspace {
    let base = server.base.clone();
    let job = job_toml.to_string();
    Workspace::with_config(move |t| {
        let cut = t
            .find("\n# Scheduled jobs")
            .expect("the jobs part of the default");
        let mut t = t[..cut].to_string();
        let sample = sample_dir().display().to_string();
        t = t.replace(
            &format!("location = \"{sample}/fagsystem/{{municipality}}/{{period}}\""),
            &format!("location = \"{base}/files/fagsystem/{{municipality}}/{{period}}\""),
        );
        assert!(t.contains("/files/fagsystem/"), "fagsystem over HTTP");
        format!("{t}\n{job}\n")
    })
}

fn serve(ws: &Workspace, now: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(ws.dir.path().join("maaltal.toml"))
        .arg("serve")
        .current_dir(ws.dir.path())
        .env("MAALTAL_NOW", now)
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_SMTP_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stop(child: Child) -> String {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let out = no_personal_data(child.wait_with_output().unwrap(), &[]);
    assert!(
        out.status.success(),
        "serve exits cleanly on SIGTERM: {}",
        text(&out.stderr)
    );
    text(&out.stderr)
}

/// (period, state) of every run.
fn runs(ws: &Workspace) -> Vec<(String, String)> {
    if !ws.lake().join("ledger/runs").exists() {
        return Vec::new();
    }
    ws.sql("select period, state from ledger_runs order by finished_at")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

fn wait_for(ws: &Workspace, n: usize, secs: u64) -> Vec<(String, String)> {
    let start = Instant::now();
    loop {
        let r = runs(ws);
        if r.len() >= n || start.elapsed() > Duration::from_secs(secs) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn outbox(ws: &Workspace) -> usize {
    std::fs::read_dir(ws.dir.path().join("outbox")).map_or(0, |d| d.count())
}

#[test]
fn serve_runs_a_job_when_its_schedule_fires() {
    let server = Server::start(sample_dir(), Script::default());
    // No catch-up window: the run comes from the scheduler's firing, every 2 seconds.
    let ws = workspace(
        &server,
        "[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"*/2 * * * * *\"\ncatch_up_days = 0\n",
    );
    let child = serve(&ws, "2018-12-02T07:00:00Z");
    let r = wait_for(&ws, 1, 120);
    // A few more firings: the period is done, nothing runs again.
    std::thread::sleep(Duration::from_secs(5));
    let log = stop(child);
    let r2 = runs(&ws);
    assert_eq!(
        r,
        vec![("2018-11".to_string(), "done".to_string())],
        "{log}"
    );
    assert_eq!(r2, r, "the later firings found the period done: {log}");
    assert!(log.contains("fired; nothing due"), "{log}");
    assert_eq!(outbox(&ws), 57, "every månedsbog written to the outbox");
    // Pulled over HTTP from the server.
    assert!(
        server
            .seen()
            .iter()
            .any(|s| s.path.contains("/files/fagsystem/350/2018-11/"))
    );
}

#[test]
fn catch_up_runs_every_missed_period_once_across_restarts() {
    let server = Server::start(sample_dir(), Script::default());
    let ws = workspace(
        &server,
        "[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"0 6 2 * *\"\ncatch_up_days = 100\n",
    );
    // The machine was off since the autumn: on 10 January three månedsbøger are owed.
    let jobs = ws.run_env(&["jobs"], &[("MAALTAL_NOW", "2019-01-10T09:00:00Z")]);
    assert!(
        text(&jobs.stdout).contains("due: 2018-10, 2018-11, 2018-12"),
        "{}",
        text(&jobs.stdout)
    );
    let child = serve(&ws, "2019-01-10T09:00:00Z");
    let first = wait_for(&ws, 3, 180);
    let log = stop(child);
    assert_eq!(
        first,
        vec![
            ("2018-10".to_string(), "done".to_string()),
            ("2018-11".to_string(), "done".to_string()),
            ("2018-12".to_string(), "done".to_string()),
        ],
        "oldest first, each once: {log}"
    );
    // Started again the same day: nothing is owed, nothing runs.
    let child = serve(&ws, "2019-01-10T10:00:00Z");
    std::thread::sleep(Duration::from_secs(4));
    let log = stop(child);
    assert_eq!(runs(&ws), first, "{log}");
    assert_eq!(outbox(&ws), 3 * 57);
}

#[test]
fn a_revised_extract_sends_one_updated_version() {
    // The fagsystem served from a copy the test can revise.
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &sample_dir().join("fagsystem"),
        &root.path().join("fagsystem"),
    );
    let server = Server::start(root.path(), Script::default());
    let ws = workspace(
        &server,
        "[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"0 6 2 * *\"\n",
    );
    let sink = Sink::start(free_port(), &[]);
    // Each run a day later (the clock starts at MAALTAL_NOW in every process).
    let run = |ws: &Workspace, day: u32| {
        let now = format!("2018-12-{day:02}T07:00:00Z");
        let out = ws.run_env(
            &["run", "maanedsbog", "--period", "2018-11"],
            &[("MAALTAL_SMTP_URL", &sink.url()), ("MAALTAL_NOW", &now)],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let first = run(&ws, 2);
    assert!(first.contains("57 delivered"), "{first}");
    // The same data again: nothing is sent.
    assert!(run(&ws, 3).contains("0 delivered, 57 delivered before"));
    // Lejre's November export is revised: one more conversation.
    let samtaler = root.path().join("fagsystem/350/2018-11/samtaler.csv");
    let mut t = std::fs::read_to_string(&samtaler).unwrap();
    let last = t.lines().last().unwrap().to_string();
    let cols: Vec<&str> = last.split(';').collect();
    t.push_str(&format!(
        "T350-999001;{};{};2018-11-21;Jobsamtale\n",
        cols[1], cols[2]
    ));
    std::fs::write(&samtaler, t).unwrap();
    let revised = run(&ws, 4);
    assert!(
        revised.contains("28 delivered, 29 delivered before"),
        "Lejre's 28 recipients get the update: {revised}"
    );
    // And only once.
    assert!(run(&ws, 5).contains("0 delivered, 57 delivered before"));
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (v, _) in sink.messages() {
        let to = v["rcpt_tos"][0].as_str().unwrap().to_string();
        let updated = v["subject"]
            .as_str()
            .unwrap()
            .starts_with("Opdateret version: Månedsbog for november 2018");
        let e = per.entry(to).or_default();
        if updated {
            e.1 += 1;
            assert!(
                v["body"]
                    .as_str()
                    .unwrap()
                    .contains("fagsystemet (november 2018)"),
                "says what changed: {}",
                v["body"]
            );
        } else {
            e.0 += 1;
        }
    }
    assert_eq!(per.len(), 57);
    for (to, (original, updated)) in &per {
        assert_eq!(*original, 1, "{to}");
        assert_eq!(
            *updated,
            usize::from(to.ends_with("@lejre.dk")),
            "{to}: one updated version for Lejre, none for Holbæk"
        );
    }
}

#[test]
fn late_data_is_waited_for_then_the_job_fails_loudly_at_the_deadline() {
    // The export of January 2019 is not there; the job waits for it.
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &sample_dir().join("fagsystem"),
        &root.path().join("fagsystem"),
    );
    let server = Server::start(root.path(), Script::default());
    let ws = workspace(
        &server,
        "[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"0 6 2 * *\"\nretry_secs = 1\ndeadline_hours = 1\n",
    );
    // It arrives while the job waits: the run completes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(ws.dir.path().join("maaltal.toml"))
        .args(["run", "maanedsbog", "--period", "2018-12"])
        .current_dir(ws.dir.path())
        .env("MAALTAL_NOW", "2019-01-02T07:00:00Z")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let december = root.path().join("fagsystem/316/2018-12");
    let hidden = root.path().join("held-back");
    std::fs::rename(&december, &hidden).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    std::fs::rename(&hidden, &december).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("not published yet; trying again in 1 s"),
        "{err}"
    );
    assert_eq!(runs(&ws), vec![("2018-12".to_string(), "done".to_string())]);

    // January 2019 never comes: at the deadline the job fails, recorded and mailed.
    let ws = workspace(
        &server,
        "[jobs.maanedsbog]\nperiod = \"month\"\nsteps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]\nschedule = \"0 6 2 * *\"\nretry_secs = 1\ndeadline_hours = 0\n",
    );
    let out = ws.run_env(
        &["run", "maanedsbog", "--period", "2019-01"],
        &[("MAALTAL_NOW", "2019-02-02T07:00:00Z")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("was still not published at the deadline"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        runs(&ws),
        vec![("2019-01".to_string(), "failed".to_string())]
    );
    let operator_mail = std::fs::read_dir(ws.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("operator-")
        })
        .expect("a mail to the operator");
    let mail = std::fs::read_to_string(operator_mail).unwrap();
    assert!(mail.contains("To: drift@imi.example"), "{mail}");
    assert!(
        mail.contains("maaltal run maanedsbog --period 2019-01"),
        "{mail}"
    );
}

/// A job is its config: a monthly job of one step, `ingest jobindsats quarter`, pulls
/// the month, and in a month that closes a quarter also that quarter, and nothing else
/// (no marts, no mail); the run history records its steps.
#[test]
fn a_job_runs_the_steps_its_config_lists_and_no_others() {
    let ws = Workspace::with_config(|t| {
        let cut = t
            .find("\n# Scheduled jobs")
            .expect("the jobs part of the default");
        format!(
            "{}\n[jobs.tal]\nperiod = \"month\"\nsteps = [\"ingest jobindsats quarter\"]\nschedule = \"0 5 10 * *\"\n",
            &t[..cut]
        )
    });
    let fetched = |ws: &Workspace| {
        ws.sql("select distinct source, period from ledger_fetches order by period")
            .into_iter()
            .map(|r| format!("{} {}", r[0], r[1]))
            .collect::<Vec<_>>()
    };
    ws.ok(&["run", "tal", "--period", "2018-11"]);
    assert_eq!(fetched(&ws), vec!["jobindsats 2018-11"]);
    ws.ok(&["run", "tal", "--period", "2018-12"]);
    assert_eq!(
        fetched(&ws),
        vec![
            "jobindsats 2018-11",
            "jobindsats 2018-12",
            "jobindsats 2018Q4"
        ]
    );
    assert!(
        !ws.lake().join("marts").exists(),
        "no `transform` step, no marts"
    );
    let runs = ws.sql("select job, kind, period, state from ledger_runs order by period");
    assert_eq!(
        runs,
        vec![
            vec!["tal", "ingest jobindsats quarter", "2018-11", "done"],
            vec!["tal", "ingest jobindsats quarter", "2018-12", "done"],
        ]
    );
}
