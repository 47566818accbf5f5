//! What the reports print of the comparison with similar municipalities: the block
//! "Sammenlignelige kommuner" on a metric page of the quarterly report, its sentence on
//! the front page, the group's line in the development chart, the columns of the sex
//! table, and the overview's page per metric. The rules are in peers.rs.

use serde::Serialize;

use super::disclosure::{Cell, Disclosure, State};
use super::format;
use super::metric::{Index, MetricInfo, Series, TrendChart, axis_max, metric_key};
use super::peers::{
    PeerTable, PeerTableRow, derived, group_cell, members_note, over_under, pooled_denominator,
    pp_cell as pp,
};
use crate::config::Config;
use crate::period::Period;

/// The caveat of the annual report (004 §3.1) that every comparison page carries.
pub const CAVEAT: &str = "Det forventede niveau tager ikke højde for forskelle i arbejdsmarkedsforhold; det gør sammenligningsgruppen kun i det omfang, kommunerne er valgt efter dem.";
/// How the group value is computed, for the notes.
pub const METHOD: &str = "Programkommuner indgår ikke i sammenligningen. Gruppens andel er samlet for gruppen: summen af tællerne divideret med summen af nævnerne for de kommuner, der har tal i perioden.";

/// The block on a metric page of the quarterly report.
#[derive(Debug, Clone, Serialize)]
pub struct PeerBlock {
    /// The group table: now, and the development since the baseline.
    pub group: PeerTable,
    /// The expected level (the metrics per person only).
    pub expected: Option<PeerTable>,
    /// Members, who is left out and why, the method, the caveat.
    pub notes: Vec<String>,
    /// The front page's sentence; none when nothing can be said.
    pub sentence: Option<String>,
}

fn share(v: Option<f64>) -> Cell {
    v.map_or_else(Cell::missing, |v| Cell {
        text: format::pct(v),
        value: Some(v * 100.0),
        state: State::Value,
    })
}

/// Whether the metric gets an expected level.
#[must_use]
pub fn has_expected(config: &Config, metric: &str) -> bool {
    config
        .comparison
        .expected_metrics
        .iter()
        .any(|m| m == metric)
}

/// The group's share for a sex, with the "–" rule on its pooled denominator.
#[must_use]
pub fn group_share(
    index: &Index,
    d: Disclosure,
    code: i32,
    metric: &str,
    period: &str,
    sex: &str,
) -> Cell {
    let row = index.peers.row(code, metric, period, sex);
    let den = pooled_denominator(
        &index.peers,
        |c| index.denominator(c, metric, period, sex),
        code,
        (period, None),
        metric,
        sex,
    );
    group_cell(d, row.and_then(|r| r.group_share), den)
}

/// The expected level for a sex, hidden with the own share `own`.
#[must_use]
pub fn expected_share(
    index: &Index,
    code: i32,
    metric: &str,
    period: &str,
    sex: &str,
    own: &Cell,
) -> Cell {
    let row = index.peers.row(code, metric, period, sex);
    derived(own, share(row.and_then(|r| r.expected_share)))
}

/// The block of municipality `code` for a metric, `own` and `then` its shares now and at
/// the baseline as the page prints them.
#[allow(clippy::too_many_arguments, reason = "the parts of one block")]
#[must_use]
pub fn block(
    index: &Index,
    config: &Config,
    d: Disclosure,
    info: &MetricInfo,
    (code, name): (i32, &str),
    (now, baseline): (Period, Period),
    own: &Cell,
    then: &Cell,
) -> PeerBlock {
    let (nk, bk) = (metric_key(now), metric_key(baseline));
    let row = index.peers.row(code, &info.metric, &nk, "alle");
    let now_label = format::period_label(now);
    let mut group_now = group_share(index, d, code, &info.metric, &nk, "alle");
    if group_now.shown()
        && let Some(r) = row
    {
        group_now.text = format!(
            "{} ({} af {} kommuner)",
            group_now.text,
            r.group_municipalities,
            r.group_members.unwrap_or_default()
        );
    }
    let own_change = d.change(own, then);
    let panel_den = pooled_denominator(
        &index.peers,
        |c| index.denominator(c, &info.metric, &nk, "alle"),
        code,
        (&nk, Some(&bk)),
        &info.metric,
        "alle",
    );
    let mut group_change = group_cell(
        d,
        row.and_then(|r| r.group_change_pp.map(|v| v / 100.0)),
        panel_den,
    );
    if let (true, Some(r)) = (group_change.shown(), row)
        && let (Some(a), Some(b), Some(c)) =
            (r.panel_share_baseline, r.panel_share, r.group_change_pp)
    {
        group_change.text = format!(
            "{} ({} → {} i de {} kommuner med tal i begge perioder)",
            format::pp(c / 100.0),
            format::number(a * 100.0, 1),
            format::pct(b),
            r.panel_municipalities
        );
    }
    let difference = derived(own, pp(row.and_then(|r| r.difference_pp)));
    let difference_change = derived(&own_change, pp(row.and_then(|r| r.difference_change_pp)));
    let group = PeerTable {
        columns: vec![
            String::new(),
            name.to_string(),
            "Sammenlignelige kommuner".into(),
            "Forskel".into(),
        ],
        rows: vec![
            PeerTableRow {
                name: now_label.clone(),
                cells: vec![own.clone(), group_now, difference.clone()],
            },
            PeerTableRow {
                name: format!(
                    "Udvikling siden baseline ({})",
                    format::period_label(baseline)
                ),
                cells: vec![own_change, group_change, difference_change.clone()],
            },
        ],
    };
    let expected_diff;
    let expected = if has_expected(config, &info.metric) {
        let e = expected_share(index, code, &info.metric, &nk, "alle", own);
        expected_diff = derived(own, pp(row.and_then(|r| r.expected_difference_pp)));
        Some(PeerTable {
            columns: vec![
                String::new(),
                name.to_string(),
                "Forventet ud fra borgernes køn, alder og tid siden første integrationsydelse"
                    .into(),
                "Forskel".into(),
            ],
            rows: vec![PeerTableRow {
                name: format!("Forventet niveau, {now_label}"),
                cells: vec![own.clone(), e, expected_diff.clone()],
            }],
        })
    } else {
        expected_diff = Cell::missing();
        None
    };
    let mut notes = Vec::new();
    match row.and_then(|r| r.group_label.as_deref()) {
        Some(label) => {
            if let Some(n) = members_note(
                index.peers.members(code, &info.metric, &nk, "alle"),
                &now_label,
            ) {
                notes.push(format!(
                    "{label}. {n} Programkommuner indgår ikke i sammenligningen."
                ));
            }
        }
        None => notes.push(format!("{name} er ikke tildelt en sammenligningsgruppe.")),
    }
    if expected.is_some() {
        notes.push("Forventet niveau: forventet ud fra borgernes køn, alder og tid siden første integrationsydelse, med andelene for de samme grupper af borgere i kommunerne uden for projektet.".into());
        notes.push(CAVEAT.into());
    }
    let sentence = sentence(info, name, &difference, &difference_change, &expected_diff);
    PeerBlock {
        group,
        expected,
        notes,
        sentence,
    }
}

/// "Målsætning 3: Lejre ligger 18,8 procentpoint over sammenlignelige kommuner og er
/// steget 23,9 procentpoint mere end dem siden baseline."
fn sentence(
    info: &MetricInfo,
    name: &str,
    difference: &Cell,
    difference_change: &Cell,
    expected_diff: &Cell,
) -> Option<String> {
    let mut parts = Vec::new();
    if let (true, Some(v)) = (difference.shown(), difference.value) {
        parts.push(format!("ligger {} sammenlignelige kommuner", over_under(v)));
    }
    if let (true, Some(v)) = (expected_diff.shown(), expected_diff.value) {
        let what = format!("{} det forventede niveau", over_under(v));
        if parts.is_empty() {
            parts.push(format!("ligger {what}"));
        } else {
            parts.push(what);
        }
    }
    if let (true, Some(v)) = (difference_change.shown(), difference_change.value) {
        let n = format::number(v.abs(), 1);
        parts.push(if v >= 0.0 {
            format!("er steget {n} procentpoint mere end sammenlignelige kommuner siden baseline")
        } else {
            format!("har udviklet sig {n} procentpoint svagere end sammenlignelige kommuner siden baseline")
        });
    }
    if parts.is_empty() {
        return None;
    }
    let last = parts.pop().unwrap_or_default();
    let text = if parts.is_empty() {
        last
    } else {
        format!("{} og {last}", parts.join(", "))
    };
    Some(format!("{}: {name} {text}.", info.number))
}

/// Adds the comparison group's line (the balanced panel's share per period, dotted) to
/// a development chart.
pub fn add_trend_line(
    chart: &mut TrendChart,
    index: &Index,
    d: Disclosure,
    info: &MetricInfo,
    code: i32,
    periods: &[Period],
    baseline: Period,
) {
    let bk = metric_key(baseline);
    let values: Vec<Option<f64>> = periods
        .iter()
        .map(|p| {
            let k = metric_key(*p);
            let row = index.peers.row(code, &info.metric, &k, "alle")?;
            let den = pooled_denominator(
                &index.peers,
                |c| index.denominator(c, &info.metric, &k, "alle"),
                code,
                (&k, Some(&bk)),
                &info.metric,
                "alle",
            );
            (den >= d.min).then_some(row.panel_share? * 100.0)
        })
        .collect();
    if values.iter().all(Option::is_none) {
        return;
    }
    let described: Vec<String> = values
        .iter()
        .zip(&chart.labels)
        .map(|(v, l)| match v {
            Some(v) => format!("{l}: {}", format::number(*v, 1)),
            None => format!("{l}: ingen værdi"),
        })
        .collect();
    chart.alt = format!(
        "{} Sammenlignelige kommuner, de samme kommuner som ved baseline (pct.): {}.",
        chart.alt,
        described.join("; ")
    );
    chart.series.push(Series {
        name: "Sammenlignelige kommuner".into(),
        values,
        highlight: false,
        dotted: true,
    });
    chart.max = axis_max(
        chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
}

/// A row of the overview's comparison table.
#[derive(Debug, Clone, Serialize)]
pub struct PageRow {
    /// Municipality.
    pub name: String,
    /// Share, group, group value, difference, expected level, difference from it.
    pub cells: Vec<Cell>,
}

/// A bar of the difference chart.
#[derive(Debug, Clone, Serialize)]
pub struct DifferenceBar {
    /// Municipality.
    pub name: String,
    /// The difference in procentpoint.
    pub cell: Cell,
}

/// Differences around 0.
#[derive(Debug, Clone, Serialize)]
pub struct DifferenceChart {
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Axis half-width in procentpoint (5, 10, 15, …).
    pub max: f64,
    /// Bars, in the table's order.
    pub rows: Vec<DifferenceBar>,
}

/// The overview's page for one metric: every programme municipality against its group.
#[derive(Debug, Clone, Serialize)]
pub struct PeerPage {
    /// "Målsætning 1".
    pub number: String,
    /// Title.
    pub title: String,
    /// Headings.
    pub columns: Vec<String>,
    /// Sorted by the difference, largest first; hidden and missing last.
    pub rows: Vec<PageRow>,
    /// The differences as bars.
    pub chart: DifferenceChart,
    /// Method and caveat.
    pub notes: Vec<String>,
}

fn text_cell(text: String) -> Cell {
    Cell {
        text,
        value: None,
        state: State::Value,
    }
}

/// The overview page of a metric for period `now`.
#[must_use]
pub fn page(
    index: &Index,
    config: &Config,
    d: Disclosure,
    info: &MetricInfo,
    now: Period,
) -> PeerPage {
    let nk = metric_key(now);
    let expected = has_expected(config, &info.metric);
    let mut rows: Vec<PageRow> = config
        .program
        .municipalities
        .iter()
        .map(|code| {
            let own = index.share(d, *code, &info.metric, &nk, "alle");
            let row = index.peers.row(*code, &info.metric, &nk, "alle");
            let label = row
                .and_then(|r| r.group_label.clone())
                .map_or_else(Cell::missing, text_cell);
            let mut cells = vec![
                own.clone(),
                label,
                group_share(index, d, *code, &info.metric, &nk, "alle"),
                derived(&own, pp(row.and_then(|r| r.difference_pp))),
            ];
            if expected {
                cells.push(expected_share(
                    index,
                    *code,
                    &info.metric,
                    &nk,
                    "alle",
                    &own,
                ));
                cells.push(derived(
                    &own,
                    pp(row.and_then(|r| r.expected_difference_pp)),
                ));
            }
            PageRow {
                name: super::metric::municipality_name(index, *code),
                cells,
            }
        })
        .collect();
    // The table prints differences as bare numbers under a heading in procentpoint.
    for r in &mut rows {
        for c in &mut r.cells {
            c.text = c.text.replace(" procentpoint", "");
        }
    }
    rows.sort_by(|a, b| {
        let v = |r: &PageRow| r.cells[3].value.unwrap_or(f64::NEG_INFINITY);
        v(b).total_cmp(&v(a)).then_with(|| a.name.cmp(&b.name))
    });
    let bars: Vec<DifferenceBar> = rows
        .iter()
        .map(|r| DifferenceBar {
            name: r.name.clone(),
            cell: r.cells[3].clone(),
        })
        .collect();
    let largest = bars
        .iter()
        .filter_map(|b| b.cell.value)
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let max = ((largest / 5.0).ceil() * 5.0).max(5.0);
    let period = format::period_label(now);
    let alt = format!(
        "Søjlediagram over forskellen i procentpoint mellem hver projektkommune og dens sammenligningsgruppe, {period}: {}.",
        bars.iter()
            .map(|b| format!("{} {}", b.name, b.cell.text))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let mut columns = vec![
        "Kommune".to_string(),
        "Andel".into(),
        "Sammenligningsgruppe".into(),
        "Gruppens andel".into(),
        "Forskel (procentpoint)".into(),
    ];
    let mut notes = vec![METHOD.to_string()];
    if expected {
        columns.push("Forventet niveau".into());
        columns.push("Forskel fra forventet (procentpoint)".into());
        notes.push(CAVEAT.into());
    }
    PeerPage {
        number: info.number.clone(),
        title: info.title.clone(),
        columns,
        rows,
        chart: DifferenceChart {
            alt,
            caption: format!("Forskel til sammenlignelige kommuner, {period} (procentpoint)"),
            max,
            rows: bars,
        },
        notes,
    }
}
