//! Landing a CSV source (`type = "csv"`): one bundle of files for a period, per
//! municipality when the source lists municipalities, parsed by its contract.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::{
    Context, Pending, all_unchanged, commit, finish_or_quarantine, http_for, not_modified, record,
    validators_for,
};
use crate::config::is_url;
use crate::error::Error;
use crate::extract::{self, FetchOutcome, Fetched, Validators};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, StagedPartition, Staging};
use crate::parse::{Locus, ParseError, bundle, checks};
use crate::period::Period;
use crate::schedule::Span;

pub(super) async fn ingest_csv(
    ctx: &Context,
    source: &str,
    location: Option<&str>,
    period: Period,
    municipality: Option<i32>,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    let Some(cfg) = ctx.config.sources.csv(source) else {
        return Err(Error::Usage {
            message: format!("no CSV source `{source}` in `[sources]`"),
        });
    };
    if period.is_quarter() != (cfg.span == Span::Quarter) {
        return Err(Error::Usage {
            message: format!(
                "{source} bundles cover a {}: give a period like {}, not `{period}`",
                cfg.span.name(),
                if cfg.span == Span::Quarter {
                    "2018Q4"
                } else {
                    "2018-11"
                }
            ),
        });
    }
    let municipality = match (municipality, cfg.municipalities.as_slice()) {
        (None, []) => None,
        (Some(m), []) => {
            return Err(Error::Usage {
                message: format!(
                    "`--municipality {m}`: {source} delivers one bundle for all municipalities (it lists no `municipalities`); leave it out"
                ),
            });
        }
        (Some(m), _) => Some(m),
        (None, [only]) => Some(*only),
        (None, several) => {
            return Err(Error::Usage {
                message: format!(
                    "give `--municipality` for a {source} bundle (configured: {several:?})"
                ),
            });
        }
    };
    if let Some(m) = municipality
        && crate::municipality::name(m).is_none()
    {
        return Err(Error::Usage {
            message: format!(
                "`{m}` is not a DST municipality code (98 codes, e.g. 350 for Lejre, 316 for Holbæk)"
            ),
        });
    }
    let base = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), municipality)
        },
        str::to_string,
    );
    let http = http_for(
        ctx,
        cfg.auth_env.as_deref(),
        &base,
        "CSV source authorization header",
    )?;
    let ledger = Ledger::load(ctx.lake());
    let file_loc = |entity: &str| {
        if crate::config::contract::is_csv_file(&base) {
            base.clone()
        } else if is_url(&base) {
            format!("{}/{entity}.csv", base.trim_end_matches('/'))
        } else {
            Path::new(&base)
                .join(format!("{entity}.csv"))
                .to_string_lossy()
                .into_owned()
        }
    };
    let mut fetched: Vec<Option<Fetched>> = Vec::new();
    let mut not_mod = Vec::new();
    for entity in &cfg.files {
        let loc = file_loc(&entity.name);
        let dest = incoming.join(format!("{}.csv", entity.name));
        match extract::fetch(&loc, &validators_for(&ledger, &loc), &dest, &http).await? {
            FetchOutcome::Fetched(f) => fetched.push(Some(f)),
            FetchOutcome::NotModified {
                location,
                validators,
            } => {
                not_mod.push(not_modified(
                    ctx,
                    source,
                    &format!("{source}_{}", entity.name),
                    period,
                    municipality,
                    &location,
                    &validators,
                ));
                fetched.push(None);
            }
        }
    }
    if fetched.iter().all(Option::is_none) {
        return Ok(not_mod);
    }
    // Some files changed: the export is landed as a whole, so fetch the rest plainly.
    for (entity, slot) in cfg.files.iter().zip(fetched.iter_mut()) {
        if slot.is_none() {
            let loc = file_loc(&entity.name);
            let dest = incoming.join(format!("{}.csv", entity.name));
            if let FetchOutcome::Fetched(f) =
                extract::fetch(&loc, &Validators::default(), &dest, &http).await?
            {
                *slot = Some(f);
            }
        }
    }
    let pending: Vec<Pending> = cfg
        .files
        .iter()
        .zip(fetched)
        .filter_map(|(e, f)| {
            f.map(|fetched| Pending {
                fetched,
                table: format!("{source}_{}", e.name),
                period,
                municipality,
            })
        })
        .collect();
    let part_dir = |p: &Pending| {
        bundle::partition_dir(
            source,
            p.table.trim_start_matches(&format!("{source}_")),
            municipality,
            period,
        )
    };
    if pending.len() == cfg.files.len() && all_unchanged(ctx, &ledger, &pending, part_dir) {
        info!(location = %base, "same content as the last landing: nothing to land");
        return Ok(pending
            .iter()
            .map(|p| record(ctx, source, p, "unchanged", None))
            .collect());
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let parsed = (|| -> Result<Vec<StagedPartition>, ParseError> {
        let mut ids = HashMap::new();
        let mut parts = Vec::new();
        for (entity, p) in cfg.files.iter().zip(&pending) {
            let locus = Locus {
                extract: source.to_string(),
                path: p.fetched.location.clone(),
            };
            let file =
                File::open(&p.fetched.local).map_err(land::io_err(&p.fetched.local, "open"))?;
            let mut w = bundle::writer(&staging, source, entity, municipality, period)?;
            bundle::parse_file(
                BufReader::new(file),
                locus,
                cfg.encoding,
                entity,
                &mut ids,
                &ctx.pseudo,
                &mut w,
            )?;
            parts.push(w.finish()?);
        }
        Ok(parts)
    })();
    let mut warnings = Vec::new();
    let parsed = match parsed {
        Ok(parts) => {
            let files: Vec<PathBuf> = parts.iter().map(|p| staging.file(&p.relative)).collect();
            let staged: Vec<checks::Staged<'_>> = cfg
                .files
                .iter()
                .zip(&pending)
                .zip(&files)
                .map(|((entity, p), parquet)| checks::Staged {
                    file: entity,
                    parquet,
                    local: &p.fetched.local,
                    encoding: cfg.encoding,
                    locus: Locus {
                        extract: source.to_string(),
                        path: p.fetched.location.clone(),
                    },
                    previous: Some(ctx.lake().join(bundle::partition_dir(
                        source,
                        &entity.name,
                        municipality,
                        period.previous(),
                    )))
                    .filter(|d| d.is_dir()),
                })
                .collect();
            checks::run(&staged, period).await.map(|w| {
                warnings = w;
                parts
            })
        }
        Err(e) => Err(e),
    };
    let (staging, parts) =
        finish_or_quarantine(ctx, source, period, incoming, staging, &pending, parsed)?;
    commit(ctx, staging, &parts)?;
    for w in &warnings {
        warn!(location = %base, "landed with a warning: {w}");
    }
    Ok(pending
        .iter()
        .zip(&parts)
        .map(|(p, part)| record(ctx, source, p, "landed", Some(part.rows as i64)))
        .collect())
}
