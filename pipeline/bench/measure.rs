//! Measuring a step: wall time and peak memory of a child process (from `wait4`), the
//! median of repeated runs, and the report the figures go to.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use maaltal::period::Period;

use super::Args;

/// What one process cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cost {
    pub(crate) wall: Duration,
    /// Peak resident set size, bytes.
    pub(crate) rss: u64,
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1_048_576.0)
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Runs a command to its end and measures it; stdout goes to `stdout` (when given),
/// stderr to `<work>/logs/<label>.log`. A failed command is an error with its log.
pub(crate) fn measure(
    cmd: &mut Command,
    log: &Path,
    stdout: Option<&Path>,
) -> anyhow::Result<Cost> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir)?;
    }
    cmd.stderr(File::create(log)?);
    match stdout {
        Some(p) => cmd.stdout(File::create(p)?),
        None => cmd.stdout(Stdio::null()),
    };
    cmd.env_remove("MAALTAL_SMTP_URL");
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills; the pid is our own child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = started.elapsed();
    if r != pid {
        bail!("wait4 failed for {cmd:?}");
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let tail = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(15).collect();
        bail!(
            "{} failed ({status}); the end of {}:\n{}",
            cmd.get_program().to_string_lossy(),
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(Cost {
        wall,
        rss: usage.ru_maxrss as u64 * 1024,
    })
}

pub(crate) fn median(mut v: Vec<Cost>) -> Cost {
    v.sort_by_key(|c| c.wall);
    let m = v[v.len() / 2];
    Cost {
        wall: m.wall,
        rss: v.iter().map(|c| c.rss).max().unwrap_or(0),
    }
}

/// A Markdown report being built, echoed to stdout as it grows.
pub(crate) struct Report(pub(crate) String);

impl Report {
    pub(crate) fn line(&mut self, s: &str) {
        println!("{s}");
        self.0.push_str(s);
        self.0.push('\n');
    }
}

pub(crate) struct Bench {
    pub(crate) args: Args,
    pub(crate) maaltal: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) queries: PathBuf,
}

impl Bench {
    pub(crate) fn maaltal(&self, lake: &Path) -> Command {
        let mut c = Command::new(&self.maaltal);
        c.arg("--config").arg(&self.config).arg("--lake").arg(lake);
        c
    }

    pub(crate) fn log(&self, label: &str) -> PathBuf {
        self.work.join("logs").join(format!("{label}.log"))
    }

    pub(crate) fn fresh(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.work.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    pub(crate) fn land_maaltal(
        &self,
        csv: &Path,
        period: Period,
        label: &str,
    ) -> anyhow::Result<Cost> {
        let lake = self.fresh(&format!("lake-{label}"))?;
        let cost = measure(
            self.maaltal(&lake.join("lake"))
                .args(["ingest", "dream"])
                .arg(csv)
                .args(["--period", &period.to_string()]),
            &self.log(&format!("land-maaltal-{label}")),
            None,
        )?;
        fs::remove_dir_all(&lake)?;
        Ok(cost)
    }

    pub(crate) fn land_duckdb(&self, csv: &Path, period: Period) -> anyhow::Result<Cost> {
        let out = self.fresh("duckdb-land")?;
        let weeks = period.iso_weeks();
        let values: Vec<String> = weeks
            .iter()
            .map(|w| format!("('{}', '{}', date '{}')", w.column(), w.label(), w.monday()))
            .collect();
        let columns: Vec<String> = weeks.iter().map(|w| w.column()).collect();
        let codes = self.queries.join("../config/dream_codes.csv");
        let cost = measure(
            Command::new(&self.args.python)
                .arg("-c")
                .arg(DUCKDB_RUN)
                .arg(self.queries.join("bench/duckdb_land_dream.sql"))
                .arg(format!("csv={}", csv.display()))
                .arg(format!("codes={}", codes.display()))
                .arg(format!("weeks={}", values.join(", ")))
                .arg(format!("columns={}", columns.join(", ")))
                .arg("key=maaltal-bench")
                .arg(format!("out={}", out.display())),
            &self.log("land-duckdb"),
            None,
        )?;
        fs::remove_dir_all(&out)?;
        Ok(cost)
    }
}

/// Runs a SQL file in `DuckDB`: `python3 -c DUCKDB_RUN file.sql name=value ...`.
/// Statements end with `;` at the end of a line. Lines
/// starting with `--` are dropped, `{name}` is replaced (by a file's text for
/// `name=@path`); with `result=path` the last
/// statement's rows are written there as CSV.
pub(crate) const DUCKDB_RUN: &str = r#"
import re, sys, duckdb
sql = open(sys.argv[1], encoding="utf-8").read()
subs = dict(a.split("=", 1) for a in sys.argv[2:])
result = subs.pop("result", None)
def strip(text):
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("--"))
sql = strip(sql)
for k, v in subs.items():
    if v.startswith("@"):
        v = strip(open(v[1:], encoding="utf-8").read())
    sql = sql.replace("{" + k + "}", v)
con = duckdb.connect()
statements = [s for s in re.split(r";[ \t]*(?:\n|$)", sql) if s.strip()]
for s in statements[:-1]:
    con.execute(s)
last = con.sql(statements[-1])
if result:
    last.write_csv(result)
elif last is not None:
    last.fetchall()
"#;
