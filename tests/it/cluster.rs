//! The marts on a Ballista cluster (`[engine] kind = "ballista"`): a scheduler and two
//! executors started by the test (`maaltal cluster`, a process on 127.0.0.1), the
//! same `queries/` files, the same rows as in-process; with the lake on S3 (moto's
//! server on 127.0.0.1) as the scale-out set-up has it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{LOG_FILTER, Workspace, text};
use crate::mail::{copy_dir, free_port};
use crate::reports::full;
use crate::s3::S3;

/// A running `maaltal cluster`.
struct Cluster {
    child: Child,
    port: u16,
    work: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SAFETY: a signal to the child this test started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Cluster {
    fn start(executors: usize) -> Self {
        let port = free_port();
        let work = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_maaltal"))
            .args(["cluster", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--executors", &executors.to_string(), "--vcores", "2"])
            .arg("--work-dir")
            .arg(work.path())
            .env("MAALTAL_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with(&format!(
                "ready: scheduler df://127.0.0.1:{port}, {executors} executor(s)"
            )),
            "the cluster did not start: {line:?}"
        );
        Self { child, port, work }
    }

    fn engine(&self, timeout_secs: u64) -> String {
        format!(
            "\n[engine]\nkind = \"ballista\"\nscheduler = \"df://127.0.0.1:{}\"\nquery_timeout_secs = {timeout_secs}\n",
            self.port
        )
    }

    /// Files each executor has written (its shuffle files), by executor.
    fn files(&self) -> Vec<usize> {
        (0..2)
            .map(|i| crate::common::files(&self.work.path().join(format!("executor-{i}"))).len())
            .collect()
    }
}

/// Every row of a table, as sorted CSV lines.
fn rows(ws: &Workspace, env: &[(&str, &str)], table: &str) -> Vec<String> {
    let out = ws.run_env(
        &["sql", &format!("SELECT * FROM {table}"), "--format", "csv"],
        env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn imi_marts(lake: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(lake.join("marts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("jobpakke"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_marts_built_on_two_executors_from_the_s3_lake_equal_the_in_process_ones() {
    let cluster = Cluster::start(2);
    let s3 = S3::start("maaltal-cluster", 0.0);
    let env = s3.env();
    let engine = cluster.engine(600);
    let add_engine = |ws: &Workspace| {
        let config = ws.dir.path().join("maaltal.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, text + &engine).unwrap();
    };
    let a = s3.workspace("lake");
    add_engine(&a);
    for args in [
        &["ingest", "dream", "--period", "2016Q3..2018Q4"][..],
        &["ingest", "jobindsats", "--period", "2016Q3..2018Q4"],
        &["ingest", "jobindsats", "--period", "2016-12..2018-12"],
        &["ingest", "fagsystem", "--period", "2018-06..2018-11"],
    ] {
        let out = a.run_env(args, &env);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let before = cluster.files();
    let out = a.run_env(&["transform"], &env);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    // Every query ran on the cluster but those with a union, which Ballista 55 runs
    // wrongly: each of those is named, with the reason, and runs here.
    let fallbacks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("cluster: ran in this process instead: "))
        .collect();
    for l in &fallbacks {
        assert!(
            l.contains(": its plan has a union (UNION / UNION ALL), and Ballista 55"),
            "{l}"
        );
        let file = l.split(": ").nth(2).unwrap();
        let sql =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        assert!(sql.to_lowercase().contains("union"), "{file} has no union");
        assert!(
            stderr.contains(&format!("{file}: ran in this process, not on the cluster")),
            "{stderr}"
        );
    }
    let names = imi_marts(&full().lake());
    assert!(
        fallbacks.len() <= 2 && names.len() - fallbacks.len() >= 7,
        "{stdout}"
    );
    // Both executors did work: each wrote shuffle files for the transform.
    let after = cluster.files();
    for i in 0..2 {
        assert!(
            after[i] > before[i],
            "executor {i} wrote nothing: {before:?} → {after:?}"
        );
    }
    // Nothing of the scratch folder is left in the lake.
    assert!(
        !a.lake().join("_engine").exists()
            || crate::common::files(&a.lake().join("_engine")).is_empty()
    );

    // Read on another machine from the bucket: every mart row equals the local,
    // in-process run's.
    let local = full();
    let b = s3.workspace("lake");
    assert!(names.len() >= 9, "{names:?}");
    assert_eq!(imi_marts(&a.lake()), names);
    for m in &names {
        let theirs = rows(local, &[], m);
        assert!(theirs.len() > 1, "{m}: no rows");
        assert_eq!(rows(&b, &env, m), theirs, "mart {m}");
    }
}

#[test]
fn a_query_the_cluster_does_not_answer_in_time_runs_here_and_says_so() {
    let cluster = Cluster::start(2);
    // A timeout of 0 s: no query can finish on the cluster in time.
    let ws = Workspace::with_config(|t| t + &cluster.engine(0));
    copy_dir(&full().lake().join("raw"), &ws.lake().join("raw"));
    let out = ws.run(&["transform"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let fallbacks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("cluster: ran in this process instead: queries/imi/"))
        .collect();
    let names = imi_marts(&full().lake());
    assert_eq!(fallbacks.len(), names.len(), "{stdout}");
    let timed_out = fallbacks
        .iter()
        .filter(|l| l.contains("no answer from the cluster in 0 s (`[engine] query_timeout_secs`)"))
        .count();
    // The others have a union, which never goes to the cluster (the test above).
    assert!(timed_out >= 7, "{stdout}");
    assert!(
        stderr.contains("ran in this process, not on the cluster"),
        "{stderr}"
    );
    for m in &names {
        assert_eq!(rows(&ws, &[], m), rows(full(), &[], m), "mart {m}");
    }
}

#[test]
fn a_scheduler_that_does_not_answer_is_named() {
    let port = free_port();
    let ws = Workspace::with_config(|t| {
        t + &format!("\n[engine]\nkind = \"ballista\"\nscheduler = \"df://127.0.0.1:{port}\"\n")
    });
    copy_dir(&full().lake().join("raw"), &ws.lake().join("raw"));
    let out = ws.run_env(&["transform"], &[("MAALTAL_LOG", LOG_FILTER)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "`[engine] scheduler` = df://127.0.0.1:{port}: no Ballista scheduler answers there"
        )),
        "{err}"
    );
}
