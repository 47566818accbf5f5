//! The `maaltal` command line: parse arguments, call the library, map errors to exit
//! codes. No pipeline logic lives here.

mod cli;

use std::process::ExitCode;

use chrono::Utc;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use maaltal::config::Config;
use maaltal::error::Error;
use maaltal::period::Period;
use maaltal::progress::{LogWriter, Step};
use maaltal::query;
use maaltal::render::RenderError;
use maaltal::run;
use maaltal::{extract::Blame, lake, render, sample};

use cli::args::{Cli, Command, NamedReport, ReportCommand, ScaleArg};
use cli::{context, ingest_many, load_config, out, run_id, summarise};

/// mimalloc instead of the system allocator: the landing, `DataFusion` and Typst all
/// allocate many small objects (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (documented in README.md).
#[derive(Debug, Clone, Copy)]
enum Exit {
    Ok = 0,
    Unexpected = 1,
    JobFailed = 2,
    Invalid = 3,
}

/// A full disk, wherever it surfaced: an I/O error, or one that `Parquet` or `DataFusion`
/// wrapped (`ENOSPC` is error 28 on Linux).
fn disk_full(e: &Error) -> bool {
    e.to_string().contains("(os error 28)")
}

fn exit_for(e: &Error) -> Exit {
    if disk_full(e) {
        return Exit::JobFailed;
    }
    match e {
        Error::Config(_) | Error::Usage { .. } | Error::Render(RenderError::Nothing { .. }) => {
            Exit::Invalid
        }
        Error::Render(RenderError::Template { .. }) => Exit::Invalid,
        Error::Query(q) if q.blame() == Blame::User => Exit::Invalid,
        _ if e.blame() == Blame::Internal => Exit::Unexpected,
        _ => Exit::JobFailed,
    }
}

/// The clock: the machine's, or started at `MAALTAL_NOW` (RFC 3339) and running on.
fn clock() -> Result<maaltal::serve::Clock, Error> {
    let offset = match std::env::var("MAALTAL_NOW") {
        Ok(s) if !s.is_empty() => {
            let t = chrono::DateTime::parse_from_rfc3339(&s).map_err(|e| Error::Usage {
                message: format!("MAALTAL_NOW=`{s}`: {e} (give RFC 3339, 2019-01-02T06:00:00Z)"),
            })?;
            t.with_timezone(&Utc) - Utc::now()
        }
        _ => chrono::Duration::zero(),
    };
    Ok(maaltal::serve::Clock { offset })
}

/// The report a config makes under `name`; the error lists the ones it makes.
fn named_template(cfg: &Config, name: &str) -> Result<render::Template, Error> {
    render::Template::named(cfg, name).ok_or_else(|| Error::Usage {
        message: format!(
            "unknown report `{name}`; {} makes: {}",
            cfg.program.id,
            render::Template::all(cfg)
                .iter()
                .map(render::Template::name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn report(cfg: &Config, cmd: &ReportCommand) -> Result<(), Error> {
    let ReportCommand::Named(args) = cmd;
    let name = args.first().map_or("", String::as_str);
    let words =
        std::iter::once(format!("maaltal report {name}")).chain(args.iter().skip(1).cloned());
    let n = match NamedReport::try_parse_from(words) {
        Ok(n) => n,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            out(e.to_string().trim_end());
            return Ok(());
        }
        Err(e) => {
            return Err(Error::Usage {
                message: e.to_string().trim_end().to_string(),
            });
        }
    };
    let template = named_template(cfg, name)?;
    let o = &n.out;
    let date = o
        .date
        .or_else(|| render::data_date(&cfg.lake.path))
        .ok_or_else(|| Error::Usage {
            message: format!(
                "nothing has been landed in {} yet, so the reports have no data (and no date); run `maaltal ingest` and `maaltal transform` first, or give --date",
                cfg.lake.path.display()
            ),
        })?;
    let settings = render::Settings::new(cfg, date)?;
    let started = std::time::Instant::now();
    let step = Step::start("render", None);
    let mut written = Vec::new();
    let reports = match &template {
        render::Template::Custom(spec) => {
            render::custom(cfg, spec, n.period, n.municipality, &settings)?
        }
        render::Template::Quarterly(spec) => {
            render::quarterly(cfg, spec, n.period, n.municipality, &settings)?
        }
        render::Template::Overview(spec) => vec![render::overview(cfg, spec, n.period, &settings)?],
        render::Template::StaffBook(spec) => {
            // Thousands of PDFs: each is written as it is made, none kept.
            let books =
                render::Books::load(cfg, spec, n.period, n.recipient.as_deref(), &settings)?;
            std::fs::create_dir_all(&o.out).map_err(|source| RenderError::Io {
                path: o.out.display().to_string(),
                source,
            })?;
            for r in books.each(&settings) {
                let r = r?;
                written.push((render::write_one(&o.out, &r, o.json)?, r.pdf.len()));
            }
            Vec::new()
        }
    };
    for (r, p) in reports
        .iter()
        .zip(render::write_all(&o.out, &reports, o.json)?)
    {
        written.push((p, r.pdf.len()));
    }
    step.finish(&format!("{} PDF(s) in {}", written.len(), o.out.display()));
    for (p, bytes) in &written {
        out(&format!("{}  {bytes} bytes", p.display()));
    }
    out(&format!(
        "rendered {} report(s) in {} ms, dated {date}",
        written.len(),
        started.elapsed().as_millis()
    ));
    Ok(())
}

async fn execute(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Command::SampleData {
            out: dir,
            seed,
            scale,
            persons,
            employees,
        } => {
            let scale = match scale {
                ScaleArg::Sample => sample::Scale::Sample,
                ScaleArg::National => sample::Scale::National {
                    persons: *persons,
                    employees: *employees,
                },
            };
            let s = sample::generate(dir, *seed, scale).map_err(|e| Error::Usage {
                message: format!("{}: {e}", dir.display()),
            })?;
            out(&format!(
                "wrote {} files to {}: {}",
                s.files,
                dir.display(),
                s.rows_text()
            ));
        }
        Command::Ingest {
            source,
            location,
            period,
            municipality,
        } => {
            let periods = cli::periods(period)?;
            let ctx = context(cli)?;
            let extracts = cli::extracts(&ctx, source, &periods, *municipality);
            let step = Step::start("pull + land", Some(extracts.len() as u64));
            let reports = ingest_many(&ctx, source, location.as_deref(), &extracts).await?;
            let (partitions, rows) = cli::landed(&reports);
            step.finish(&format!(
                "{} extract(s): {partitions} partition(s), {} rows landed",
                extracts.len(),
                cli::thousands(rows)
            ));
            out(&summarise(&reports));
        }
        Command::Sql { query: sql, format } => {
            let cfg = load_config(cli)?;
            let batches =
                query::run_sql(&cfg.lake.path, &cfg.engine, sql, "<command line>").await?;
            out(&query::render(&batches, *format)?);
        }
        Command::Transform { period } => {
            let period = period
                .as_deref()
                .map(str::parse::<Period>)
                .transpose()
                .map_err(|e| Error::Usage {
                    message: format!("--period: {e}"),
                })?;
            let cfg = load_config(cli)?;
            let now = Utc::now();
            let run_id = run_id(now);
            let step = Step::start(
                "transform",
                Some(maaltal::transform::marts(&cfg)?.len() as u64),
            );
            let report = maaltal::transform::transform(&cfg, &run_id, period).await?;
            step.finish(&format!("{} marts", report.marts.len()));
            for (name, rows) in &report.marts {
                out(&format!("{name}: {rows} rows"));
            }
            for t in &report.missing_tables {
                out(&format!(
                    "missing source table `{t}`: metrics from it are absent"
                ));
            }
            for m in &report.missing_metrics {
                out(&format!("missing {m}"));
            }
            for n in &report.comparison_notes {
                out(&format!("comparison: {n}"));
            }
            for f in &report.fallbacks {
                out(&format!("cluster: ran in this process instead: {f}"));
            }
            for (name, s) in &report.spilled {
                out(&format!(
                    "{name}: spilled {:.1} MiB to disk in {} file(s) (memory limit {} MiB, [engine] memory_limit_mib)",
                    s.bytes as f64 / 1_048_576.0,
                    s.files,
                    cfg.engine.memory_limit_mib().unwrap_or(0)
                ));
            }
        }
        Command::Tables => {
            let cfg = load_config(cli)?;
            for t in lake::tables(&cfg.lake.path) {
                out(&format!(
                    "{:<30} partitioned by: {}",
                    t.name,
                    t.partition_keys.join(", ")
                ));
            }
        }
        Command::Send {
            report,
            period,
            dry_run,
            preview_as,
            out: dir,
            resend,
            date,
        } => {
            let cfg = load_config(cli)?;
            let template = named_template(&cfg, report)?;
            let options = run::SendOptions {
                dry_run: *dry_run,
                preview_as: preview_as.clone(),
                preview_dir: dir.clone(),
                resend: *resend,
                date: *date,
                smtp_url: std::env::var("MAALTAL_SMTP_URL").ok(),
                updates: false,
            };
            let started = Utc::now();
            let step = Step::start("render + send", None);
            let report = run::send_reports(
                &cfg,
                template,
                *period,
                &options,
                &run_id(started),
                Utc::now,
            )
            .await?;
            step.finish("done");
            for line in &report.lines {
                out(line);
            }
        }
        Command::Serve { http } => {
            // Without --programme, one daemon runs every programme the config turns on.
            let mut others = cli::load_all(cli)?;
            let cfg = others.remove(0);
            if cfg.jobs.is_empty() && others.iter().all(|o| o.jobs.is_empty()) {
                return Err(Error::Usage {
                    message: "no jobs in the configuration (`[jobs.<name>]`)".into(),
                });
            }
            let smtp = std::env::var("MAALTAL_SMTP_URL").ok();
            maaltal::serve::serve(cfg, others, clock()?, smtp, *http).await?;
        }
        Command::Status { format } => {
            let cfg = maaltal::serve::jobs_of_all(&cli::load_all(cli)?)?;
            let s = maaltal::status::gather(&cfg, clock()?.now());
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                print!("{}", maaltal::status::text(&s));
            }
        }
        Command::Run { job, period } => {
            // A job of any programme the config turns on runs in its own programme.
            let all = cli::load_all(cli)?;
            let Some((cfg, j)) = all.iter().find_map(|c| c.jobs.get(job).map(|j| (c, j))) else {
                return Err(Error::Usage {
                    message: format!(
                        "no job `{job}`; jobs: {}",
                        all.iter()
                            .flat_map(|c| c.jobs.keys().cloned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            let clock = clock()?;
            let now = clock.now();
            let periods = match period {
                Some(p) => cli::periods(p)?,
                None => vec![
                    j.span
                        .period_for(now.with_timezone(&j.timezone).date_naive()),
                ],
            };
            let stop = std::sync::atomic::AtomicBool::new(false);
            for p in periods {
                let summary = maaltal::serve::run_job(
                    cfg,
                    j,
                    p,
                    now,
                    clock,
                    std::env::var("MAALTAL_SMTP_URL").ok(),
                    &stop,
                )
                .await?;
                out(&format!("{} {p}: done: {summary}", j.name));
            }
        }
        Command::Jobs => {
            let cfg = maaltal::serve::jobs_of_all(&cli::load_all(cli)?)?;
            for line in maaltal::serve::describe(&cfg, clock()?.now()) {
                out(&line);
            }
        }
        Command::Report(cmd) => {
            let cfg = load_config(cli)?;
            report(&cfg, cmd)?;
        }
        Command::Validate => {
            let cfg = load_config(cli)?;
            for file in maaltal::transform::plan_all(&cfg).await? {
                out(&format!("{file}: plans against the lake's schemas"));
            }
            let today = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default();
            let settings = render::Settings::new(&cfg, today)?;
            for t in render::Template::all(&cfg) {
                render::pdf(&settings.templates, &t, None, today, "validate")?;
                out(&format!(
                    "{}: compiles with {}",
                    settings.templates.display(t.template_file()),
                    t.sample()
                ));
            }
            let ungrouped = cfg.comparison.ungrouped(&cfg.program.municipalities);
            if cfg.comparison.expected_metrics.is_empty() {
                // A programme without per-person metrics compares with no other municipalities.
            } else if cfg.comparison.groups.is_empty() {
                out(
                    "warning: no [comparison.groups]: the reports compare with no similar municipalities",
                );
            } else {
                for code in ungrouped {
                    out(&format!(
                        "warning: municipality {code} ({}) is in no [comparison.groups]: it gets no group value",
                        maaltal::municipality::name(code).unwrap_or("?")
                    ));
                }
            }
            out(&format!(
                "{}: valid ({} programme municipalities, lake {}, quarantine {})",
                cfg.origin,
                cfg.program.municipalities.len(),
                cfg.lake.path.display(),
                cfg.lake.quarantine_path.display()
            ));
        }
        Command::Demo { sample: dir } => cli::demo::run(cli, dir).await?,
        Command::Cluster { .. } => cli::cluster(&cli.command).await?,
    }
    Ok(())
}

/// Runs a command between a pull and a publish of the lake's bucket, if it has one.
/// What a failed command committed is published too: it is in the working copy.
async fn synced(cli: &Cli) -> Result<(), Error> {
    let remote = cli::remote_lake(cli);
    // On stderr: stdout is the command's own (`sql --format csv` is piped on).
    let say = |text: Option<String>| {
        if let Some(t) = text {
            maaltal::progress::suspend(|| eprintln!("  lake         {t}"));
        }
    };
    if let Some((lake, _)) = &remote {
        say(maaltal::remote::pull_lake(lake).await?);
    }
    let result = execute(cli).await;
    if let Some((lake, true)) = &remote {
        match maaltal::remote::publish_lake(lake).await {
            Ok(text) => say(text),
            Err(e) if result.is_ok() => return Err(e),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    result
}

fn main() -> ExitCode {
    // A command line that does not parse is invalid input (exit 3, README); `--help`
    // and `--version` print and exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Invalid
            } else {
                Exit::Ok
            } as u8);
        }
    };
    // A command a person runs shows warnings only (its results are on stdout); the
    // daemon's log is its record, so it logs what it does.
    let daemon = matches!(cli.command, Command::Serve { .. });
    let level = match (cli.verbose, daemon) {
        (0, false) => None,
        (0, true) | (1, _) => Some("info"),
        (2, _) => Some("debug"),
        _ => Some("trace"),
    };
    let filter = EnvFilter::try_from_env("MAALTAL_LOG").unwrap_or_else(|_| {
        EnvFilter::new(level.map_or_else(|| "warn".to_string(), |l| format!("warn,maaltal={l}")))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogWriter)
        // Colours on a terminal only: a log file or a CI log gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Ballista's planner and scheduler recurse deeply over a mart's plan (a debug
        // build overflowed the default 2 MiB).
        .thread_stack_size(16 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Unexpected as u8);
        }
    };
    match runtime.block_on(synced(&cli)) {
        Ok(()) => ExitCode::from(Exit::Ok as u8),
        Err(e) => {
            let code = exit_for(&e);
            eprintln!("error: {e}");
            if disk_full(&e) {
                eprintln!(
                    "hint: the disk is full. What the lake held before is unchanged; free some space and run the same command again."
                );
            }
            ExitCode::from(code as u8)
        }
    }
}
