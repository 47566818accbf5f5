//! Who may see what in the månedsbog. Every employee with an email (and every leader)
//! is a recipient: they see the department figures of every department of their
//! municipality, and the employee figures of their own department; a `leder` sees the
//! employee figures of every department. The rule is data (`maanedsbog_visibility`,
//! from `queries/imi/maanedsbog_visibility.sql`); [`Visibility::may_see`] is the one place
//! that answers "may recipient R see row X", for the reports to use.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A row of a månedsbog report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    /// An employee's figures.
    Employee {
        /// Municipality.
        kommune: i32,
        /// Month `2018-11`.
        month: &'a str,
        /// The employee's department in that month.
        afdeling: &'a str,
    },
    /// A department's figures.
    Department {
        /// Municipality.
        kommune: i32,
        /// Month.
        month: &'a str,
    },
}

/// One line of the visibility model: recipient × department seen at employee level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Municipality.
    pub kommune: i32,
    /// Month.
    pub month: String,
    /// Recipient's email (lowercased).
    pub recipient_email: String,
    /// Department whose employee rows the recipient sees.
    pub afdeling: String,
}

/// The visibility model.
#[derive(Debug, Default, Clone)]
pub struct Visibility {
    employee_level: HashMap<(i32, String, String), BTreeSet<String>>,
}

impl Visibility {
    /// Builds the model from grants.
    #[must_use]
    pub fn new(grants: impl IntoIterator<Item = Grant>) -> Self {
        let mut employee_level: HashMap<(i32, String, String), BTreeSet<String>> = HashMap::new();
        for g in grants {
            employee_level
                .entry((g.kommune, g.month, g.recipient_email.to_lowercase()))
                .or_default()
                .insert(g.afdeling);
        }
        Self { employee_level }
    }

    /// Reads the `maanedsbog_visibility` mart (empty when it does not exist).
    #[must_use]
    pub fn load(lake: &Path) -> Self {
        let path = lake.join("marts/maanedsbog_visibility/part-0.parquet");
        let batches: Vec<RecordBatch> = std::fs::File::open(path)
            .ok()
            .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).ok())
            .and_then(|b| b.build().ok())
            .map(|r| r.flatten().collect())
            .unwrap_or_default();
        let mut grants = Vec::new();
        for b in &batches {
            let (Some(k), Some(m), Some(e), Some(a)) = (
                b.column_by_name("kommune"),
                b.column_by_name("month"),
                b.column_by_name("recipient_email"),
                b.column_by_name("afdeling"),
            ) else {
                continue;
            };
            let (k, m, e, a) = (
                k.as_primitive::<Int32Type>(),
                m.as_string::<i32>(),
                e.as_string::<i32>(),
                a.as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                if k.is_null(i) || m.is_null(i) || e.is_null(i) || a.is_null(i) {
                    continue;
                }
                grants.push(Grant {
                    kommune: k.value(i),
                    month: m.value(i).into(),
                    recipient_email: e.value(i).into(),
                    afdeling: a.value(i).into(),
                });
            }
        }
        Self::new(grants)
    }

    /// Is `email` a recipient of the månedsbog of this municipality and month?
    #[must_use]
    pub fn is_recipient(&self, email: &str, kommune: i32, month: &str) -> bool {
        self.employee_level
            .contains_key(&(kommune, month.to_string(), email.to_lowercase()))
    }

    /// The recipients of a municipality's månedsbog for a month.
    #[must_use]
    pub fn recipients(&self, kommune: i32, month: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .employee_level
            .keys()
            .filter(|(k, m, _)| *k == kommune && m == month)
            .map(|(_, _, e)| e.clone())
            .collect();
        out.sort();
        out
    }

    /// May recipient `email` see `row`? Department rows: any recipient of that
    /// municipality and month. Employee rows: only departments granted to the recipient.
    #[must_use]
    pub fn may_see(&self, email: &str, row: Row<'_>) -> bool {
        match row {
            Row::Department { kommune, month } => self.is_recipient(email, kommune, month),
            Row::Employee {
                kommune,
                month,
                afdeling,
            } => self
                .employee_level
                .get(&(kommune, month.to_string(), email.to_lowercase()))
                .is_some_and(|set| set.contains(afdeling)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(email: &str, afdeling: &str) -> Grant {
        Grant {
            kommune: 350,
            month: "2018-11".into(),
            recipient_email: email.into(),
            afdeling: afdeling.into(),
        }
    }

    fn emp(afdeling: &str) -> Row<'_> {
        Row::Employee {
            kommune: 350,
            month: "2018-11",
            afdeling,
        }
    }

    #[test]
    fn an_employee_sees_their_own_department_only() {
        let v = Visibility::new([g("mette@lejre.dk", "Integration")]);
        assert!(v.may_see("mette@lejre.dk", emp("Integration")));
        assert!(v.may_see("Mette@Lejre.dk", emp("Integration")));
        assert!(!v.may_see("mette@lejre.dk", emp("Virksomhedsservice")));
        assert!(v.may_see(
            "mette@lejre.dk",
            Row::Department {
                kommune: 350,
                month: "2018-11"
            }
        ));
        // Not another month, not another municipality.
        assert!(!v.may_see(
            "mette@lejre.dk",
            Row::Employee {
                kommune: 350,
                month: "2018-10",
                afdeling: "Integration"
            }
        ));
        assert!(!v.may_see(
            "mette@lejre.dk",
            Row::Department {
                kommune: 316,
                month: "2018-11"
            }
        ));
        // Somebody who is not a recipient sees nothing.
        assert!(!v.may_see(
            "stranger@example.org",
            Row::Department {
                kommune: 350,
                month: "2018-11"
            }
        ));
    }

    #[test]
    fn a_leader_sees_every_department() {
        let v = Visibility::new([
            g("leder@lejre.dk", "Integration"),
            g("leder@lejre.dk", "Virksomhedsservice"),
            g("leder@lejre.dk", "Jobcenter Erhverv"),
        ]);
        for a in ["Integration", "Virksomhedsservice", "Jobcenter Erhverv"] {
            assert!(v.may_see("leder@lejre.dk", emp(a)));
        }
        assert!(!v.may_see("leder@lejre.dk", emp("Ukendt afdeling")));
    }

    #[test]
    fn a_person_with_rows_in_two_departments_sees_both_and_no_more() {
        let v = Visibility::new([
            g("bo@lejre.dk", "Integration"),
            g("bo@lejre.dk", "Jobcenter Erhverv"),
        ]);
        assert!(v.may_see("bo@lejre.dk", emp("Integration")));
        assert!(v.may_see("bo@lejre.dk", emp("Jobcenter Erhverv")));
        assert!(!v.may_see("bo@lejre.dk", emp("Virksomhedsservice")));
        assert_eq!(
            v.recipients(350, "2018-11"),
            vec!["bo@lejre.dk".to_string()]
        );
    }
}
