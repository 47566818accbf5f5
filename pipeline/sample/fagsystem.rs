//! Sample case-system exports for Lejre (350) and Holbæk (316), 2017-01 to 2018-12:
//! about 30 employees each in three departments, with Danish names; cases for the
//! municipality's arrivals (the same CPR numbers as in DREAM), conversations, company
//! visits and placements. One employee changes department, one leaves (their cases
//! pass to a colleague), one joins late.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};

use super::dream::Person;
use super::rng::Rng;
use super::{Summary, write_file};
use crate::period::Period;

const FIRST: &[&str] = &[
    "Mette", "Søren", "Anne", "Jørgen", "Åse", "Bjørn", "Kirsten", "Lærke", "Mads", "Sørine",
    "Henrik", "Birgitte", "Rasmus", "Mia", "Frederik", "Ida", "Torben", "Hanne", "Jens", "Signe",
    "Ole", "Lene", "Morten", "Rikke", "Poul", "Dorthe", "Thomas", "Maja", "Niels", "Trine",
    "Kasper", "Gitte", "Anders", "Sanne", "Bo", "Tove",
];
const LAST: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Møller",
    "Kjær",
    "Østergaard",
    "Bøgh",
    "Lærkesen",
    "Aagaard",
    "Skovgård",
    "Frølund",
    "Brændgaard",
    "Dahl",
    "Holm",
    "Lund",
    "Søndergaard",
    "Thygesen",
];

#[derive(Debug, Clone)]
struct Employee {
    id: String,
    navn: String,
    email: Option<String>,
    afdeling: String,
    rolle: &'static str,
    hired: NaiveDate,
    left: Option<NaiveDate>,
    moved: Option<(NaiveDate, String)>,
}

impl Employee {
    fn active(&self, day: NaiveDate) -> bool {
        self.hired <= day && self.left.is_none_or(|l| day < l)
    }
    fn afdeling_at(&self, day: NaiveDate) -> &str {
        match &self.moved {
            Some((when, to)) if day >= *when => to,
            _ => &self.afdeling,
        }
    }
}

fn ascii(s: &str) -> String {
    s.to_lowercase()
        .replace('æ', "ae")
        .replace('ø', "oe")
        .replace('å', "aa")
        .replace(' ', ".")
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn staff(rng: &mut Rng, office: &Office) -> Vec<Employee> {
    let (prefix, domain, departments) = (&office.prefix, &office.domain, &office.departments);
    let mut out = Vec::new();
    let mut used = std::collections::HashSet::new();
    for (dept, roles) in departments {
        for (rolle, n) in roles {
            for _ in 0..*n {
                let navn = loop {
                    let navn = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
                    if used.insert(navn.clone()) {
                        break navn;
                    }
                };
                // Mentors are often external: no email, no månedsbog.
                let email = (*rolle != "mentor" || rng.chance(0.5))
                    .then(|| format!("{}@{domain}", ascii(&navn)));
                let id = format!("{prefix}{:03}", out.len() + 1);
                out.push(Employee {
                    id,
                    navn,
                    email,
                    afdeling: dept.clone(),
                    rolle,
                    hired: d(2015, 1, 1),
                    left: None,
                    moved: None,
                });
            }
        }
    }
    // One sagsbehandler moves to the second department, one leaves, one joins late.
    if let Some(e) = out.iter_mut().filter(|e| e.rolle == "sagsbehandler").nth(1) {
        e.moved = Some((d(2018, 6, 1), departments[1].0.clone()));
    }
    if let Some(e) = out.iter_mut().filter(|e| e.rolle == "sagsbehandler").nth(3) {
        e.left = Some(d(2018, 9, 1));
    }
    let navn = format!("{} {}", "Åsa", "Bækgaard");
    out.push(Employee {
        id: format!("{prefix}{:03}", out.len() + 1),
        email: Some(format!("{}@{domain}", ascii(&navn))),
        navn,
        afdeling: departments[0].0.clone(),
        rolle: "sagsbehandler",
        hired: d(2018, 10, 15),
        left: None,
        moved: None,
    });
    out
}

struct Case {
    id: String,
    cpr: String,
    owner: usize,
    successor: Option<(NaiveDate, usize)>,
    kategori: &'static str,
    opened: NaiveDate,
    closed: Option<NaiveDate>,
}

impl Case {
    fn owner_at(&self, day: NaiveDate) -> usize {
        match self.successor {
            Some((when, who)) if day >= when => who,
            _ => self.owner,
        }
    }
}

struct Event {
    id: String,
    cpr: Option<String>,
    employee: usize,
    cvr: Option<String>,
    kind: &'static str,
    date: NaiveDate,
    henvist: Option<NaiveDate>,
    slut: Option<NaiveDate>,
}

const END: (i32, u32, u32) = (2018, 12, 31);

fn pick_active(rng: &mut Rng, staff: &[Employee], role: &str, day: NaiveDate) -> Option<usize> {
    let ids: Vec<usize> = (0..staff.len())
        .filter(|i| staff[*i].rolle == role && staff[*i].active(day))
        .collect();
    (!ids.is_empty()).then(|| *rng.pick(&ids))
}

/// A municipality's case system: who works in which department, in which role.
#[derive(Debug, Clone)]
pub struct Office {
    /// DST code.
    pub code: i32,
    /// Prefix of the employee ids.
    pub prefix: String,
    /// Mail domain.
    pub domain: String,
    /// Departments (afdelinger), each with (role, head count).
    pub departments: Vec<(String, Vec<(&'static str, usize)>)>,
}

fn office(
    code: i32,
    prefix: &str,
    domain: &str,
    departments: &[(&str, &[(&'static str, usize)])],
) -> Office {
    Office {
        code,
        prefix: prefix.to_string(),
        domain: domain.to_string(),
        departments: departments
            .iter()
            .map(|(name, roles)| ((*name).to_string(), roles.to_vec()))
            .collect(),
    }
}

/// The sample's two case systems: Lejre and Holbæk, about 30 employees each.
#[must_use]
pub fn sample_offices() -> Vec<Office> {
    vec![
        office(
            350,
            "L",
            "lejre.dk",
            &[
                (
                    "Integration",
                    &[("leder", 1), ("sagsbehandler", 8), ("mentor", 2)],
                ),
                ("Jobcenter Erhverv", &[("leder", 1), ("sagsbehandler", 7)]),
                (
                    "Virksomhedsservice",
                    &[("leder", 1), ("virksomhedskonsulent", 8)],
                ),
            ],
        ),
        office(
            316,
            "H",
            "holb.dk",
            &[
                (
                    "Integrationsteam Nord",
                    &[("leder", 1), ("sagsbehandler", 9)],
                ),
                (
                    "Integrationsteam Syd",
                    &[("leder", 1), ("sagsbehandler", 8), ("mentor", 1)],
                ),
                (
                    "Virksomhedsservice",
                    &[("leder", 1), ("virksomhedskonsulent", 8)],
                ),
            ],
        ),
    ]
}

/// Writes the monthly exports of every office for `months`.
pub fn write(
    out: &Path,
    people: &[Person],
    rng: &Rng,
    summary: &mut Summary,
    offices: &[Office],
    months: &[Period],
) -> std::io::Result<()> {
    for (ci, office) in offices.iter().enumerate() {
        let code = &office.code;
        let mut rng = rng.fork(ci as u64 + 1);
        let staff = staff(&mut rng, office);
        let end = d(END.0, END.1, END.2);
        let companies: Vec<String> = (0..60)
            .map(|_| format!("{}", rng.range(10_000_000, 99_999_999)))
            .collect();
        let mut cases = Vec::new();
        let mut talks = Vec::new();
        let mut places = Vec::new();
        for p in people.iter().filter(|p| {
            p.kommune == *code && p.herkomst == 3 && p.arrival.is_some_and(|a| a >= d(2015, 1, 1))
        }) {
            let arrival = p.arrival.unwrap_or(end);
            let opened = arrival + Duration::days(rng.range(3, 20));
            if opened > end {
                continue;
            }
            let Some(owner) = pick_active(&mut rng, &staff, "sagsbehandler", opened) else {
                continue;
            };
            let closed = Some(opened + Duration::days(rng.range(240, 900))).filter(|c| *c <= end);
            let successor = staff[owner].left.and_then(|l| {
                let who = (0..staff.len()).find(|i| {
                    staff[*i].rolle == "sagsbehandler"
                        && staff[*i].left.is_none()
                        && staff[*i].afdeling == staff[owner].afdeling
                })?;
                Some((l, who))
            });
            let case = Case {
                id: format!("S{code}-{:05}", cases.len() + 1),
                cpr: p.cpr.clone(),
                owner,
                successor,
                kategori: if rng.chance(0.65) {
                    "Jobparat"
                } else {
                    "Aktivitetsparat"
                },
                opened,
                closed,
            };
            let stop = case.closed.unwrap_or(end);
            let mut day = opened + Duration::days(rng.range(5, 30));
            while day <= stop {
                let by_mentor = rng.chance(0.1);
                let employee = if by_mentor {
                    pick_active(&mut rng, &staff, "mentor", day)
                } else {
                    Some(case.owner_at(day))
                };
                if let Some(employee) = employee.filter(|e| staff[*e].active(day)) {
                    talks.push(Event {
                        id: format!("T{code}-{:06}", talks.len() + 1),
                        cpr: Some(case.cpr.clone()),
                        employee,
                        cvr: None,
                        kind: if by_mentor {
                            "Mentorsamtale"
                        } else {
                            ["Jobsamtale", "Opfølgningssamtale"][usize::from(rng.chance(0.5))]
                        },
                        date: day,
                        henvist: None,
                        slut: None,
                    });
                }
                day += Duration::days(rng.range(25, 60));
            }
            let mut day = opened + Duration::days(rng.range(30, 200));
            while day <= stop {
                let Some(employee) = pick_active(&mut rng, &staff, "virksomhedskonsulent", day)
                else {
                    break;
                };
                let start = day + Duration::days(rng.range(0, 45));
                let slut = start + Duration::days(rng.range(28, 180));
                let tilbud = match rng.f64() {
                    x if x < 0.65 => "Virksomhedspraktik",
                    x if x < 0.9 => "Ansættelse med løntilskud",
                    _ => "Nytteindsats",
                };
                places.push(Event {
                    id: format!("P{code}-{:05}", places.len() + 1),
                    cpr: Some(case.cpr.clone()),
                    employee,
                    cvr: Some(rng.pick(&companies).clone()),
                    kind: tilbud,
                    date: start,
                    henvist: Some(day),
                    slut: Some(slut),
                });
                day = slut + Duration::days(rng.range(20, 200));
            }
            cases.push(case);
        }
        let mut visits = Vec::new();
        let mut month = d(2016, 1, 1);
        while month <= end {
            for (i, e) in staff
                .iter()
                .enumerate()
                .filter(|(_, e)| e.rolle == "virksomhedskonsulent")
            {
                for _ in 0..rng.range(3, 9) {
                    let day = month + Duration::days(rng.range(0, 27));
                    if e.active(day) {
                        visits.push(Event {
                            id: format!("B{code}-{:06}", visits.len() + 1),
                            cpr: None,
                            employee: i,
                            cvr: Some(rng.pick(&companies).clone()),
                            kind: "",
                            date: day,
                            henvist: None,
                            slut: None,
                        });
                    }
                }
            }
            month = month
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(end);
        }

        for m in months.iter().copied() {
            let e_end = m.last_day();
            let w0 = m
                .first_day()
                .checked_sub_months(chrono::Months::new(11))
                .unwrap_or(e_end);
            let dir = out
                .join("fagsystem")
                .join(code.to_string())
                .join(m.to_string());
            let mut t = String::from("medarbejder_id;navn;email;afdeling;rolle\n");
            for e in staff.iter().filter(|e| e.hired <= e_end) {
                let email = if e.left.is_some_and(|l| l <= e_end) {
                    ""
                } else {
                    e.email.as_deref().unwrap_or("")
                };
                let _ = writeln!(
                    t,
                    "{};{};{email};{};{}",
                    e.id,
                    e.navn,
                    e.afdeling_at(e_end),
                    e.rolle
                );
                summary.fagsystem_rows += 1;
            }
            write_file(&dir.join("medarbejdere.csv"), &t, summary)?;
            let mut t =
                String::from("sag_id;cpr;medarbejder_id;visitationskategori;oprettet;afsluttet\n");
            for c in cases
                .iter()
                .filter(|c| c.opened <= e_end && c.closed.is_none_or(|x| x >= w0))
            {
                let closed = c.closed.filter(|x| *x <= e_end);
                let owner = c.owner_at(closed.unwrap_or(e_end).min(e_end));
                let closed = closed.map(|x| x.to_string()).unwrap_or_default();
                let _ = writeln!(
                    t,
                    "{};{};{};{};{};{closed}",
                    c.id, c.cpr, staff[owner].id, c.kategori, c.opened
                );
                summary.fagsystem_rows += 1;
            }
            write_file(&dir.join("sager.csv"), &t, summary)?;
            let mut t = String::from("samtale_id;cpr;medarbejder_id;dato;type\n");
            for e in talks.iter().filter(|e| e.date >= w0 && e.date <= e_end) {
                let _ = writeln!(
                    t,
                    "{};{};{};{};{}",
                    e.id,
                    e.cpr.as_deref().unwrap_or(""),
                    staff[e.employee].id,
                    e.date,
                    e.kind
                );
                summary.fagsystem_rows += 1;
            }
            write_file(&dir.join("samtaler.csv"), &t, summary)?;
            let mut t = String::from("besoeg_id;medarbejder_id;cvr;dato\n");
            for e in visits.iter().filter(|e| e.date >= w0 && e.date <= e_end) {
                let _ = writeln!(
                    t,
                    "{};{};{};{}",
                    e.id,
                    staff[e.employee].id,
                    e.cvr.as_deref().unwrap_or(""),
                    e.date
                );
                summary.fagsystem_rows += 1;
            }
            write_file(&dir.join("virksomhedsbesoeg.csv"), &t, summary)?;
            let mut t =
                String::from("placering_id;cpr;medarbejder_id;cvr;tilbud;henvist;start;slut\n");
            for e in places
                .iter()
                .filter(|e| e.henvist.is_some_and(|h| h <= e_end) && e.slut.is_none_or(|s| s >= w0))
            {
                let slut = e
                    .slut
                    .filter(|s| *s <= e_end)
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                let henvist = e.henvist.map(|h| h.to_string()).unwrap_or_default();
                let _ = writeln!(
                    t,
                    "{};{};{};{};{};{henvist};{};{slut}",
                    e.id,
                    e.cpr.as_deref().unwrap_or(""),
                    staff[e.employee].id,
                    e.cvr.as_deref().unwrap_or(""),
                    e.kind,
                    e.date
                );
                summary.fagsystem_rows += 1;
            }
            write_file(&dir.join("placeringer.csv"), &t, summary)?;
            let _ = e_end.year();
        }
    }
    Ok(())
}
