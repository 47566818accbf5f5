//! Rendering: the marts → one JSON document per report → a Typst template from
//! `report-templates/` → a PDF.
//!
//! ```text
//! marts ──marts.rs──► ReportData (JSON, disclosure applied) ──sys.inputs.data──► <report>.typ ──typst──► PDF/A-2a + PDF/UA-1
//! ```
//! Templates only lay out; every number arrives prepared (Danish formats, hidden small
//! groups) in the JSON. The output is deterministic: no clock, no machine fonts, a
//! document identifier and date taken from the data.

mod books;
mod charts;
mod compile;
mod custom;
pub mod disclosure;
mod files;
pub mod format;
pub mod marts;
pub mod metric;
pub mod overview;
pub mod peer_block;
pub mod peers;
pub mod quarterly;
pub mod staff_book;
mod template;
pub mod world;

use std::sync::Arc;

use chrono::NaiveDate;

use crate::config::reports::ReportSpec;
use crate::extract::Blame;

pub use books::{Books, Planned};
use compile::hints_text;
pub use compile::pdf;
pub use custom::custom;
pub use files::{file_part, slug, write_all, write_one};
pub use template::Template;
pub use world::Templates;

/// Errors of the render stage.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed to compile.
    #[error("{path}:{line}:{column}: {message}{}", hints_text(hints))]
    Template {
        /// Template file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Typst's message.
        message: String,
        /// Typst's hints.
        hints: Vec<String>,
    },
    /// The PDF could not be written (a PDF/A or PDF/UA rule broken).
    #[error("{path}: writing the PDF: {message}")]
    Pdf {
        /// Template file.
        path: String,
        /// Message.
        message: String,
    },
    /// The folder of templates could not be read.
    #[error("reading the report templates: {message}")]
    Templates {
        /// The file or folder and why.
        message: String,
    },
    /// The marts could not be read.
    #[error("reading the marts for the {report} report: {message}")]
    Marts {
        /// Report.
        report: String,
        /// Message.
        message: String,
    },
    /// Nothing to render (no such municipality, month or recipient).
    #[error("{message}")]
    Nothing {
        /// What was asked for and what exists.
        message: String,
    },
    /// Two reports would be written under one file name.
    #[error(
        "two reports would be written to {path}: for `{first}` and for `{second}`; nothing was written"
    )]
    NameClash {
        /// The file both would be.
        path: String,
        /// Whom the first is for.
        first: String,
        /// Whom the second is for.
        second: String,
    },
    /// Writing a PDF to the output folder failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl RenderError {
    /// Whose problem it is.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Self::Nothing { .. } => Blame::User,
            Self::Io { .. } | Self::NameClash { .. } => Blame::External,
            _ => Blame::Internal,
        }
    }
}

/// A rendered report: what it is, for whom, and its bytes.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Which report.
    pub template: Template,
    /// The period it covers (`2018Q4`, `2018-11`).
    pub period: String,
    /// The municipality (none for the overview).
    pub municipality: Option<i32>,
    /// The recipient a månedsbog is made for.
    pub recipient: Option<String>,
    /// A meaningful file name: `statusrapport_2018Q4_lejre.pdf`.
    pub file_name: String,
    /// The PDF.
    pub pdf: Vec<u8>,
    /// The JSON document it was made from.
    pub data: Vec<u8>,
    /// [`fingerprint`] of the data.
    pub data_sha256: String,
    /// Time spent on this report: building its data and compiling the PDF (the marts
    /// are read once for all reports and not counted).
    pub elapsed: std::time::Duration,
}

/// The date a report carries: the day the newest extract behind it was fetched
/// (`ledger_fetches`, Copenhagen time), so the same lake gives the same PDF. `None`
/// when nothing was ever landed.
#[must_use]
pub fn data_date(lake: &std::path::Path) -> Option<NaiveDate> {
    #[derive(serde::Deserialize)]
    struct Fetch {
        fetched_at: Option<String>,
        status: Option<String>,
    }
    let mut newest: Option<chrono::DateTime<chrono::Utc>> = None;
    for path in crate::lake::ledger_files(lake, "fetches") {
        let Ok(rows) = marts::read_file::<Fetch>(&path) else {
            continue;
        };
        for r in rows {
            if r.status.as_deref() != Some("landed") {
                continue;
            }
            let t = r.fetched_at.as_deref().and_then(|t| {
                chrono::DateTime::parse_from_rfc3339(t).ok().or_else(|| {
                    chrono::DateTime::parse_from_str(&format!("{t}+0000"), "%Y-%m-%dT%H:%M:%S%.f%z")
                        .ok()
                })
            });
            if let Some(t) = t {
                let t = t.with_timezone(&chrono::Utc);
                newest = Some(newest.map_or(t, |n| n.max(t)));
            }
        }
    }
    newest.map(|t| t.with_timezone(&chrono_tz::Europe::Copenhagen).date_naive())
}

/// What every report of a run shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The disclosure threshold.
    pub disclosure: disclosure::Disclosure,
    /// The document date.
    pub date: NaiveDate,
    /// Printed at the top when this is a re-issue after the data changed.
    pub update_note: Option<String>,
    /// The templates: the folder `[program] templates` names, read now, or the
    /// embedded ones.
    pub templates: Arc<Templates>,
}

impl Settings {
    /// From the config, dated `date`; the programme's templates are read here.
    pub fn new(config: &crate::config::Config, date: NaiveDate) -> Result<Self, RenderError> {
        let templates = match &config.program.templates {
            Some(folder) => {
                Templates::read(folder).map_err(|message| RenderError::Templates { message })?
            }
            None => Templates::embedded_for(&config.program.id).unwrap_or_else(Templates::embedded),
        };
        Ok(Self {
            disclosure: disclosure::Disclosure {
                min: config.reports.min_group_size,
            },
            date,
            update_note: None,
            templates,
        })
    }
}

fn marts_error(report: &str) -> impl Fn(String) -> RenderError + '_ {
    move |message| RenderError::Marts {
        report: report.to_string(),
        message,
    }
}

fn metric_index(
    config: &crate::config::Config,
    report: &str,
    d: disclosure::Disclosure,
) -> Result<metric::Index, RenderError> {
    let e = marts_error(report);
    let (lake, id) = (&config.lake.path, config.program.id.as_str());
    let mut index = metric::Index::new(
        marts::read_for(lake, "target_metrics", id).map_err(&e)?,
        marts::read_for(lake, "project_average", id).map_err(&e)?,
        marts::read_for(lake, "metric_comparison", id).map_err(&e)?,
    );
    index.hide_averages_on_hidden_shares(d);
    index.peers = peers::Peers::new(
        marts::read_for(lake, "peer_comparison", id).map_err(&e)?,
        marts::read_for(lake, "peer_comparison_members", id).map_err(&e)?,
    );
    Ok(index)
}

/// The report's JSON, with the update note (if any) added.
fn json<T: serde::Serialize>(data: &T, settings: &Settings) -> Vec<u8> {
    let mut v =
        serde_json::to_value(data).expect("report data is plain structs, always serialisable");
    if let serde_json::Value::Object(m) = &mut v {
        m.insert(
            "update_note".into(),
            settings
                .update_note
                .clone()
                .map_or(serde_json::Value::Null, Into::into),
        );
    }
    serde_json::to_vec(&v).expect("a JSON value always serialises")
}

/// The fingerprint of a report's data: its JSON without the date and the update note,
/// so a new fetch date alone never counts as new figures.
#[must_use]
pub fn fingerprint(data: &[u8]) -> String {
    use sha2::Digest;
    let mut v: serde_json::Value = serde_json::from_slice(data).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("date_label");
        m.remove("update_note");
    }
    hex::encode(sha2::Sha256::digest(v.to_string().as_bytes()))
}

/// The quarterly status reports `spec` (shape `quarterly`) of `quarter`: every
/// programme municipality, or one.
pub fn quarterly(
    config: &crate::config::Config,
    spec: &Arc<ReportSpec>,
    quarter: crate::period::Period,
    municipality: Option<i32>,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    if !quarter.is_quarter() {
        return Err(RenderError::Nothing {
            message: format!(
                "`{quarter}` is not a quarter; the {} report is quarterly (2018Q4)",
                spec.name
            ),
        });
    }
    let codes: Vec<i32> = match municipality {
        Some(c) if config.program.municipalities.contains(&c) => vec![c],
        Some(c) => {
            return Err(RenderError::Nothing {
                message: format!(
                    "municipality {c} is not in the programme; programme municipalities: {}",
                    config
                        .program
                        .municipalities
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        None => config.program.municipalities.clone(),
    };
    let index = metric_index(config, &spec.name, settings.disclosure)?;
    let date_label = format::date_label(settings.date);
    let template = Template::Quarterly(spec.clone());
    codes
        .iter()
        .map(|code| {
            let started = std::time::Instant::now();
            let data = quarterly::build(
                &index,
                config,
                settings.disclosure,
                *code,
                quarter,
                &date_label,
            );
            let bytes = json(&data, settings);
            let pdf = pdf(
                &settings.templates,
                &template,
                Some(&bytes),
                settings.date,
                &format!(
                    "maaltal/{}/{}/{quarter}/{code}",
                    config.program.id, spec.name
                ),
            )?;
            crate::progress::advance(1);
            Ok(Rendered {
                template: template.clone(),
                period: quarter.to_string(),
                municipality: Some(*code),
                recipient: None,
                file_name: spec.file_name(&quarter.to_string(), &slug(&data.municipality), ""),
                pdf,
                data_sha256: fingerprint(&bytes),
                data: bytes,
                elapsed: started.elapsed(),
            })
        })
        .collect()
}

/// The programme overview `spec` (shape `overview`) of `quarter`.
pub fn overview(
    config: &crate::config::Config,
    spec: &Arc<ReportSpec>,
    quarter: crate::period::Period,
    settings: &Settings,
) -> Result<Rendered, RenderError> {
    if !quarter.is_quarter() {
        return Err(RenderError::Nothing {
            message: format!(
                "`{quarter}` is not a quarter; the {} report is quarterly (2018Q4)",
                spec.name
            ),
        });
    }
    let index = metric_index(config, &spec.name, settings.disclosure)?;
    let template = Template::Overview(spec.clone());
    let started = std::time::Instant::now();
    let data = overview::build(
        &index,
        config,
        settings.disclosure,
        quarter,
        &format::date_label(settings.date),
    );
    let bytes = json(&data, settings);
    let pdf = pdf(
        &settings.templates,
        &template,
        Some(&bytes),
        settings.date,
        &format!("maaltal/{}/{}/{quarter}", config.program.id, spec.name),
    )?;
    crate::progress::advance(1);
    Ok(Rendered {
        template,
        period: quarter.to_string(),
        municipality: None,
        recipient: None,
        file_name: spec.file_name(&quarter.to_string(), "", ""),
        pdf,
        data_sha256: fingerprint(&bytes),
        data: bytes,
        elapsed: started.elapsed(),
    })
}

/// Every PDF of `template` for `period` (every municipality, every recipient), held
/// at once.
pub fn make(
    config: &crate::config::Config,
    template: &Template,
    period: crate::period::Period,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    match template {
        Template::Quarterly(spec) => quarterly(config, spec, period, None, settings),
        Template::Overview(spec) => Ok(vec![overview(config, spec, period, settings)?]),
        Template::StaffBook(spec) => staff_books(config, spec, period, None, settings),
        Template::Custom(spec) => custom(config, spec, period, None, settings),
    }
}

/// The staff book `spec` of `month` for every recipient of every municipality with an
/// export, or for one recipient, all held at once; [`Books`] renders them a batch at
/// a time.
pub fn staff_books(
    config: &crate::config::Config,
    spec: &Arc<ReportSpec>,
    month: crate::period::Period,
    recipient: Option<&str>,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    let books = Books::load(config, spec, month, recipient, settings)?;
    books.each(settings).collect()
}

#[cfg(test)]
mod tests;
