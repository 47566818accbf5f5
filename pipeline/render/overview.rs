//! The programme overview for the secretariat: all municipalities side by side, a page
//! per metric (the annual report's figures 1-3, 5 and 6) and the sex splits (figures 4,
//! 13 and 14).

use serde::Serialize;

use super::disclosure::{Cell, Disclosure};
use super::format;
use super::metric::{self, BarChart, BarRow, Index, RefLine, metric_key, metric_period};
use crate::config::Config;
use crate::period::Period;

/// The JSON document `report-templates/imi/overview.typ` lays out.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewData {
    /// Version of this document's shape.
    pub schema_version: u32,
    /// Programme name.
    pub program: String,
    /// `2018Q4`.
    pub period: String,
    /// "4. kvartal 2018".
    pub period_label: String,
    /// The document's date.
    pub date_label: String,
    /// How many programme municipalities.
    pub municipalities: usize,
    /// What is missing, a line each.
    pub missing: Vec<String>,
    /// A page per metric.
    pub metrics: Vec<MetricPage>,
    /// A page per sex split.
    pub sexes: Vec<SexPage>,
    /// A page per metric: "Sammenlignelige kommuner".
    pub peers: Vec<super::peer_block::PeerPage>,
    /// The marks for hidden and missing values.
    pub legend: String,
}

/// One metric across the programme.
#[derive(Debug, Clone, Serialize)]
pub struct MetricPage {
    /// "Målsætning 1".
    pub number: String,
    /// Title.
    pub title: String,
    /// Whether the period's data is there.
    pub available: bool,
    /// What is missing.
    pub missing_note: Option<String>,
    /// Baseline and now, every municipality.
    pub bars: BarChart,
    /// Table heading.
    pub columns: Vec<String>,
    /// A row per municipality, in the bars' order, then the project average.
    pub rows: Vec<TableRow>,
    /// Definitions.
    pub footnotes: Vec<String>,
    /// Source.
    pub source: String,
}

/// A table row: a name and cells.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// Name.
    pub name: String,
    /// Cells.
    pub cells: Vec<Cell>,
    /// The project average row.
    pub total: bool,
}

/// Men against women across the programme.
#[derive(Debug, Clone, Serialize)]
pub struct SexPage {
    /// Title.
    pub title: String,
    /// Whether there is data.
    pub available: bool,
    /// What is missing.
    pub missing_note: Option<String>,
    /// Men and women per municipality, sorted by the gap.
    pub bars: BarChart,
    /// Table heading.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<TableRow>,
    /// Notes.
    pub footnotes: Vec<String>,
    /// Source.
    pub source: String,
}

fn missing_note(info: &metric::MetricInfo, now: Period) -> String {
    format!(
        "Data fra {} for {} er ikke modtaget endnu.",
        info.source_name,
        format::period_label(now)
    )
}

/// Builds the overview of quarter `quarter`.
#[must_use]
pub fn build(
    index: &Index,
    config: &Config,
    d: Disclosure,
    quarter: Period,
    date_label: &str,
) -> OverviewData {
    let mut metrics = Vec::new();
    let mut missing = Vec::new();
    for info in &config.metrics.catalogue {
        let now = metric_period(info, quarter);
        let baseline = config
            .metrics
            .baseline
            .get(&info.metric)
            .copied()
            .unwrap_or(now);
        let nk = metric_key(now);
        let available = index.has(&info.metric, &nk);
        let note = (!available).then(|| missing_note(info, now));
        if let Some(n) = &note {
            missing.push(format!("{}: {n}", info.number));
        }
        let bars = metric::bars(index, d, config, info, baseline, now, None);
        let mut rows: Vec<TableRow> = bars
            .rows
            .iter()
            .map(|r| {
                let code = config
                    .program
                    .municipalities
                    .iter()
                    .copied()
                    .find(|c| metric::municipality_name(index, *c) == r.name);
                let rank = code
                    .and_then(|c| index.comparison(c, &info.metric, &nk, "alle"))
                    .and_then(|c| c.rank)
                    .filter(|_| r.cells[1].shown())
                    .map_or_else(|| "–".into(), |r| r.to_string());
                TableRow {
                    name: r.name.clone(),
                    cells: vec![
                        r.cells[0].clone(),
                        r.cells[1].clone(),
                        d.change(&r.cells[1], &r.cells[0]),
                        Cell {
                            text: rank,
                            value: None,
                            state: super::disclosure::State::Value,
                        },
                    ],
                    total: false,
                }
            })
            .collect();
        let (a0, a1) = (
            index.average(&info.metric, &metric_key(baseline), "alle"),
            index.average(&info.metric, &nk, "alle"),
        );
        rows.push(TableRow {
            name: "Projektkommunegennemsnit".into(),
            cells: vec![
                a0.clone(),
                a1.clone(),
                d.change(&a1, &a0),
                Cell {
                    text: String::new(),
                    value: None,
                    state: super::disclosure::State::Missing,
                },
            ],
            total: true,
        });
        metrics.push(MetricPage {
            number: info.number.clone(),
            title: info.title.clone(),
            available,
            missing_note: note,
            bars,
            columns: vec![
                "Kommune".into(),
                format!("{} (baseline)", format::period_label(baseline)),
                format::period_label(now),
                "Ændring".into(),
                "Placering".into(),
            ],
            rows,
            footnotes: vec![
                info.definition_text(&config.metrics),
                info.average_note.clone(),
            ],
            source: format!(
                "{} {} og {}.",
                info.source.trim_end_matches('.'),
                format::period_label(baseline),
                format::period_label(now)
            ),
        });
    }
    let sexes = config
        .metrics
        .catalogue
        .iter()
        .filter(|i| i.part_of.is_none())
        .map(|info| sex_page(index, config, d, info, quarter))
        .collect();
    OverviewData {
        schema_version: 1,
        program: config.program.name.clone(),
        period: quarter.to_string(),
        period_label: format::period_label(quarter),
        date_label: date_label.into(),
        municipalities: config.program.municipalities.len(),
        missing,
        metrics,
        sexes,
        peers: config
            .metrics
            .catalogue
            .iter()
            .map(|info| {
                super::peer_block::page(index, config, d, info, metric_period(info, quarter))
            })
            .collect(),
        legend: metric::legend(d),
    }
}

fn sex_page(
    index: &Index,
    config: &Config,
    d: Disclosure,
    info: &metric::MetricInfo,
    quarter: Period,
) -> SexPage {
    let now = metric_period(info, quarter);
    let nk = metric_key(now);
    let available = index.has(&info.metric, &nk);
    let mut rows: Vec<(BarRow, Cell)> = config
        .program
        .municipalities
        .iter()
        .map(|code| {
            let (m, k) = index.sexes(d, *code, &info.metric, &nk);
            let gap = d.change(&m, &k);
            (
                BarRow {
                    name: metric::municipality_name(index, *code),
                    cells: vec![m, k],
                    highlight: false,
                },
                gap,
            )
        })
        .collect();
    // Sorted by the gap between men and women, largest first, as the annual report's figure 4.
    rows.sort_by(|(a, ga), (b, gb)| match (ga.value, gb.value) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    let (am, ak) = (
        index.average(&info.metric, &nk, "M"),
        index.average(&info.metric, &nk, "K"),
    );
    let mut lines = Vec::new();
    if let Some(v) = am.value {
        lines.push(RefLine {
            label: format!("Projektkommunegennemsnit, mænd ({})", am.text),
            value: v,
            series: 0,
        });
    }
    if let Some(v) = ak.value {
        lines.push(RefLine {
            label: format!("Projektkommunegennemsnit, kvinder ({})", ak.text),
            value: v,
            series: 1,
        });
    }
    let series = vec!["Mænd".to_string(), "Kvinder".to_string()];
    let bar_rows: Vec<BarRow> = rows.iter().map(|(r, _)| r.clone()).collect();
    let title = format!(
        "{}, mænd og kvinder, {}",
        info.title,
        format::period_label(now)
    );
    let bars = BarChart {
        alt: metric::bar_alt(&title, &series, &bar_rows, &lines),
        caption: format!("{title}, sorteret efter forskellen mellem mænd og kvinder"),
        max: metric::axis_max(
            bar_rows
                .iter()
                .flat_map(|r| r.cells.iter().filter_map(|c| c.value)),
        ),
        series,
        lines,
        rows: bar_rows,
    };
    let mut table: Vec<TableRow> = rows
        .into_iter()
        .map(|(r, gap)| TableRow {
            name: r.name,
            cells: vec![r.cells[0].clone(), r.cells[1].clone(), gap],
            total: false,
        })
        .collect();
    table.push(TableRow {
        name: "Projektkommunegennemsnit".into(),
        cells: vec![am.clone(), ak.clone(), d.change(&am, &ak)],
        total: true,
    });
    SexPage {
        title,
        available,
        missing_note: (!available).then(|| missing_note(info, now)),
        bars,
        columns: vec!["Kommune".into(), "Mænd".into(), "Kvinder".into(), "Forskel".into()],
        rows: table,
        footnotes: vec![
            "Forskel: mændenes andel minus kvindernes, i procentpoint. Når mænd eller kvinder i en kommune er så få, at andelen skjules, skjules den anden andel også.".into(),
        ],
        source: format!("{} {}.", info.source.trim_end_matches('.'), format::period_label(now)),
    }
}
