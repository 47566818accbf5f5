//! The chart data of the target-metric reports: bars per municipality and development
//! lines, with disclosure applied, and their alternative texts (PDF/UA).

use std::fmt::Write as _;

use serde::Serialize;

use super::disclosure::{Cell, Disclosure, State};
use super::format;
use super::metric::{Index, MetricInfo};
use crate::config::Config;
use crate::period::Period;

/// A horizontal bar chart: a row per municipality, one bar per series.
#[derive(Debug, Clone, Serialize)]
pub struct BarChart {
    /// Alternative text (PDF/UA), generated from the same data.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Series names ("4. kvartal 2016 (baseline)", "4. kvartal 2018").
    pub series: Vec<String>,
    /// Axis maximum (per cent).
    pub max: f64,
    /// Reference lines (project averages).
    pub lines: Vec<RefLine>,
    /// Rows.
    pub rows: Vec<BarRow>,
}

/// A reference line in a bar chart.
#[derive(Debug, Clone, Serialize)]
pub struct RefLine {
    /// Legend text.
    pub label: String,
    /// Position (per cent).
    pub value: f64,
    /// The series whose colour it takes.
    pub series: usize,
}

/// One municipality in a bar chart.
#[derive(Debug, Clone, Serialize)]
pub struct BarRow {
    /// Municipality.
    pub name: String,
    /// One cell per series.
    pub cells: Vec<Cell>,
    /// This report's municipality.
    pub highlight: bool,
}

/// A development over time: lines over periods.
#[derive(Debug, Clone, Serialize)]
pub struct TrendChart {
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Period labels on the x axis.
    pub labels: Vec<String>,
    /// Print every n-th label.
    pub label_every: usize,
    /// Axis maximum (per cent).
    pub max: f64,
    /// The lines.
    pub series: Vec<Series>,
}

/// One line.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Per cent per period; none where hidden or missing (a gap in the line).
    pub values: Vec<Option<f64>>,
    /// Drawn strong.
    pub highlight: bool,
    /// Drawn dotted (the comparison group).
    pub dotted: bool,
}

/// A round axis maximum above every value: 10, 20, … 100.
#[must_use]
pub fn axis_max(values: impl IntoIterator<Item = f64>) -> f64 {
    let m = values.into_iter().fold(0.0_f64, f64::max);
    ((m / 10.0).ceil() * 10.0).clamp(10.0, 100.0)
}

/// The periods from the baseline through `now`.
#[must_use]
pub fn periods_since(baseline: Period, now: Period) -> Vec<Period> {
    if baseline.is_quarter() == now.is_quarter() && baseline <= now {
        baseline.through(now)
    } else {
        vec![now]
    }
}

/// The development of a municipality (or none: the average alone) against the average.
#[must_use]
pub fn trend(
    index: &Index,
    d: Disclosure,
    info: &MetricInfo,
    code: Option<(i32, &str)>,
    periods: &[Period],
) -> TrendChart {
    let labels: Vec<String> = periods.iter().map(|p| format::period_short(*p)).collect();
    let keys: Vec<String> = periods.iter().map(|p| metric_key(*p)).collect();
    let mut series = Vec::new();
    if let Some((code, name)) = code {
        series.push(Series {
            name: name.to_string(),
            values: keys
                .iter()
                .map(|k| index.share(d, code, &info.metric, k, "alle").value)
                .collect(),
            highlight: true,
            dotted: false,
        });
    }
    series.push(Series {
        name: "Projektkommunegennemsnit".into(),
        values: keys
            .iter()
            .map(|k| index.average(&info.metric, k, "alle").value)
            .collect(),
        highlight: code.is_none(),
        dotted: false,
    });
    let max = axis_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
    let first = periods
        .first()
        .map(|p| format::period_label(*p))
        .unwrap_or_default();
    let last = periods
        .last()
        .map(|p| format::period_label(*p))
        .unwrap_or_default();
    let describe = |s: &Series| {
        let pts: Vec<String> = s
            .values
            .iter()
            .zip(&labels)
            .map(|(v, l)| match v {
                Some(v) => format!("{l}: {}", format::number(*v, 1)),
                None => format!("{l}: ingen værdi"),
            })
            .collect();
        format!("{} (pct.): {}", s.name, pts.join("; "))
    };
    let alt = format!(
        "Linjediagram over {} fra {first} til {last}. {}.",
        info.title.to_lowercase(),
        series.iter().map(describe).collect::<Vec<_>>().join(". ")
    );
    TrendChart {
        alt,
        caption: format!("Udviklingen fra {first} til {last}"),
        label_every: labels.len().div_ceil(5).max(1),
        labels,
        max,
        series,
    }
}

/// The mart's period key: `2018Q4`, a monthly metric's `2018M12`.
#[must_use]
pub fn metric_key(p: Period) -> String {
    match p {
        Period::Month { year, month } => format!("{year}M{month:02}"),
        Period::Quarter { .. } => p.to_string(),
    }
}

/// Bars of every programme municipality, baseline and now, sorted by now (highest first;
/// hidden and missing last, then by name).
#[must_use]
pub fn bars(
    index: &Index,
    d: Disclosure,
    config: &Config,
    info: &MetricInfo,
    baseline: Period,
    now: Period,
    highlight: Option<i32>,
) -> BarChart {
    let (bk, nk) = (metric_key(baseline), metric_key(now));
    let mut rows: Vec<BarRow> = config
        .program
        .municipalities
        .iter()
        .map(|code| BarRow {
            name: municipality_name(index, *code),
            cells: vec![
                index.share(d, *code, &info.metric, &bk, "alle"),
                index.share(d, *code, &info.metric, &nk, "alle"),
            ],
            highlight: highlight == Some(*code),
        })
        .collect();
    sort_rows(&mut rows, 1);
    let mut lines = Vec::new();
    let avg_then = index.average(&info.metric, &bk, "alle");
    let avg_now = index.average(&info.metric, &nk, "alle");
    if let Some(v) = avg_then.value {
        lines.push(RefLine {
            label: format!(
                "Projektkommunegennemsnit {} ({})",
                format::period_label(baseline),
                avg_then.text
            ),
            value: v,
            series: 0,
        });
    }
    if let Some(v) = avg_now.value {
        lines.push(RefLine {
            label: format!(
                "Projektkommunegennemsnit {} ({})",
                format::period_label(now),
                avg_now.text
            ),
            value: v,
            series: 1,
        });
    }
    let series = vec![
        format!("{} (baseline)", format::period_label(baseline)),
        format::period_label(now),
    ];
    let alt = bar_alt(&info.title, &series, &rows, &lines);
    BarChart {
        alt,
        caption: format!(
            "{} på tværs af projektkommunerne, {} (baseline) og {}",
            info.title,
            format::period_label(baseline),
            format::period_label(now)
        ),
        max: axis_max(
            rows.iter()
                .flat_map(|r| r.cells.iter().filter_map(|c| c.value)),
        ),
        series,
        lines,
        rows,
    }
}

/// The most rows a status report's bar chart shows: about a page.
pub const MAX_BARS: usize = 24;

/// With more than [`MAX_BARS`] municipalities (a national programme has 98), a status
/// report's chart keeps the five highest, the five lowest and the report's
/// municipality with two neighbours on either side; each run left out becomes one row
/// without bars that says how many. The alternative text still reads every row, and
/// the overview (for the secretariat) always shows all.
pub fn focus(chart: &mut BarChart, name: &str) {
    let n = chart.rows.len();
    if n <= MAX_BARS {
        return;
    }
    let mut keep = vec![false; n];
    for i in 0..5 {
        keep[i] = true;
        keep[n - 1 - i] = true;
    }
    if let Some(h) = chart.rows.iter().position(|r| r.highlight) {
        for k in keep
            .iter_mut()
            .take((h + 2).min(n - 1) + 1)
            .skip(h.saturating_sub(2))
        {
            *k = true;
        }
    }
    let mut rows = Vec::new();
    let mut left_out = 0;
    let gap = |k: usize| BarRow {
        name: format!("… {k} {}", if k == 1 { "kommune" } else { "kommuner" }),
        cells: Vec::new(),
        highlight: false,
    };
    for (row, kept) in chart.rows.drain(..).zip(keep) {
        if kept {
            if left_out > 0 {
                rows.push(gap(left_out));
                left_out = 0;
            }
            rows.push(row);
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        rows.push(gap(left_out));
    }
    chart.rows = rows;
    let _ = write!(
        chart.caption,
        ". Af de {n} projektkommuner vises de fem højeste, de fem laveste og kommunerne omkring {name}"
    );
}

/// Sorts bar rows by the value of series `by`, highest first; rows without a value last.
pub fn sort_rows(rows: &mut [BarRow], by: usize) {
    rows.sort_by(|a, b| {
        let (va, vb) = (a.cells[by].value, b.cells[by].value);
        match (va, vb) {
            (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.name.cmp(&b.name)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        }
    });
}

/// The alternative text of a bar chart: every bar's value, in words.
#[must_use]
pub fn bar_alt(title: &str, series: &[String], rows: &[BarRow], lines: &[RefLine]) -> String {
    let rows_text: Vec<String> = rows
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .cells
                .iter()
                .zip(series)
                .map(|(c, s)| format!("{s} {}", spoken(c)))
                .collect();
            format!("{}: {}", r.name, cells.join(", "))
        })
        .collect();
    let lines_text: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    format!(
        "Søjlediagram: {} for {} kommuner. {}. {}",
        title.to_lowercase(),
        rows.len(),
        rows_text.join("; "),
        lines_text.join(". ")
    )
}

/// A cell as words for alternative text.
#[must_use]
pub fn spoken(c: &Cell) -> String {
    match c.state {
        State::Value => c.text.clone(),
        State::Hidden => "skjult (for få personer)".into(),
        State::Missing => "ingen data".into(),
    }
}

/// The name of a municipality: from the marts, else the DST list.
#[must_use]
pub fn municipality_name(index: &Index, code: i32) -> String {
    index
        .names
        .get(&code)
        .cloned()
        .or_else(|| crate::municipality::name(code).map(str::to_string))
        .unwrap_or_else(|| code.to_string())
}

/// The legend of the hidden and missing marks.
#[must_use]
pub fn legend(d: Disclosure) -> String {
    format!(
        "–: andelen er skjult, fordi færre end {} personer indgår (diskretionering). i.d.: ikke data (kilden mangler eller har selv skjult tallet, eller ingen er i målgruppen).",
        d.min
    )
}
