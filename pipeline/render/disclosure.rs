//! Disclosure control: what a report may print of a figure. Reports leave the lake,
//! so a count of 1 to `min - 1` persons is printed as "<5", a share whose denominator
//! is under `min` as "–", and when one cell of a set that sums to a shown total is
//! hidden, a second one is hidden too. A hidden cell is never drawn as zero: it carries
//! `state = hidden` and the templates mark it.

use serde::Serialize;

use super::format;

/// Why a cell shows what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A value, printed.
    Value,
    /// Hidden to protect a small group.
    Hidden,
    /// No data (the source is missing, suppressed at the source, or nobody is in the group).
    Missing,
}

/// One printed figure: the text to print, the value for charts (none unless shown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// What the template prints.
    pub text: String,
    /// The number charts draw (a share in per cent, a count, days); none unless shown.
    pub value: Option<f64>,
    /// Shown, hidden or missing.
    pub state: State,
}

/// The text of a missing figure ("ikke data").
pub const MISSING: &str = "i.d.";
/// The text of a hidden share.
pub const HIDDEN_SHARE: &str = "–";

impl Cell {
    /// A missing figure.
    #[must_use]
    pub fn missing() -> Self {
        Self {
            text: MISSING.into(),
            value: None,
            state: State::Missing,
        }
    }

    fn hide(&mut self, text: String) {
        self.text = text;
        self.value = None;
        self.state = State::Hidden;
    }

    /// Is this cell printed as a value?
    #[must_use]
    pub fn shown(&self) -> bool {
        self.state == State::Value
    }
}

/// The rules, with the configured threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    /// Smallest group shown (5: counts of 1-4 and shares of fewer than 5 are hidden).
    pub min: i64,
}

impl Disclosure {
    /// The text of a hidden count: "<5".
    #[must_use]
    pub fn hidden_count_text(self) -> String {
        format!("<{}", self.min)
    }

    /// A share (0..1) of `denominator` persons, printed "40,5 pct.".
    #[must_use]
    pub fn share(self, share: Option<f64>, denominator: Option<i64>) -> Cell {
        match (share, denominator) {
            (_, Some(d)) if d > 0 && d < self.min => Cell {
                text: HIDDEN_SHARE.into(),
                value: None,
                state: State::Hidden,
            },
            (Some(s), Some(d)) if d > 0 => Cell {
                text: format::pct(s),
                value: Some(s * 100.0),
                state: State::Value,
            },
            _ => Cell::missing(),
        }
    }

    /// A change between two shares, shown only when both are.
    #[must_use]
    pub fn change(self, now: &Cell, then: &Cell) -> Cell {
        match (now.state, then.state, now.value, then.value) {
            (State::Value, State::Value, Some(a), Some(b)) => Cell {
                text: format::pp((a - b) / 100.0),
                value: Some(a - b),
                state: State::Value,
            },
            (State::Hidden, _, _, _) | (_, State::Hidden, _, _) => Cell {
                text: HIDDEN_SHARE.into(),
                value: None,
                state: State::Hidden,
            },
            _ => Cell::missing(),
        }
    }

    /// A count of persons, printed "<5" when 1..min.
    #[must_use]
    pub fn persons(self, n: Option<i64>) -> Cell {
        match n {
            Some(n) if n > 0 && n < self.min => Cell {
                text: self.hidden_count_text(),
                value: None,
                state: State::Hidden,
            },
            Some(n) => Cell {
                text: format::count(n),
                value: Some(n as f64),
                state: State::Value,
            },
            None => Cell::missing(),
        }
    }

    /// A count of events (conversations, visits): not persons, always shown.
    #[must_use]
    pub fn events(self, n: Option<i64>) -> Cell {
        n.map_or_else(Cell::missing, |n| Cell {
            text: format::count(n),
            value: Some(n as f64),
            state: State::Value,
        })
    }

    /// A mean over `over` persons' placements (days, one decimal), hidden like a share.
    #[must_use]
    pub fn mean_days(self, mean: Option<f64>, over: i64) -> Cell {
        match mean {
            _ if over > 0 && over < self.min => Cell {
                text: HIDDEN_SHARE.into(),
                value: None,
                state: State::Hidden,
            },
            Some(m) => Cell {
                text: format::number(m, 1),
                value: Some(m),
                state: State::Value,
            },
            None => Cell::missing(),
        }
    }

    /// Secondary suppression over cells that add up to a shown total (men and women
    /// under all; the employees of a department): when exactly one cell is hidden,
    /// the smallest shown cell is hidden too, so the hidden one cannot be worked out.
    pub fn complement(self, cells: &mut [&mut Cell]) {
        let hidden = cells.iter().filter(|c| c.state == State::Hidden).count();
        if hidden != 1 {
            return;
        }
        let hidden_text = cells
            .iter()
            .find(|c| c.state == State::Hidden)
            .map(|c| c.text.clone())
            .unwrap_or_default();
        let smallest = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.shown())
            .min_by(|(_, a), (_, b)| {
                a.value
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.value.unwrap_or(f64::MAX))
            })
            .map(|(i, _)| i);
        if let Some(i) = smallest {
            cells[i].hide(hidden_text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Disclosure = Disclosure { min: 5 };

    #[test]
    fn small_counts_and_small_denominators_are_hidden_not_zero() {
        assert_eq!(D.persons(Some(0)).text, "0");
        assert_eq!(D.persons(Some(4)).text, "<5");
        assert_eq!(D.persons(Some(4)).value, None);
        assert_eq!(D.persons(Some(5)).text, "5");
        assert_eq!(D.share(Some(0.5), Some(4)).state, State::Hidden);
        assert_eq!(D.share(Some(0.5), Some(4)).text, "–");
        assert_eq!(D.share(Some(0.2), Some(5)).text, "20,0 pct.");
        assert_eq!(D.share(None, Some(0)).state, State::Missing);
        assert_eq!(D.share(None, None).text, "i.d.");
        assert_eq!(D.mean_days(Some(12.25), 3).state, State::Hidden);
        assert_eq!(D.mean_days(Some(12.26), 6).text, "12,3");
    }

    #[test]
    fn one_hidden_cell_of_a_sum_takes_a_second_with_it() {
        let mut men = D.share(Some(0.5), Some(20));
        let mut women = D.share(Some(0.25), Some(4));
        D.complement(&mut [&mut men, &mut women]);
        assert_eq!(men.state, State::Hidden);
        assert_eq!(men.value, None);

        let mut cells: Vec<Cell> = [Some(3), Some(9), Some(7), Some(0)]
            .into_iter()
            .map(|n| D.persons(n))
            .collect();
        let mut refs: Vec<&mut Cell> = cells.iter_mut().collect();
        D.complement(&mut refs);
        let texts: Vec<&str> = cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["<5", "9", "7", "<5"],
            "the smallest shown cell goes too"
        );

        let mut two_hidden: Vec<Cell> = [Some(3), Some(2), Some(7)]
            .into_iter()
            .map(|n| D.persons(n))
            .collect();
        let mut refs: Vec<&mut Cell> = two_hidden.iter_mut().collect();
        D.complement(&mut refs);
        assert_eq!(
            two_hidden[2].text, "7",
            "two hidden cells already protect each other"
        );
    }
}
