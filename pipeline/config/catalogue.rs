//! `[[metrics.catalogue]]`: the programme's metrics, in report order: what the reports
//! call each one, how often it is measured, where its data comes from, and the
//! definition and averaging notes printed under its figures. Texts, not code: a
//! programme changes a title or a definition in its config.

use serde::Deserialize;

use super::problems::Problems;

/// One `[[metrics.catalogue]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetricInfo {
    /// The metric's name in the marts (the `metric` column of `target_metrics`).
    pub metric: String,
    /// "Målsætning 1".
    pub number: String,
    /// The metric's title in the reports.
    pub title: String,
    /// `quarterly` or `monthly`.
    pub cadence: String,
    /// The source's name, for the notes on missing periods (`Jobindsats`).
    pub source_name: String,
    /// The source line under figures (`Kilde: Jobindsats.dk.`).
    pub source: String,
    /// The raw tables the metric is computed from, for the transform's notes.
    pub tables: String,
    /// Counted per person (so it can be compared with an expected level).
    pub per_person: bool,
    /// A part of another metric (`Målsætning 1a` of `Målsætning 1`): the overview
    /// splits only whole metrics by sex.
    #[serde(default)]
    pub part_of: Option<String>,
    /// Its split by sex is measured from `[metrics] sex_gap_baseline`, not from its
    /// own baseline.
    #[serde(default)]
    pub sex_gap_baseline: bool,
    /// How the project average is computed (footnote).
    pub average_note: String,
    /// The definition footnote; `{min_weeks}`, `{jobparat_label}` and `{offer_labels}`
    /// become the `[metrics]` settings.
    pub definition: String,
}

/// A metric of the programme, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricInfo {
    /// The metric's name in the marts (the `metric` column of `target_metrics`).
    pub metric: String,
    /// "Målsætning 1".
    pub number: String,
    /// The title in the reports.
    pub title: String,
    /// The source line under figures.
    pub source: String,
    /// The source a missing period is reported for.
    pub source_name: String,
    /// Measured monthly rather than quarterly.
    pub monthly: bool,
    /// The raw tables it is computed from.
    pub tables: String,
    /// Counted per person.
    pub per_person: bool,
    /// The metric it is a part of.
    pub part_of: Option<String>,
    /// Its sex split is measured from `[metrics] sex_gap_baseline`.
    pub sex_gap_baseline: bool,
    /// How the project average is computed (footnote).
    pub average_note: String,
    /// The definition footnote, with its placeholders.
    pub definition: String,
}

/// The placeholders a definition may use.
const PLACEHOLDERS: [&str; 3] = ["{min_weeks}", "{jobparat_label}", "{offer_labels}"];

impl MetricInfo {
    /// The definition footnote with the configured thresholds and labels.
    #[must_use]
    pub fn definition_text(&self, metrics: &super::MetricsConfig) -> String {
        let offers = metrics
            .offer_labels
            .iter()
            .map(|l| format!("\"{}\"", l.to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ");
        self.definition
            .replace("{min_weeks}", &metrics.min_weeks.to_string())
            .replace("{jobparat_label}", &metrics.jobparat_label)
            .replace("{offer_labels}", &offers)
    }
}

/// The catalogue of the embedded default config: a config without one gets it.
fn embedded() -> Vec<RawMetricInfo> {
    #[derive(Deserialize)]
    struct File {
        metrics: Metrics,
    }
    #[derive(Deserialize)]
    struct Metrics {
        catalogue: Vec<RawMetricInfo>,
    }
    toml::from_str::<toml::Table>(&super::EMBEDDED_DEFAULT)
        .ok()
        .and_then(|t| toml::Value::Table(t).try_into::<File>().ok())
        .map(|f| f.metrics.catalogue)
        .unwrap_or_default()
}

pub(super) fn validate_catalogue(
    p: &mut Problems<'_>,
    raw: Option<Vec<RawMetricInfo>>,
) -> Vec<MetricInfo> {
    let raw = raw.unwrap_or_else(embedded);
    if raw.is_empty() {
        p.at(
            "metrics.catalogue",
            "empty: a programme needs at least one metric (`[[metrics.catalogue]]`)",
        );
    }
    let mut out: Vec<MetricInfo> = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let field = |f: &str| format!("metrics.catalogue.{i}.{f}");
        if r.metric.is_empty()
            || !r
                .metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            p.at(
                &field("metric"),
                format!(
                    "`{}`: give the metric's name in the marts (letters, digits, `_`)",
                    r.metric
                ),
            );
        }
        if out.iter().any(|m| m.metric == r.metric) {
            p.at(
                &field("metric"),
                format!("`{}` is in the catalogue twice", r.metric),
            );
        }
        let monthly = match r.cadence.as_str() {
            "quarterly" => false,
            "monthly" => true,
            other => {
                p.at(
                    &field("cadence"),
                    format!("`{other}`: give `quarterly` or `monthly`"),
                );
                false
            }
        };
        let mut rest = r.definition.clone();
        for ph in PLACEHOLDERS {
            rest = rest.replace(ph, "");
        }
        if let Some(start) = rest.find('{') {
            let name: String = rest[start..].chars().take_while(|c| *c != '}').collect();
            p.at(
                &field("definition"),
                format!(
                    "unknown placeholder `{name}}}`; valid: {}",
                    PLACEHOLDERS.join(", ")
                ),
            );
        }
        out.push(MetricInfo {
            metric: r.metric,
            number: r.number,
            title: r.title,
            source: r.source,
            source_name: r.source_name,
            monthly,
            tables: r.tables,
            per_person: r.per_person,
            part_of: r.part_of,
            sex_gap_baseline: r.sex_gap_baseline,
            average_note: r.average_note,
            definition: r.definition,
        });
    }
    for (i, m) in out.iter().enumerate() {
        if let Some(whole) = &m.part_of
            && !out
                .iter()
                .any(|o| o.metric == *whole && o.part_of.is_none())
        {
            p.at(
                &format!("metrics.catalogue.{i}.part_of"),
                format!("`{whole}`: not a whole metric of the catalogue"),
            );
        }
    }
    out
}
