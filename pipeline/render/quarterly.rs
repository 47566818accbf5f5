//! The quarterly status report of one programme municipality: for each metric the
//! value now, the baseline, the change, the project average, the rank and spread, a bar
//! chart of all programme municipalities, the development since the baseline, and men
//! against women.

use serde::Serialize;

use super::disclosure::{Cell, Disclosure, State};
use super::format;
use super::metric::{self, BarChart, Index, MetricInfo, TrendChart, metric_key, metric_period};
use super::peer_block::{self, PeerBlock};
use crate::config::Config;
use crate::period::Period;

/// The JSON document `report-templates/imi/quarterly.typ` lays out.
#[derive(Debug, Clone, Serialize)]
pub struct QuarterlyData {
    /// Version of this document's shape.
    pub schema_version: u32,
    /// Programme name.
    pub program: String,
    /// Municipality.
    pub municipality: String,
    /// Its DST code.
    pub municipality_code: i32,
    /// `2018Q4`.
    pub period: String,
    /// "4. kvartal 2018".
    pub period_label: String,
    /// The document's date, "1. februar 2019".
    pub date_label: String,
    /// What is missing from the period (a line each), empty when complete.
    pub missing: Vec<String>,
    /// One line per metric.
    pub summary: Vec<SummaryRow>,
    /// A sentence per metric on the comparison with similar municipalities.
    pub comparison: Vec<String>,
    /// How the comparison is made (printed once, under the sentences).
    pub comparison_note: String,
    /// One section per metric.
    pub sections: Vec<Section>,
    /// The marks for hidden and missing values.
    pub legend: String,
    /// The same, short, for the metric pages.
    pub legend_short: String,
}

/// A metric in the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// "Målsætning 1".
    pub number: String,
    /// Title.
    pub title: String,
    /// The period shown ("4. kvartal 2018", "december 2018").
    pub period_label: String,
    /// Now.
    pub now: Cell,
    /// Baseline.
    pub baseline: Cell,
    /// Change since the baseline.
    pub change: Cell,
    /// Project average now.
    pub average: Cell,
    /// "3 af 16".
    pub rank: String,
}

/// One metric's section.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Mart metric.
    pub metric: String,
    /// "Målsætning 1".
    pub number: String,
    /// Title.
    pub title: String,
    /// False when the period's data is missing: then only `missing_note` is printed.
    pub available: bool,
    /// What is missing.
    pub missing_note: Option<String>,
    /// The period shown.
    pub period_label: String,
    /// The baseline period.
    pub baseline_label: String,
    /// A sentence on the figures.
    pub lead: String,
    /// Key figures (label, value).
    pub key: Vec<KeyFigure>,
    /// All programme municipalities.
    pub bars: BarChart,
    /// Since the baseline.
    pub trend: TrendChart,
    /// Men against women.
    pub sex: SexTable,
    /// "Sammenlignelige kommuner".
    pub peers: PeerBlock,
    /// Definitions.
    pub footnotes: Vec<String>,
    /// Source line.
    pub source: String,
}

/// A labelled key figure.
#[derive(Debug, Clone, Serialize)]
pub struct KeyFigure {
    /// Label.
    pub label: String,
    /// Value.
    pub value: Cell,
}

/// Men and women: now, at the baseline of the sex split, and the project average.
#[derive(Debug, Clone, Serialize)]
pub struct SexTable {
    /// Caption.
    pub caption: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows: Mænd, Kvinder, Forskel.
    pub rows: Vec<SexRow>,
}

/// A row of the sex table.
#[derive(Debug, Clone, Serialize)]
pub struct SexRow {
    /// "Mænd".
    pub label: String,
    /// Cells, as `columns`.
    pub cells: Vec<Cell>,
}

fn blank() -> Cell {
    Cell {
        text: String::new(),
        value: None,
        state: State::Missing,
    }
}

fn gap(d: Disclosure, a: &Cell, b: &Cell) -> Cell {
    d.change(a, b)
}

/// The rank text, "3 af 16", or "–" when the share is not shown.
fn rank_text(index: &Index, code: i32, metric: &str, period: &str, shown: bool) -> String {
    match index.comparison(code, metric, period, "alle") {
        Some(c) if shown => c.rank.map_or_else(
            || "–".into(),
            |r| format!("{r} af {}", c.ranked_municipalities),
        ),
        _ => "–".into(),
    }
}

/// Builds the report data of municipality `code` for quarter `quarter`.
#[must_use]
pub fn build(
    index: &Index,
    config: &Config,
    d: Disclosure,
    code: i32,
    quarter: Period,
    date_label: &str,
) -> QuarterlyData {
    let name = metric::municipality_name(index, code);
    let mut summary = Vec::new();
    let mut sections = Vec::new();
    let mut missing = Vec::new();
    for info in &config.metrics.catalogue {
        let section = section(index, config, d, info, code, &name, quarter);
        if let Some(note) = &section.missing_note {
            missing.push(format!("{}: {note}", info.number));
        }
        let rank = section
            .key
            .iter()
            .find(|k| k.label == "Placering")
            .map(|k| k.value.text.clone())
            .unwrap_or_default();
        let pick = |label: &str| {
            section
                .key
                .iter()
                .find(|k| k.label.starts_with(label))
                .map_or_else(Cell::missing, |k| k.value.clone())
        };
        summary.push(SummaryRow {
            number: info.number.clone(),
            title: info.title.clone(),
            period_label: section.period_label.clone(),
            now: pick(&name),
            baseline: pick("Baseline"),
            change: pick("Ændring"),
            average: pick("Projektgennemsnit,"),
            rank,
        });
        sections.push(section);
    }
    QuarterlyData {
        schema_version: 1,
        program: config.program.name.clone(),
        municipality: name,
        municipality_code: code,
        period: quarter.to_string(),
        period_label: format::period_label(quarter),
        date_label: date_label.into(),
        missing,
        summary,
        comparison_note: peer_block::METHOD.into(),
        comparison: sections
            .iter()
            .filter_map(|s| s.peers.sentence.clone())
            .collect(),
        sections,
        legend: metric::legend(d),
        legend_short: format!("–: skjult, færre end {} personer. i.d.: ikke data.", d.min),
    }
}

fn section(
    index: &Index,
    config: &Config,
    d: Disclosure,
    info: &MetricInfo,
    code: i32,
    name: &str,
    quarter: Period,
) -> Section {
    let now = metric_period(info, quarter);
    let baseline = config
        .metrics
        .baseline
        .get(&info.metric)
        .copied()
        .unwrap_or(now);
    let sex_baseline = if info.sex_gap_baseline {
        config.metrics.sex_gap_baseline
    } else {
        baseline
    };
    let (nk, bk, sk) = (
        metric_key(now),
        metric_key(baseline),
        metric_key(sex_baseline),
    );
    let available = index.has(&info.metric, &nk);
    let missing_note = (!available).then(|| {
        format!(
            "Data fra {} for {} er ikke modtaget endnu, så tallet kan ikke opgøres for perioden.",
            info.source_name,
            format::period_label(now)
        )
    });
    let own = index.share(d, code, &info.metric, &nk, "alle");
    let then = index.share(d, code, &info.metric, &bk, "alle");
    let change = d.change(&own, &then);
    let average = index.average(&info.metric, &nk, "alle");
    let average_then = index.average(&info.metric, &bk, "alle");
    let rank = rank_text(index, code, &info.metric, &nk, own.shown());
    let bars = metric::bars(index, d, config, info, baseline, now, Some(code));
    // The spread over the shown bars only: a hidden share is never the printed extreme.
    let shown: Vec<&metric::BarRow> = bars.rows.iter().filter(|r| r.cells[1].shown()).collect();
    let extreme = |r: Option<&&metric::BarRow>| {
        r.map_or_else(Cell::missing, |r| Cell {
            text: format!("{} ({})", r.cells[1].text, r.name),
            value: r.cells[1].value,
            state: State::Value,
        })
    };
    let (highest, lowest) = (extreme(shown.first()), extreme(shown.last()));
    let mut bars = bars;
    metric::focus(&mut bars, name);
    let periods = metric::periods_since(baseline, now);
    let mut trend = metric::trend(index, d, info, Some((code, name)), &periods);
    peer_block::add_trend_line(&mut trend, index, d, info, code, &periods, baseline);
    let (m_now, k_now) = index.sexes(d, code, &info.metric, &nk);
    let (m_then, k_then) = index.sexes(d, code, &info.metric, &sk);
    let (avg_men, avg_women) = (
        index.average(&info.metric, &nk, "M"),
        index.average(&info.metric, &nk, "K"),
    );
    let sex = SexTable {
        caption: format!(
            "Mænd og kvinder i {name}, {} og {} (baseline for kønsopdelingen)",
            format::period_label(now),
            format::period_label(sex_baseline)
        ),
        columns: vec![
            format::period_label(now),
            format::period_label(sex_baseline),
            "Ændring (procentpoint)".into(),
            format!("Projektgennemsnit {}", format::period_label(now)),
            "Sammenlignelige kommuner".into(),
            "Forventet niveau".into(),
        ],
        rows: vec![
            SexRow {
                label: "Mænd".into(),
                cells: vec![
                    m_now.clone(),
                    m_then.clone(),
                    d.change(&m_now, &m_then),
                    avg_men.clone(),
                    peer_block::group_share(index, d, code, &info.metric, &nk, "M"),
                    peer_block::expected_share(index, code, &info.metric, &nk, "M", &m_now),
                ],
            },
            SexRow {
                label: "Kvinder".into(),
                cells: vec![
                    k_now.clone(),
                    k_then.clone(),
                    d.change(&k_now, &k_then),
                    avg_women.clone(),
                    peer_block::group_share(index, d, code, &info.metric, &nk, "K"),
                    peer_block::expected_share(index, code, &info.metric, &nk, "K", &k_now),
                ],
            },
            SexRow {
                label: "Forskel (mænd minus kvinder)".into(),
                cells: vec![
                    gap(d, &m_now, &k_now),
                    gap(d, &m_then, &k_then),
                    blank(),
                    gap(d, &avg_men, &avg_women),
                    blank(),
                    blank(),
                ],
            },
        ],
    };
    let mut sex = sex;
    // Changes and gaps as bare numbers: the headings say they are procentpoint.
    for r in &mut sex.rows {
        for c in &mut r.cells {
            c.text = c.text.replace(" procentpoint", "");
        }
    }
    if !peer_block::has_expected(config, &info.metric) {
        // No expected level for this metric: no column for it.
        sex.columns.pop();
        for r in &mut sex.rows {
            r.cells.pop();
        }
    }
    let lead = lead(
        info, name, &own, &then, &change, &average, now, baseline, &rank,
    );
    let peers = peer_block::block(
        index,
        config,
        d,
        info,
        (code, name),
        (now, baseline),
        &own,
        &then,
    );
    let key = vec![
        KeyFigure {
            label: format!("{name}, {}", format::period_label(now)),
            value: own,
        },
        KeyFigure {
            label: format!("Baseline {}", format::period_label(baseline)),
            value: then,
        },
        KeyFigure {
            label: "Ændring siden baseline".into(),
            value: change,
        },
        KeyFigure {
            label: format!("Projektgennemsnit, {}", format::period_label(now)),
            value: average,
        },
        KeyFigure {
            label: "Projektgennemsnit, baseline".to_string(),
            value: average_then,
        },
        KeyFigure {
            label: "Placering".into(),
            value: Cell {
                text: rank,
                value: None,
                state: State::Value,
            },
        },
        KeyFigure {
            label: "Laveste i projektet".into(),
            value: lowest,
        },
        KeyFigure {
            label: "Højeste i projektet".into(),
            value: highest,
        },
    ];
    let mut footnotes = vec![definition_note(info, config), info.average_note.clone()];
    if let Some(n) = index.average_count(&info.metric, &nk) {
        footnotes.push(format!(
            "{n} projektkommuner indgår i gennemsnittet for {}.",
            format::period_label(now)
        ));
    }
    Section {
        metric: info.metric.clone(),
        number: info.number.clone(),
        title: info.title.clone(),
        available,
        missing_note,
        period_label: format::period_label(now),
        baseline_label: format::period_label(baseline),
        lead,
        key,
        bars,
        trend,
        sex,
        peers,
        footnotes,
        source: format!(
            "{} {} og {}.",
            info.source.trim_end_matches('.'),
            format::period_label(baseline),
            format::period_label(now)
        ),
    }
}

fn definition_note(info: &MetricInfo, config: &Config) -> String {
    info.definition_text(&config.metrics)
}

#[allow(clippy::too_many_arguments, reason = "the parts of one sentence")]
fn lead(
    info: &MetricInfo,
    name: &str,
    own: &Cell,
    then: &Cell,
    change: &Cell,
    average: &Cell,
    now: Period,
    baseline: Period,
    rank: &str,
) -> String {
    let what = info
        .title
        .to_lowercase()
        .replacen("andel ", "andelen af ", 1);
    match (own.state, then.state) {
        (State::Value, State::Value) => format!(
            "I {} er {} i {name} {}, mod {} ved baseline i {} ({}). Projektkommunegennemsnittet er {}, og {name} ligger nr. {rank}.",
            format::period_label(now),
            what,
            own.text,
            then.text,
            format::period_label(baseline),
            change.text,
            average.text,
        ),
        (State::Value, _) => format!(
            "I {} er {} i {name} {}. Projektkommunegennemsnittet er {}, og {name} ligger nr. {rank}. Der er ingen sammenlignelig værdi ved baseline i {}.",
            format::period_label(now),
            what,
            own.text,
            average.text,
            format::period_label(baseline),
        ),
        (State::Hidden, _) => format!(
            "Færre end fem borgere i {name} indgår i {}, så andelen vises ikke. Projektkommunegennemsnittet er {}.",
            format::period_label(now),
            average.text
        ),
        (State::Missing, _) => format!(
            "Der er ingen værdi for {name} i {}. Projektkommunegennemsnittet er {}.",
            format::period_label(now),
            average.text
        ),
    }
}
