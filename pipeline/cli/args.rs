//! The command line as clap parses it: every command with its flags and an example.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use maaltal::period::Period;
use maaltal::query::Format;

/// The examples of the help texts, by command (`config/cli-examples.txt`).
const EXAMPLES: &str = include_str!("../../config/cli-examples.txt");

/// The examples printed under `command`'s help: its section of [`EXAMPLES`].
fn examples(command: &str) -> &'static str {
    let head = format!("\n[{command}]\n");
    EXAMPLES.find(&head).map_or("", |i| {
        let rest = &EXAMPLES[i + head.len()..];
        let end = rest.find("\n[").unwrap_or(rest.len());
        rest[..end].trim_end()
    })
}

/// maaltal: target figures (måltal) for Danish jobcentres, from extracts to a Parquet
/// lake, SQL marts, PDF reports and mail.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = examples("main"))]
pub(crate) struct Cli {
    /// Config file (default: the embedded config/maaltal.toml).
    #[arg(long, global = true, env = "MAALTAL_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Lake folder (overrides `lake.path`).
    #[arg(long, global = true, env = "MAALTAL_LAKE")]
    pub(crate) lake: Option<PathBuf>,
    /// The programme to work on, when the config turns on more than one
    /// (`programmes = ["<id>", …]`; default: the config's own `[program]`).
    #[arg(long, global = true, env = "MAALTAL_PROGRAMME")]
    pub(crate) programme: Option<String>,
    /// More log output on stderr: `-v` info, `-vv` debug, `-vvv` trace (default:
    /// warnings; `serve` logs info). `MAALTAL_LOG` takes a filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Write deterministic synthetic extracts (the embedded default's sources).
    #[command(after_help = examples("sample-data"))]
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
        /// National scale: persons in a register quarter.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// National scale: employees over all case systems.
        #[arg(long, default_value_t = 5_000)]
        employees: usize,
    },
    /// Land one extract (or a range of periods) in the lake.
    #[command(after_help = examples("ingest"))]
    Ingest {
        /// The source's name in `[sources]`.
        source: String,
        /// Path or URL (default: the configured location for the period).
        location: Option<String>,
        /// Period `2018Q4` or `2018-11`, or a range `2016Q3..2018Q4`.
        #[arg(long)]
        period: String,
        /// Municipality of a bundle a CSV source gets per municipality, a DST code
        /// (default: every configured one).
        #[arg(long, value_name = "CODE", value_parser = municipality_code)]
        municipality: Option<i32>,
    },
    /// Run a query over every lake table and mart.
    #[command(after_help = examples("sql"))]
    Sql {
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Compute the marts (target metrics, project averages, månedsbog) from the lake.
    #[command(after_help = examples("transform"))]
    Transform {
        /// Only this period (`2018Q4` also covers its months; `2018-11` only that month).
        #[arg(long, visible_alias = "month")]
        period: Option<String>,
    },
    /// List the lake's tables with their partition columns.
    #[command(after_help = examples("tables"))]
    Tables,
    /// Check the configuration and say what is wrong where.
    #[command(after_help = examples("validate"))]
    Validate,
    /// Render PDF reports from the marts: `maaltal report <name> --period …`.
    #[command(
        subcommand,
        subcommand_value_name = "NAME",
        subcommand_help_heading = "Reports",
        after_help = examples("report")
    )]
    Report(ReportCommand),
    /// The daemon: catch up on missed periods, then run every job on its schedule.
    #[command(after_help = examples("serve"))]
    Serve {
        /// Serve the status page, `/metrics`, `/healthz` and `/readyz` on this address
        /// (off unless given; `127.0.0.1:8080`, or a bare port for loopback).
        #[arg(long, value_name = "ADDR", value_parser = parse_http_addr)]
        http: Option<std::net::SocketAddr>,
    },
    /// What the jobs did and will do: runs, extracts, marts, mails (as the status page).
    #[command(after_help = examples("status"))]
    Status {
        /// `text` or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Run one job now, for the period its last firing stands for or the one given
    /// (also to back-fill past periods).
    #[command(after_help = examples("run"))]
    Run {
        /// The job's name in `[jobs]`.
        job: String,
        /// Period (`2018Q4`, `2018-11`) or a range (`2018-09..2018-11`).
        #[arg(long)]
        period: Option<String>,
    },
    /// List the jobs: schedule, next run, last result, what is due.
    #[command(after_help = examples("jobs"))]
    Jobs,
    /// Render reports and mail each recipient theirs (never twice; see --resend).
    #[command(
        after_help = examples("send")
    )]
    Send {
        /// Which report: its name in the programme's `[[reports.report]]`
        /// (`maaltal validate` lists them; another programme's with `--programme <id>`).
        #[arg(value_name = "REPORT")]
        report: String,
        /// Quarter (`2018Q4`) or, for a monthly report, month (`2018-11`).
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
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<chrono::NaiveDate>,
    },
    /// The whole pipeline on the embedded default: sample data served on 127.0.0.1,
    /// pulled and landed, the marts, the PDFs, the mails (as .eml files in outbox/).
    #[command(
        after_help = examples("demo")
    )]
    Demo {
        /// Folder for the sample data.
        #[arg(long, default_value = "sample")]
        sample: PathBuf,
    },
    /// A Ballista cluster for `[engine] kind = "ballista"`: a scheduler and executors in
    /// this process, or executors that join a scheduler elsewhere; runs until stopped.
    #[command(after_help = examples("cluster"))]
    Cluster {
        /// Start the scheduler, listening here (default 127.0.0.1:50050 without --join).
        #[arg(long, value_name = "ADDR", conflicts_with = "join")]
        bind: Option<std::net::SocketAddr>,
        /// Start executors only, for the scheduler at HOST:PORT.
        #[arg(long, value_name = "HOST:PORT")]
        join: Option<String>,
        /// Executors to start here.
        #[arg(long, default_value_t = 2)]
        executors: usize,
        /// Task slots per executor (default: the cores).
        #[arg(long)]
        vcores: Option<usize>,
        /// Folder for the executors' shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// The name other machines reach this one by (default: 127.0.0.1, this machine only).
        #[arg(long)]
        external_host: Option<String>,
    },
}

/// How much sample data `sample-data` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ScaleArg {
    /// The programme's 16 municipalities (the demo's and the tests' data).
    Sample,
    /// All 98 municipalities at national size.
    National,
}

/// Options every report command shares.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportOut {
    /// Folder the PDFs are written to (created).
    #[arg(long, default_value = "reports")]
    pub(crate) out: PathBuf,
    /// The date printed on the reports (default: the day the newest extract was fetched).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<chrono::NaiveDate>,
    /// Also write each report's JSON data beside its PDF.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `maaltal report <name> …`: the programme's reports (`[[reports.report]]`), by name.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// A report of the programme's, by its name (`maaltal validate` lists them).
    #[command(external_subcommand)]
    Named(Vec<String>),
}

/// The arguments of a report (`maaltal report <name> …`).
#[derive(Debug, Parser)]
#[command(
    name = "maaltal report <name>",
    after_help = examples("report")
)]
pub(crate) struct NamedReport {
    /// The report's period: a quarter `2018Q4`, or a month `2018-11` for a monthly one.
    #[arg(long, visible_alias = "month")]
    pub(crate) period: Period,
    /// Only this municipality (a DST code, `350` for Lejre), for a report made per
    /// municipality.
    #[arg(long, value_name = "CODE", value_parser = municipality_code)]
    pub(crate) municipality: Option<i32>,
    /// Only this recipient's, for a report made per employee.
    #[arg(long, value_name = "EMAIL")]
    pub(crate) recipient: Option<String>,
    #[command(flatten)]
    pub(crate) out: ReportOut,
}

/// A `--municipality` value: one of the 98 DST municipality codes.
fn municipality_code(s: &str) -> Result<i32, String> {
    let expected = "expected one of Denmark's 98 DST municipality codes, such as 101 (København), 316 (Holbæk) or 350 (Lejre)";
    match s.trim().parse::<i32>() {
        Ok(code) if maaltal::municipality::name(code).is_some() => Ok(code),
        Ok(code) => Err(format!(
            "`{code}` is not a Danish municipality code; {expected}"
        )),
        Err(_) => Err(format!("`{s}` is not a number; {expected}")),
    }
}

/// `--http`: an address, or a bare port on loopback.
fn parse_http_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse()
        .map_err(|e| format!("`{s}`: {e} (give an address and port, 127.0.0.1:8080, or a port)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent_and_every_command_has_an_example() {
        Cli::command().debug_assert();
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            let mut all: Vec<&clap::Command> = vec![sub];
            all.extend(sub.get_subcommands());
            for c in all {
                if c.has_subcommands() {
                    continue;
                }
                let help = c
                    .get_after_help()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                assert!(
                    help.contains("maaltal "),
                    "`{}` has no example in its help",
                    c.get_name()
                );
            }
        }
    }

    #[test]
    fn municipality_codes_are_checked() {
        assert_eq!(municipality_code("350"), Ok(350));
        let err = municipality_code("999").unwrap_err();
        assert!(
            err.starts_with("`999` is not a Danish municipality code"),
            "{err}"
        );
        let err = municipality_code("Lejre").unwrap_err();
        assert!(err.starts_with("`Lejre` is not a number"), "{err}");
    }
}
