//! Scheduling, pure: which periods a job owes from its cron schedule (evaluated in
//! Europe/Copenhagen), the run history and the time now. No clock, no I/O: `serve`
//! and `jobs` call these with `now`, tests call them with any time they like.
//!
//! A firing stands for the period before it: the månedsbog fired on 2 December is
//! November's, the quarterly report fired in February is the fourth quarter's. A period
//! is due when a firing for it lies in the catch-up window before `now` and the history
//! does not show it done; each due period runs once, oldest first, however many
//! firings (a machine off for three months, the day the clocks change) stand for it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use croner::Cron;

use crate::period::Period;

/// The period a job's firing stands for: the quarter or the month before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Span {
    /// A quarter.
    Quarter,
    /// A month.
    Month,
}

impl Span {
    /// Its name in config and logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Quarter => "quarter",
            Self::Month => "month",
        }
    }

    /// The period a firing on local date `day` stands for: the month or quarter before.
    #[must_use]
    pub fn period_for(self, day: NaiveDate) -> Period {
        let first_of_month = day.with_day(1).unwrap_or(day);
        let prev = first_of_month.pred_opt().unwrap_or(first_of_month);
        if self == Self::Quarter {
            let q0 = (day.month() - 1) / 3 * 3 + 1;
            let first_of_quarter = NaiveDate::from_ymd_opt(day.year(), q0, 1).unwrap_or(day);
            let last = first_of_quarter.pred_opt().unwrap_or(first_of_quarter);
            Period::Quarter {
                year: last.year(),
                quarter: (last.month() - 1) / 3 + 1,
            }
        } else {
            Period::Month {
                year: prev.year(),
                month: prev.month(),
            }
        }
    }
}

/// Parses a cron expression: five fields (minute hour day month weekday) or six with
/// seconds first.
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| format!("`{expr}`: {e}"))
}

/// The firings of `cron` in time zone `tz` after `from` up to and including `to`.
#[must_use]
pub fn firings(cron: &Cron, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    cron.iter_after(from.with_timezone(&tz))
        .map(|t| t.with_timezone(&Utc))
        .take_while(|t| *t <= to)
        .take(100_000)
        .collect()
}

/// The next firing after `now`.
#[must_use]
pub fn next_firing(cron: &Cron, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The periods due at `now`: a firing for them within `window` before `now`, not in
/// `done`; oldest first, each once.
#[must_use]
pub fn due(
    span: Span,
    cron: &Cron,
    tz: Tz,
    done: &BTreeSet<Period>,
    now: DateTime<Utc>,
    window: Duration,
) -> Vec<Period> {
    let periods: BTreeSet<Period> = firings(cron, tz, now - window, now)
        .into_iter()
        .map(|t| span.period_for(t.with_timezone(&tz).date_naive()))
        .filter(|p| !done.contains(p))
        .collect();
    periods.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    const CPH: Tz = chrono_tz::Europe::Copenhagen;

    #[test]
    fn a_firing_stands_for_the_period_before() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(Span::Month.period_for(d("2018-12-02")), p("2018-11"));
        assert_eq!(Span::Month.period_for(d("2019-01-02")), p("2018-12"));
        assert_eq!(Span::Quarter.period_for(d("2019-02-20")), p("2018Q4"));
        assert_eq!(Span::Quarter.period_for(d("2018-05-15")), p("2018Q1"));
        assert_eq!(Span::Quarter.period_for(d("2018-12-31")), p("2018Q3"));
    }

    #[test]
    fn a_machine_off_for_three_months_catches_up_each_period_once_oldest_first() {
        let cron = parse_cron("0 6 2 * *").unwrap();
        let done: BTreeSet<Period> = [p("2018-08")].into();
        // Last ran for August on 2 September; off until 20 December.
        let due_now = due(
            Span::Month,
            &cron,
            CPH,
            &done,
            utc("2018-12-20T09:00:00Z"),
            Duration::days(120),
        );
        assert_eq!(due_now, vec![p("2018-09"), p("2018-10"), p("2018-11")]);
        // Outside the window nothing is owed.
        let short = due(
            Span::Month,
            &cron,
            CPH,
            &done,
            utc("2018-12-20T09:00:00Z"),
            Duration::days(40),
        );
        assert_eq!(short, vec![p("2018-11")]);
        // Once done, nothing is due again.
        let all: BTreeSet<Period> = [p("2018-08"), p("2018-09"), p("2018-10"), p("2018-11")].into();
        assert!(
            due(
                Span::Month,
                &cron,
                CPH,
                &all,
                utc("2018-12-20T09:00:00Z"),
                Duration::days(120)
            )
            .is_empty()
        );
    }

    #[test]
    fn the_spring_change_day_loses_no_run() {
        // 31 March 2019: 02:00 CET jumps to 03:00 CEST; a job at 02:30 local time.
        let cron = parse_cron("30 2 * * *").unwrap();
        let f = firings(
            &cron,
            CPH,
            utc("2019-03-30T00:00:00Z"),
            utc("2019-04-01T23:00:00Z"),
        );
        let local: Vec<String> = f
            .iter()
            .map(|t| t.with_timezone(&CPH).format("%m-%d %H:%M %Z").to_string())
            .collect();
        assert_eq!(
            local.len(),
            3,
            "one run each day, the change day included: {local:?}"
        );
        assert_eq!(local[0], "03-30 02:30 CET");
        assert!(
            local[1].starts_with("03-31 03:"),
            "the missing 02:30 runs at 03:00: {local:?}"
        );
        assert_eq!(local[2], "04-01 02:30 CEST");
    }

    #[test]
    fn the_autumn_change_day_doubles_no_run() {
        // 27 October 2019: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let cron = parse_cron("30 2 * * *").unwrap();
        let f = firings(
            &cron,
            CPH,
            utc("2019-10-26T00:00:00Z"),
            utc("2019-10-28T23:00:00Z"),
        );
        let days: Vec<String> = f
            .iter()
            .map(|t| t.with_timezone(&CPH).format("%m-%d").to_string())
            .collect();
        assert_eq!(days, ["10-26", "10-27", "10-28"], "once a day");
    }

    #[test]
    fn the_monthly_job_on_a_change_day_owes_its_month_once() {
        // A månedsbog set for 02:30 on the 31st... of March 2019, the spring change day.
        let cron = parse_cron("30 2 31 3 *").unwrap();
        let d = due(
            Span::Month,
            &cron,
            CPH,
            &BTreeSet::new(),
            utc("2019-04-02T00:00:00Z"),
            Duration::days(10),
        );
        assert_eq!(d, vec![p("2019-02")]);
    }
}
