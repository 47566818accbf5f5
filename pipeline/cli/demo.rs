//! `maaltal demo`: the whole pipeline on the embedded default, for a person trying
//! maaltal for the first time. Sample data → served on 127.0.0.1 → pulled and landed →
//! marts → PDFs in `reports/` → mails as `.eml` files in `outbox/`; then a short
//! summary of what is where, and what to try next.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;

use maaltal::error::Error;
use maaltal::period::Period;
use maaltal::progress::Step;
use maaltal::query::{self, Format};
use maaltal::run::Context;
use maaltal::{deliver, render, sample, transform};

use super::args::Cli;
use super::{extracts, ingest_many, landed, load_config, out, periods, run_id, thousands};

/// Runs the demo; `sample_dir` receives the sample data.
pub(crate) async fn run(cli: &Cli, sample_dir: &Path) -> Result<(), Error> {
    out("maaltal demo: the whole pipeline on sample data; nothing leaves this machine");
    let s =
        sample::generate(sample_dir, 2018, sample::Scale::Sample).map_err(|e| Error::Usage {
            message: format!(
                "cannot write the sample data to {}: {e}",
                sample_dir.display()
            ),
        })?;
    out(&format!(
        "  {:<12} {} files in {}/ (seed 2018)",
        "sample data",
        s.files,
        sample_dir.display()
    ));
    let mut cfg = load_config(cli)?;
    // The sample data served on 127.0.0.1 as the real sources answer: every extract is
    // pulled over HTTP through the production fetcher.
    let root = std::path::absolute(sample_dir).unwrap_or_else(|_| sample_dir.to_path_buf());
    let server = sample::serve::serve(root).await.map_err(|e| Error::Usage {
        message: format!("cannot serve the sample data on 127.0.0.1: {e}"),
    })?;
    let mut origin = "the configured sources".to_string();
    if cli.config.is_none() {
        served(&mut cfg, &server.base);
        origin = format!("{} (files and the Jobindsats v2 API)", server.base);
    }
    let now = Utc::now();
    let ctx = Context::new(cfg, now, run_id(now))?;
    let lake = ctx.config.lake.path.clone();

    // Pull and land.
    let mut plan = Vec::new();
    for (source, range) in sample::PERIODS {
        plan.push((source, extracts(&ctx, source, &periods(range)?, None)));
    }
    let total: usize = plan.iter().map(|(_, e)| e.len()).sum();
    let step = Step::start("pull + land", Some(total as u64));
    let mut reports = Vec::new();
    for (source, list) in &plan {
        reports.extend(ingest_many(&ctx, source, None, list).await?);
    }
    let (partitions, rows) = landed(&reports);
    step.finish(&format!(
        "{total} extracts from {origin}: {partitions} partitions, {} rows landed",
        thousands(rows)
    ));

    // The marts.
    let step = Step::start(
        "transform",
        Some(transform::marts(&ctx.config)?.len() as u64),
    );
    let marts = transform::transform(&ctx.config, &ctx.run_id, None).await?;
    let mart_rows: usize = marts.marts.iter().map(|(_, n)| n).sum();
    step.finish(&format!(
        "{} marts, {} rows",
        marts.marts.len(),
        thousands(mart_rows as i64)
    ));

    // The reports of the latest quarter and month.
    let latest = |range: &str| -> Result<Period, Error> {
        periods(range)?.last().copied().ok_or_else(|| Error::Usage {
            message: format!("the sample range `{range}` is empty"),
        })
    };
    let quarter = latest(sample::PERIODS[0].1)?;
    let month = latest(sample::PERIODS[3].1)?;
    let date = render::data_date(&lake).unwrap_or_else(|| now.date_naive());
    let settings = render::Settings::new(&ctx.config, date)?;
    let reports_dir = PathBuf::from("reports");
    let step = Step::start("render", None);
    // Every report of the programme: the quarterly ones of the latest quarter, the
    // monthly ones of the latest month.
    let mut pdfs = Vec::new();
    let mut made = Vec::new();
    for t in render::Template::all(&ctx.config) {
        let period = if t.quarterly() { quarter } else { month };
        let these = render::make(&ctx.config, &t, period, &settings)?;
        made.push(format!("{} {} ({period})", these.len(), t.name()));
        pdfs.extend(these);
    }
    render::write_all(&reports_dir, &pdfs, false)?;
    step.finish(&format!(
        "{} PDFs in {}/",
        pdfs.len(),
        reports_dir.display()
    ));

    // Delivery on the embedded default: every mail an .eml file in the outbox.
    let (deliveries, _) = deliver::plan(&ctx.config, &pdfs);
    let step = Step::start("send", Some(deliveries.len() as u64));
    let sent = to_outbox(&ctx, &deliveries).await?;
    let outbox = ctx.config.mail.outbox.display().to_string();
    step.finish(&format!(
        "{} mails written to {outbox}/, {} delivered before",
        sent.delivered.len(),
        sent.skipped.len()
    ));

    // The summary.
    out("");
    out(&format!(
        "Landed in {}/ (per table: partitions, rows):",
        lake.display()
    ));
    let per_table = query::run_sql(
        &lake,
        &ctx.config.engine,
        "select table_name, count(*) as partitions, sum(rows) as rows from ledger_fetches \
         where status = 'landed' group by table_name order by table_name",
        "<demo summary>",
    )
    .await?;
    for line in query::render(&per_table, Format::Csv)?.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if let [table, parts, rows] = cells[..] {
            let rows = rows
                .parse::<i64>()
                .map_or_else(|_| rows.to_string(), thousands);
            out(&format!("  {table:<28} {parts:>4} {rows:>10}"));
        }
    }
    out(&format!(
        "Marts in {}/marts/: {}",
        lake.display(),
        marts
            .marts
            .iter()
            .map(|(name, rows)| format!("{name} ({rows})"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    averages(&ctx, &lake).await?;
    out(&format!(
        "Reports in {}/: {}",
        reports_dir.display(),
        made.join(", ")
    ));
    out(&format!(
        "Mails in {outbox}/: {} written, {} delivered before, {} failed (see ledger_deliveries)",
        sent.delivered.len(),
        sent.skipped.len(),
        sent.failed.len()
    ));
    let main = load_config(cli)?;
    other_programmes(cli, &main, &server.base).await?;
    out("");
    out("Next (maaltal is `cargo run --` here, or target/debug/maaltal):");
    if let Some(w) = &ctx.config.sources.wide_weeks {
        out(&format!(
            "  maaltal sql \"select quarter, count(*) as persons from {}_persons group by quarter order by quarter\"",
            w.name
        ));
    }
    if let Some(t) = render::Template::all(&ctx.config)
        .iter()
        .find(|t| t.quarterly())
    {
        out(&format!(
            "  maaltal report {} --period {quarter} --out reports",
            t.name()
        ));
    }
    for id in &main.programmes {
        if let Ok(cfg) = maaltal::config::programmes::load(cli.config.as_deref(), &main, id)
            && let Some(first) = cfg.reports.reports.first()
        {
            out(&format!(
                "  maaltal --programme {id} report {} --period <quarter> --out reports",
                first.name
            ));
        }
    }
    out("  maaltal jobs     # the schedule;  maaltal serve   # the daemon that runs it");
    out(
        "  maaltal status   # what ran, landed, was quarantined and mailed (serve --http: as a page)",
    );
    Ok(())
}

/// Delivery on the embedded default: every mail an .eml file in the outbox, recorded in
/// the ledger (never twice).
async fn to_outbox(
    ctx: &Context,
    deliveries: &[deliver::Delivery],
) -> Result<deliver::Summary, Error> {
    let lake = &ctx.config.lake.path;
    let mailer = deliver::OutboxMailer {
        dir: ctx.config.mail.outbox.clone(),
    };
    let retry = deliver::Retry {
        retries: ctx.config.mail.retries,
        backoff: ctx.config.mail.backoff,
    };
    let _lock = maaltal::lock::acquire(lake, "demo: send", maaltal::lock::WAIT_LIMIT).await?;
    Ok(deliver::deliver(
        lake,
        &ctx.run_id,
        &ctx.config.mail,
        &mailer,
        deliveries,
        retry,
        deliver::Mode::Once,
        Utc::now,
    )
    .await?)
}

/// Points the embedded default's sources, which read `sample/`, at the demo server
/// (which asks for no credentials).
fn served(cfg: &mut maaltal::config::Config, base: &str) {
    let s = &mut cfg.sources;
    let mut locations: Vec<&mut String> = Vec::new();
    if let Some(d) = s.wide_weeks.as_mut() {
        d.auth_env = None;
        locations.push(&mut d.location);
    }
    // The demo server answers as the Jobindsats API at its root.
    if let Some(j) = s.jobindsats.as_mut() {
        j.api_key_env = None;
        if j.location.starts_with("sample/") {
            j.location = base.to_string();
        }
    }
    for c in &mut s.csv {
        c.auth_env = None;
        locations.push(&mut c.location);
    }
    for loc in locations {
        if let Some(rest) = loc.strip_prefix("sample/") {
            *loc = format!("{base}/files/{rest}");
        }
    }
}

/// The config's other programmes (`programmes = [...]`), each on its own sample data:
/// pulled from the demo server, landed in the same lake, its marts built, its reports
/// of the latest quarter rendered into `reports/` and mailed to the outbox.
async fn other_programmes(
    cli: &Cli,
    main: &maaltal::config::Config,
    base: &str,
) -> Result<(), Error> {
    for id in &main.programmes {
        let mut cfg = maaltal::config::programmes::load(cli.config.as_deref(), main, id)?;
        if cli.config.is_none() {
            served(&mut cfg, base);
        }
        let now = Utc::now();
        let ctx = Context::new(cfg, now, run_id(now))?;
        let mut plan = Vec::new();
        let mut latest = None;
        for (_, source, range) in sample::PROGRAMME_PERIODS.iter().filter(|p| p.0 == id) {
            let ps = periods(range)?;
            latest = ps.last().copied();
            plan.push((*source, extracts(&ctx, source, &ps, None)));
        }
        let total: usize = plan.iter().map(|(_, e)| e.len()).sum();
        let step = Step::start("pull + land", Some(total as u64));
        let mut landed_reports = Vec::new();
        for (source, list) in &plan {
            landed_reports.extend(ingest_many(&ctx, source, None, list).await?);
        }
        let (partitions, rows) = landed(&landed_reports);
        step.finish(&format!(
            "{id}: {total} extracts: {partitions} partitions, {} rows landed",
            thousands(rows)
        ));
        let step = Step::start("transform", None);
        let marts = transform::transform(&ctx.config, &ctx.run_id, None).await?;
        step.finish(&format!("{id}: {} marts", marts.marts.len()));
        let Some(quarter) = latest else {
            continue;
        };
        let lake = ctx.config.lake.path.clone();
        let date = render::data_date(&lake).unwrap_or_else(|| now.date_naive());
        let settings = render::Settings::new(&ctx.config, date)?;
        let step = Step::start("render", None);
        let mut pdfs = Vec::new();
        for t in render::Template::all(&ctx.config)
            .iter()
            .filter(|t| t.quarterly())
        {
            pdfs.extend(render::make(&ctx.config, t, quarter, &settings)?);
        }
        render::write_all(Path::new("reports"), &pdfs, false)?;
        step.finish(&format!(
            "{id}: {} PDFs of {quarter} in reports/",
            pdfs.len()
        ));
        let (deliveries, _) = deliver::plan(&ctx.config, &pdfs);
        let sent = to_outbox(&ctx, &deliveries).await?;
        out(&format!(
            "{id} ({}): {} reports of {quarter} in reports/, {} mails written to {}/, {} delivered before",
            ctx.config.program.name,
            pdfs.len(),
            sent.delivered.len(),
            ctx.config.mail.outbox.display(),
            sent.skipped.len()
        ));
    }
    Ok(())
}

/// The programme averages of every metric (all, men and women together) at its
/// baseline and in its latest period.
async fn averages(ctx: &Context, lake: &Path) -> Result<(), Error> {
    let rows = query::run_sql(
        lake,
        &ctx.config.engine,
        "select metric, period, round(share * 100, 1) as pct from project_average \
         where sex = 'alle' and share is not null order by metric, period",
        "<demo summary>",
    )
    .await?;
    let mut by_metric: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in query::render(&rows, Format::Csv)?.lines().skip(1) {
        if let Some((metric, rest)) = line.split_once(',')
            && let Some((period, pct)) = rest.split_once(',')
        {
            by_metric
                .entry(metric.to_string())
                .or_default()
                .push((period.to_string(), pct.to_string()));
        }
    }
    out("Programme averages (per cent, all), baseline → latest:");
    for (metric, values) in &by_metric {
        let key = |p: Period| {
            if p.is_quarter() {
                p.to_string()
            } else {
                p.jobindsats_code()
            }
        };
        let baseline = ctx.config.metrics.baseline.get(metric).map(|p| key(*p));
        let at = |period: &str| {
            values
                .iter()
                .find(|(p, _)| p == period)
                .map_or("i.d.", |(_, v)| v.as_str())
                .to_string()
        };
        let Some((last, last_pct)) = values.last() else {
            continue;
        };
        let first = baseline.map_or_else(
            || "no baseline".to_string(),
            |b| format!("{} ({b})", at(&b)),
        );
        out(&format!("  {metric:<22} {first} → {last_pct} ({last})"));
    }
    Ok(())
}
