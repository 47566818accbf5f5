//! Periods (quarters and months) and the ISO-week calendar a wide-weeks register
//! uses.
//!
//! A week belongs to the quarter that holds its Thursday (the ISO rule), so a quarter
//! has 12, 13 or 14 weeks; the quarter's end is the Sunday of its last ISO week.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// A reporting period: a calendar quarter or a calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A quarter, `2018Q4`.
    Quarter {
        /// Calendar year.
        year: i32,
        /// 1..=4.
        quarter: u32,
    },
    /// A month, `2018-11` (Jobindsats writes `2018M11`).
    Month {
        /// Calendar year.
        year: i32,
        /// 1..=12.
        month: u32,
    },
}

/// An ISO week: ISO year and week number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    /// ISO week-numbering year.
    pub year: i32,
    /// 1..=53.
    pub week: u32,
}

impl IsoWeek {
    /// The Monday that starts the week.
    ///
    /// # Panics
    /// Never for weeks built by this module (they are valid ISO weeks).
    #[must_use]
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
            .expect("IsoWeek values come from real dates")
    }

    /// A wide-weeks register's column name of this week: `y_YYWW`.
    #[must_use]
    pub fn column(self) -> String {
        format!("y_{:02}{:02}", self.year.rem_euclid(100), self.week)
    }

    /// Parses a wide-weeks register's week column name (`y_1840`); years >= 90 are 19YY.
    #[must_use]
    pub fn from_column(name: &str) -> Option<Self> {
        let digits = name
            .strip_prefix("y_")
            .or_else(|| name.strip_prefix("Y_"))?;
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let yy: i32 = digits[..2].parse().ok()?;
        let week: u32 = digits[2..].parse().ok()?;
        let year = if yy >= 90 { 1900 + yy } else { 2000 + yy };
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
        Some(Self { year, week })
    }

    /// The ISO label `2018W40`.
    #[must_use]
    pub fn label(self) -> String {
        format!("{}W{:02}", self.year, self.week)
    }
}

impl Period {
    /// Is this a quarter?
    #[must_use]
    pub fn is_quarter(self) -> bool {
        matches!(self, Self::Quarter { .. })
    }

    /// First calendar day.
    ///
    /// # Panics
    /// Never: quarters and months are validated at construction.
    #[must_use]
    pub fn first_day(self) -> NaiveDate {
        match self {
            Self::Quarter { year, quarter } => NaiveDate::from_ymd_opt(year, quarter * 3 - 2, 1),
            Self::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1),
        }
        .expect("validated period")
    }

    /// Last calendar day.
    #[must_use]
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - Duration::days(1)
    }

    /// The period before, of the same kind.
    #[must_use]
    pub fn previous(self) -> Self {
        match self {
            Self::Quarter { year, quarter: 1 } => Self::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter - 1,
            },
            Self::Month { year, month: 1 } => Self::Month {
                year: year - 1,
                month: 12,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month - 1,
            },
        }
    }

    /// The following period of the same kind.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Quarter { year, quarter: 4 } => Self::Quarter {
                year: year + 1,
                quarter: 1,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter + 1,
            },
            Self::Month { year, month: 12 } => Self::Month {
                year: year + 1,
                month: 1,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month + 1,
            },
        }
    }

    /// The ISO weeks whose Thursday falls in this period, in order.
    #[must_use]
    pub fn iso_weeks(self) -> Vec<IsoWeek> {
        let (first, last) = (self.first_day(), self.last_day());
        // The first Thursday on or after `first`.
        let offset =
            (7 + Weekday::Thu.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
        let mut thursday = first + Duration::days(i64::from(offset));
        let mut weeks = Vec::new();
        while thursday <= last {
            let iso = thursday.iso_week();
            weeks.push(IsoWeek {
                year: iso.year(),
                week: iso.week(),
            });
            thursday += Duration::days(7);
        }
        weeks
    }

    /// The quarter's end as the metrics define it: the Sunday of its last ISO week.
    ///
    /// # Panics
    /// Never: every quarter holds at least twelve weeks.
    #[must_use]
    pub fn reference_end(self) -> NaiveDate {
        let last = *self.iso_weeks().last().expect("a quarter has weeks");
        last.monday() + Duration::days(6)
    }

    /// The months of a quarter (a month yields itself).
    #[must_use]
    pub fn months(self) -> Vec<Period> {
        match self {
            Self::Quarter { year, quarter } => (1..=3)
                .map(|i| Self::Month {
                    year,
                    month: quarter * 3 - 3 + i,
                })
                .collect(),
            month @ Self::Month { .. } => vec![month],
        }
    }

    /// The quarter a period lies in.
    #[must_use]
    pub fn quarter(self) -> Period {
        match self {
            q @ Self::Quarter { .. } => q,
            Self::Month { year, month } => Self::Quarter {
                year,
                quarter: (month - 1) / 3 + 1,
            },
        }
    }

    /// The Jobindsats period code: `2018Q4` or `2018M11`.
    #[must_use]
    pub fn jobindsats_code(self) -> String {
        match self {
            Self::Quarter { year, quarter } => format!("{year}Q{quarter}"),
            Self::Month { year, month } => format!("{year}M{month:02}"),
        }
    }

    /// The Hive partition folder: `quarter=2018Q4` or `month=2018-11`.
    #[must_use]
    pub fn partition(self) -> String {
        match self {
            Self::Quarter { .. } => format!("quarter={self}"),
            Self::Month { .. } => format!("month={self}"),
        }
    }

    /// Every period from `self` to `last`, inclusive (empty when `last` is earlier).
    #[must_use]
    pub fn through(self, last: Period) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = self;
        while p <= last && p.is_quarter() == last.is_quarter() {
            out.push(p);
            p = p.next();
        }
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Quarter { year, quarter } => write!(f, "{year}Q{quarter}"),
            Self::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

/// A period string that is neither `2018Q4`, `2018-11` nor `2018M11`, or a range
/// that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not a period at all.
    #[error(
        "invalid period `{0}`: expected a quarter like `2018Q4`, a month like `2018M12` or `2018-12`, or a range like `2016Q3..2018Q4`"
    )]
    Invalid(String),
    /// A range whose ends do not make one.
    #[error("invalid period range `{text}`: {reason}")]
    Range {
        /// The range as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodError::Invalid(s.to_string());
        let t = s.trim();
        if t.len() < 6 || !t.is_ascii() {
            return Err(err());
        }
        let year: i32 = t[..4].parse().map_err(|_| err())?;
        if !(1900..=2100).contains(&year) {
            return Err(err());
        }
        let rest = &t[4..];
        let num = |x: &str| -> Result<u32, PeriodError> {
            if x.is_empty() || x.len() > 2 || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            x.parse().map_err(|_| err())
        };
        if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            let quarter = num(q)?;
            if (1..=4).contains(&quarter) && q.len() == 1 {
                return Ok(Self::Quarter { year, quarter });
            }
        } else if let Some(m) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('M')) {
            let month = num(m)?;
            if (1..=12).contains(&month) && m.len() == 2 {
                return Ok(Self::Month { year, month });
            }
        }
        Err(err())
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> Self {
        p.to_string()
    }
}

/// Parses `P` or a range `P..Q` of periods of the same kind.
pub fn parse_range(s: &str) -> Result<Vec<Period>, PeriodError> {
    let Some((a, b)) = s.split_once("..") else {
        return Ok(vec![s.parse()?]);
    };
    let end = |x: &str, which: &str| {
        x.parse::<Period>().map_err(|_| PeriodError::Range {
            text: s.to_string(),
            reason: format!(
                "its {which} `{x}` is not a quarter like `2018Q4` or a month like `2018M12` or `2018-12`"
            ),
        })
    };
    let (a, b) = (end(a, "start")?, end(b, "end")?);
    let reason = if a.is_quarter() != b.is_quarter() {
        "both ends must be quarters (`2016Q3..2018Q4`) or both months (`2018-09..2018-11`)"
    } else if b < a {
        "it ends before it starts"
    } else {
        return Ok(a.through(b));
    };
    Err(PeriodError::Range {
        text: s.to_string(),
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_bad_period_names_the_text_given_and_the_forms_accepted() {
        let e = parse_range("../../x").unwrap_err().to_string();
        assert!(e.contains("`../../x`"), "{e}");
        assert!(e.contains("`2018Q4`") && e.contains("`2018M12`"), "{e}");
        let e = "2018Q5".parse::<Period>().unwrap_err().to_string();
        assert!(
            e.starts_with("invalid period `2018Q5`: expected a quarter like `2018Q4`"),
            "{e}"
        );
        let e = parse_range("2018Q4..2016Q3").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid period range `2018Q4..2016Q3`: it ends before it starts"
        );
        let e = parse_range("2018Q1..2018-11").unwrap_err().to_string();
        assert!(e.contains("both ends must be quarters"), "{e}");
    }

    #[test]
    fn parses_and_prints_periods() {
        assert_eq!(p("2018Q4").to_string(), "2018Q4");
        assert_eq!(p("2018-11").to_string(), "2018-11");
        assert_eq!(p("2018M11"), p("2018-11"));
        assert_eq!(p("2018M11").jobindsats_code(), "2018M11");
        for bad in [
            "2018Q5", "2018-13", "2018-1", "18Q4", "2018", "2018Q", "2018-00",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn quarter_weeks_follow_the_thursday_rule() {
        // 2020Q4 has 14 weeks (2020W40..2020W53), 2021Q1 has 12 (2021W01..2021W12).
        let q = p("2020Q4").iso_weeks();
        assert_eq!(q.len(), 14);
        assert_eq!(q[0].label(), "2020W40");
        assert_eq!(q[13].label(), "2020W53");
        let q = p("2021Q1").iso_weeks();
        assert_eq!(q.len(), 12);
        assert_eq!(q[0].label(), "2021W01");
        assert_eq!(p("2018Q4").iso_weeks().len(), 13);
    }

    #[test]
    fn reference_end_is_sunday_of_last_week() {
        assert_eq!(
            p("2018Q4").reference_end(),
            NaiveDate::from_ymd_opt(2018, 12, 30).unwrap()
        );
        assert_eq!(
            p("2020Q4").reference_end(),
            NaiveDate::from_ymd_opt(2021, 1, 3).unwrap()
        );
        assert_eq!(
            p("2021Q1").reference_end(),
            NaiveDate::from_ymd_opt(2021, 3, 28).unwrap()
        );
    }

    #[test]
    fn week_columns_round_trip() {
        let w = IsoWeek::from_column("y_1840").unwrap();
        assert_eq!((w.year, w.week), (2018, 40));
        assert_eq!(w.column(), "y_1840");
        assert_eq!(IsoWeek::from_column("y_9901").unwrap().year, 1999);
        assert!(IsoWeek::from_column("y_1854").is_none());
        assert!(IsoWeek::from_column("y_18401").is_none());
    }

    #[test]
    fn ranges_expand() {
        assert_eq!(parse_range("2016Q3..2017Q2").unwrap().len(), 4);
        assert_eq!(parse_range("2018-11..2019-02").unwrap().len(), 4);
        assert!(parse_range("2018Q1..2018-03").is_err());
    }
}
