//! The command line as clap parses it: every command with its flags and an example.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use maaltal::period::Period;
use maaltal::query::Format;

const EXAMPLES: &str = "\
Examples:
  maaltal demo                                   the whole pipeline on sample data, offline
  maaltal ingest dream --period 2018Q4           land DREAM's 2018Q4 extract
  maaltal transform --period 2018Q4              build the marts of 2018Q4
  maaltal sql \"select * from project_average where period = '2018Q4'\"
  maaltal report quarterly --period 2018Q4 --municipality 350 --out reports
  maaltal send maanedsbog --month 2018-11 --dry-run
  maaltal serve                                  the daemon: every job on its schedule

Periods: a quarter `2018Q4`, a month `2018-11` (or Jobindsats' `2018M11`), a range
`2016Q3..2018Q4`. Exit codes: 0 ok, 1 unexpected, 2 a job failed, 3 invalid input.";

/// maaltal: target figures (måltal) for Danish jobcentres, from extracts to a Parquet
/// lake, SQL marts, PDF reports and mail.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
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
    /// Write deterministic synthetic extracts (DREAM, Jobindsats, fagsystem).
    #[command(after_help = "Examples:\n  maaltal sample-data --out sample\n  \
        maaltal sample-data --out national --scale national --persons 250000")]
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
    #[command(after_help = "Examples:\n  maaltal ingest dream --period 2018Q4\n  \
        maaltal ingest dream sample/dream/dream_2018Q4.csv --period 2018Q4\n  \
        maaltal ingest jobindsats --period 2016Q3..2018Q4\n  \
        maaltal ingest fagsystem --period 2018-11 --municipality 350")]
    Ingest {
        /// The source's name in `[sources]` (`dream`, `jobindsats`, a CSV source).
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
    #[command(after_help = "Examples:\n  \
        maaltal sql \"select quarter, count(*) from dream_persons group by quarter order by quarter\"\n  \
        maaltal sql \"select * from ledger_fetches\" --format csv\n  \
        maaltal tables                          # what there is to query")]
    Sql {
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Compute the marts (target metrics, project averages, månedsbog) from the lake.
    #[command(after_help = "Examples:\n  maaltal transform\n  \
        maaltal transform --period 2018Q4      # the quarter and its months\n  \
        maaltal transform --month 2018-11")]
    Transform {
        /// Only this period (`2018Q4` also covers its months; `2018-11` only that month).
        #[arg(long, visible_alias = "month")]
        period: Option<String>,
    },
    /// List the lake's tables with their partition columns.
    #[command(after_help = "Example:\n  maaltal tables --lake lake")]
    Tables,
    /// Check the configuration and say what is wrong where.
    #[command(after_help = "Examples:\n  maaltal validate\n  \
        maaltal --config config/example.toml validate")]
    Validate,
    /// Render PDF reports from the marts.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The daemon: catch up on missed periods, then run every job on its schedule.
    #[command(after_help = "Examples:\n  maaltal serve\n  \
        maaltal serve --http 127.0.0.1:8080     # with the status page and /metrics\n  \
        maaltal --config /etc/maaltal/maaltal.toml serve\n  \
        maaltal jobs                           # what it will run when")]
    Serve {
        /// Serve the status page, `/metrics`, `/healthz` and `/readyz` on this address
        /// (off unless given; `127.0.0.1:8080`, or a bare port for loopback).
        #[arg(long, value_name = "ADDR", value_parser = parse_http_addr)]
        http: Option<std::net::SocketAddr>,
    },
    /// What the jobs did and will do: runs, extracts, marts, mails (as the status page).
    #[command(after_help = "Examples:\n  maaltal status\n  \
        maaltal status --format json")]
    Status {
        /// `text` or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Run one job now, for the period its last firing stands for or the one given
    /// (also to back-fill past periods).
    #[command(after_help = "Examples:\n  maaltal run maanedsbog\n  \
        maaltal run quarterly --period 2018Q4\n  \
        maaltal run maanedsbog --period 2018-09..2018-11")]
    Run {
        /// The job's name in `[jobs]`.
        job: String,
        /// Period (`2018Q4`, `2018-11`) or a range (`2018-09..2018-11`).
        #[arg(long)]
        period: Option<String>,
    },
    /// List the jobs: schedule, next run, last result, what is due.
    #[command(after_help = "Example:\n  maaltal jobs")]
    Jobs,
    /// Render reports and mail each recipient theirs (never twice; see --resend).
    #[command(
        after_help = "Examples:\n  maaltal send quarterly --period 2018Q4 --dry-run\n  \
        maaltal send quarterly --period 2018Q4 --preview-as leder@lejre.dk\n  \
        MAALTAL_SMTP_URL=smtp://127.0.0.1:2525?tls=none maaltal send maanedsbog --month 2018-11"
    )]
    Send {
        /// Which report: `quarterly`, `overview`, `maanedsbog`, or one of the
        /// programme's own (`[[reports.report]]`, with `--programme <id>`).
        #[arg(value_name = "REPORT")]
        report: String,
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
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<chrono::NaiveDate>,
    },
    /// The whole pipeline on the embedded default: sample data served on 127.0.0.1,
    /// pulled and landed, the marts, the PDFs, the mails (as .eml files in outbox/).
    #[command(
        after_help = "Examples:\n  maaltal demo\n  maaltal demo -v              # with the log"
    )]
    Demo {
        /// Folder for the sample data.
        #[arg(long, default_value = "sample")]
        sample: PathBuf,
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

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Quarterly status reports, one per programme municipality.
    #[command(
        after_help = "Examples:\n  maaltal report quarterly --period 2018Q4\n  \
        maaltal report quarterly --period 2018Q4 --municipality 350 --out reports --json"
    )]
    Quarterly {
        /// Quarter, `2018Q4`.
        #[arg(long)]
        period: Period,
        /// Only this municipality (a DST code, `350` for Lejre).
        #[arg(long, value_name = "CODE", value_parser = municipality_code)]
        municipality: Option<i32>,
        #[command(flatten)]
        out: ReportOut,
    },
    /// The programme overview for the secretariat.
    #[command(after_help = "Example:\n  maaltal report overview --period 2018Q4 --out reports")]
    Overview {
        /// Quarter, `2018Q4`.
        #[arg(long)]
        period: Period,
        #[command(flatten)]
        out: ReportOut,
    },
    /// The månedsbog, one PDF per recipient.
    #[command(
        after_help = "Examples:\n  maaltal report maanedsbog --month 2018-11\n  \
        maaltal report maanedsbog --month 2018-11 --recipient leder@lejre.dk"
    )]
    Maanedsbog {
        /// Month, `2018-11`.
        #[arg(long, visible_alias = "period")]
        month: Period,
        /// Only this recipient.
        #[arg(long, value_name = "EMAIL")]
        recipient: Option<String>,
        #[command(flatten)]
        out: ReportOut,
    },
    /// A programme's own report (`[[reports.report]]`), by its name:
    /// `maaltal --programme <id> report <name> --period 2009Q3`.
    #[command(external_subcommand)]
    Named(Vec<String>),
}

/// The arguments of a programme's own report (`maaltal report <name> …`).
#[derive(Debug, Parser)]
#[command(
    name = "maaltal report <name>",
    after_help = "Examples (a programme's report `<name>`, `maaltal --programme <id> report --help`):\n  \
    maaltal --programme <id> report <name> --period 2009Q3\n  \
    maaltal --programme <id> report <name> --period 2009Q3 --municipality 580 --json"
)]
pub(crate) struct NamedReport {
    /// Quarter, `2009Q3`.
    #[arg(long)]
    pub(crate) period: Period,
    /// Only this municipality (a DST code, `580` for Aabenraa), for a report made per
    /// municipality.
    #[arg(long, value_name = "CODE", value_parser = municipality_code)]
    pub(crate) municipality: Option<i32>,
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
