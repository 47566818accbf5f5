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
pub mod maanedsbog;
pub mod marts;
pub mod metric;
pub mod overview;
pub mod peer_block;
pub mod peers;
pub mod quarterly;
pub mod world;

use chrono::NaiveDate;

use crate::extract::Blame;

pub use books::{Books, Planned};
use compile::hints_text;
pub use compile::pdf;
pub use custom::custom;
pub use files::{file_part, slug, write_all, write_one};
pub use world::Templates;

/// The report kinds and their templates: the built-in shapes, and a programme's own
/// reports (`[[reports.report]]`, made by [`custom`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Template {
    /// Quarterly status report per programme municipality.
    Quarterly,
    /// Programme overview for the secretariat.
    Overview,
    /// Månedsbog per recipient.
    Maanedsbog,
    /// A programme's own report: its template gets the rows of the marts it names.
    Custom(std::sync::Arc<crate::config::reports::ReportSpec>),
}

impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Template {
    /// The built-in shapes.
    pub const ALL: [Self; 3] = [Self::Quarterly, Self::Overview, Self::Maanedsbog];

    /// The reports a config can make: the built-in shapes its templates have (an
    /// embedded programme folder may have none of them), then the programme's own.
    #[must_use]
    pub fn all(config: &crate::config::Config) -> Vec<Self> {
        let embedded = crate::config::programmes::embedded_templates(&config.program.id)
            .filter(|_| config.program.templates.is_none());
        let mut out: Vec<Self> = Self::ALL
            .into_iter()
            .filter(|t| embedded.is_none_or(|files| files.iter().any(|(n, _)| *n == t.file())))
            .collect();
        out.extend(config.reports.custom.iter().cloned().map(Self::Custom));
        out
    }

    /// The report of a config named `name`.
    #[must_use]
    pub fn named(config: &crate::config::Config, name: &str) -> Option<Self> {
        Self::all(config).into_iter().find(|t| t.name() == name)
    }

    /// The template's file in `report-templates/`.
    #[must_use]
    pub fn file(&self) -> &str {
        match self {
            Self::Quarterly => "quarterly.typ",
            Self::Overview => "overview.typ",
            Self::Maanedsbog => "maanedsbog.typ",
            Self::Custom(spec) => &spec.template,
        }
    }

    /// Its sample data.
    #[must_use]
    pub fn sample(&self) -> String {
        match self {
            Self::Quarterly => "quarterly.sample.json".into(),
            Self::Overview => "overview.sample.json".into(),
            Self::Maanedsbog => "maanedsbog.sample.json".into(),
            Self::Custom(spec) => spec.sample(),
        }
    }

    /// The report's name in the delivery ledger and in logs.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Quarterly => "quarterly",
            Self::Overview => "overview",
            Self::Maanedsbog => "maanedsbog",
            Self::Custom(spec) => &spec.name,
        }
    }

    /// Made for a quarter (else for a month).
    #[must_use]
    pub fn quarterly(&self) -> bool {
        !matches!(self, Self::Maanedsbog)
    }
}

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
        report: &'static str,
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
    pub templates: std::sync::Arc<Templates>,
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

fn marts_error(report: &'static str) -> impl Fn(String) -> RenderError {
    move |message| RenderError::Marts { report, message }
}

fn metric_index(
    config: &crate::config::Config,
    report: &'static str,
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

/// The quarterly status reports of `quarter`: every programme municipality, or one.
pub fn quarterly(
    config: &crate::config::Config,
    quarter: crate::period::Period,
    municipality: Option<i32>,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    if !quarter.is_quarter() {
        return Err(RenderError::Nothing {
            message: format!(
                "`{quarter}` is not a quarter; the status report is quarterly (2018Q4)"
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
    let index = metric_index(config, "quarterly", settings.disclosure)?;
    let date_label = format::date_label(settings.date);
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
                &Template::Quarterly,
                Some(&bytes),
                settings.date,
                &format!("maaltal/{}/quarterly/{quarter}/{code}", config.program.id),
            )?;
            crate::progress::advance(1);
            Ok(Rendered {
                template: Template::Quarterly,
                period: quarter.to_string(),
                municipality: Some(*code),
                recipient: None,
                file_name: format!("statusrapport_{quarter}_{}.pdf", slug(&data.municipality)),
                pdf,
                data_sha256: fingerprint(&bytes),
                data: bytes,
                elapsed: started.elapsed(),
            })
        })
        .collect()
}

/// The programme overview of `quarter`.
pub fn overview(
    config: &crate::config::Config,
    quarter: crate::period::Period,
    settings: &Settings,
) -> Result<Rendered, RenderError> {
    if !quarter.is_quarter() {
        return Err(RenderError::Nothing {
            message: format!("`{quarter}` is not a quarter; the overview is quarterly (2018Q4)"),
        });
    }
    let index = metric_index(config, "overview", settings.disclosure)?;
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
        &Template::Overview,
        Some(&bytes),
        settings.date,
        &format!("maaltal/{}/overview/{quarter}", config.program.id),
    )?;
    crate::progress::advance(1);
    Ok(Rendered {
        template: Template::Overview,
        period: quarter.to_string(),
        municipality: None,
        recipient: None,
        file_name: format!("oversigt_{quarter}.pdf"),
        pdf,
        data_sha256: fingerprint(&bytes),
        data: bytes,
        elapsed: started.elapsed(),
    })
}

/// The månedsbog of `month` for every recipient of every municipality with an export,
/// or for one recipient, all held at once; [`Books`] renders them a batch at a time.
pub fn maanedsbog(
    config: &crate::config::Config,
    month: crate::period::Period,
    recipient: Option<&str>,
    settings: &Settings,
) -> Result<Vec<Rendered>, RenderError> {
    let books = Books::load(config, month, recipient, settings)?;
    books.each(settings).collect()
}

#[cfg(test)]
mod tests;
