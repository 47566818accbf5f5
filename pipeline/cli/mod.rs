//! The command line's own parts: the arguments, the demo, and small helpers the
//! commands share (config with flags applied, run ids, stdout, ingest loops).

pub(crate) mod args;
pub(crate) mod demo;

use std::fmt::Write as _;
use std::io::Write as _;

use chrono::Utc;

use maaltal::config::{self, Config, LakeConfig};
use maaltal::error::Error;
use maaltal::period::{self, Period};
use maaltal::run::{self, Context};

use args::Cli;

/// The configuration: the file (or the embedded default), then the flags.
pub(crate) fn load_config(cli: &Cli) -> Result<Config, Error> {
    let mut cfg = config::load(cli.config.as_deref())?;
    if let Some(id) = &cli.programme {
        cfg = config::programmes::load(cli.config.as_deref(), &cfg, id)?;
    }
    if let Some(lake) = &cli.lake {
        cfg.override_lake(lake);
    }
    Ok(cfg)
}

/// The configuration and, without `--programme`, every other programme it turns on:
/// what one daemon runs, and what `jobs` and `status` show.
pub(crate) fn load_all(cli: &Cli) -> Result<Vec<Config>, Error> {
    let cfg = load_config(cli)?;
    let mut all = Vec::new();
    if cli.programme.is_none() {
        for id in &cfg.programmes {
            all.push(config::programmes::load(cli.config.as_deref(), &cfg, id)?);
        }
    }
    all.insert(0, cfg);
    Ok(all)
}

/// A run id: the start time and the process id (names staging, quarantine and ledger files).
/// The lake a command syncs with its bucket (`[lake.remote]`): pulled before it runs,
/// and published after it when it writes. `run` syncs in the job itself; the daemon
/// syncs around each job.
pub(crate) fn remote_lake(cli: &Cli) -> Option<(LakeConfig, bool)> {
    use args::Command as C;
    let writes = match &cli.command {
        C::Ingest { .. } | C::Transform { .. } | C::Send { .. } => true,
        // `validate` checks the files against the working copy as it is: no network.
        C::Sql { .. } | C::Tables | C::Report(_) | C::Status { .. } => false,
        _ => return None,
    };
    let cfg = load_config(cli).ok()?;
    cfg.lake.remote.is_some().then_some((cfg.lake, writes))
}

/// `maaltal cluster`: a scheduler (on `--bind`, 127.0.0.1:50050 without `--join`) and
/// executors, until stopped.
pub(crate) async fn cluster(command: &args::Command) -> Result<(), Error> {
    let args::Command::Cluster {
        bind,
        join,
        executors,
        vcores,
        work_dir,
        external_host,
    } = command
    else {
        return Ok(());
    };
    let bind = match (bind, join) {
        (None, None) => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 50050))),
        (b, _) => *b,
    };
    let opts = maaltal::cluster::node::NodeOptions {
        bind,
        join: join.clone(),
        executors: *executors,
        vcores: *vcores,
        work_dir: work_dir.clone(),
        external_host: external_host.clone(),
    };
    maaltal::cluster::node::run(&opts).await
}

pub(crate) fn run_id(now: chrono::DateTime<Utc>) -> String {
    format!("{}-{}", now.format("%Y%m%dT%H%M%S%3fZ"), std::process::id())
}

/// The run context of one command.
pub(crate) fn context(cli: &Cli) -> Result<Context, Error> {
    let now = Utc::now();
    let run_id = run_id(now);
    Context::new(load_config(cli)?, now, run_id)
}

/// Writes a result line (or lines) to stdout.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
}

/// A period or range from the command line; the error names the text and the forms.
pub(crate) fn periods(text: &str) -> Result<Vec<Period>, Error> {
    period::parse_range(text).map_err(|e| Error::Usage {
        message: format!("--period: {e}"),
    })
}

/// The extracts one `ingest` names: every period, and for a source delivered per
/// municipality every configured municipality unless one is given.
pub(crate) fn extracts(
    ctx: &Context,
    source: &str,
    periods: &[Period],
    municipality: Option<i32>,
) -> Vec<(Period, Option<i32>)> {
    let munis: Vec<Option<i32>> = match municipality {
        None => ctx.config.sources.units(source),
        m => vec![m],
    };
    periods
        .iter()
        .flat_map(|p| munis.iter().map(move |m| (*p, *m)))
        .collect()
}

/// Lands each extract in turn (one progress item each).
pub(crate) async fn ingest_many(
    ctx: &Context,
    source: &str,
    location: Option<&str>,
    extracts: &[(Period, Option<i32>)],
) -> Result<Vec<run::IngestReport>, Error> {
    if location.is_some() && extracts.len() > 1 {
        return Err(Error::Usage {
            message: format!(
                "the location `{}` names one extract, but the command names {}: give one period (and one --municipality)",
                location.unwrap_or_default(),
                extracts.len()
            ),
        });
    }
    let mut reports = Vec::new();
    for (p, m) in extracts {
        reports.push(run::ingest(ctx, source, location, *p, *m).await?);
        maaltal::progress::advance(1);
    }
    Ok(reports)
}

/// Partitions and rows landed (unchanged extracts count neither).
pub(crate) fn landed(reports: &[run::IngestReport]) -> (usize, i64) {
    let partitions = reports
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.status == "landed")
        .count();
    let rows = reports.iter().map(run::IngestReport::rows_landed).sum();
    (partitions, rows)
}

/// One line per ledger row an ingest wrote.
pub(crate) fn summarise(reports: &[run::IngestReport]) -> String {
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

/// `12345` as `12,345` (the summary's figures are read by a person).
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    if n < 0 { format!("-{s}") } else { s }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(698_945), "698,945");
        assert_eq!(super::thousands(-1_234_567), "-1,234,567");
    }
}
