//! "Sammenlignelige kommuner": the comparison with similar municipalities as the
//! reports print it (docs/reports.md), from the marts `peer_comparison` and
//! `peer_comparison_members`. Disclosure: a figure derived from a hidden own share
//! (the difference, the rank, the expected level and its difference, the difference in
//! change) is hidden with it; a group value is about other municipalities and is shown,
//! unless its pooled denominator is under the threshold; members are named, never
//! printed one by one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::disclosure::{Cell, Disclosure, HIDDEN_SHARE, State};
use super::format;

/// A row of `peer_comparison`.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerRow {
    /// DST code of the programme municipality.
    pub municipality_code: i32,
    /// Metric.
    pub metric: String,
    /// Period.
    pub period: String,
    /// Sex.
    pub sex: String,
    /// The group's label.
    #[serde(default)]
    pub group_label: Option<String>,
    /// Members outside the programme.
    #[serde(default)]
    pub group_members: Option<i32>,
    /// Contributing members in the period.
    pub group_municipalities: i32,
    /// Pooled share of the contributing members.
    #[serde(default)]
    pub group_share: Option<f64>,
    /// In procentpoint.
    #[serde(default)]
    pub difference_pp: Option<f64>,
    /// The balanced panel's size.
    pub panel_municipalities: i32,
    /// Panel share at the baseline.
    #[serde(default)]
    pub panel_share_baseline: Option<f64>,
    /// Panel share now.
    #[serde(default)]
    pub panel_share: Option<f64>,
    /// The panel's change.
    #[serde(default)]
    pub group_change_pp: Option<f64>,
    /// Own change minus the panel's.
    #[serde(default)]
    pub difference_change_pp: Option<f64>,
    /// Expected level.
    #[serde(default)]
    pub expected_share: Option<f64>,
    /// Own share minus the expected level.
    #[serde(default)]
    pub expected_difference_pp: Option<f64>,
}

/// A row of `peer_comparison_members`.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRow {
    /// The programme municipality the row is for.
    pub municipality_code: i32,
    /// The listed municipality.
    pub member_code: i32,
    /// Its name.
    pub member: String,
    /// Metric.
    pub metric: String,
    /// Period.
    pub period: String,
    /// Sex.
    pub sex: String,
    /// `self`, `member`, `programme`.
    pub role: String,
    /// Counts in the group value.
    pub contributes: bool,
    /// Why not.
    #[serde(default)]
    pub reason: Option<String>,
}

type Key = (i32, String, String, String);

/// The two comparison marts, indexed by (municipality, metric, period, sex).
#[derive(Debug, Default)]
pub struct Peers {
    rows: HashMap<Key, PeerRow>,
    members: HashMap<Key, Vec<MemberRow>>,
}

fn key(code: i32, metric: &str, period: &str, sex: &str) -> Key {
    (code, metric.into(), period.into(), sex.into())
}

impl Peers {
    /// Indexes the rows.
    #[must_use]
    pub fn new(rows: Vec<PeerRow>, members: Vec<MemberRow>) -> Self {
        let mut me = Self::default();
        for r in rows {
            me.rows
                .insert(key(r.municipality_code, &r.metric, &r.period, &r.sex), r);
        }
        for m in members {
            me.members
                .entry(key(m.municipality_code, &m.metric, &m.period, &m.sex))
                .or_default()
                .push(m);
        }
        me
    }

    /// The comparison row.
    #[must_use]
    pub fn row(&self, code: i32, metric: &str, period: &str, sex: &str) -> Option<&PeerRow> {
        self.rows.get(&key(code, metric, period, sex))
    }

    /// The listed municipalities.
    #[must_use]
    pub fn members(&self, code: i32, metric: &str, period: &str, sex: &str) -> &[MemberRow] {
        self.members
            .get(&key(code, metric, period, sex))
            .map_or(&[], Vec::as_slice)
    }

    /// The codes of the members contributing in a period.
    fn contributing(&self, code: i32, metric: &str, period: &str, sex: &str) -> Vec<i32> {
        self.members(code, metric, period, sex)
            .iter()
            .filter(|m| m.contributes)
            .map(|m| m.member_code)
            .collect()
    }
}

/// A difference in procentpoint from a value already in procentpoint.
#[must_use]
pub fn pp_cell(v: Option<f64>) -> Cell {
    v.map_or_else(Cell::missing, |v| Cell {
        text: format::pp(v / 100.0),
        value: Some(v),
        state: State::Value,
    })
}

fn hidden() -> Cell {
    Cell {
        text: HIDDEN_SHARE.into(),
        value: None,
        state: State::Hidden,
    }
}

/// A figure derived from the own share: hidden when the share is hidden, missing when
/// it is missing.
#[must_use]
pub fn derived(own: &Cell, value: Cell) -> Cell {
    match own.state {
        State::Value => value,
        State::Hidden => hidden(),
        State::Missing => Cell::missing(),
    }
}

/// A group share, "41,2 pct.", or "–" when its pooled denominator is under the threshold.
#[must_use]
pub fn group_cell(d: Disclosure, share: Option<f64>, pooled_denominator: i64) -> Cell {
    match share {
        Some(_) if pooled_denominator < d.min => hidden(),
        Some(s) => Cell {
            text: format::pct(s),
            value: Some(s * 100.0),
            state: State::Value,
        },
        None => Cell::missing(),
    }
}

/// The sum of the members' denominators (from `target_metrics`), for the "–" rule.
pub fn pooled_denominator(
    peers: &Peers,
    denominator: impl Fn(i32) -> Option<i64>,
    code: i32,
    periods: (&str, Option<&str>),
    metric: &str,
    sex: &str,
) -> i64 {
    let now = peers.contributing(code, metric, periods.0, sex);
    let set: Vec<i32> = match periods.1 {
        // The balanced panel: members in both periods.
        Some(base) => {
            let then = peers.contributing(code, metric, base, sex);
            now.into_iter().filter(|c| then.contains(c)).collect()
        }
        None => now,
    };
    set.into_iter().filter_map(denominator).sum()
}

/// One row of a comparison table: a label and three cells.
#[derive(Debug, Clone, Serialize)]
pub struct PeerTableRow {
    /// "4. kvartal 2018".
    pub name: String,
    /// Own, comparison, difference.
    pub cells: Vec<Cell>,
}

/// A comparison table as the template lays it out.
#[derive(Debug, Clone, Serialize)]
pub struct PeerTable {
    /// Headings: "", the municipality, the comparison, "Forskel".
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<PeerTableRow>,
}

/// The members by name, and who is left out of the period and why.
#[must_use]
pub fn members_note(members: &[MemberRow], period_label: &str) -> Option<String> {
    let listed: Vec<&MemberRow> = members.iter().filter(|m| m.role == "member").collect();
    if listed.is_empty() {
        return None;
    }
    let names: Vec<&str> = listed.iter().map(|m| m.member.as_str()).collect();
    let left_out: Vec<String> = listed
        .iter()
        .filter(|m| !m.contributes)
        .map(|m| {
            let why = match m.reason.as_deref() {
                Some("suppressed") => "tallet er diskretioneret i Jobindsats",
                Some("zero_denominator") => "kommunen har ingen borgere i målgruppen",
                _ => "der er ingen tal for kommunen",
            };
            format!("{} indgår ikke i {period_label}, {why}", m.member)
        })
        .collect();
    let mut note = format!("Sammenligningsgruppen: {}", names.join(", "));
    if !left_out.is_empty() {
        note.push_str("; ");
        note.push_str(&left_out.join("; "));
    }
    note.push('.');
    Some(note)
}

/// "18,8 procentpoint over", "2,0 procentpoint under", "på niveau med".
#[must_use]
pub fn over_under(pp: f64) -> String {
    let n = format::number(pp.abs(), 1);
    if n == "0,0" {
        "på niveau med".into()
    } else if pp > 0.0 {
        format!("{n} procentpoint over")
    } else {
        format!("{n} procentpoint under")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Disclosure = Disclosure { min: 5 };

    #[test]
    fn figures_derived_from_a_hidden_share_are_hidden_with_it() {
        let own = D.share(Some(0.75), Some(4));
        assert_eq!(derived(&own, pp_cell(Some(25.0))).text, "–");
        let own = D.share(Some(0.6), Some(100));
        assert_eq!(
            derived(&own, pp_cell(Some(18.846))).text,
            "+18,8 procentpoint"
        );
        assert_eq!(derived(&Cell::missing(), pp_cell(Some(1.0))).text, "i.d.");
    }

    #[test]
    fn a_group_value_over_fewer_than_five_persons_is_hidden() {
        assert_eq!(group_cell(D, Some(0.5), 4).text, "–");
        assert_eq!(group_cell(D, Some(107.0 / 260.0), 260).text, "41,2 pct.");
        assert_eq!(group_cell(D, None, 260).text, "i.d.");
    }

    #[test]
    fn the_note_names_the_members_and_who_is_left_out() {
        let m = |code, name: &str, role: &str, contributes, reason: Option<&str>| MemberRow {
            municipality_code: 350,
            member_code: code,
            member: name.into(),
            metric: "share".into(),
            period: "2018Q4".into(),
            sex: "alle".into(),
            role: role.into(),
            contributes,
            reason: reason.map(str::to_string),
        };
        let rows = [
            m(253, "Greve", "member", true, None),
            m(265, "Roskilde", "member", false, Some("suppressed")),
            m(316, "Holbæk", "programme", false, Some("programme")),
            m(350, "Lejre", "self", false, Some("self")),
        ];
        assert_eq!(
            members_note(&rows, "4. kvartal 2018").as_deref(),
            Some(
                "Sammenligningsgruppen: Greve, Roskilde; Roskilde indgår ikke i 4. kvartal 2018, tallet er diskretioneret i Jobindsats."
            )
        );
        assert_eq!(over_under(18.846), "18,8 procentpoint over");
        assert_eq!(over_under(-2.04), "2,0 procentpoint under");
        assert_eq!(over_under(0.01), "på niveau med");
    }
}
