//! Landing Jobindsats: the v2 API (or files) per quarter or month, every configured table.

use std::path::{Path, PathBuf};

use super::{
    Context, Pending, all_unchanged, commit, finish_or_quarantine, http_for, not_modified, record,
    validators_for,
};
use crate::error::Error;
use crate::extract::{ExtractError, FetchOutcome, jobindsats as jx};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, StagedPartition, Staging};
use crate::parse::{self, Locus, ParseError};
use crate::period::Period;

pub(super) async fn ingest_jobindsats(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    let Some(cfg) = ctx.config.sources.jobindsats.as_ref() else {
        return Err(Error::Usage {
            message: "no `type = \"jobindsats_v2\"` source in the config".into(),
        });
    };
    let source = cfg.name.as_str();
    let base = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), None)
        },
        str::to_string,
    );
    let http = http_for(ctx, cfg.api_key_env.as_deref(), &base, "Jobindsats API key")?;
    let key_env = cfg.api_key_env.clone().unwrap_or_default();
    let ledger = Ledger::load(ctx.lake());
    let mut records = Vec::new();
    let mut pending: Vec<(Pending, usize)> = Vec::new();
    for (ti, table) in cfg.tables.iter().enumerate() {
        // The period's kind picks the tables: a quarter lands the quarterly tables, a
        // month the monthly ones.
        if table.quarterly != period.is_quarter() {
            continue;
        }
        let periods = vec![period];
        let (meta_text, meta_loc) = jx::metadata_text(&base, &table.table_id, &http)
            .await
            .map_err(|e| match e {
                ExtractError::Auth {
                    location, message, ..
                } => ExtractError::Auth {
                    location,
                    key_env: key_env.clone(),
                    message,
                },
                other => other,
            })?;
        let meta_locus = Locus {
            extract: source.into(),
            path: meta_loc,
        };
        let meta =
            parse::jobindsats::parse_metadata(&meta_text, &meta_locus, &key_env).map_err(|e| {
                match e {
                    ParseError::Auth {
                        path,
                        key_env,
                        message,
                    } => Error::Extract(ExtractError::Auth {
                        location: path,
                        key_env,
                        message,
                    }),
                    other => Error::Parse(other),
                }
            })?;
        let lake_table = cfg.table(table);
        for p in periods {
            let code = p.jobindsats_code();
            if !meta.periods.contains(&code) {
                return Err(ExtractError::NotPublished {
                    table: table.table_id.clone(),
                    period: code,
                    latest: meta
                        .periods
                        .iter()
                        .max()
                        .cloned()
                        .unwrap_or_else(|| "none".into()),
                }
                .into());
            }
            let loc = jx::data_location(&base, &table.table_id, &code);
            let dest = incoming.join(format!("{}_{code}.json", table.table_id));
            match jx::fetch_data(
                &base,
                &table.table_id,
                &code,
                &validators_for(&ledger, &loc),
                &dest,
                &http,
            )
            .await?
            {
                FetchOutcome::NotModified {
                    location,
                    validators,
                } => {
                    records.push(not_modified(
                        ctx,
                        source,
                        &lake_table,
                        p,
                        None,
                        &location,
                        &validators,
                    ));
                }
                FetchOutcome::Fetched(fetched) => {
                    pending.push((
                        Pending {
                            fetched,
                            table: lake_table.clone(),
                            period: p,
                            municipality: None,
                        },
                        ti,
                    ));
                }
            }
        }
    }
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/{source}/{}/{}",
            p.table.trim_start_matches(&format!("{source}_")),
            p.period.partition()
        ))
    };
    let changed: Vec<(Pending, usize)> = pending
        .into_iter()
        .filter_map(|(p, ti)| {
            if all_unchanged(ctx, &ledger, std::slice::from_ref(&p), part_dir) {
                records.push(record(ctx, source, &p, "unchanged", None));
                None
            } else {
                Some((p, ti))
            }
        })
        .collect();
    if records.is_empty() && changed.is_empty() {
        let kind = if period.is_quarter() {
            "quarterly"
        } else {
            "monthly"
        };
        return Err(Error::Usage {
            message: format!("no {kind} Jobindsats table is configured for period {period}"),
        });
    }
    if changed.is_empty() {
        return Ok(records);
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let parsed = (|| -> Result<Vec<StagedPartition>, ParseError> {
        let mut parts = Vec::new();
        for (p, ti) in &changed {
            let table = &cfg.tables[*ti];
            let text = std::fs::read_to_string(&p.fetched.local).map_err(|e| {
                Locus {
                    extract: source.into(),
                    path: p.fetched.location.clone(),
                }
                .file(format!("not valid UTF-8 text: {e}"))
            })?;
            let locus = Locus {
                extract: source.into(),
                path: p.fetched.location.clone(),
            };
            let mut w = staging.partition(part_dir(p), land::schema(parse::jobindsats::COLUMNS))?;
            parse::jobindsats::parse_data(&text, &locus, table, cfg, &[p.period], &mut w)?;
            parts.push(w.finish()?);
        }
        Ok(parts)
    })();
    let just_pending: Vec<Pending> = changed
        .iter()
        .map(|(p, _)| Pending {
            fetched: p.fetched.clone(),
            table: p.table.clone(),
            period: p.period,
            municipality: None,
        })
        .collect();
    let parsed = match parsed {
        Err(ParseError::Auth {
            path,
            key_env,
            message,
        }) => {
            staging.abort();
            return Err(ExtractError::Auth {
                location: path,
                key_env,
                message,
            }
            .into());
        }
        other => other,
    };
    let (staging, parts) = finish_or_quarantine(
        ctx,
        source,
        period,
        incoming,
        staging,
        &just_pending,
        parsed,
    )?;
    commit(ctx, staging, &parts)?;
    for (p, part) in just_pending.iter().zip(&parts) {
        records.push(record(ctx, source, p, "landed", Some(part.rows as i64)));
    }
    Ok(records)
}
