//! The staff book (a månedsbog) of one recipient for a month: department figures for all departments,
//! employee figures only for the departments the recipient may see, each figure with
//! the last six months.
//!
//! Disclosure is decided once per municipality and month, over all of a department's
//! employees, before anything is cut per recipient: two recipients' PDFs put side by
//! side reveal nothing that either hides.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::disclosure::{Cell, Disclosure};
use super::format;
use super::marts::{DepartmentRow, EmployeeRow, Figures, VisibilityRow};
use crate::period::Period;
use crate::visibility::{Row, Visibility};

/// The JSON document a staff book's template lays out.
#[derive(Debug, Clone, Serialize)]
pub struct StaffBookData {
    /// Version of this document's shape.
    pub schema_version: u32,
    /// Municipality.
    pub municipality: String,
    /// `2018-11`.
    pub month: String,
    /// "november 2018".
    pub month_label: String,
    /// The document's date.
    pub date_label: String,
    /// Who it is for.
    pub recipient: Recipient,
    /// The six months shown, oldest first ("jun. 18" … "nov. 18").
    pub months: Vec<String>,
    /// The figures' headings, in column order.
    pub figures: Vec<FigureInfo>,
    /// Every department of the municipality.
    pub departments: Vec<Line>,
    /// The departments whose employees the recipient sees.
    pub employee_sections: Vec<EmployeeSection>,
    /// Months of the six with no export.
    pub missing: Vec<String>,
    /// The marks for hidden and missing values.
    pub legend: String,
    /// Definitions of the figures.
    pub definitions: Vec<String>,
}

/// The recipient.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub rolle: String,
    /// Own department ("" when unknown).
    pub afdeling: String,
    /// What they see, in a sentence.
    pub scope: String,
}

/// A figure's heading.
#[derive(Debug, Clone, Serialize)]
pub struct FigureInfo {
    /// Mart column.
    pub key: String,
    /// Danish heading.
    pub label: String,
}

/// A department's or an employee's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Name.
    pub name: String,
    /// Role (employees).
    pub rolle: String,
    /// One per figure: the month's value and the last six months.
    pub cells: Vec<FigureCell>,
}

/// A figure for the month with its six-month history.
#[derive(Debug, Clone, Serialize)]
pub struct FigureCell {
    /// This month.
    pub now: Cell,
    /// The six months, oldest first (the last is this month).
    pub history: Vec<Cell>,
}

/// A department's employees.
#[derive(Debug, Clone, Serialize)]
pub struct EmployeeSection {
    /// Department.
    pub afdeling: String,
    /// Employees, by name.
    pub employees: Vec<Line>,
}

/// The figures in column order: mart column, Danish heading.
pub const FIGURES: [(&str, &str); 6] = [
    ("aktive_sager", "Aktive sager"),
    ("aktiverede", "Aktiverede borgere"),
    ("samtaler", "Samtaler"),
    ("virksomhedsbesoeg_6_mdr", "Virksomhedsbesøg, 6 mdr."),
    ("afsluttede_placeringer", "Afsluttede placeringer"),
    ("gns_ventetid_dage", "Gns. ventetid, dage"),
];

/// An employee's id and figures within a department's month.
type Member = (String, [Cell; 6]);

fn cells(d: Disclosure, f: &Figures) -> [Cell; 6] {
    [
        d.persons(Some(f.aktive_sager)),
        d.persons(Some(f.aktiverede)),
        d.events(Some(f.samtaler)),
        d.events(Some(f.virksomhedsbesoeg_6_mdr)),
        d.persons(Some(f.afsluttede_placeringer)),
        d.mean_days(f.gns_ventetid_dage, f.afsluttede_placeringer),
    ]
}

/// The staff book marts of one municipality, with disclosure decided.
#[derive(Debug)]
pub struct Book {
    kommune: i32,
    municipality: String,
    month: Period,
    months: Vec<Period>,
    /// (month, `medarbejder_id`) → (afdeling, cells).
    employees: HashMap<(String, String), (String, [Cell; 6])>,
    /// The month's employees: id → (navn, afdeling, rolle).
    current: BTreeMap<String, (String, String, String)>,
    /// (month, afdeling) → cells.
    departments: HashMap<(String, String), [Cell; 6]>,
    department_names: BTreeSet<String>,
    recipients: BTreeMap<String, (String, String, String)>,
    visibility: Visibility,
    months_present: BTreeSet<String>,
}

impl Book {
    /// Prepares municipality `kommune`'s staff book for `month`; `None` when the mart has
    /// no export of that month.
    #[must_use]
    pub fn new(
        d: Disclosure,
        kommune: i32,
        municipality: &str,
        month: Period,
        employees: &[EmployeeRow],
        departments: &[DepartmentRow],
        visibility: &[VisibilityRow],
    ) -> Option<Self> {
        let key = month.to_string();
        let mut months = vec![month];
        for _ in 0..5 {
            let prev = previous_month(months[0]);
            months.insert(0, prev);
        }
        let wanted: BTreeSet<String> = months.iter().map(ToString::to_string).collect();
        let rows: Vec<&EmployeeRow> = employees
            .iter()
            .filter(|e| e.kommune == kommune && wanted.contains(&e.month))
            .collect();
        if !rows.iter().any(|e| e.month == key) {
            return None;
        }
        let months_present: BTreeSet<String> = rows.iter().map(|e| e.month.clone()).collect();
        // Primary and secondary suppression per month × department × figure, over all employees.
        let mut groups: BTreeMap<(String, String), Vec<Member>> = BTreeMap::new();
        for e in &rows {
            groups
                .entry((e.month.clone(), e.afdeling.clone()))
                .or_default()
                .push((e.medarbejder_id.clone(), cells(d, &e.figures)));
        }
        let mut employee_cells = HashMap::new();
        for ((m, afdeling), mut members) in groups {
            for f in 0..FIGURES.len() {
                let mut column: Vec<&mut Cell> =
                    members.iter_mut().map(|(_, c)| &mut c[f]).collect();
                d.complement(&mut column);
            }
            for (id, c) in members {
                employee_cells.insert((m.clone(), id), (afdeling.clone(), c));
            }
        }
        let current = rows
            .iter()
            .filter(|e| e.month == key)
            .map(|e| {
                (
                    e.medarbejder_id.clone(),
                    (e.navn.clone(), e.afdeling.clone(), e.rolle.clone()),
                )
            })
            .collect();
        let mut department_cells = HashMap::new();
        let mut department_names = BTreeSet::new();
        for r in departments
            .iter()
            .filter(|r| r.kommune == kommune && wanted.contains(&r.month))
        {
            if r.month == key {
                department_names.insert(r.afdeling.clone());
            }
            department_cells.insert((r.month.clone(), r.afdeling.clone()), cells(d, &r.figures));
        }
        let vis: Vec<&VisibilityRow> = visibility
            .iter()
            .filter(|v| v.kommune == kommune && v.month == key)
            .collect();
        let recipients = vis
            .iter()
            .map(|v| {
                (
                    v.recipient_email.to_lowercase(),
                    (
                        v.recipient_id.clone(),
                        v.recipient_navn.clone(),
                        v.recipient_rolle.clone(),
                    ),
                )
            })
            .collect();
        let visibility = Visibility::new(vis.iter().map(|v| crate::visibility::Grant {
            kommune: v.kommune,
            month: v.month.clone(),
            recipient_email: v.recipient_email.clone(),
            afdeling: v.afdeling.clone(),
        }));
        Some(Self {
            kommune,
            municipality: municipality.to_string(),
            month,
            months,
            employees: employee_cells,
            current,
            departments: department_cells,
            department_names,
            recipients,
            visibility,
            months_present,
        })
    }

    /// The recipients (emails, lower case, sorted) and their ids.
    #[must_use]
    pub fn recipients(&self) -> Vec<(String, String)> {
        self.recipients
            .iter()
            .map(|(e, (id, _, _))| (e.clone(), id.clone()))
            .collect()
    }

    fn history(&self, at: impl Fn(&str) -> Option<Cell>) -> Vec<Cell> {
        self.months
            .iter()
            .map(|m| at(&m.to_string()).unwrap_or_else(Cell::missing))
            .collect()
    }

    /// The staff book of `email`; `None` when they are not a recipient.
    #[must_use]
    pub fn for_recipient(
        &self,
        email: &str,
        date_label: &str,
        d: Disclosure,
    ) -> Option<StaffBookData> {
        let email = email.to_lowercase();
        let (id, navn, rolle) = self.recipients.get(&email)?.clone();
        let key = self.month.to_string();
        let departments = self
            .department_names
            .iter()
            .map(|a| Line {
                name: a.clone(),
                rolle: String::new(),
                cells: (0..FIGURES.len())
                    .map(|f| FigureCell {
                        now: self
                            .departments
                            .get(&(key.clone(), a.clone()))
                            .map_or_else(Cell::missing, |c| c[f].clone()),
                        history: self.history(|m| {
                            self.departments
                                .get(&(m.to_string(), a.clone()))
                                .map(|c| c[f].clone())
                        }),
                    })
                    .collect(),
            })
            .collect();
        let mut sections = Vec::new();
        for a in &self.department_names {
            let row = Row::Employee {
                kommune: self.kommune,
                month: &key,
                afdeling: a,
            };
            if !self.visibility.may_see(&email, row) {
                continue;
            }
            let mut employees: Vec<Line> = self
                .current
                .iter()
                .filter(|(_, (_, afd, _))| afd == a)
                .map(|(eid, (enavn, _, erolle))| Line {
                    name: enavn.clone(),
                    rolle: erolle.clone(),
                    cells: (0..FIGURES.len())
                        .map(|f| FigureCell {
                            now: self
                                .employees
                                .get(&(key.clone(), eid.clone()))
                                .map_or_else(Cell::missing, |(_, c)| c[f].clone()),
                            // Earlier months only where the employee was in a department the
                            // recipient may see now: a mover's rows from another department stay out.
                            history: self.history(|m| {
                                self.employees.get(&(m.to_string(), eid.clone())).and_then(
                                    |(afd, c)| {
                                        let row = Row::Employee {
                                            kommune: self.kommune,
                                            month: &key,
                                            afdeling: afd,
                                        };
                                        self.visibility.may_see(&email, row).then(|| c[f].clone())
                                    },
                                )
                            }),
                        })
                        .collect(),
                })
                .collect();
            employees.sort_by(|x, y| x.name.cmp(&y.name));
            sections.push(EmployeeSection {
                afdeling: a.clone(),
                employees,
            });
        }
        let own = self
            .current
            .get(&id)
            .map(|(_, a, _)| a.clone())
            .unwrap_or_default();
        let scope = if sections.len() == self.department_names.len() && sections.len() > 1 {
            "Du ser afdelingstal for alle afdelinger og medarbejdertal for alle afdelinger."
                .to_string()
        } else if sections.is_empty() {
            "Du ser afdelingstal for alle afdelinger.".to_string()
        } else {
            format!(
                "Du ser afdelingstal for alle afdelinger og medarbejdertal for {}.",
                sections
                    .iter()
                    .map(|s| s.afdeling.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let missing = self
            .months
            .iter()
            .filter(|m| !self.months_present.contains(&m.to_string()))
            .map(|m| format::period_label(*m))
            .collect();
        Some(StaffBookData {
            schema_version: 1,
            municipality: self.municipality.clone(),
            month: key,
            month_label: format::period_label(self.month),
            date_label: date_label.into(),
            recipient: Recipient { name: navn, email, rolle, afdeling: own, scope },
            months: self.months.iter().map(|m| format::period_short(*m)).collect(),
            figures: FIGURES
                .iter()
                .map(|(k, l)| FigureInfo { key: (*k).into(), label: (*l).into() })
                .collect(),
            departments,
            employee_sections: sections,
            missing,
            legend: format!(
                "<{m}: færre end {m} personer, skjult (diskretionering); når ét tal i en afdeling er skjult, skjules det næstmindste også. –: gennemsnit over færre end {m} personer, skjult. i.d.: ikke data. Små grå tal: de seneste seks måneder, ældste først.",
                m = d.min
            ),
            definitions: vec![
                "Aktive sager: sager oprettet senest månedens sidste dag og ikke afsluttet før.".into(),
                "Aktiverede borgere: forskellige borgere med et forløb, der overlapper måneden.".into(),
                "Samtaler: samtaler i måneden. Virksomhedsbesøg: besøg fra første dag fem måneder før til månedens sidste dag.".into(),
                "Afsluttede placeringer: forskellige borgere med et forløb, der slutter i måneden. Gns. ventetid: dage fra henvisning til start for forløb, der slutter i måneden.".into(),
            ],
        })
    }
}

fn previous_month(p: Period) -> Period {
    match p {
        Period::Month { year, month: 1 } => Period::Month {
            year: year - 1,
            month: 12,
        },
        Period::Month { year, month } => Period::Month {
            year,
            month: month - 1,
        },
        q @ Period::Quarter { .. } => q,
    }
}
