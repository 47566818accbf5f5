//! `[[reports.report]]`: a programme's reports, as data. The Rust knows report
//! shapes and who a shape is made for; the name, the template, the file name and the
//! mail's text are the programme's.
//!
//! Shapes: `quarterly` (one status report per programme municipality, to its project
//! leads), `overview` (one, to the secretariat), `staff_book` (a monthly book per
//! employee with an email, their own and the departments they may see) and `marts`
//! (the default: a template that gets the rows of the marts it names, per
//! municipality or for the programme, as `scope` says).
//!
//! ```toml
//! [[reports.report]]
//! name = "jobpakker"                        # `send jobpakker`, the ledger's report name
//! template = "jobpakker.typ"                # in the programme's templates, with jobpakker.sample.json
//! scope = "municipality"                    # or "programme"
//! file = "jobpakker_{period}_{municipality}.pdf"
//! subject = "Kvartalsrapport om jobpakker for {kommune} Kommune, {period_label}"
//! body = "Kære projektleder …"
//! marts = ["jobpakke_activity", "target_metrics"]
//! history = ["target_metrics"]             # these with their earlier quarters too
//! ```

use serde::Deserialize;

use super::problems::{Problems, placeholders};

/// One `[[reports.report]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// The report's name: `send <name>`, `report <name>`, the delivery ledger.
    pub name: String,
    /// `quarterly`, `overview`, `staff_book` or `marts` (default).
    pub shape: Option<String>,
    /// The template file in the programme's templates (with `<stem>.sample.json`).
    pub template: String,
    /// For the `marts` shape: `municipality`, one per programme municipality, to its
    /// project leads; `programme`, one, to the secretariat.
    pub scope: Option<String>,
    /// The PDF's file name; `{period}` (`2019Q3`), `{municipality}` (the name as a
    /// file name part, `aabenraa`) and, for a staff book, `{employee}` (their id).
    pub file: String,
    /// The mail's subject; `{kommune}`, `{period}`, `{period_label}`, `{program}`,
    /// `{file}` (the attachment's name).
    pub subject: String,
    /// The mail's text, with the same placeholders; the PDF is attached.
    pub body: String,
    /// The marts whose rows the template gets: the programme's rows of the report's
    /// period. A staff book names its three: employees, departments, visibility.
    #[serde(default)]
    pub marts: Vec<String>,
    /// Of those, the marts whose earlier periods the template gets too (for a trend).
    #[serde(default)]
    pub history: Vec<String>,
}

/// Who a report is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One per programme municipality, to its project leads.
    Municipality,
    /// One for the programme, to the secretariat.
    Programme,
    /// One per employee with an email, to them.
    Employee,
}

/// The layouts the Rust knows how to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A quarterly status report per municipality: each metric's value, baseline,
    /// change, average and rank.
    Quarterly,
    /// The programme's municipalities side by side on each metric.
    Overview,
    /// A month's figures per department and employee, with six months' history.
    StaffBook,
    /// The rows of the marts the report names, for its template to lay out.
    Marts,
}

impl Shape {
    const NAMES: [(&'static str, Self); 4] = [
        ("quarterly", Self::Quarterly),
        ("overview", Self::Overview),
        ("staff_book", Self::StaffBook),
        ("marts", Self::Marts),
    ];
}

/// A programme's report, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportSpec {
    /// Its name.
    pub name: String,
    /// Its layout.
    pub shape: Shape,
    /// Its template file.
    pub template: String,
    /// Who it is for.
    pub scope: Scope,
    /// File name pattern.
    pub file: String,
    /// Mail subject pattern.
    pub subject: String,
    /// Mail body pattern.
    pub body: String,
    /// The marts it reads.
    pub marts: Vec<String>,
    /// The marts it reads with their earlier periods.
    pub history: Vec<String>,
}

impl ReportSpec {
    /// The PDF's file name: the `file` pattern filled in (`municipality` as a file name
    /// part, `aabenraa`).
    #[must_use]
    pub fn file_name(&self, period: &str, municipality: &str, employee: &str) -> String {
        self.file
            .replace("{period}", period)
            .replace("{municipality}", municipality)
            .replace("{employee}", employee)
    }

    /// The template's sample data file: `jobpakker.typ` → `jobpakker.sample.json`.
    #[must_use]
    pub fn sample(&self) -> String {
        format!("{}.sample.json", self.template.trim_end_matches(".typ"))
    }
}

/// Validates `[[reports.report]]`.
pub(super) fn validate(p: &mut Problems<'_>, raw: Vec<RawReport>) -> Vec<ReportSpec> {
    let mut out: Vec<ReportSpec> = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let at = |k: &str| format!("reports.report.{i}.{k}");
        let valid_name = !r.name.is_empty()
            && r.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            p.at(
                &at("name"),
                format!("`{}`: give lowercase letters, digits and `_`", r.name),
            );
        }
        if out.iter().any(|o| o.name == r.name) {
            p.at(&at("name"), format!("`{}` is listed twice", r.name));
        }
        let typ = std::path::Path::new(&r.template)
            .extension()
            .is_some_and(|e| e == "typ");
        if !typ || r.template.contains('/') {
            p.at(
                &at("template"),
                format!(
                    "`{}`: give a `*.typ` file of the programme's templates",
                    r.template
                ),
            );
        }
        let known = r.shape.as_deref().map_or(Some(Shape::Marts), |name| {
            Shape::NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s)
        });
        let Some(shape) = known else {
            // Whom it is for and what its file may say depend on the shape: the one
            // problem is the shape.
            p.at(
                &at("shape"),
                format!(
                    "`{}`: give `quarterly`, `overview`, `staff_book` or `marts`",
                    r.shape.unwrap_or_default()
                ),
            );
            continue;
        };
        let scope = scope(p, &at("scope"), shape, r.scope.as_deref());
        let mut names = vec!["period"];
        if scope != Scope::Programme {
            names.push("municipality");
        }
        if scope == Scope::Employee {
            names.push("employee");
        }
        placeholders(p, &at("file"), &r.file, &names);
        let pdf = std::path::Path::new(&r.file)
            .extension()
            .is_some_and(|e| e == "pdf");
        if !pdf || !r.file.contains("{period}") {
            p.at(
                &at("file"),
                format!("`{}`: a `*.pdf` name with `{{period}}`", r.file),
            );
        }
        if scope == Scope::Municipality && !r.file.contains("{municipality}") {
            p.at(
                &at("file"),
                "one PDF per municipality: the name needs `{municipality}`",
            );
        }
        if scope == Scope::Employee && !r.file.contains("{employee}") {
            p.at(
                &at("file"),
                "one PDF per employee: the name needs `{employee}`",
            );
        }
        let texts = ["kommune", "period", "period_label", "program", "file"];
        placeholders(p, &at("subject"), &r.subject, &texts);
        placeholders(p, &at("body"), &r.body, &texts);
        match shape {
            Shape::Marts if r.marts.is_empty() => {
                p.at(&at("marts"), "name the marts the template reads");
            }
            Shape::StaffBook if r.marts.len() != 3 => p.at(
                &at("marts"),
                "a staff book reads three marts: employees, departments, visibility",
            ),
            Shape::Quarterly | Shape::Overview if !r.marts.is_empty() => p.at(
                &at("marts"),
                "this shape reads the target metrics' marts; give no `marts`",
            ),
            _ => {}
        }
        for (j, h) in r.history.iter().enumerate() {
            if !r.marts.contains(h) {
                p.at(
                    &format!("reports.report.{i}.history.{j}"),
                    format!("`{h}` is not one of the report's `marts`"),
                );
            }
        }
        out.push(ReportSpec {
            name: r.name,
            shape,
            template: r.template,
            scope,
            file: r.file,
            subject: r.subject,
            body: r.body,
            marts: r.marts,
            history: r.history,
        });
    }
    out
}

/// Who a report of `shape` is for: the shape's own, or for `marts` the `scope` key.
fn scope(p: &mut Problems<'_>, field: &str, shape: Shape, given: Option<&str>) -> Scope {
    let own = match shape {
        Shape::Quarterly => Some(Scope::Municipality),
        Shape::Overview => Some(Scope::Programme),
        Shape::StaffBook => Some(Scope::Employee),
        Shape::Marts => None,
    };
    match (own, given) {
        (Some(s), None) => s,
        (Some(s), Some(_)) => {
            p.at(field, "the shape says whom it is for: give no `scope`");
            s
        }
        (None, Some("municipality")) => Scope::Municipality,
        (None, Some("programme")) => Scope::Programme,
        (None, other) => {
            p.at(
                field,
                format!(
                    "`{}`: give `municipality` (one per programme municipality, to its project leads) or `programme` (one, to the secretariat)",
                    other.unwrap_or_default()
                ),
            );
            Scope::Programme
        }
    }
}
