//! Landing a wide-weeks register: one quarter's extract, pulled (with validators),
//! parsed and committed.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tracing::info;

use super::{
    Context, Pending, all_unchanged, commit, finish_or_quarantine, http_for, not_modified, record,
    validators_for,
};
use crate::error::Error;
use crate::extract::{self, FetchOutcome};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, Staging};
use crate::parse::{self, Locus};
use crate::period::Period;

pub(super) async fn ingest_wide_weeks(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    let Some(cfg) = ctx.config.sources.wide_weeks.as_ref() else {
        return Err(Error::Usage {
            message: "no `type = \"wide_weeks\"` source in the config".into(),
        });
    };
    let source = cfg.name.as_str();
    if !period.is_quarter() {
        return Err(Error::Usage {
            message: format!(
                "`{source}` extracts are quarterly: give a period like 2018Q4, not `{period}`"
            ),
        });
    }
    let tables = parse::wide_weeks::tables(source);
    let location = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), None)
        },
        str::to_string,
    );
    let http = http_for(
        ctx,
        cfg.auth_env.as_deref(),
        &location,
        "wide-weeks register authorization header",
    )?;
    let ledger = Ledger::load(ctx.lake());
    let validators = validators_for(&ledger, &location);
    let dest = incoming.join(format!("{source}_{period}.csv"));
    let fetched = match extract::fetch(&location, &validators, &dest, &http).await? {
        FetchOutcome::NotModified {
            location,
            validators,
        } => {
            return Ok(vec![not_modified(
                ctx,
                source,
                &tables[0],
                period,
                None,
                &location,
                &validators,
            )]);
        }
        FetchOutcome::Fetched(f) => f,
    };
    let pending: Vec<Pending> = tables
        .iter()
        .map(|t| Pending {
            fetched: fetched.clone(),
            table: t.clone(),
            period,
            municipality: None,
        })
        .collect();
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/{source}/{}/{}",
            p.table.trim_start_matches(&format!("{source}_")),
            period.partition()
        ))
    };
    if all_unchanged(ctx, &ledger, &pending, part_dir) {
        info!(location = %location, "same content as the last landing: nothing to land");
        return Ok(pending
            .iter()
            .map(|p| record(ctx, source, p, "unchanged", None))
            .collect());
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let locus = Locus {
        extract: source.into(),
        path: location.clone(),
    };
    let file = File::open(&fetched.local).map_err(land::io_err(&fetched.local, "open"))?;
    let parsed = parse::wide_weeks::parse(
        BufReader::with_capacity(1 << 20, file),
        locus,
        period,
        cfg,
        &ctx.pseudo,
        &staging,
    );
    let (staging, parts) =
        finish_or_quarantine(ctx, source, period, incoming, staging, &pending, parsed)?;
    commit(ctx, staging, &parts)?;
    Ok(pending
        .iter()
        .zip(&parts)
        .map(|(p, part)| record(ctx, source, p, "landed", Some(part.rows as i64)))
        .collect())
}
