//! The lake on S3-compatible object storage (`[lake.remote]`) against a real S3 server on
//! 127.0.0.1: moto's, from PyPI (tests/s3_server.py, installed by tests/run), which
//! answers conditional writes as S3 does. What is checked:
//! - the sample's lake landed and built through the bucket: every mart row equal to the
//!   local run's; a second working copy (another machine) reads the same; Polars reads
//!   the bucket as Hive-partitioned Parquet with the same counts;
//! - a writer killed (kill -9) while it publishes: each object in the bucket is the old
//!   or the new version, never anything else, and still readable; the rerun ends with
//!   the bucket equal to an uninterrupted run;
//! - two writers publishing the same partitions at once: one wins, the other is told
//!   which object and stops, and the bucket holds the winner's whole version.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use object_store::ObjectStore as _;
use object_store::ObjectStoreExt as _;
use sha2::{Digest as _, Sha256};

use crate::common::{LOG_FILTER, Workspace, sample_dir, text};
use crate::reports::full;

const ACCESS_KEY: &str = "AKIAMAALTALTEST";
const SECRET_KEY: &str = "s3-secret-5f0c9d1e";

/// A running tests/s3_server.py.
pub(crate) struct S3 {
    child: Child,
    port: u16,
    bucket: &'static str,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3 {
    /// Starts the server with a bucket; each PUT waits `put_delay` seconds first.
    pub(crate) fn start(bucket: &'static str, put_delay: f64) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--bucket", bucket, "--put-delay", &put_delay.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with moto (tests/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the S3 server did not start: {line:?}"));
        Self {
            child,
            port,
            bucket,
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The credentials, as the environment gives them to maaltal.
    pub(crate) fn env(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ]
    }

    /// A workspace whose lake is `s3://<bucket>/<prefix>`, with a working copy of its own.
    pub(crate) fn workspace(&self, prefix: &str) -> Workspace {
        let remote = format!(
            "[lake]\npath = \"lake\"\n[lake.remote]\nurl = \"s3://{}/{prefix}\"\nendpoint = \"{}\"\nallow_http = true\n",
            self.bucket,
            self.endpoint()
        );
        Workspace::with_config(|t| t.replacen("[lake]\npath = \"lake\"\n", &remote, 1))
    }

    fn store(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_bucket_name(self.bucket)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .unwrap()
    }

    /// Every object under `prefix/`: key relative to it → its ETag (listed, not read).
    pub(crate) fn etags(&self, prefix: &str) -> BTreeMap<String, String> {
        self.list(prefix, false)
    }

    /// Every object under `prefix/`: key relative to it → sha256 of its bytes.
    pub(crate) fn objects(&self, prefix: &str) -> BTreeMap<String, String> {
        self.list(prefix, true)
    }

    fn list(&self, prefix: &str, read: bool) -> BTreeMap<String, String> {
        let store = self.store();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use futures::TryStreamExt as _;
            let p = object_store::path::Path::from(prefix);
            let metas: Vec<_> = store.list(Some(&p)).try_collect().await.unwrap();
            let mut out = BTreeMap::new();
            for m in metas {
                let rel = m.location.as_ref()[prefix.len() + 1..].to_string();
                let value = if read {
                    let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
                    hex::encode(Sha256::digest(&bytes))
                } else {
                    m.e_tag.unwrap_or_default()
                };
                out.insert(rel, value);
            }
            out
        })
    }

    /// Row counts Polars reads from the bucket, table folder → rows (a tool nobody here
    /// wrote, reading `s3://` as Hive-partitioned Parquet).
    pub(crate) fn polars_counts(&self, prefix: &str, tables: &[&str]) -> BTreeMap<String, i64> {
        let script = r#"
import json, sys
import polars as pl
ep, bucket, prefix, key, secret = sys.argv[1:6]
opts = {"aws_endpoint_url": ep, "aws_access_key_id": key, "aws_secret_access_key": secret,
        "aws_region": "us-east-1", "aws_allow_http": "true"}
out = {}
for t in sys.argv[6:]:
    lf = pl.scan_parquet(f"s3://{bucket}/{prefix}/{t}/**/*.parquet", storage_options=opts,
                         hive_partitioning=True)
    out[t] = lf.select(pl.len()).collect().item()
print(json.dumps(out))
"#;
        let out = Command::new("python3")
            .args(["-c", script, &self.endpoint(), self.bucket, prefix])
            .args([ACCESS_KEY, SECRET_KEY])
            .args(tables)
            .output()
            .unwrap();
        assert!(out.status.success(), "polars: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn run(ws: &Workspace, s3: &S3, args: &[&str]) -> Output {
    ws.run_env(args, &s3.env())
}

/// Runs and asserts success; returns (stdout, stderr).
fn ok(ws: &Workspace, s3: &S3, args: &[&str]) -> (String, String) {
    let out = run(ws, s3, args);
    assert!(
        out.status.success(),
        "maaltal {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

/// Every row of a table, as sorted CSV lines.
fn rows(ws: &Workspace, s3: Option<&S3>, table: &str) -> Vec<String> {
    let args = ["sql", &format!("SELECT * FROM {table}"), "--format", "csv"];
    let out = match s3 {
        Some(s3) => ok(ws, s3, &args).0,
        None => ws.ok(&args),
    };
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn marts(lake: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(lake.join("marts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_sample_lands_and_builds_through_the_bucket_as_it_does_locally() {
    let s3 = S3::start("maaltal-lake", 0.0);
    let a = s3.workspace("lake");
    let steps: [&[&str]; 5] = [
        &["ingest", "dream", "--period", "2016Q3..2018Q4"],
        &["ingest", "jobindsats", "--period", "2016Q3..2018Q4"],
        &["ingest", "jobindsats", "--period", "2016-12..2018-12"],
        &["ingest", "fagsystem", "--period", "2018-06..2018-11"],
        &["transform"],
    ];
    for args in steps {
        let (_, err) = ok(&a, &s3, args);
        assert!(
            err.contains("published ") && err.contains(" object(s) ("),
            "{err}"
        );
    }
    // The bucket holds the working copy's data and marts, object for object.
    let bucket = s3.objects("lake");
    let copy = crate::common::hash_tree(&a.lake());
    let data = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.iter()
            .filter(|(k, _)| k.starts_with("raw/") || k.starts_with("marts/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(data(&bucket), data(&copy));
    assert!(bucket.keys().any(|k| k.starts_with("ledger/fetches/")));

    // Every mart row equals the local run's, read on another machine: a working copy
    // that starts empty and pulls.
    let local = full();
    let b = s3.workspace("lake");
    let names = marts(&local.lake());
    assert!(names.len() >= 9, "{names:?}");
    for m in &names {
        if m.starts_with("jobpakke") {
            continue; // VIP2's, not in this programme
        }
        let theirs = rows(local, None, m);
        assert!(theirs.len() > 1, "{m}: no rows");
        assert_eq!(rows(&b, Some(&s3), m), theirs, "mart {m}");
    }
    assert_eq!(marts(&b.lake()), marts(&a.lake()));

    // Polars reads the bucket itself, with the counts maaltal gives.
    let counts = s3.polars_counts(
        "lake",
        &[
            "raw/dream/persons",
            "raw/fagsystem/sager",
            "marts/target_metrics",
        ],
    );
    for (folder, table) in [
        ("raw/dream/persons", "dream_persons"),
        ("raw/fagsystem/sager", "fagsystem_sager"),
        ("marts/target_metrics", "target_metrics"),
    ] {
        let n = local.count(&format!("SELECT count(*) FROM {table}"));
        assert!(n > 0);
        assert_eq!(counts[folder], n, "{folder}");
    }
}

/// How many objects of `raw/` have another ETag than in `before`.
fn changed(now: &BTreeMap<String, String>, before: &BTreeMap<String, String>) -> usize {
    now.iter()
        .filter(|(k, e)| k.starts_with("raw/") && before.get(*k).is_some_and(|b| b != *e))
        .count()
}

#[test]
fn a_writer_killed_while_publishing_leaves_each_object_whole_and_the_rerun_finishes_it() {
    // Slow PUTs (a slow link) so the kill falls in the middle of publishing.
    let s3 = S3::start("maaltal-kill", 0.3);
    let ws = s3.workspace("lake");
    ok(&ws, &s3, &["ingest", "dream", "--period", "2016Q3..2018Q4"]);
    let v1 = s3.objects("lake");
    let v1_etags = s3.etags("lake");
    let v1_raw: BTreeMap<_, _> = v1.iter().filter(|(k, _)| k.starts_with("raw/")).collect();
    assert_eq!(v1_raw.len(), 20, "{v1_raw:?}");

    // The next version: DREAM's extracts of another seed, landed over the first.
    let other = tempfile::tempdir().unwrap();
    maaltal::sample::generate(other.path(), 2019, maaltal::sample::Scale::Sample).unwrap();
    let config = ws.dir.path().join("maaltal.toml");
    let first = std::fs::read_to_string(&config).unwrap();
    let sample = sample_dir().display().to_string();
    std::fs::write(
        &config,
        first.replacen(
            &format!("{sample}/dream/"),
            &format!("{}/dream/", other.path().display()),
            1,
        ),
    )
    .unwrap();
    let args = ["ingest", "dream", "--period", "2016Q3..2018Q4"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .envs(s3.env())
        .env_remove("MAALTAL_PSEUDONYM_KEY")
        .env("MAALTAL_LOG", LOG_FILTER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while changed(&s3.etags("lake"), &v1_etags) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the writer ended before it published anything new"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no publish seen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Each object is the old version or the working copy's new one, never anything else.
    let mid = s3.objects("lake");
    let copy = crate::common::hash_tree(&ws.lake());
    let (mut old, mut new) = (0, 0);
    for (k, sha) in mid.iter().filter(|(k, _)| k.starts_with("raw/")) {
        if v1.get(k) == Some(sha) {
            old += 1;
        } else {
            assert_eq!(
                copy.get(k),
                Some(sha),
                "{k}: neither the old nor the new version"
            );
            new += 1;
        }
    }
    assert!(
        old > 0 && new > 0,
        "killed mid-publish: {old} old, {new} new"
    );
    // And readable as it is, by a reader nobody here wrote.
    let counts = s3.polars_counts("lake", &["raw/dream/persons", "raw/dream/weeks"]);
    assert!(counts.values().all(|n| *n > 0), "{counts:?}");

    // The rerun publishes the rest: the bucket then equals an uninterrupted run's lake.
    ok(&ws, &s3, &args);
    let after = s3.objects("lake");
    let reference = Workspace::with_config(|t| {
        t.replacen(
            &format!("{sample}/dream/"),
            &format!("{}/dream/", other.path().display()),
            1,
        )
    });
    reference.ok(&args);
    let clean = crate::common::hash_tree(&reference.lake());
    let raw = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.iter()
            .filter(|(k, _)| k.starts_with("raw/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(raw(&after), raw(&clean));
    assert_ne!(raw(&after), raw(&v1));
}

#[test]
fn two_writers_publishing_the_same_partitions_cannot_both_win() {
    // Each partition is one object published by one conditional PUT: the first PUT of
    // it wins, the other writer is refused and stops. (Which partition goes to whom is
    // the race's; docs/lake.md says a commit is atomic per partition.)
    let s3 = S3::start("maaltal-race", 0.2);
    let a = s3.workspace("lake");
    ok(&a, &s3, &["ingest", "dream", "--period", "2018Q4"]);
    let v1 = s3.objects("lake");
    // A second machine with its own working copy, synced to the same version.
    let b = s3.workspace("lake");
    ok(&b, &s3, &["sql", "SELECT count(*) FROM dream_persons"]);

    // Each lands another extract of 2018Q4 and publishes it, at the same time.
    let other = tempfile::tempdir().unwrap();
    maaltal::sample::generate(other.path(), 2019, maaltal::sample::Scale::Sample).unwrap();
    let file = other.path().join("dream/dream_2018Q4.csv");
    // B's landing differs from A's by the key: another pseudonym of every person.
    let start = |ws: &Workspace, key: &str| -> Child {
        Command::new(env!("CARGO_BIN_EXE_maaltal"))
            .arg("--config")
            .arg(ws.dir.path().join("maaltal.toml"))
            .args(["ingest", "dream"])
            .arg(&file)
            .args(["--period", "2018Q4"])
            .envs(s3.env())
            .env("MAALTAL_PSEUDONYM_KEY", key)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let ca = start(&a, "the-key-of-machine-a");
    let cb = start(&b, "another-key-for-machine-b");
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let results = [(&a, oa), (&b, ob)];
    let losers: Vec<_> = results
        .iter()
        .filter(|(_, o)| !o.status.success())
        .collect();
    assert!(
        !losers.is_empty(),
        "both published over the same objects:\na: {}\nb: {}",
        text(&results[0].1.stderr),
        text(&results[1].1.stderr)
    );
    for (_, lost) in &losers {
        let message = text(&lost.stderr);
        assert!(
            message.contains("another writer published it")
                && message.contains("s3://maaltal-race/lake/raw/dream/"),
            "{message}"
        );
        assert_eq!(lost.status.code(), Some(2), "{message}");
    }
    // Each partition is one writer's, whole, and no longer the old one; a writer that
    // succeeded has all of its partitions there.
    let now = s3.objects("lake");
    let copies = [
        crate::common::hash_tree(&a.lake()),
        crate::common::hash_tree(&b.lake()),
    ];
    let raw: Vec<&String> = now.keys().filter(|k| k.starts_with("raw/")).collect();
    assert_eq!(raw.len(), 2, "{raw:?}");
    for k in &raw {
        assert_ne!(now.get(*k), v1.get(*k), "{k}: still the old version");
        assert!(
            copies.iter().any(|c| c.get(*k) == now.get(*k)),
            "{k}: neither writer's version"
        );
    }
    for ((_, out), copy) in results.iter().zip(&copies) {
        if out.status.success() {
            for k in &raw {
                assert_eq!(now.get(*k), copy.get(*k), "{k}: the winner's version");
            }
        }
    }
}

#[test]
fn a_job_pulls_what_others_published_and_publishes_its_run() {
    // `maaltal run` goes through the daemon's runner: pull, the job's steps, its record
    // in ledger_runs, publish.
    let s3 = S3::start("maaltal-jobs", 0.0);
    let a = s3.workspace("lake");
    ok(&a, &s3, &["ingest", "dream", "--period", "2018Q3"]);
    let b = s3.workspace("lake");
    let (out, err) = ok(&b, &s3, &["run", "dream", "--period", "2018Q4"]);
    assert!(out.contains("dream 2018Q4: done"), "{out}");
    assert!(
        b.lake().join("raw/dream/persons/quarter=2018Q3").exists(),
        "{err}"
    );
    let keys = s3.etags("lake");
    for k in [
        "raw/dream/persons/quarter=2018Q3/part-0.parquet",
        "raw/dream/persons/quarter=2018Q4/part-0.parquet",
        "marts/target_metrics/part-0.parquet",
    ] {
        assert!(keys.contains_key(k), "{k} not in the bucket: {keys:?}");
    }
    assert!(
        keys.keys().any(|k| k.starts_with("ledger/runs/")),
        "{keys:?}"
    );
    // The first machine sees the job's marts and its run, both quarters in them.
    let rows = |q: &str| ok(&a, &s3, &["sql", q, "--format", "csv"]).0;
    let runs = rows("SELECT job, period, state FROM ledger_runs");
    assert!(runs.contains("dream,2018Q4,done"), "{runs}");
    let quarters = rows("SELECT DISTINCT quarter FROM dream_persons ORDER BY quarter");
    assert_eq!(
        quarters.lines().skip(1).collect::<Vec<_>>(),
        ["2018Q3", "2018Q4"]
    );
}
