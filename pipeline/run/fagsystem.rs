//! Landing the case system (fagsystem): each municipality's bundle of exports for a month.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tracing::info;

use super::{
    Context, Pending, SourceKind, all_unchanged, commit, finish_or_quarantine, http_for,
    not_modified, record, validators_for,
};
use crate::config::is_url;
use crate::error::Error;
use crate::extract::{self, FetchOutcome, Fetched, Validators};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, StagedPartition, Staging};
use crate::parse::{Locus, ParseError, bundle};
use crate::period::Period;

pub(super) async fn ingest_fagsystem(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    municipality: Option<i32>,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    if period.is_quarter() {
        return Err(Error::Usage {
            message: format!(
                "fagsystem exports are monthly: give a period like 2018-11, not `{period}`"
            ),
        });
    }
    let cfg = &ctx.config.sources.fagsystem;
    let municipality = match municipality {
        Some(m) => m,
        None if cfg.municipalities.len() == 1 => cfg.municipalities[0],
        None => {
            return Err(Error::Usage {
                message: format!(
                    "give `--municipality` for a fagsystem export (configured: {:?})",
                    cfg.municipalities
                ),
            });
        }
    };
    if crate::municipality::name(municipality).is_none() {
        return Err(Error::Usage {
            message: format!(
                "`{municipality}` is not a DST municipality code (98 codes, e.g. 350 for Lejre, 316 for Holbæk)"
            ),
        });
    }
    let base = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), Some(municipality))
        },
        str::to_string,
    );
    let http = http_for(
        ctx,
        cfg.auth_env.as_deref(),
        &base,
        "fagsystem authorization header",
    )?;
    let ledger = Ledger::load(ctx.lake());
    let file_loc = |entity: &str| {
        if is_url(&base) {
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
    let source = SourceKind::Fagsystem.name();
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
                    SourceKind::Fagsystem,
                    &format!("{source}_{}", entity.name),
                    period,
                    Some(municipality),
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
                municipality: Some(municipality),
            })
        })
        .collect();
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/{source}/{}/kommune={municipality}/{}",
            p.table.trim_start_matches(&format!("{source}_")),
            period.partition()
        ))
    };
    if pending.len() == cfg.files.len() && all_unchanged(ctx, &ledger, &pending, part_dir) {
        info!(location = %base, "same content as the last landing: nothing to land");
        return Ok(pending
            .iter()
            .map(|p| record(ctx, SourceKind::Fagsystem, p, "unchanged", None))
            .collect());
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let parsed = (|| -> Result<Vec<StagedPartition>, ParseError> {
        let mut ids = HashMap::new();
        let mut parts = Vec::new();
        for (entity, p) in cfg.files.iter().zip(&pending) {
            let locus = Locus {
                extract: "fagsystem",
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
    let (staging, parts) = finish_or_quarantine(
        ctx,
        SourceKind::Fagsystem,
        period,
        incoming,
        staging,
        &pending,
        parsed,
    )?;
    commit(ctx, staging, &parts)?;
    Ok(pending
        .iter()
        .zip(&parts)
        .map(|(p, part)| {
            record(
                ctx,
                SourceKind::Fagsystem,
                p,
                "landed",
                Some(part.rows as i64),
            )
        })
        .collect())
}
