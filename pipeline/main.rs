//! The `maaltal` command line: parse arguments, call the library, map errors to exit
//! codes. No pipeline logic lives here.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use maaltal::config::{self, Config};

/// mimalloc instead of the system allocator: the landing, `DataFusion` and Typst all
/// allocate many small objects (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use maaltal::error::Error;
use maaltal::period::{self, Period};
use maaltal::query::{self, Format};
use maaltal::render::RenderError;
use maaltal::run::{self, Context, SourceKind};
use maaltal::{extract::Blame, lake, render, sample};

/// maaltal: target figures (måltal) for Danish jobcentres, from extracts to a Parquet lake.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Config file (default: the embedded config/maaltal.toml).
    #[arg(long, global = true, env = "MAALTAL_CONFIG")]
    config: Option<PathBuf>,
    /// Lake folder (overrides `lake.path`).
    #[arg(long, global = true, env = "MAALTAL_LAKE")]
    lake: Option<PathBuf>,
    /// More log output (`-v` debug, `-vv` trace); `MAALTAL_LOG` takes a filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write deterministic synthetic extracts (DREAM, Jobindsats, fagsystem).
    SampleData {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 2018)]
        seed: u64,
        /// `sample`: the programme's 16 municipalities; `national`: all 98, with a
        /// `maaltal.toml` beside the data (the benchmarks' data).
        #[arg(long, value_enum, default_value_t = ScaleArg::Sample)]
        scale: ScaleArg,
        /// National scale: persons in a DREAM quarter.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// National scale: employees over all case systems.
        #[arg(long, default_value_t = 5_000)]
        employees: usize,
    },
    /// Land one extract (or a range of periods) in the lake.
    Ingest {
        /// Which extract.
        source: SourceKind,
        /// Path or URL (default: the configured location for the period).
        location: Option<String>,
        /// Period `2018Q4` or `2018-11`, or a range `2016Q3..2018Q4`.
        #[arg(long)]
        period: String,
        /// Municipality of a fagsystem export (default: every configured one).
        #[arg(long)]
        municipality: Option<i32>,
    },
    /// Run SQL over every lake table.
    Sql {
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Compute the marts (target metrics, project averages) from the lake.
    Transform {
        /// Only this period (`2018Q4` also covers its months; `2018-11` only that month).
        #[arg(long, visible_alias = "month")]
        period: Option<String>,
    },
    /// List the lake's tables with their partition columns.
    Tables,
    /// Check the configuration and say what is wrong where.
    Validate,
    /// Render PDF reports from the marts.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The daemon: catch up on missed periods, then run every job on its schedule.
    Serve,
    /// Run one job now, for the period its last firing stands for or the one given
    /// (also to back-fill past periods).
    Run {
        /// The job's name in `[jobs]`.
        job: String,
        /// Period (`2018Q4`, `2018-11`) or a range (`2018-09..2018-11`).
        #[arg(long)]
        period: Option<String>,
    },
    /// List the jobs: schedule, next run, last result, what is due.
    Jobs,
    /// Render reports and mail each recipient theirs (never twice; see --resend).
    Send {
        /// Which report.
        report: ReportKind,
        /// Quarter (`2018Q4`) or, for the månedsbog, month (`2018-11`).
        #[arg(long, visible_alias = "month")]
        period: Period,
        /// Render and list who would get what; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the PDFs this recipient would get to --out; send nothing.
        #[arg(long, value_name = "EMAIL")]
        preview_as: Option<String>,
        /// Where --preview-as writes.
        #[arg(long, default_value = "preview")]
        out: PathBuf,
        /// Send again to recipients who got this report before.
        #[arg(long)]
        resend: bool,
        /// The date printed on the reports (default: the day the newest extract was fetched).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// Sample data, then land every extract: the whole pipeline on the embedded default.
    Demo {
        /// Folder for the sample data.
        #[arg(long, default_value = "sample")]
        sample: PathBuf,
    },
}

/// How much sample data `sample-data` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ScaleArg {
    /// The programme's 16 municipalities (the demo's and the tests' data).
    Sample,
    /// All 98 municipalities at national size.
    National,
}

/// The reports `send` knows.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportKind {
    /// The quarterly status reports, to each municipality's project leads.
    Quarterly,
    /// The programme overview, to the secretariat.
    Overview,
    /// The månedsbog, to every employee with an email.
    Maanedsbog,
}

/// Options every report command shares.
#[derive(Debug, clap::Args)]
struct ReportOut {
    /// Folder the PDFs are written to (created).
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// The date printed on the reports (default: the day the newest extract was fetched).
    #[arg(long)]
    date: Option<chrono::NaiveDate>,
    /// Also write each report's JSON data beside its PDF.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Quarterly status reports, one per programme municipality.
    Quarterly {
        /// Quarter, `2018Q4`.
        #[arg(long)]
        period: Period,
        /// Only this municipality (DST code).
        #[arg(long)]
        municipality: Option<i32>,
        #[command(flatten)]
        out: ReportOut,
    },
    /// The programme overview for the secretariat.
    Overview {
        /// Quarter, `2018Q4`.
        #[arg(long)]
        period: Period,
        #[command(flatten)]
        out: ReportOut,
    },
    /// The månedsbog, one PDF per recipient.
    Maanedsbog {
        /// Month, `2018-11`.
        #[arg(long, visible_alias = "period")]
        month: Period,
        /// Only this recipient.
        #[arg(long)]
        recipient: Option<String>,
        #[command(flatten)]
        out: ReportOut,
    },
}

/// Exit codes (documented in README.md).
#[derive(Debug, Clone, Copy)]
enum Exit {
    Ok = 0,
    Unexpected = 1,
    JobFailed = 2,
    Invalid = 3,
}

fn exit_for(e: &Error) -> Exit {
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

fn load_config(cli: &Cli) -> Result<Config, Error> {
    let mut cfg = config::load(cli.config.as_deref())?;
    if let Some(lake) = &cli.lake {
        cfg.override_lake(lake);
    }
    Ok(cfg)
}

/// A run id: the start time and the process id (names staging, quarantine and ledger files).
fn run_id(now: chrono::DateTime<Utc>) -> String {
    format!("{}-{}", now.format("%Y%m%dT%H%M%S%3fZ"), std::process::id())
}

fn context(cli: &Cli) -> Result<Context, Error> {
    let now = Utc::now();
    let run_id = run_id(now);
    Context::new(load_config(cli)?, now, run_id)
}

fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
}

async fn ingest_many(
    ctx: &Context,
    source: SourceKind,
    location: Option<&str>,
    periods: &[Period],
    municipality: Option<i32>,
) -> Result<Vec<run::IngestReport>, Error> {
    let munis: Vec<Option<i32>> = match (source, municipality) {
        (SourceKind::Fagsystem, None) => ctx
            .config
            .sources
            .fagsystem
            .municipalities
            .iter()
            .map(|m| Some(*m))
            .collect(),
        (_, m) => vec![m],
    };
    if location.is_some() && (periods.len() > 1 || munis.len() > 1) {
        return Err(Error::Usage {
            message: "a location names one extract: give one period (and one --municipality)"
                .into(),
        });
    }
    let mut reports = Vec::new();
    for p in periods {
        for m in &munis {
            reports.push(run::ingest(ctx, source, location, *p, *m).await?);
        }
    }
    Ok(reports)
}

fn summarise(reports: &[run::IngestReport]) -> String {
    let mut s = String::new();
    for r in reports {
        for rec in &r.records {
            let rows = rec.rows.map_or_else(String::new, |n| format!(" {n} rows"));
            let muni = rec
                .municipality
                .map_or_else(String::new, |m| format!(" kommune={m}"));
            let _ = writeln!(
                s,
                "{:<12} {:<9} {:<26}{muni} {}{rows}",
                rec.status, rec.period, rec.table, rec.location
            );
        }
    }
    s
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

fn report(cfg: &Config, cmd: &ReportCommand) -> Result<(), Error> {
    let (ReportCommand::Quarterly { out: o, .. }
    | ReportCommand::Overview { out: o, .. }
    | ReportCommand::Maanedsbog { out: o, .. }) = cmd;
    let date = o
        .date
        .or_else(|| render::data_date(&cfg.lake.path))
        .ok_or_else(|| Error::Usage {
            message: format!(
                "nothing has been landed in {} yet, so the reports have no data (and no date); run `maaltal ingest` and `maaltal transform` first, or give --date",
                cfg.lake.path.display()
            ),
        })?;
    let settings = render::Settings::new(cfg, date);
    let started = std::time::Instant::now();
    let reports = match cmd {
        ReportCommand::Quarterly {
            period,
            municipality,
            ..
        } => render::quarterly(cfg, *period, *municipality, &settings)?,
        ReportCommand::Overview { period, .. } => vec![render::overview(cfg, *period, &settings)?],
        ReportCommand::Maanedsbog {
            month, recipient, ..
        } => render::maanedsbog(cfg, *month, recipient.as_deref(), &settings)?,
    };
    let paths = render::write_all(&o.out, &reports, o.json)?;
    for (r, p) in reports.iter().zip(&paths) {
        out(&format!("{}  {} bytes", p.display(), r.pdf.len()));
    }
    out(&format!(
        "rendered {} report(s) in {} ms, dated {date}",
        reports.len(),
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
                "wrote {} files to {}: {} DREAM rows, {} Jobindsats rows, {} fagsystem rows",
                s.files,
                dir.display(),
                s.dream_rows,
                s.jobindsats_rows,
                s.fagsystem_rows
            ));
        }
        Command::Ingest {
            source,
            location,
            period,
            municipality,
        } => {
            let periods = period::parse_range(period).map_err(|e| Error::Usage {
                message: e.to_string(),
            })?;
            let ctx = context(cli)?;
            let reports =
                ingest_many(&ctx, *source, location.as_deref(), &periods, *municipality).await?;
            out(&summarise(&reports));
        }
        Command::Sql { query: sql, format } => {
            let cfg = load_config(cli)?;
            let batches = query::run_sql(&cfg.lake.path, sql, "<command line>").await?;
            out(&query::render(&batches, *format)?);
        }
        Command::Transform { period } => {
            let period = period
                .as_deref()
                .map(str::parse::<Period>)
                .transpose()
                .map_err(|e| Error::Usage {
                    message: e.to_string(),
                })?;
            let cfg = load_config(cli)?;
            let now = Utc::now();
            let run_id = run_id(now);
            let report = maaltal::transform::transform(&cfg, &run_id, period).await?;
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
            let template = match report {
                ReportKind::Quarterly => render::Template::Quarterly,
                ReportKind::Overview => render::Template::Overview,
                ReportKind::Maanedsbog => render::Template::Maanedsbog,
            };
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
            let report = run::send_reports(
                &cfg,
                template,
                *period,
                &options,
                &run_id(started),
                Utc::now,
            )
            .await?;
            for line in &report.lines {
                out(line);
            }
        }
        Command::Serve => {
            let cfg = load_config(cli)?;
            if cfg.jobs.is_empty() {
                return Err(Error::Usage {
                    message: "no jobs in the configuration (`[jobs.<name>]`)".into(),
                });
            }
            maaltal::serve::serve(cfg, clock()?, std::env::var("MAALTAL_SMTP_URL").ok()).await?;
        }
        Command::Run { job, period } => {
            let cfg = load_config(cli)?;
            let Some(j) = cfg.jobs.get(job) else {
                return Err(Error::Usage {
                    message: format!(
                        "no job `{job}`; jobs: {}",
                        cfg.jobs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            };
            let clock = clock()?;
            let now = clock.now();
            let periods = match period {
                Some(p) => period::parse_range(p).map_err(|e| Error::Usage {
                    message: e.to_string(),
                })?,
                None => vec![
                    j.kind
                        .period_for(now.with_timezone(&j.timezone).date_naive()),
                ],
            };
            let stop = std::sync::atomic::AtomicBool::new(false);
            for p in periods {
                let summary = maaltal::serve::run_job(
                    &cfg,
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
            let cfg = load_config(cli)?;
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
            for t in render::Template::ALL {
                render::pdf(t, None, today, "validate")?;
                out(&format!(
                    "report-templates/{}: compiles with {}",
                    t.file(),
                    t.sample()
                ));
            }
            out(&format!(
                "{}: valid ({} programme municipalities, lake {}, quarantine {})",
                cfg.origin,
                cfg.program.municipalities.len(),
                cfg.lake.path.display(),
                cfg.lake.quarantine_path.display()
            ));
        }
        Command::Demo { sample: dir } => {
            let s =
                sample::generate(dir, 2018, sample::Scale::Sample).map_err(|e| Error::Usage {
                    message: format!("{}: {e}", dir.display()),
                })?;
            out(&format!(
                "sample data: {} files in {}",
                s.files,
                dir.display()
            ));
            let mut cfg = load_config(cli)?;
            // The sample data served on 127.0.0.1 as the real sources answer: every
            // extract is pulled over HTTP through the production fetcher.
            let root = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            let server = sample::serve::serve(root).await.map_err(|e| Error::Usage {
                message: format!("cannot serve the sample data on 127.0.0.1: {e}"),
            })?;
            if cli.config.is_none() {
                // The embedded default reads `sample/`: point it at the server instead.
                for loc in [
                    &mut cfg.sources.dream.location,
                    &mut cfg.sources.jobindsats.location,
                    &mut cfg.sources.fagsystem.location,
                ] {
                    if let Some(rest) = loc.strip_prefix("sample/") {
                        *loc = if rest.starts_with("jobindsats") {
                            server.base.clone()
                        } else {
                            format!("{}/files/{rest}", server.base)
                        };
                    }
                }
                // The demo server asks for no credentials.
                cfg.sources.dream.auth_env = None;
                cfg.sources.jobindsats.api_key_env = None;
                cfg.sources.fagsystem.auth_env = None;
                out(&format!(
                    "serving the sample data on {} (files and the Jobindsats v2 API)",
                    server.base
                ));
            }
            let now = Utc::now();
            let ctx = Context::new(cfg, now, run_id(now))?;
            // The periods the sample data covers.
            let range = |r: &str| {
                period::parse_range(r).map_err(|e| Error::Usage {
                    message: e.to_string(),
                })
            };
            let quarters = range("2016Q3..2018Q4")?;
            let months_j = range("2016-12..2018-12")?;
            let months_f = range("2017-01..2018-12")?;
            let mut reports = Vec::new();
            reports.extend(ingest_many(&ctx, SourceKind::Dream, None, &quarters, None).await?);
            reports.extend(ingest_many(&ctx, SourceKind::Jobindsats, None, &quarters, None).await?);
            reports.extend(ingest_many(&ctx, SourceKind::Jobindsats, None, &months_j, None).await?);
            reports.extend(ingest_many(&ctx, SourceKind::Fagsystem, None, &months_f, None).await?);
            let rows: i64 = reports.iter().map(run::IngestReport::rows_landed).sum();
            let landed = reports
                .iter()
                .flat_map(|r| &r.records)
                .filter(|r| r.status == "landed")
                .count();
            out(&format!(
                "landed {landed} table partitions, {rows} rows, in {}",
                ctx.config.lake.path.display()
            ));
            let batches = query::run_sql(
                &ctx.config.lake.path,
                "select table_name, count(*) as partitions, sum(rows) as rows from ledger_fetches where status = 'landed' group by table_name order by table_name",
                "<demo summary>",
            )
            .await?;
            out(&query::render(&batches, Format::Table)?);
            let report = maaltal::transform::transform(&ctx.config, &ctx.run_id, None).await?;
            for (name, rows) in &report.marts {
                out(&format!("mart {name}: {rows} rows"));
            }
            let batches = query::run_sql(
                &ctx.config.lake.path,
                "select metric, period, round(share * 100, 1) as pct, method, municipalities from project_average \
                 where sex = 'alle' and period in ('2016Q3', '2016Q4', '2016M12', '2018Q4', '2018M12') order by metric, period",
                "<demo summary>",
            )
            .await?;
            out("project averages (per cent), baseline and latest period:");
            out(&query::render(&batches, Format::Table)?);
            let date = render::data_date(&ctx.config.lake.path).unwrap_or_else(|| now.date_naive());
            let settings = render::Settings::new(&ctx.config, date);
            let latest_quarter = quarters.last().copied().unwrap_or(Period::Quarter {
                year: 2018,
                quarter: 4,
            });
            let latest_month = months_f.last().copied().unwrap_or(Period::Month {
                year: 2018,
                month: 12,
            });
            let started = std::time::Instant::now();
            let mut pdfs = render::quarterly(&ctx.config, latest_quarter, None, &settings)?;
            pdfs.push(render::overview(&ctx.config, latest_quarter, &settings)?);
            pdfs.extend(render::maanedsbog(
                &ctx.config,
                latest_month,
                None,
                &settings,
            )?);
            let reports_dir = PathBuf::from("reports");
            render::write_all(&reports_dir, &pdfs, false)?;
            let count = |t: render::Template| pdfs.iter().filter(|r| r.template == t).count();
            out(&format!(
                "reports in {}/: {} quarterly status reports ({latest_quarter}), {} overview, {} månedsbøger ({latest_month}), rendered in {} ms",
                reports_dir.display(),
                count(render::Template::Quarterly),
                count(render::Template::Overview),
                count(render::Template::Maanedsbog),
                started.elapsed().as_millis()
            ));
            // Delivery on the embedded default: every mail an .eml file in the outbox.
            let (deliveries, _) = maaltal::deliver::plan(&ctx.config, &pdfs);
            let mailer = maaltal::deliver::OutboxMailer {
                dir: ctx.config.mail.outbox.clone(),
            };
            let retry = maaltal::deliver::Retry {
                retries: ctx.config.mail.retries,
                backoff: ctx.config.mail.backoff,
            };
            let sent = maaltal::deliver::deliver(
                &ctx.config.lake.path,
                &ctx.run_id,
                &ctx.config.mail,
                &mailer,
                &deliveries,
                retry,
                maaltal::deliver::Mode::Once,
                Utc::now,
            )
            .await?;
            out(&format!(
                "mails in {}/: {} written, {} delivered before (see ledger_deliveries)",
                ctx.config.mail.outbox.display(),
                sent.delivered.len(),
                sent.skipped.len()
            ));
            out(&format!(
                "try: maaltal sql \"select count(*) from dream_persons\"   (lake: {})",
                ctx.config.lake.path.display()
            ));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = match cli.verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("MAALTAL_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,maaltal={default}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Unexpected as u8);
        }
    };
    match runtime.block_on(execute(&cli)) {
        Ok(()) => ExitCode::from(Exit::Ok as u8),
        Err(e) => {
            let code = exit_for(&e);
            eprintln!("error: {e}");
            ExitCode::from(code as u8)
        }
    }
}
