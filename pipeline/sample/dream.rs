//! Sample DREAM extracts: a cohort of arrivals per municipality whose chance of being
//! self-supporting or in education follows the municipality's profile over time.
//! Border cases are planted on purpose: exactly 4 weeks without benefit, IGU school
//! weeks, 4 SU weeks, persons who turn 18 or 65, arrivals just inside and outside the
//! 36 months, a few persons outside the target group.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};

use super::rng::Rng;
use super::{Profile, Summary, at, progress};
use crate::period::Period;

/// A synthetic person.
#[derive(Debug, Clone)]
pub struct Person {
    /// CPR number (synthetic, 10 digits).
    pub cpr: String,
    /// `M` or `K`.
    pub sex: char,
    /// Birth date.
    pub born: NaiveDate,
    /// Origin group 1..5.
    pub herkomst: u8,
    /// Municipality.
    pub kommune: i32,
    /// Covered by the integration programme.
    pub program: bool,
    /// First integrationsydelse.
    pub arrival: Option<NaiveDate>,
    /// Latent position: low values become self-supporting first.
    pub u: f64,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

/// Relative arrival intensity per month (refugees came mostly in 2015-2016).
fn arrival_weight(date: NaiveDate) -> f64 {
    match date.year() {
        2014 | 2017 => 0.6,
        2015 | 2016 => 1.2,
        _ => 0.4,
    }
}

/// A CPR number not in `used` for a person born on `born` (odd serial for men).
pub(crate) fn cpr(rng: &mut Rng, born: NaiveDate, sex: char, used: &mut HashSet<String>) -> String {
    loop {
        let mut serial = rng.range(0, 9999);
        let odd = serial % 2 == 1;
        if odd != (sex == 'M') {
            serial = (serial + 1) % 10_000;
        }
        let s = format!(
            "{:02}{:02}{:02}{serial:04}",
            born.day(),
            born.month(),
            born.year() % 100
        );
        if used.insert(s.clone()) {
            return s;
        }
    }
}

/// Everyone in every sample DREAM extract: each municipality's arrivals and a few
/// persons outside the target group; then, up to `persons`, persons outside the target
/// group spread over the municipalities (DREAM holds everyone on a public benefit).
#[must_use]
pub fn population(rng: &Rng, profiles: &[Profile], persons: usize) -> Vec<Person> {
    let mut rng = rng.clone();
    let mut used = HashSet::new();
    let mut people = Vec::new();
    for profile in profiles {
        let rate = f64::from(profile.population) / 32.0;
        let mut month = d(2014, 7, 1);
        while month <= d(2018, 12, 1) {
            let expected = rate * arrival_weight(month);
            let n = expected.floor() as i64 + i64::from(rng.chance(expected.fract()));
            for _ in 0..n {
                let arrival = month + Duration::days(rng.range(0, 27));
                let sex = if rng.chance(0.6) { 'M' } else { 'K' };
                let age_days = match rng.f64() {
                    x if x < 0.03 => rng.range(16 * 365, 18 * 365),
                    x if x < 0.05 => rng.range(61 * 365, 65 * 365),
                    _ => rng.range(18 * 365, 52 * 365),
                };
                let born = arrival - Duration::days(age_days);
                let herkomst = if rng.chance(0.93) {
                    3
                } else {
                    *rng.pick(&[2u8, 5])
                };
                let program = rng.chance(0.96);
                let cpr = cpr(&mut rng, born, sex, &mut used);
                people.push(Person {
                    cpr,
                    sex,
                    born,
                    herkomst,
                    kommune: profile.code,
                    program,
                    arrival: Some(arrival),
                    u: rng.f64(),
                });
            }
            month = month
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(month);
        }
        // Outside the target group: Danish origin or long-settled persons on other benefits.
        for _ in 0..(profile.population / 4) {
            let sex = if rng.chance(0.5) { 'M' } else { 'K' };
            let born = d(1960, 1, 1) + Duration::days(rng.range(0, 40 * 365));
            let herkomst = *rng.pick(&[1u8, 1, 1, 3, 4]);
            let arrival =
                (herkomst == 3).then(|| d(2009, 1, 1) + Duration::days(rng.range(0, 4 * 365)));
            let cpr = cpr(&mut rng, born, sex, &mut used);
            people.push(Person {
                cpr,
                sex,
                born,
                herkomst,
                kommune: profile.code,
                program: herkomst == 3,
                arrival,
                u: rng.f64(),
            });
        }
    }
    while people.len() < persons {
        let kommune = rng.pick(profiles).code;
        people.push(outsider(&mut rng, kommune, &mut used));
    }
    people
}

/// A person outside the M1 target group: Danish or western origin, or long settled.
fn outsider(rng: &mut Rng, kommune: i32, used: &mut HashSet<String>) -> Person {
    let sex = if rng.chance(0.5) { 'M' } else { 'K' };
    let born = d(1952, 1, 1) + Duration::days(rng.range(0, 48 * 365));
    let herkomst = *rng.pick(&[1u8, 1, 1, 1, 2, 3, 4, 5]);
    let arrival = (herkomst == 3).then(|| d(1995, 1, 1) + Duration::days(rng.range(0, 17 * 365)));
    let cpr = cpr(rng, born, sex, used);
    Person {
        cpr,
        sex,
        born,
        herkomst,
        kommune,
        program: false,
        arrival,
        u: rng.f64(),
    }
}

fn shuffle<T>(rng: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.range(0, i as i64) as usize;
        v.swap(i, j);
    }
}

/// Benefit codes for the weeks of one quarter.
fn weeks(
    rng: &mut Rng,
    p: &Person,
    n: usize,
    quarter: Period,
    profiles: &[Profile],
) -> Vec<&'static str> {
    let target = p.herkomst == 3 && p.arrival.is_some_and(|a| a >= d(2013, 6, 1));
    let mut codes: Vec<&'static str> = Vec::with_capacity(n);
    if !target {
        for _ in 0..n {
            codes.push(*rng.pick(&["", "", "135", "111", "750", "135"]));
        }
        return codes;
    }
    let t = progress(quarter);
    let profile = profiles
        .iter()
        .find(|x| x.code == p.kommune)
        .copied()
        .unwrap_or(profiles[0]);
    let factor = if p.sex == 'M' { 1.2 } else { 0.72 };
    let ps = at(profile.selv, t) / 100.0 * factor;
    let pe = at(profile.udd, t) / 100.0 * factor;
    let benefit = || {
        if p.sex == 'K' && p.u > 0.8 {
            "131"
        } else {
            "130"
        }
    };
    if p.u < ps {
        let k = rng.range(5, n as i64) as usize;
        let igu = rng.chance(0.15);
        for i in 0..n {
            codes.push(if i < k {
                if igu && i % 2 == 0 { "881" } else { "" }
            } else {
                benefit()
            });
        }
        if rng.chance(0.05) && n - k >= 5 {
            // Both self-supporting and in education: counted once in M1.
            for c in codes.iter_mut().skip(k).take(5) {
                *c = "651";
            }
        }
    } else if p.u < ps + pe {
        let k = rng.range(5, n as i64) as usize;
        let empties = rng.range(0, 3) as usize;
        for i in 0..n {
            codes.push(if i < k {
                if rng.chance(0.9) { "651" } else { "652" }
            } else if i < k + empties {
                ""
            } else {
                benefit()
            });
        }
    } else {
        let border = rng.f64();
        for i in 0..n {
            codes.push(match border {
                x if x < 0.08 && i < 4 => "", // exactly 4 weeks without benefit: not self-supporting
                x if x < 0.13 && i < 6 => "882", // IGU school: counts as integrationsydelse
                x if x < 0.16 && i < 4 => "651", // 4 SU weeks: not in education
                x if x < 0.18 && i < 3 => "135",
                _ => benefit(),
            });
        }
    }
    shuffle(rng, &mut codes);
    if rng.chance(0.01) {
        let k = rng.range(1, 4) as usize;
        for c in codes.iter_mut().rev().take(k) {
            *c = *rng.pick(&["997", "998", "999"]);
        }
    }
    codes
}

/// The quarters the sample covers.
#[must_use]
pub fn quarters() -> Vec<Period> {
    Period::Quarter {
        year: 2016,
        quarter: 3,
    }
    .through(Period::Quarter {
        year: 2018,
        quarter: 4,
    })
}

/// Writes the DREAM extracts of `quarters` and the code mapping, one file streamed
/// at a time (a national quarter is about 80 MB).
pub fn write(
    out: &Path,
    people: &[Person],
    rng: &Rng,
    summary: &mut Summary,
    quarters: &[Period],
    profiles: &[Profile],
) -> std::io::Result<()> {
    let mut rng = rng.clone();
    let dir = out.join("dream");
    super::write_file(
        &dir.join("dream_codes.csv"),
        crate::config::DEFAULT_CODE_MAPPING,
        summary,
    )?;
    for q in quarters {
        let q = *q;
        let weeks_q = q.iso_weeks();
        // One week column before the quarter, as real extracts carry history.
        let prev = {
            let monday = weeks_q[0].monday() - Duration::days(7);
            let iw = monday.iso_week();
            crate::period::IsoWeek {
                year: iw.year(),
                week: iw.week(),
            }
        };
        let mut text = super::FileWriter::create(&dir.join(format!("dream_{q}.csv")))?;
        text.push_str(
            "cpr;koen;foedselsdato;herkomst;kommune;integrationsprogram;foerste_integrationsydelse",
        );
        for w in std::iter::once(&prev).chain(&weeks_q) {
            let _ = write!(text, ";{}", w.column());
        }
        text.push('\n');
        let end = q.reference_end();
        // In 2017Q1 the supplier wrote municipality codes zero-padded (accepted by the contract).
        let padded = q
            == Period::Quarter {
                year: 2017,
                quarter: 1,
            };
        for p in people {
            if p.arrival.is_some_and(|a| a > end) {
                continue;
            }
            let codes = weeks(&mut rng, p, weeks_q.len(), q, profiles);
            let first = p.arrival.map(|a| a.to_string()).unwrap_or_default();
            let kommune = if padded {
                format!("{:04}", p.kommune)
            } else {
                p.kommune.to_string()
            };
            let _ = write!(
                text,
                "{};{};{};{};{kommune};{};{first};{}",
                p.cpr,
                p.sex,
                p.born,
                p.herkomst,
                u8::from(p.program),
                *rng.pick(&["130", "", "135"])
            );
            for c in codes {
                text.push(';');
                text.push_str(c);
            }
            text.push('\n');
            summary.dream_rows += 1;
            text.flush_if_full()?;
        }
        text.finish(summary)?;
    }
    Ok(())
}
