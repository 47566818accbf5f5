//! The staff books (månedsbøger) of a month, made a batch at a time: the marts are read once, each
//! municipality's book is built once, and the recipients' PDFs are rendered as the
//! caller asks for them, 16 at a time on every core, so a caller writes or mails each
//! and lets it go. A national month (some 4,800 PDFs) never holds more than one batch
//! of finished PDFs.

use std::collections::BTreeMap;

use std::sync::Arc;

use super::staff_book::Book;
use super::{RenderError, Rendered, Settings, Template, file_part, json, marts, pdf, slug};
use crate::config::reports::ReportSpec;
use crate::period::Period;

/// One recipient's staff book, to be rendered.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Index of the municipality's book.
    book: usize,
    /// The recipient's email (lower case).
    pub email: String,
    /// Their id in the export.
    pub id: String,
    /// The PDF's file name.
    pub file_name: String,
}

/// A month's staff books, ready to render one by one.
pub struct Books {
    spec: Arc<ReportSpec>,
    month: Period,
    by_municipality: Vec<(i32, &'static str, Book)>,
    /// Every staff book of the month, in the order they are rendered.
    pub planned: Vec<Planned>,
}

impl Books {
    /// Reads the marts of the staff book `spec` and plans its books of `month` (all
    /// recipients, or one). Two recipients whose PDFs would share a file name are
    /// refused here, before anything is rendered or written.
    pub fn load(
        config: &crate::config::Config,
        spec: &Arc<ReportSpec>,
        month: Period,
        recipient: Option<&str>,
        settings: &Settings,
    ) -> Result<Self, RenderError> {
        if month.is_quarter() {
            return Err(RenderError::Nothing {
                message: format!(
                    "`{month}` is not a month; the {} is monthly (2018-11)",
                    spec.name
                ),
            });
        }
        let e = |message| RenderError::Marts {
            report: spec.name.clone(),
            message,
        };
        let lake = &config.lake.path;
        let [employees, departments, visibility] =
            [0, 1, 2].map(|i| spec.marts.get(i).map_or("", String::as_str));
        let employees: Vec<marts::EmployeeRow> = marts::read(lake, employees).map_err(e)?;
        let departments: Vec<marts::DepartmentRow> = marts::read(lake, departments).map_err(e)?;
        let visibility: Vec<marts::VisibilityRow> = marts::read(lake, visibility).map_err(e)?;
        let key = month.to_string();
        let kommuner: std::collections::BTreeSet<i32> = employees
            .iter()
            .filter(|r| r.month == key)
            .map(|r| r.kommune)
            .collect();
        if kommuner.is_empty() {
            return Err(RenderError::Nothing {
                message: no_month(config, spec, &key),
            });
        }
        let mut by_municipality = Vec::new();
        let mut planned = Vec::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for kommune in kommuner {
            let name = crate::municipality::name(kommune).unwrap_or("Kommune");
            let Some(book) = Book::new(
                settings.disclosure,
                kommune,
                name,
                month,
                &employees,
                &departments,
                &visibility,
            ) else {
                continue;
            };
            for (email, id) in book.recipients() {
                if recipient.is_some_and(|r| !r.eq_ignore_ascii_case(&email)) {
                    continue;
                }
                let file_name = spec.file_name(&key, &slug(name), &file_part(&id));
                if let Some(first) = names.insert(file_name.clone(), email.clone()) {
                    return Err(RenderError::NameClash {
                        path: file_name,
                        first,
                        second: email,
                    });
                }
                planned.push(Planned {
                    book: by_municipality.len(),
                    email,
                    id,
                    file_name,
                });
            }
            by_municipality.push((kommune, name, book));
        }
        if let (Some(r), true) = (recipient, planned.is_empty()) {
            return Err(RenderError::Nothing {
                message: format!(
                    "`{r}` gets no {} for {key}: not an employee with an email in that month's export",
                    spec.name
                ),
            });
        }
        Ok(Self {
            spec: spec.clone(),
            month,
            by_municipality,
            planned,
        })
    }

    /// Renders one planned staff book.
    pub fn render(&self, p: &Planned, settings: &Settings) -> Result<Rendered, RenderError> {
        let key = self.month.to_string();
        let (kommune, _, book) = &self.by_municipality[p.book];
        let started = std::time::Instant::now();
        let date_label = super::format::date_label(settings.date);
        let data = book
            .for_recipient(&p.email, &date_label, settings.disclosure)
            .ok_or_else(|| RenderError::Nothing {
                message: format!("`{}` gets no {} for {key}", p.email, self.spec.name),
            })?;
        let bytes = json(&data, settings);
        let template = Template::StaffBook(self.spec.clone());
        let pdf = pdf(
            &settings.templates,
            &template,
            Some(&bytes),
            settings.date,
            &format!("maaltal/{}/{key}/{kommune}/{}", self.spec.name, p.id),
        )?;
        crate::progress::advance(1);
        Ok(Rendered {
            template,
            period: key,
            municipality: Some(*kommune),
            recipient: Some(p.email.clone()),
            file_name: p.file_name.clone(),
            pdf,
            data_sha256: super::fingerprint(&bytes),
            data: bytes,
            elapsed: started.elapsed(),
        })
    }

    /// Every planned staff book, in plan order, rendered as the iterator is advanced:
    /// a batch at a time on every core (one Typst compile uses about one), so at
    /// most [`BATCH`] finished PDFs are held. The PDFs are the same bytes as when made
    /// one by one; only the time changes.
    pub fn each<'a>(
        &'a self,
        settings: &'a Settings,
    ) -> impl Iterator<Item = Result<Rendered, RenderError>> + 'a {
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        self.planned
            .chunks(BATCH)
            .flat_map(move |batch| self.render_batch(batch, settings, workers))
    }

    /// Renders `batch` on up to `workers` threads; the results in the batch's order.
    fn render_batch(
        &self,
        batch: &[Planned],
        settings: &Settings,
        workers: usize,
    ) -> Vec<Result<Rendered, RenderError>> {
        if workers <= 1 || batch.len() <= 1 {
            return batch.iter().map(|p| self.render(p, settings)).collect();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut done: Vec<(usize, Result<Rendered, RenderError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers.min(batch.len()))
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(p) = batch.get(i) else { break mine };
                            mine.push((i, self.render(p, settings)));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }
}

/// How many staff books are rendered before the caller gets the first of them: enough
/// to keep every core busy past the slowest one, few enough to hold (some 16 × 60 KB).
const BATCH: usize = 16;

/// Why `month` has no staff book: no export of the month is in the lake. Names the
/// source a job lands before it sends this report, when one does.
fn no_month(config: &crate::config::Config, spec: &ReportSpec, key: &str) -> String {
    use crate::config::Step;
    let source = config
        .jobs
        .values()
        .filter(|j| {
            j.steps
                .iter()
                .any(|s| matches!(s, Step::Send(t) if t.name() == spec.name))
        })
        .flat_map(|j| j.steps.iter())
        .find_map(|s| match s {
            Step::Ingest { source, .. } => Some(source.as_str()),
            _ => None,
        });
    match source {
        Some(source) => format!(
            "no {} for {key}: no {source} export of that month is in the lake (land it with `maaltal ingest {source} --period {key}`, then `maaltal transform --month {key}`)",
            spec.name
        ),
        None => format!(
            "no {} for {key}: the marts have no rows of that month (land the month's export, then `maaltal transform --month {key}`)",
            spec.name
        ),
    }
}
