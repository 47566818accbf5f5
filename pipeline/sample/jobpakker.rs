//! Sample data of the second programme, VIP2: the job-package register
//! (../shared/spec/vip2.md §1), one cumulative CSV per calendar quarter, 2007Q1 to
//! 2010Q2, for the five VIP2 municipalities and Brøndby (a method municipality of the
//! first round, outside the programme).
//!
//! ```text
//! <out>/jobpakker/jobpakker_2007Q1.csv … jobpakker_2010Q2.csv
//! ```
//!
//! The shape follows the seeds: some 313 packages started from April 2007 to April
//! 2009 (then a few more in the extension), most for women in match group 4, a bit
//! over half of them new packages beyond the 12 original ones, and about 39 % in work
//! when counted in the autumn of 2009, Aabenraa highest. Each package has one history
//! (start, end, outcome, status at the end and 3 and 6 months after); a quarter's
//! extract shows what of it had happened by the quarter's last day.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Duration, Months, NaiveDate};

use super::Summary;
use super::rng::Rng;
use crate::period::Period;

/// The municipalities: (DST code, packages, chance of work after a package).
const MUNICIPALITIES: [(i32, usize, f64); 6] = [
    (159, 70, 0.36),
    (210, 45, 0.33),
    (330, 72, 0.32),
    (580, 61, 0.55),
    (751, 65, 0.36),
    (153, 6, 0.30),
];

/// The trades of the 12 original packages.
const ORIGINAL: [&str; 12] = [
    "Rengøring",
    "Køkken og kantine",
    "Pleje og omsorg",
    "Lager og logistik",
    "Butik og detail",
    "Transport",
    "Byggeri",
    "Industri",
    "Hotel og restaurant",
    "Pædagogisk medhjælp",
    "Grøn service",
    "Kontor og administration",
];

/// Trades of new packages made on the originals' template.
const NEW: [&str; 8] = [
    "Frisør",
    "Vaskeri",
    "Bager",
    "Ejendomsservice",
    "Slagteri",
    "Tekstil",
    "Dagpleje",
    "Kirkegård",
];

/// A status at a point after the package, given whether the person is in work.
fn status(rng: &mut Rng, work_chance: f64) -> &'static str {
    if rng.chance(work_chance) {
        if rng.chance(0.88) {
            "ordinaer_beskaeftigelse"
        } else {
            "fleksjob"
        }
    } else {
        const OTHER: [&str; 10] = [
            "offentlig_forsoergelse",
            "offentlig_forsoergelse",
            "offentlig_forsoergelse",
            "offentlig_forsoergelse",
            "loentilskud",
            "loentilskud",
            "uddannelse",
            "pension",
            "andet",
            "uoplyst",
        ];
        OTHER[usize::try_from(rng.range(0, 9)).unwrap_or(0)]
    }
}

/// One package's whole history.
#[derive(Clone)]
struct Package {
    id: String,
    cpr: String,
    koen: char,
    kommune: i32,
    matchgruppe: Option<u8>,
    cvr: String,
    sektor: &'static str,
    branche: &'static str,
    ny: bool,
    start: NaiveDate,
    /// End and outcome, status at the end, after 3 and after 6 months; `None` while
    /// the package runs past the data.
    end: Option<(NaiveDate, &'static str, [&'static str; 3])>,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn cpr(rng: &mut Rng, koen: char, used: &mut HashSet<String>) -> String {
    let born = day(1955, 1, 1) + Duration::days(rng.range(0, 35 * 365));
    super::dream::cpr(rng, born, koen, used)
}

fn packages(rng: &mut Rng) -> Vec<Package> {
    let mut used = HashSet::new();
    let mut out = Vec::new();
    let first = day(2007, 4, 1);
    for (code, n, work) in MUNICIPALITIES {
        // Brøndby took part in 2007 only.
        let span = if code == 153 { 240 } else { 760 };
        for i in 0..n {
            let koen = if rng.chance(0.72) { 'K' } else { 'M' };
            let start = first + Duration::days(rng.range(0, span));
            let end = start + Duration::days(rng.range(45, 300));
            let finished = end <= day(2010, 6, 30);
            let afbrudt = rng.chance(0.22);
            let slut = status(rng, work * 0.8);
            let tre = if rng.chance(0.75) {
                slut
            } else {
                status(rng, work)
            };
            let seks = if rng.chance(0.8) {
                tre
            } else {
                status(rng, work)
            };
            let ny = rng.chance(0.56);
            let branche = if ny {
                *rng.pick(&NEW)
            } else {
                *rng.pick(&ORIGINAL)
            };
            out.push(Package {
                id: format!("JP-{code}-{:03}", i + 1),
                cpr: cpr(rng, koen, &mut used),
                koen,
                kommune: code,
                matchgruppe: if rng.chance(0.9) { Some(4) } else { None },
                cvr: format!("{:08}", rng.range(10_000_000, 99_999_999)),
                sektor: if rng.chance(0.7) {
                    "privat"
                } else {
                    "offentlig"
                },
                branche,
                ny,
                start,
                end: finished.then(|| {
                    let how = if afbrudt { "afbrudt" } else { "gennemfoert" };
                    (end, how, [slut, tre, seks])
                }),
            });
        }
    }
    // A few persons get a second package after the first (never overlapping).
    let mut seconds = Vec::new();
    for p in out.iter().filter(|p| p.kommune != 153).step_by(37) {
        let Some((end, _, [slut, ..])) = p.end else {
            continue;
        };
        if slut != "offentlig_forsoergelse" {
            continue;
        }
        let original = *rng.pick(&ORIGINAL);
        let start = end + Duration::days(rng.range(20, 90));
        let stop = start + Duration::days(rng.range(60, 200));
        seconds.push(Package {
            id: format!("{}-2", p.id),
            branche: original,
            ny: false,
            start,
            end: (stop <= day(2010, 6, 30)).then(|| {
                let s = status(rng, 0.4);
                (stop, "gennemfoert", [s, s, s])
            }),
            ..p.clone()
        });
    }
    out.extend(seconds);
    out
}

/// The quarters the sample register covers.
#[must_use]
pub fn quarters() -> Vec<Period> {
    Period::Quarter {
        year: 2007,
        quarter: 1,
    }
    .through(Period::Quarter {
        year: 2010,
        quarter: 2,
    })
}

/// Writes one register extract per quarter; returns the rows written over all files.
pub fn write(out: &Path, rng: &Rng, summary: &mut Summary) -> std::io::Result<usize> {
    let all = packages(&mut rng.fork(1));
    let mut rows = 0;
    for q in quarters() {
        let r = q.last_day();
        let mut t = String::from(
            "jobpakke_id;cpr;koen;kommune;matchgruppe;cvr;sektor;branche;pakketype;startdato;slutdato;afslutning;status_slut;status_3mdr;status_6mdr\n",
        );
        for p in all.iter().filter(|p| p.start <= r) {
            let ended = p.end.filter(|(end, ..)| *end <= r);
            let due = |n: u32| {
                ended
                    .and_then(|(end, ..)| end.checked_add_months(Months::new(n)))
                    .is_some_and(|f| f <= r)
            };
            let (slut, how, status) = match ended {
                Some((end, how, s)) => (end.to_string(), how, s),
                None => (String::new(), "", ["", "", ""]),
            };
            let _ = writeln!(
                t,
                "{};{};{};{};{};{};{};{};{};{};{slut};{how};{};{};{}",
                p.id,
                p.cpr,
                p.koen,
                p.kommune,
                p.matchgruppe.map(|m| m.to_string()).unwrap_or_default(),
                p.cvr,
                p.sektor,
                p.branche,
                if p.ny { "ny" } else { "oprindelig" },
                p.start,
                status[0],
                if due(3) { status[1] } else { "" },
                if due(6) { status[2] } else { "" },
            );
            rows += 1;
        }
        super::write_file(
            &out.join("jobpakker").join(format!("jobpakker_{q}.csv")),
            &t,
            summary,
        )?;
    }
    Ok(rows)
}
