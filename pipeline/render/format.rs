//! Danish number and date formats for the reports: "40,5 pct.", "+30,3 procentpoint",
//! "4. kvartal 2018", "november 2018", "1. februar 2019".

use chrono::{Datelike, NaiveDate};

use crate::period::Period;

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

const MONTHS_SHORT: [&str; 12] = [
    "jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.",
];

/// The Danish name of a month (1..=12), lower case as Danish writes it.
#[must_use]
pub fn month_name(month: u32) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// "4. kvartal 2018", "december 2018".
#[must_use]
pub fn period_label(p: Period) -> String {
    match p {
        Period::Quarter { year, quarter } => format!("{quarter}. kvartal {year}"),
        Period::Month { year, month } => format!("{} {year}", month_name(month)),
    }
}

/// A short label for chart axes: "4. kv. 18", "dec. 18".
#[must_use]
pub fn period_short(p: Period) -> String {
    match p {
        Period::Quarter { year, quarter } => format!("{quarter}. kv. {:02}", year % 100),
        Period::Month { year, month } => {
            format!(
                "{} {:02}",
                MONTHS_SHORT[(month.clamp(1, 12) - 1) as usize],
                year % 100
            )
        }
    }
}

/// "1. februar 2019".
#[must_use]
pub fn date_label(d: NaiveDate) -> String {
    format!("{}. {} {}", d.day(), month_name(d.month()), d.year())
}

/// A number with `decimals` decimals, a decimal comma and a thousands dot: 1.234,5.
/// Rounds as Rust's formatting does (the exact binary value, ties to even); never
/// prints "-0".
#[must_use]
pub fn number(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let negative = v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// A share (0..1) as "40,5 pct.".
#[must_use]
pub fn pct(share: f64) -> String {
    format!("{} pct.", number(share * 100.0, 1))
}

/// A change of shares in percentage points, signed: "+30,3 procentpoint", "-2,0 procentpoint".
#[must_use]
pub fn pp(change: f64) -> String {
    let n = number(change * 100.0, 1);
    let sign = if n.starts_with('-') || n == "0,0" {
        ""
    } else {
        "+"
    };
    format!("{sign}{n} procentpoint")
}

/// A whole count with a thousands dot: "1.234".
#[must_use]
pub fn count(n: i64) -> String {
    number(n as f64, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_a_decimal_comma_and_a_thousands_dot() {
        assert_eq!(number(1234.56, 1), "1.234,6");
        assert_eq!(number(0.04, 1), "0,0");
        assert_eq!(number(-0.04, 1), "0,0");
        assert_eq!(number(-2.26, 1), "-2,3");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(1_000_000.0, 0), "1.000.000");
        assert_eq!(pct(0.405), "40,5 pct.");
        assert_eq!(pct(0.407_407_4), "40,7 pct.");
        assert_eq!(pp(0.303), "+30,3 procentpoint");
        assert_eq!(pp(-0.02), "-2,0 procentpoint");
        assert_eq!(pp(0.0), "0,0 procentpoint");
        assert_eq!(count(12345), "12.345");
    }

    #[test]
    fn periods_and_dates_are_danish() {
        let q: Period = "2018Q4".parse().unwrap();
        let m: Period = "2018-12".parse().unwrap();
        assert_eq!(period_label(q), "4. kvartal 2018");
        assert_eq!(period_label(m), "december 2018");
        assert_eq!(period_short(q), "4. kv. 18");
        assert_eq!(period_short(m), "dec. 18");
        assert_eq!(
            date_label(NaiveDate::from_ymd_opt(2019, 2, 1).unwrap()),
            "1. februar 2019"
        );
    }
}
