//! Compiling a report: a Typst template and its JSON → an archival, accessible PDF;
//! template errors located in the template's file, line and column.

use chrono::{Datelike, NaiveDate};
use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::world::{ReportWorld, Templates};
use super::{RenderError, Template};

pub(super) fn hints_text(hints: &[String]) -> String {
    if hints.is_empty() {
        String::new()
    } else {
        format!(" (hint: {})", hints.join("; "))
    }
}

fn located(world: &ReportWorld, template: &str, diags: &[SourceDiagnostic]) -> RenderError {
    let d = diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .or(diags.first());
    let Some(d) = d else {
        return RenderError::Template {
            path: template.into(),
            line: 1,
            column: 1,
            message: "unknown error".into(),
            hints: Vec::new(),
        };
    };
    let file = d.span.id().and_then(|id| world.file_text(id));
    let (path, line, column) = match (file, world.range(d.span)) {
        (Some((name, text)), Some(r)) => {
            let (l, c) = crate::config::line_col(text, r.start);
            (name, l, c)
        }
        (Some((name, _)), None) => (name, 1, 1),
        _ => (template.to_string(), 1, 1),
    };
    RenderError::Template {
        path,
        line,
        column,
        message: d.message.to_string(),
        hints: d.hints.iter().map(|h| h.v.to_string()).collect(),
    }
}

/// Documents between two evictions of Typst's memo cache.
const EVICT_EVERY: usize = 4;

/// Documents compiled by this process (for the eviction).
static DOCUMENTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Compiles `template` (one of `templates`) with `data` (JSON; none: the template's
/// sample data) and writes an archival, accessible PDF (PDF/A-2a and PDF/UA-1). `ident`
/// names the document (the same report of the same period keeps its identifier);
/// `day` is its date.
pub fn pdf(
    templates: &std::sync::Arc<Templates>,
    template: &Template,
    data: Option<&[u8]>,
    day: NaiveDate,
    ident: &str,
) -> Result<Vec<u8>, RenderError> {
    let path = template.template_file();
    // For template authors: `MAALTAL_REPORT_JSON=<dir>` keeps each report's data, to
    // preview a template with `typst compile --input data=<file>`.
    if let (Some(dir), Some(bytes)) = (std::env::var_os("MAALTAL_REPORT_JSON"), data) {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{}.json", ident.replace('/', "_"))), bytes);
    }
    let world =
        ReportWorld::new(templates, path, data, day).ok_or_else(|| RenderError::Template {
            path: templates.display(path),
            line: 1,
            column: 1,
            message: "no such template".into(),
            hints: Vec::new(),
        })?;
    let started = std::time::Instant::now();
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled
        .output
        .map_err(|diags| located(&world, &templates.display(path), &diags))?;
    let compiled_at = started.elapsed();
    let perr = |message: String| RenderError::Pdf {
        path: templates.display(path),
        message,
    };
    let standards = PdfStandards::new(&[PdfStandard::A_2a, PdfStandard::Ua_1])
        .map_err(|e| perr(e.message().to_string()))?;
    let timestamp =
        Datetime::from_ymd(day.year(), day.month() as u8, day.day() as u8).map(Timestamp::new_utc);
    let options = PdfOptions {
        ident: Smart::Custom(ident.to_string()),
        timestamp,
        standards,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|diags| {
        perr(
            diags
                .iter()
                .map(|d| d.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    });
    tracing::debug!(
        "{ident}: {} pages, compiled in {} ms, PDF written in {} ms",
        document.pages().len(),
        compiled_at.as_millis(),
        started.elapsed().saturating_sub(compiled_at).as_millis()
    );
    // Typst memoises layout results process-wide; without eviction a run of a hundred
    // reports holds every one's cache (2 GiB for 98 status reports). Every few
    // documents, drop what they did not use (keeping the template's, the fonts'):
    // an eviction walks the whole cache, 5 % of a status report when done after each.
    if DOCUMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1
    {
        typst::comemo::evict(1);
    }
    pdf
}
