//! `maaltal-bench`: the national-scale benchmark, maaltal side by side with `DuckDB`
//! (docs/performance.md). Build and run it in release mode:
//!
//! ```sh
//! cargo build --release
//! target/release/maaltal-bench --data bench/national --work bench/work
//! ```
//!
//! Every measured step runs as its own process (the `maaltal` binary beside this one,
//! `python3` with `DuckDB`, or this binary's hidden `step` commands for in-process
//! timings), so each gets its own wall time and peak resident memory (from `wait4`).
//! The figures go to stdout and, as a Markdown table, to `<work>/results.md`.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use maaltal::period::Period;

mod measure;
mod render;
use measure::{Bench, DUCKDB_RUN, Report, measure, median, mib, secs};

/// mimalloc instead of the system allocator: the landing, `DataFusion` and Typst all
/// allocate many small objects (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The national-scale benchmark (release build), side by side with `DuckDB`.
#[derive(Debug, Parser)]
#[command(name = "maaltal-bench")]
struct Args {
    /// Folder of the national data; written with `maaltal sample-data --scale national`
    /// when it holds no `maaltal.toml`.
    #[arg(long, default_value = "bench/national")]
    data: PathBuf,
    /// Scratch folder for the lakes, the sweep's files and the reports (emptied first).
    #[arg(long, default_value = "bench/work")]
    work: PathBuf,
    /// Persons in a DREAM quarter (when the data is written).
    #[arg(long, default_value_t = 1_000_000)]
    persons: usize,
    /// Employees over all case systems (when the data is written).
    #[arg(long, default_value_t = 5_000)]
    employees: usize,
    /// Runs of each side-by-side measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Size of the memory sweep's largest CSV, in MB (0: no sweep).
    #[arg(long, default_value_t = 2048)]
    sweep_mb: u64,
    /// The python3 that has duckdb (tests/requirements.txt).
    #[arg(long, default_value = "python3")]
    python: String,
    #[command(subcommand)]
    step: Option<Step>,
}

/// In-process steps, run as child processes of the benchmark (not for people).
#[derive(Debug, clap::Subcommand)]
enum Step {
    /// Render one kind of report and print per-report timings as JSON.
    #[command(hide = true)]
    Render {
        /// `quarterly`, `overview` or `maanedsbog`.
        kind: String,
        /// The configuration.
        #[arg(long)]
        config: PathBuf,
        /// Quarter or month.
        #[arg(long)]
        period: Period,
        /// Where the PDFs go.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Writes `dst`: the first `persons` rows of `src`, each with `extra` history week
/// columns (2000W01 on) appended. Returns its size in bytes.
fn derive_csv(src: &Path, dst: &Path, persons: usize, extra: usize) -> anyhow::Result<u64> {
    let mut lines = BufReader::with_capacity(1 << 20, File::open(src)?).lines();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(dst)?);
    let header = lines.next().context("empty CSV")??;
    let mut h = header.clone();
    let start = chrono::NaiveDate::from_ymd_opt(2000, 1, 3).context("date")?;
    for i in 0..extra {
        let monday = start + chrono::Duration::days(7 * i as i64);
        let iw = chrono::Datelike::iso_week(&monday);
        let w = maaltal::period::IsoWeek {
            year: iw.year(),
            week: iw.week(),
        };
        let _ = write!(h, ";{}", w.column());
    }
    writeln!(out, "{h}")?;
    // History cells, cycled: most weeks on a benefit, some without.
    let cells = ["", "130", "", "111", "651", "135", "", "130"];
    let mut tail = String::new();
    for (n, line) in lines.enumerate() {
        if n >= persons {
            break;
        }
        let line = line?;
        tail.clear();
        for i in 0..extra {
            tail.push(';');
            tail.push_str(cells[(i + n) % cells.len()]);
        }
        writeln!(out, "{line}{tail}")?;
    }
    out.flush()?;
    Ok(fs::metadata(dst)?.len())
}

fn run(args: Args) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("binary folder")?;
    let maaltal = bin_dir.join("maaltal");
    if !maaltal.exists() {
        bail!(
            "{} not found: build both binaries with `cargo build --release`",
            maaltal.display()
        );
    }
    let queries = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries");
    fs::create_dir_all(&args.work)?;
    let work = std::path::absolute(&args.work)?;
    let data = std::path::absolute(&args.data)?;
    let config = data.join("maaltal.toml");
    let bench = Bench {
        maaltal,
        config: config.clone(),
        work: work.clone(),
        queries,
        args,
    };
    let mut rep = Report(String::new());
    let started = Instant::now();

    rep.line("# maaltal national benchmark");
    rep.line("");
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let duck = Command::new(&bench.args.python)
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .context("python3 with duckdb (pip install -r tests/requirements.txt)")?;
    if !duck.status.success() {
        bail!("DuckDB is missing: pip install -r tests/requirements.txt");
    }
    rep.line(&format!(
        "maaltal {} ({} build), DuckDB {} (Python), {cores} cores; every figure is one process: wall time and peak RSS.",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        String::from_utf8_lossy(&duck.stdout).trim(),
    ));
    rep.line("");

    // 0. Data.
    if !config.exists() {
        let cost = measure(
            Command::new(&bench.maaltal)
                .args(["sample-data", "--scale", "national", "--out"])
                .arg(&data)
                .arg("--persons")
                .arg(bench.args.persons.to_string())
                .arg("--employees")
                .arg(bench.args.employees.to_string()),
            &bench.log("sample-data"),
            None,
        )?;
        rep.line(&format!(
            "Data written by `maaltal sample-data --scale national` in {}.",
            secs(cost.wall)
        ));
        rep.line("");
    }
    let q4 = Period::Quarter {
        year: 2018,
        quarter: 4,
    };
    let csv = data.join("dream").join(format!("dream_{q4}.csv"));
    let csv_bytes = fs::metadata(&csv)?.len();
    let persons = BufReader::new(File::open(&csv)?).lines().count() - 1;

    rep.line("## Side by side with DuckDB");
    rep.line("");
    rep.line(&format!(
        "Median of {} runs; peak RSS is the largest of the runs. Ratio = maaltal / DuckDB (below 1: maaltal is faster).",
        bench.args.runs
    ));
    rep.line("");
    rep.line("| work | maaltal | DuckDB | ratio (time) | maaltal peak RSS | DuckDB peak RSS |");
    rep.line("|---|---:|---:|---:|---:|---:|");

    // 1. Landing one DREAM quarter.
    let mut m = Vec::new();
    let mut d = Vec::new();
    for i in 0..bench.args.runs {
        m.push(bench.land_maaltal(&csv, q4, &format!("q4-{i}"))?);
        d.push(bench.land_duckdb(&csv, q4)?);
    }
    let (m, d) = (median(m), median(d));
    rep.line(&format!(
        "| landing DREAM {q4}: {persons} persons, {:.0} MB CSV → Parquet | {} | {} | {:.2} | {} | {} |",
        csv_bytes as f64 / 1e6,
        secs(m.wall),
        secs(d.wall),
        m.wall.as_secs_f64() / d.wall.as_secs_f64(),
        mib(m.rss),
        mib(d.rss)
    ));

    // 2. The national lake: eleven quarters landed; then the quarterly job lands the
    // twelfth and runs (timed below); then M1 over all twelve.
    let lake_dir = bench.fresh("lake")?;
    let lake = lake_dir.join("lake");
    let mut setup = Vec::new();
    for (label, args) in [
        (
            "dream 2016Q1..2018Q3",
            vec!["ingest", "dream", "--period", "2016Q1..2018Q3"],
        ),
        (
            "jobindsats 2016Q1..2018Q4",
            vec!["ingest", "jobindsats", "--period", "2016Q1..2018Q4"],
        ),
        (
            "jobindsats 2016-12..2018-12",
            vec!["ingest", "jobindsats", "--period", "2016-12..2018-12"],
        ),
        (
            "fagsystem 2018-11, every municipality",
            vec!["ingest", "fagsystem", "--period", "2018-11"],
        ),
        // What the dream and jobindsats jobs did for each period as it came in.
        ("transform", vec!["transform"]),
    ] {
        let cost = measure(
            bench.maaltal(&lake).args(&args),
            &bench.log(&format!("setup-{}", label.replace([' ', '.', ','], "_"))),
            None,
        )?;
        setup.push((args.join(" "), cost));
    }
    let job_dream = measure(
        bench
            .maaltal(&lake)
            .args(["run", "dream", "--period", &q4.to_string()]),
        &bench.log("job-dream"),
        None,
    )?;
    let job_quarterly = measure(
        bench
            .maaltal(&lake)
            .args(["run", "quarterly", "--period", &q4.to_string()]),
        &bench.log("job-quarterly"),
        None,
    )?;

    // 3. M1 for every municipality and quarter: the same SQL over the same Parquet.
    let m1_sql = fs::read_to_string(bench.queries.join("bench/m1.sql"))?;
    let m1_text: String = m1_sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    // DuckDB runs m1.sql, and m1_plain.sql (the same rows without the semi-join), the
    // form it runs fastest: the fair ratio is against the faster of the two.
    let (mut m, mut d, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    let m_out = work.join("m1-maaltal.csv");
    let d_out = work.join("m1-duckdb.csv");
    let p_out = work.join("m1-duckdb-plain.csv");
    let duckdb = |file: &str, out: &Path, log: &str| {
        measure(
            Command::new(&bench.args.python)
                .arg("-c")
                .arg(DUCKDB_RUN)
                .arg(bench.queries.join("bench/duckdb_m1.sql"))
                .arg(format!("lake={}", lake.display()))
                .arg(format!("m1=@{}", bench.queries.join(file).display()))
                .arg(format!("result={}", out.display())),
            &bench.log(log),
            None,
        )
    };
    for _ in 0..bench.args.runs {
        m.push(measure(
            bench
                .maaltal(&lake)
                .args(["sql", &m1_text, "--format", "csv"]),
            &bench.log("m1-maaltal"),
            Some(&m_out),
        )?);
        d.push(duckdb("bench/m1.sql", &d_out, "m1-duckdb")?);
        plain.push(duckdb("bench/m1_plain.sql", &p_out, "m1-duckdb-plain")?);
    }
    let (m, d, plain) = (median(m), median(d), median(plain));
    let rows_m = fs::read_to_string(&m_out)?;
    let same = |path: &Path| -> anyhow::Result<&'static str> {
        Ok(if rows_m.trim() == fs::read_to_string(path)?.trim() {
            "identical"
        } else {
            "DIFFER"
        })
    };
    let groups = rows_m.lines().count().saturating_sub(1);
    for (what, peer, out) in [
        ("the same text, m1.sql, in both", &d, &d_out),
        ("DuckDB on m1_plain.sql, its faster form", &plain, &p_out),
    ] {
        rep.line(&format!(
            "| M1 for every municipality × quarter × sex ({groups} rows, 12 quarters; {what}; results {}) | {} | {} | {:.2} | {} | {} |",
            same(out)?,
            secs(m.wall),
            secs(peer.wall),
            m.wall.as_secs_f64() / peer.wall.as_secs_f64(),
            mib(m.rss),
            mib(peer.rss)
        ));
    }
    rep.line("");
    for out in [&d_out, &p_out] {
        if same(out)? != "identical" {
            rep.line(&format!(
                "M1 results differ: compare {} and {}.",
                m_out.display(),
                out.display()
            ));
            rep.line("");
        }
    }

    // 4. Reports, timed per PDF inside one process.
    rep.line("## Reports");
    rep.line("");
    rep.line("Per PDF: building its data, compiling it, writing the PDF. Status reports and the overview are made one at a time (Typst and krilla use the second core inside); månedsbøger in batches on every core, so their median is one thread's time per PDF and their wall per PDF what the run costs. Process wall: the whole command, reading the marts and writing the files included.");
    rep.line("");
    rep.line(
        "| reports | PDFs | process wall | wall per PDF | median per PDF | p90 | max | peak RSS |",
    );
    rep.line("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (kind, period) in [
        ("quarterly", q4),
        ("overview", q4),
        (
            "maanedsbog",
            Period::Month {
                year: 2018,
                month: 11,
            },
        ),
    ] {
        let out = bench.fresh(&format!("reports-{kind}"))?;
        let json = work.join(format!("render-{kind}.json"));
        let cost = measure(
            Command::new(&exe)
                .args(["render", kind, "--config"])
                .arg(&config)
                .args(["--period", &period.to_string(), "--out"])
                .arg(&out)
                .env("MAALTAL_BENCH_LAKE", &lake),
            &bench.log(&format!("render-{kind}")),
            Some(&json),
        )?;
        let t: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json)?)?;
        let n = t["reports"].as_u64().unwrap_or(1).max(1);
        rep.line(&format!(
            "| {kind} {period} | {n} | {} | {:.0} ms | {} ms | {} ms | {} ms | {} |",
            secs(cost.wall),
            cost.wall.as_secs_f64() * 1000.0 / n as f64,
            t["median_ms"],
            t["p90_ms"],
            t["max_ms"],
            mib(cost.rss)
        ));
    }
    rep.line("");

    // 5. The quarterly job, end to end.
    rep.line("## The quarterly job at national scale");
    rep.line("");
    rep.line("| step | wall | peak RSS |");
    rep.line("|---|---:|---:|");
    rep.line(&format!(
        "| `maaltal run dream --period {q4}`: land the new quarter ({persons} persons) | {} | {} |",
        secs(job_dream.wall),
        mib(job_dream.rss)
    ));
    rep.line(&format!(
        "| `maaltal run quarterly --period {q4}`: the marts of the quarter (earlier quarters have theirs), 98 status reports, the overview, 99 mails to the outbox | {} | {} |",
        secs(job_quarterly.wall),
        mib(job_quarterly.rss)
    ));
    rep.line(&format!(
        "| both | {} | {} |",
        secs(job_dream.wall + job_quarterly.wall),
        mib(job_dream.rss.max(job_quarterly.rss))
    ));
    rep.line("");
    rep.line("Setting up the lake the job runs on:");
    rep.line("");
    rep.line("| step | wall | peak RSS |");
    rep.line("|---|---:|---:|");
    for (command, cost) in &setup {
        rep.line(&format!(
            "| `maaltal {command}` | {} | {} |",
            secs(cost.wall),
            mib(cost.rss)
        ));
    }
    rep.line("");

    // 6. Landing memory against file size.
    if bench.args.sweep_mb > 0 {
        rep.line("## Landing: peak memory against file size (maaltal)");
        rep.line("");
        rep.line("| CSV | persons | history week columns | size | wall | peak RSS |");
        rep.line("|---|---:|---:|---:|---:|---:|");
        let base_row = csv_bytes as f64 / persons as f64;
        // A history cell averages 2.75 bytes (`;` and a code or nothing).
        let widest = (((bench.args.sweep_mb * 1_048_576) as f64 / persons as f64 - base_row) / 2.75)
            .max(0.0) as usize;
        let sweep_dir = bench.fresh("sweep")?;
        for (persons_n, extra) in [
            (persons / 4, 0),
            (persons / 2, 0),
            (persons, 0),
            (persons, widest / 4),
            (persons, widest),
        ] {
            let f = sweep_dir.join(format!("dream_{persons_n}_{extra}.csv"));
            let size = derive_csv(&csv, &f, persons_n, extra)?;
            let cost = bench.land_maaltal(&f, q4, &format!("sweep-{persons_n}-{extra}"))?;
            fs::remove_file(&f)?;
            rep.line(&format!(
                "| derived from {q4} | {persons_n} | {extra} | {:.0} MB | {} | {} |",
                size as f64 / 1e6,
                secs(cost.wall),
                mib(cost.rss)
            ));
        }
        rep.line("");
    }
    rep.line(&format!(
        "Benchmark run took {:.0} s.",
        started.elapsed().as_secs_f64()
    ));
    fs::write(work.join("results.md"), &rep.0)?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let result = match &args.step {
        Some(Step::Render {
            kind,
            config,
            period,
            out,
        }) => render::step(kind, config, *period, out),
        None => run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
