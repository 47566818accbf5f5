//! A programme's own reports (`[[reports.report]]`): the rows of the marts a report
//! names, for the programme and the report's period (earlier ones too where it asks), as one JSON document per
//! municipality (or one for the programme) → the programme's Typst template → a PDF.
//!
//! ```json
//! { "programme": {"id": "<id>", "name": "…"}, "period": "2019Q3",
//!   "period_label": "3. kvartal 2019", "municipality": {"code": 580, "name": "Aabenraa"},
//!   "municipalities": [{"code": 159, "name": "Gladsaxe"}, …], "min_group_size": 5,
//!   "date_label": "…", "marts": {"<mart>": [{…}, …], …} }
//! ```
//!
//! The template hides small groups with the threshold it is given (`min_group_size`),
//! as report-templates/common.typ's `count` and `share` do.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{RenderError, Rendered, Settings, Template, fingerprint, format, json, marts, pdf};
use crate::config::Config;
use crate::config::reports::{ReportSpec, Scope};
use crate::period::Period;

/// The rows of `mart` that belong to the programme and to `period` (with `history`:
/// to periods up to it).
fn rows(
    config: &Config,
    mart: &str,
    period: Period,
    history: bool,
) -> Result<Vec<Value>, RenderError> {
    let all: Vec<Map<String, Value>> = marts::read_for(&config.lake.path, mart, &config.program.id)
        .map_err(|message| RenderError::Nothing {
            message: format!("reading the mart `{mart}`: {message}"),
        })?;
    let up_to = period.to_string();
    Ok(all
        .into_iter()
        .filter(|r| {
            r.get("period")
                .and_then(Value::as_str)
                .is_none_or(|p| p == up_to || (history && p <= up_to.as_str()))
        })
        .map(Value::Object)
        .collect())
}

fn municipality(code: i32) -> Value {
    json!({"code": code, "name": crate::municipality::name(code).unwrap_or("?")})
}

/// Renders `spec` for `period`: one PDF per programme municipality (or only
/// `only`), or one for the programme.
pub fn custom(
    config: &Config,
    spec: &Arc<ReportSpec>,
    period: Period,
    only: Option<i32>,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    if !period.is_quarter() {
        return Err(RenderError::Nothing {
            message: format!(
                "`{period}` is not a quarter; the {} report is quarterly (2019Q3)",
                spec.name
            ),
        });
    }
    let mut data_marts = Map::new();
    for m in &spec.marts {
        let history = spec.history.contains(m);
        data_marts.insert(m.clone(), Value::Array(rows(config, m, period, history)?));
    }
    let codes: Vec<Option<i32>> = match (spec.scope, only) {
        // A `marts` report is never per employee (the config's validation says so).
        (Scope::Programme | Scope::Employee, None) => vec![None],
        (Scope::Programme | Scope::Employee, Some(c)) => {
            return Err(RenderError::Nothing {
                message: format!(
                    "the {} report is one for the programme, not per municipality: leave out `--municipality {c}`",
                    spec.name
                ),
            });
        }
        (Scope::Municipality, Some(c)) if config.program.municipalities.contains(&c) => {
            vec![Some(c)]
        }
        (Scope::Municipality, Some(c)) => {
            return Err(RenderError::Nothing {
                message: format!(
                    "municipality {c} is not in the programme {}; its municipalities: {:?}",
                    config.program.id, config.program.municipalities
                ),
            });
        }
        (Scope::Municipality, None) => config
            .program
            .municipalities
            .iter()
            .copied()
            .map(Some)
            .collect(),
    };
    let template = Template::Custom(spec.clone());
    let base = json!({
        "programme": {"id": config.program.id, "name": config.program.name},
        "period": period.to_string(),
        "period_label": format::period_label(period),
        "municipalities": config.program.municipalities.iter().map(|c| municipality(*c)).collect::<Vec<_>>(),
        "min_group_size": settings.disclosure.min,
        "date_label": format::date_label(settings.date),
        "marts": Value::Object(data_marts),
    });
    codes
        .into_iter()
        .map(|code| {
            let started = std::time::Instant::now();
            let mut data = base.clone();
            data["municipality"] = code.map_or(Value::Null, municipality);
            let bytes = json(&data, settings);
            let who = code.map_or_else(|| "programme".to_string(), |c| c.to_string());
            let pdf = pdf(
                &settings.templates,
                &template,
                Some(&bytes),
                settings.date,
                &format!("maaltal/{}/{}/{period}/{who}", config.program.id, spec.name),
            )?;
            crate::progress::advance(1);
            let part = code
                .and_then(crate::municipality::name)
                .map(super::slug)
                .unwrap_or_default();
            Ok(Rendered {
                template: template.clone(),
                period: period.to_string(),
                municipality: code,
                recipient: None,
                file_name: spec.file_name(&period.to_string(), &part, ""),
                pdf,
                data_sha256: fingerprint(&bytes),
                data: bytes,
                elapsed: started.elapsed(),
            })
        })
        .collect()
}
