//! `[comparison]`: the comparison with similar municipalities ("sammenlignelige
//! kommuner", docs/metrics.md): configured comparison groups, and the bands of the
//! expected level. Written, validated and resolved here; the SQL reads it as tables.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::problems::{Problems, codes};

/// `[comparison]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComparison {
    /// Fewest contributing members for a group value (default 3). With 3 or more, a
    /// group value is never one other municipality's figure.
    pub min_municipalities: Option<i64>,
    /// Fewest reference persons in a cell that one of the municipality's persons falls
    /// in (default 20); fewer in any such cell: no expected level.
    pub min_reference_persons: Option<i64>,
    /// The comparison groups by id: `[comparison.groups.<id>]`.
    #[serde(default)]
    pub groups: BTreeMap<String, RawGroup>,
    /// The expected level (indirect standardisation).
    pub expected: Option<RawExpected>,
}

/// `[comparison.groups.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// The group's name in the reports, e.g. `"Østsjælland"`.
    pub label: String,
    /// DST codes of the group's municipalities; programme municipalities may be listed
    /// (their group is this one) but never count in a comparison value.
    pub municipalities: Vec<i64>,
}

/// `[comparison.expected]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpected {
    /// The metrics that get an expected level (default: the catalogue's per-person metrics).
    pub metrics: Option<Vec<String>>,
    /// Lower bounds of the age bands in years (default `[18, 30, 40, 50]`: 18-29,
    /// 30-39, 40-49, 50-64).
    pub age_bands: Option<Vec<i64>>,
    /// Bounds of the bands of months since the first integrationsydelse (default
    /// `[12, 24]`: under 12, 12-23, 24-36).
    pub months_bands: Option<Vec<i64>>,
}

/// One comparison group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparisonGroup {
    /// Its id (the table key), e.g. `sjaelland_ost`.
    pub id: String,
    /// Its name in the reports.
    pub label: String,
    /// Its municipalities, as listed.
    pub municipalities: Vec<i32>,
}

/// `[comparison]`, validated.
#[derive(Debug, Clone)]
pub struct ComparisonConfig {
    /// Fewest contributing members for a group value.
    pub min_municipalities: i64,
    /// Fewest reference persons in a used cell for an expected level.
    pub min_reference_persons: i64,
    /// The groups, by id.
    pub groups: Vec<ComparisonGroup>,
    /// Metrics with an expected level.
    pub expected_metrics: Vec<String>,
    /// Lower bounds of the age bands, in years, from 18 up.
    pub age_bands: Vec<i64>,
    /// Bounds of the bands of months since the first integrationsydelse.
    pub months_bands: Vec<i64>,
}

impl ComparisonConfig {
    /// The group a municipality belongs to.
    #[must_use]
    pub fn group_of(&self, code: i32) -> Option<&ComparisonGroup> {
        self.groups
            .iter()
            .find(|g| g.municipalities.contains(&code))
    }

    /// Age bands as (label, lower years, upper years): `18-29`, …, `50-64`.
    #[must_use]
    pub fn age_band_bounds(&self) -> Vec<(String, i64, i64)> {
        bands(&self.age_bands, 65, |lo, hi| format!("{lo}-{}", hi - 1))
    }

    /// Months bands as (label, lower months, upper months): `0-11`, `12-23`, `24-36`.
    #[must_use]
    pub fn months_band_bounds(&self) -> Vec<(String, i64, i64)> {
        let mut lows = vec![0];
        lows.extend(&self.months_bands);
        let n = lows.len();
        let mut out = bands(&lows, 36, |lo, hi| format!("{lo}-{}", hi - 1));
        // The last band holds its upper bound: 36 months exactly is still in the
        // programme.
        if let Some(last) = out.get_mut(n - 1) {
            last.0 = format!("{}-36", last.1);
        }
        out
    }

    /// Programme municipalities in no group: they get no group value (`validate` warns).
    #[must_use]
    pub fn ungrouped(&self, programme: &[i32]) -> Vec<i32> {
        programme
            .iter()
            .copied()
            .filter(|c| self.group_of(*c).is_none())
            .collect()
    }
}

fn bands(lows: &[i64], end: i64, label: impl Fn(i64, i64) -> String) -> Vec<(String, i64, i64)> {
    lows.iter()
        .enumerate()
        .map(|(i, lo)| {
            let hi = lows.get(i + 1).copied().unwrap_or(end);
            (label(*lo, hi), *lo, hi)
        })
        .collect()
}

fn increasing(p: &mut Problems<'_>, field: &str, list: &[i64], first: Option<i64>, below: i64) {
    if list.windows(2).any(|w| w[0] >= w[1]) {
        p.at(
            field,
            format!("{list:?}: give the bounds in increasing order"),
        );
    }
    if let Some(first) = first
        && list.first() != Some(&first)
    {
        p.at(
            field,
            format!(
                "{list:?}: the first band must start at {first}, where the target group starts"
            ),
        );
    }
    if let Some(bad) = list.iter().find(|v| **v <= 0 || **v >= below) {
        p.at(
            field,
            format!("{bad}: give bounds between 1 and {}", below - 1),
        );
    }
}

/// Validates `[comparison]` (absent: the defaults and no groups).
pub(super) fn validate_comparison(
    p: &mut Problems<'_>,
    r: RawComparison,
    metrics: Option<&super::MetricsConfig>,
) -> ComparisonConfig {
    let catalogue = metrics.map(|m| m.catalogue.as_slice()).unwrap_or_default();
    let per_person: Vec<&str> = catalogue
        .iter()
        .filter(|m| m.per_person)
        .map(|m| m.metric.as_str())
        .collect();
    let min_municipalities = r.min_municipalities.unwrap_or(3);
    if !(2..=98).contains(&min_municipalities) {
        p.at(
            "comparison.min_municipalities",
            format!(
                "{min_municipalities}: give 2..=98; with 1, a group value would be one other municipality's figure"
            ),
        );
    }
    let min_reference_persons = r.min_reference_persons.unwrap_or(20);
    if min_reference_persons < 1 {
        p.at(
            "comparison.min_reference_persons",
            format!("{min_reference_persons}: give at least 1"),
        );
    }
    let mut groups = Vec::new();
    let mut seen: BTreeMap<i32, String> = BTreeMap::new();
    for (id, g) in r.groups {
        let field = format!("comparison.groups.{id}");
        if g.label.trim().is_empty() {
            p.at(&format!("{field}.label"), "must not be empty");
        }
        let list = codes(p, &format!("{field}.municipalities"), &g.municipalities);
        for (i, code) in list.iter().enumerate() {
            if let Some(other) = seen.get(code) {
                p.at(
                    &format!("{field}.municipalities.{i}"),
                    format!("municipality {code} is already in group `{other}`; a municipality belongs to one group"),
                );
            } else {
                seen.insert(*code, id.clone());
            }
        }
        groups.push(ComparisonGroup {
            id,
            label: g.label,
            municipalities: list,
        });
    }
    let e = r.expected.unwrap_or_default();
    let expected_metrics = e
        .metrics
        .unwrap_or_else(|| per_person.iter().map(|m| (*m).to_string()).collect());
    // Without a valid `[metrics]` there is no catalogue to check against; its own
    // problem is reported there.
    for (i, m) in expected_metrics
        .iter()
        .enumerate()
        .filter(|_| metrics.is_some())
    {
        let field = format!("comparison.expected.metrics.{i}");
        if !catalogue.iter().any(|c| c.metric == *m) {
            p.at(
                &field,
                format!("unknown metric `{m}`; valid: {}", per_person.join(", ")),
            );
        } else if !per_person.contains(&m.as_str()) {
            p.at(
                &field,
                format!(
                    "`{m}`: an expected level needs data per person; only {} have it (Jobindsats gives aggregates)",
                    per_person.join(", ")
                ),
            );
        }
    }
    let age_bands = e.age_bands.unwrap_or_else(|| vec![18, 30, 40, 50]);
    increasing(p, "comparison.expected.age_bands", &age_bands, Some(18), 65);
    let months_bands = e.months_bands.unwrap_or_else(|| vec![12, 24]);
    increasing(
        p,
        "comparison.expected.months_bands",
        &months_bands,
        None,
        36,
    );
    ComparisonConfig {
        min_municipalities,
        min_reference_persons,
        groups,
        expected_metrics,
        age_bands,
        months_bands,
    }
}
