//! What the target-metric reports share: the metrics' Danish texts and an index over
//! the marts. The chart data (bars per municipality, development lines) is charts.rs,
//! re-exported here.

use std::collections::HashMap;

use super::disclosure::{Cell, Disclosure, State};
use super::format;
use super::marts::{AverageRow, ComparisonRow, MetricRow};
use crate::period::Period;

pub use super::charts::{
    BarChart, BarRow, MAX_BARS, RefLine, Series, TrendChart, axis_max, bar_alt, bars, focus,
    legend, metric_key, municipality_name, periods_since, sort_rows, spoken, trend,
};

pub use crate::config::MetricInfo;

/// The period a quarterly report shows a metric for: the quarter, or its last month (a monthly metric).
#[must_use]
pub fn metric_period(info: &MetricInfo, quarter: Period) -> Period {
    if info.monthly {
        quarter.months().last().copied().unwrap_or(quarter)
    } else {
        quarter
    }
}

/// The marts the target-metric reports read, indexed.
#[derive(Debug, Default)]
pub struct Index {
    metrics: HashMap<(i32, String, String, String), MetricRow>,
    averages: HashMap<(String, String, String), AverageRow>,
    comparison: HashMap<(i32, String, String, String), ComparisonRow>,
    /// Names by code, from the marts.
    pub names: HashMap<i32, String>,
    /// The comparison with similar municipalities.
    pub peers: super::peers::Peers,
    /// Averages (metric, period, sex) that rest on a programme municipality's hidden
    /// share: printed as hidden, since the share could be worked back from them.
    hidden_averages: std::collections::HashSet<(String, String, String)>,
}

impl Index {
    /// Indexes the rows.
    #[must_use]
    pub fn new(
        metrics: Vec<MetricRow>,
        averages: Vec<AverageRow>,
        comparison: Vec<ComparisonRow>,
    ) -> Self {
        let mut me = Self::default();
        for m in metrics {
            me.names.insert(m.municipality_code, m.municipality.clone());
            me.metrics.insert(
                (
                    m.municipality_code,
                    m.metric.clone(),
                    m.period.clone(),
                    m.sex.clone(),
                ),
                m,
            );
        }
        for a in averages {
            me.averages
                .insert((a.metric.clone(), a.period.clone(), a.sex.clone()), a);
        }
        for c in comparison {
            me.comparison.insert(
                (
                    c.municipality_code,
                    c.metric.clone(),
                    c.period.clone(),
                    c.sex.clone(),
                ),
                c,
            );
        }
        me
    }

    /// Marks every project average that includes a programme municipality whose share is
    /// hidden (denominator 1 to `min - 1`). A mean of shares printed beside the other
    /// municipalities' shares gives the hidden one away (n × average − the others), and
    /// an average over one municipality is its share.
    pub fn hide_averages_on_hidden_shares(&mut self, d: Disclosure) {
        self.hidden_averages = self
            .comparison
            .values()
            .filter_map(|c| {
                let m = self.metrics.get(&(
                    c.municipality_code,
                    c.metric.clone(),
                    c.period.clone(),
                    c.sex.clone(),
                ))?;
                let small = m.share.is_some() && m.denominator.is_some_and(|n| n > 0 && n < d.min);
                small.then(|| (c.metric.clone(), c.period.clone(), c.sex.clone()))
            })
            .collect();
        // The secondary rule hides the other sex's share with a hidden one: its average
        // rests on a hidden share too.
        let other: Vec<_> = self
            .hidden_averages
            .iter()
            .filter_map(|(m, p, s)| {
                let o = match s.as_str() {
                    "M" => "K",
                    "K" => "M",
                    _ => return None,
                };
                Some((m.clone(), p.clone(), o.to_string()))
            })
            .collect();
        self.hidden_averages.extend(other);
    }

    /// Does the mart hold the metric for the period at all (was its source landed)?
    #[must_use]
    pub fn has(&self, metric: &str, period: &str) -> bool {
        self.averages
            .keys()
            .any(|(m, p, _)| m == metric && p == period)
    }

    /// A municipality's denominator (any municipality in the mart, also outside the programme).
    #[must_use]
    pub fn denominator(&self, code: i32, metric: &str, period: &str, sex: &str) -> Option<i64> {
        self.metrics
            .get(&(code, metric.into(), period.into(), sex.into()))
            .and_then(|r| r.denominator)
    }

    /// A municipality's share, disclosure applied.
    #[must_use]
    pub fn share(&self, d: Disclosure, code: i32, metric: &str, period: &str, sex: &str) -> Cell {
        self.metrics
            .get(&(code, metric.into(), period.into(), sex.into()))
            .map_or_else(Cell::missing, |r| d.share(r.share, r.denominator))
    }

    /// Men and women, with the complement rule applied.
    #[must_use]
    pub fn sexes(&self, d: Disclosure, code: i32, metric: &str, period: &str) -> (Cell, Cell) {
        let mut m = self.share(d, code, metric, period, "M");
        let mut k = self.share(d, code, metric, period, "K");
        d.complement(&mut [&mut m, &mut k]);
        (m, k)
    }

    /// The project average; hidden when it rests on a hidden share.
    #[must_use]
    pub fn average(&self, metric: &str, period: &str, sex: &str) -> Cell {
        let key = (metric.to_string(), period.to_string(), sex.to_string());
        if self.hidden_averages.contains(&key) {
            return Cell {
                text: super::disclosure::HIDDEN_SHARE.into(),
                value: None,
                state: State::Hidden,
            };
        }
        self.averages
            .get(&(metric.into(), period.into(), sex.into()))
            .and_then(|a| a.share)
            .map_or_else(Cell::missing, |s| Cell {
                text: format::pct(s),
                value: Some(s * 100.0),
                state: State::Value,
            })
    }

    /// How many municipalities the average counts.
    #[must_use]
    pub fn average_count(&self, metric: &str, period: &str) -> Option<i32> {
        self.averages
            .get(&(metric.into(), period.into(), "alle".into()))
            .map(|a| a.municipalities)
    }

    /// The comparison row (rank, baseline period).
    #[must_use]
    pub fn comparison(
        &self,
        code: i32,
        metric: &str,
        period: &str,
        sex: &str,
    ) -> Option<&ComparisonRow> {
        self.comparison
            .get(&(code, metric.into(), period.into(), sex.into()))
    }
}
