//! `maaltal sample-data --scale national`: the sample's formats for all 98
//! municipalities, the data the benchmarks run on (docs/performance.md).
//!
//! - every municipality is in the programme; the 19 with a sample profile keep it, the
//!   others get a profile drawn from the same ranges;
//! - DREAM: twelve quarters (2016Q1 to 2018Q4); each holds the arrivals (the M1
//!   target group, some 40,000 persons in 2018Q4) and persons outside the target group
//!   up to the requested size, as the real register holds everyone on a public benefit;
//! - Jobindsats: both tables for every municipality;
//! - fagsystem: one case system per municipality, 2018-01 to 2018-12, the employees
//!   spread evenly (three departments each);
//! - `maaltal.toml` beside the data, reading it, with a lake in `lake/`.

use std::fmt::Write as _;

use super::fagsystem::Office;
use super::rng::Rng;
use super::{PROFILES, Profile};
use crate::municipality::MUNICIPALITIES;
use crate::period::Period;

/// Every municipality's profile: the sample's where it has one, else drawn.
#[must_use]
pub fn profiles(rng: &Rng) -> Vec<Profile> {
    let mut rng = rng.clone();
    MUNICIPALITIES
        .iter()
        .map(|(code, _)| {
            let drawn = Profile {
                code: *code,
                population: match code {
                    101 => 1_200,
                    _ => rng.range(40, 420) as u32,
                },
                selv: (rng.range(5, 14) as f64, rng.range(15, 35) as f64),
                udd: (rng.range(0, 3) as f64, rng.range(8, 22) as f64),
                jobparat: (rng.range(40, 80) as f64, rng.range(55, 80) as f64),
                virk: (rng.range(25, 40) as f64, rng.range(35, 60) as f64),
            };
            PROFILES
                .iter()
                .find(|p| p.code == *code)
                .copied()
                .unwrap_or(drawn)
        })
        .collect()
}

/// The twelve quarters 2016Q1 to 2018Q4.
#[must_use]
pub fn quarters() -> Vec<Period> {
    Period::Quarter {
        year: 2016,
        quarter: 1,
    }
    .through(Period::Quarter {
        year: 2018,
        quarter: 4,
    })
}

/// The case-system months, 2018-01 to 2018-12.
#[must_use]
pub fn months() -> Vec<Period> {
    Period::Month {
        year: 2018,
        month: 1,
    }
    .through(Period::Month {
        year: 2018,
        month: 12,
    })
}

/// A mail domain from a municipality's name: `Faaborg-Midtfyn` → `faaborg-midtfyn.example`.
fn domain(name: &str) -> String {
    let mut s = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'æ' => s.push_str("ae"),
            'ø' => s.push_str("oe"),
            'å' => s.push_str("aa"),
            ' ' => s.push('-'),
            c if c.is_ascii_alphanumeric() || c == '-' => s.push(c),
            _ => {}
        }
    }
    format!("{s}.example")
}

/// One case system per municipality, `employees` in all: three departments each, with
/// a leader, sagsbehandlere and a mentor in the first two and virksomhedskonsulenter
/// in the third. (Each office also gets a sagsbehandler who joins in October 2018.)
#[must_use]
pub fn offices(employees: usize) -> Vec<Office> {
    let n = MUNICIPALITIES.len();
    MUNICIPALITIES
        .iter()
        .enumerate()
        .map(|(i, (code, name))| {
            let heads = employees / n + usize::from(i < employees % n);
            // Less the late joiner and the three leaders.
            let rest = heads.saturating_sub(4);
            let konsulenter = rest * 3 / 10;
            let mentors = usize::from(rest >= 10);
            let sagsbehandlere = rest - konsulenter - mentors;
            let first = sagsbehandlere.div_ceil(2);
            Office {
                code: *code,
                prefix: format!("K{code}-"),
                domain: domain(name),
                departments: vec![
                    (
                        "Integration".to_string(),
                        vec![("leder", 1), ("sagsbehandler", first), ("mentor", mentors)],
                    ),
                    (
                        "Jobcenter Erhverv".to_string(),
                        vec![("leder", 1), ("sagsbehandler", sagsbehandlere - first)],
                    ),
                    (
                        "Virksomhedsservice".to_string(),
                        vec![("leder", 1), ("virksomhedskonsulent", konsulenter)],
                    ),
                ],
            }
        })
        .collect()
}

/// The configuration that reads the national data from its own folder.
#[must_use]
pub fn config(profiles: &[Profile], offices: &[Office]) -> String {
    let codes = |it: &mut dyn Iterator<Item = i32>| {
        it.map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    };
    let mut leads = String::new();
    for o in offices {
        let _ = writeln!(leads, "{} = [\"projektleder@{}\"]", o.code, o.domain);
    }
    format!(
        r#"# Written by `maaltal sample-data --scale national`: all 98 municipalities in the
# programme, reading the synthetic national data in this folder. Relative paths are
# relative to this file's folder. Keys: docs/configuration.md.

[program]
id = "national"
name = "I mål med integration (national test)"
municipalities = [{program}]

[lake]
path = "lake"

[pseudonym]
key_env = "MAALTAL_PSEUDONYM_KEY"
allow_demo_key = true

[sources.dream]
type = "wide_weeks"
title = "DREAM"
location = "dream/dream_{{period}}.csv"
encoding = "utf8"
unknown_codes = "error"

[sources.jobindsats]
type = "jobindsats_v2"
title = "Jobindsats"
location = "jobindsats"
api_key_env = "MAALTAL_JOBINDSATS_KEY"
sex_dimension = "_kon"
sex_labels = {{ "Mænd" = "M", "Kvinder" = "K", "I alt" = "alle" }}

[sources.jobindsats.tables.visitation]
table_id = "Y60V02"
frequency = "month"
category_dimension = "_visitation"

[sources.jobindsats.tables.offers]
table_id = "Y60A05"
frequency = "quarter"
category_dimension = "_tilbud"

[sources.fagsystem]
type = "csv"
title = "fagsystemet"
period = "month"
location = "fagsystem/{{municipality}}/{{period}}"
encoding = "utf8"
municipalities = [{fag}]

[metrics]
min_weeks = 5
measure = "antal_personer"
jobparat_label = "Jobparat"
offer_labels = ["Ansættelse med løntilskud i alt", "Virksomhedspraktik i alt", "Nytteindsats i alt"]
recipients_label = "Modtagere i alt"
sex_gap_baseline = "2017Q1"
baseline = {{ M1 = "2016Q4", M1_selvforsoergelse = "2016Q4", M1_uddannelse = "2016Q4", M2 = "2016M12", M3 = "2016Q3" }}

[reports]
min_group_size = 5

{reports}
[mail]
from = "I mål med integration <maaltal@imi.example>"
reply_to = "sekretariat@imi.example"
outbox = "outbox"
password_env = "MAALTAL_SMTP_PASSWORD"

[recipients]
secretariat = ["sekretariat@imi.example"]
operator = "drift@imi.example"

[recipients.project_leads]
{leads}
[jobs.jobindsats]
period = "month"
steps = ["ingest jobindsats quarter", "transform"]
schedule = "0 5 10 * *"

[jobs.dream]
period = "quarter"
steps = ["ingest dream", "transform"]
schedule = "0 5 15 2,5,8,11 *"

[jobs.quarterly]
period = "quarter"
steps = ["transform backfill", "send quarterly", "send overview"]
schedule = "0 7 20 2,5,8,11 *"

[jobs.maanedsbog]
period = "month"
steps = ["ingest fagsystem", "transform", "send maanedsbog"]
schedule = "0 6 2 * *"
"#,
        program = codes(&mut profiles.iter().map(|p| p.code)),
        reports = embedded_reports(),
        fag = codes(&mut offices.iter().map(|o| o.code)),
    )
}

/// The embedded default's `[[reports.report]]` entries, as written there.
fn embedded_reports() -> String {
    let text: &str = &crate::config::EMBEDDED_DEFAULT;
    let mut out = String::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with('[') {
            inside = l.trim() == "[[reports.report]]";
        }
        if inside && !l.starts_with('#') {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}
