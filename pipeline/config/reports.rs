//! `[[reports.report]]`: a programme's own reports, as data. Each is a Typst template
//! of the programme's that gets the rows of the marts it names, for one quarter and
//! one municipality (to its project leads) or for the whole programme (to the
//! secretariat). The Rust knows the two scopes; the figures, the layout, the file name
//! and the mail's text are the programme's.
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
    /// The template file in the programme's templates (with `<stem>.sample.json`).
    pub template: String,
    /// `municipality`: one per programme municipality, to its project leads;
    /// `programme`: one, to the secretariat.
    pub scope: String,
    /// The PDF's file name; `{period}` (`2019Q3`) and `{municipality}` (the name as a
    /// file name part, `aabenraa`).
    pub file: String,
    /// The mail's subject; `{kommune}`, `{period}`, `{period_label}`, `{program}`.
    pub subject: String,
    /// The mail's text, with the same placeholders; the PDF is attached.
    pub body: String,
    /// The marts whose rows the template gets: the programme's rows of the report's
    /// period.
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
}

/// A programme's report, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportSpec {
    /// Its name.
    pub name: String,
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
    /// The template's sample data file: `jobpakker.typ` → `jobpakker.sample.json`.
    #[must_use]
    pub fn sample(&self) -> String {
        format!("{}.sample.json", self.template.trim_end_matches(".typ"))
    }
}

/// The built-in report shapes' names, which a programme's report may not take.
const BUILT_IN: [&str; 3] = ["quarterly", "overview", "maanedsbog"];

/// Validates `[[reports.report]]`.
pub(super) fn validate(p: &mut Problems<'_>, raw: Vec<RawReport>) -> Vec<ReportSpec> {
    let mut out: Vec<ReportSpec> = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let at = |k: &str| format!("reports.report.{i}.{k}");
        let valid_name = !r.name.is_empty()
            && r.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name || BUILT_IN.contains(&r.name.as_str()) {
            p.at(
                &at("name"),
                format!(
                    "`{}`: give lowercase letters, digits and `_`, and not a built-in report ({})",
                    r.name,
                    BUILT_IN.join(", ")
                ),
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
        let scope = match r.scope.as_str() {
            "municipality" => Scope::Municipality,
            "programme" => Scope::Programme,
            other => {
                p.at(
                    &at("scope"),
                    format!("`{other}`: give `municipality` (one per programme municipality, to its project leads) or `programme` (one, to the secretariat)"),
                );
                Scope::Programme
            }
        };
        let mut names = vec!["period"];
        if scope == Scope::Municipality {
            names.push("municipality");
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
        let texts = ["kommune", "period", "period_label", "program"];
        placeholders(p, &at("subject"), &r.subject, &texts);
        placeholders(p, &at("body"), &r.body, &texts);
        if r.marts.is_empty() {
            p.at(&at("marts"), "name the marts the template reads");
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
