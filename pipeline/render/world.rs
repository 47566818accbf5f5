//! The one Typst `World` of maaltal, rendering's only I/O: the templates of
//! `report-templates/` (embedded in the binary), the report's data as a file whose
//! path is `sys.inputs.data` (as `typst compile --input data=<file>` gives it), fonts
//! bundled in the binary (typst-assets), no packages, and the document date from the
//! caller, never the clock.
//!
//! The standard library, its inputs and the fonts are the same for every document of
//! a process. Typst memoises layout by what a computation read, so whatever does not
//! read the data (the page set-up, a chart's axes, a name in a chart that every
//! report shows) is laid out once and reused by the next document. With the data in
//! `sys.inputs` itself, every document had a library of its own and nothing carried
//! over.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, IntoValue, Str};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The files of `report-templates/`, as the binary carries them (every `*.typ` and
/// `*.json`, listed by `pipeline/build.rs`).
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The fonts bundled in the binary, loaded once.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

fn file_id(name: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(format!("/{}", name.trim_start_matches('/'))).ok()?;
    Some(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

fn name_of(id: FileId) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(name, _)| file_id(name) == Some(id))
        .map(|(name, _)| *name)
}

/// The text of an embedded template file.
#[must_use]
pub fn text_of(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Where a document's data is, as the templates see it (`sys.inputs.data`).
const DATA_FILE: &str = "/.maaltal/data.json";

/// The standard library, with or without `sys.inputs.data`, built once.
fn library(with_data: bool) -> &'static LazyHash<Library> {
    static WITH: OnceLock<LazyHash<Library>> = OnceLock::new();
    static WITHOUT: OnceLock<LazyHash<Library>> = OnceLock::new();
    let build = |inputs: Dict| LazyHash::new(Library::builder().with_inputs(inputs).build());
    if with_data {
        WITH.get_or_init(|| {
            let mut inputs = Dict::new();
            inputs.insert(Str::from("data"), Str::from(DATA_FILE).into_value());
            build(inputs)
        })
    } else {
        WITHOUT.get_or_init(|| build(Dict::new()))
    }
}

/// The templates, parsed once.
fn sources() -> &'static Vec<(FileId, Source)> {
    static SOURCES: OnceLock<Vec<(FileId, Source)>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        FILES
            .iter()
            .filter_map(|(name, text)| {
                let id = file_id(name)?;
                Some((id, Source::new(id, (*text).to_string())))
            })
            .collect()
    })
}

/// One template with its data, ready to compile.
pub struct ReportWorld {
    library: &'static LazyHash<Library>,
    main: FileId,
    data: Option<Bytes>,
    today: NaiveDate,
}

impl ReportWorld {
    /// A world whose main file is `template` (a name in [`FILES`]); `data` (JSON) is
    /// the file `sys.inputs.data` names, unless none (then the template reads its
    /// sample data). `None` when the template is not one of the embedded files.
    #[must_use]
    pub fn new(template: &str, data: Option<&[u8]>, today: NaiveDate) -> Option<Self> {
        text_of(template)?;
        Some(Self {
            library: library(data.is_some()),
            main: file_id(template)?,
            data: data.map(|d| Bytes::new(d.to_vec())),
            today,
        })
    }

    /// The name and text of the file a diagnostic points into.
    #[must_use]
    pub fn file_text(&self, id: FileId) -> Option<(&'static str, &'static str)> {
        let name = name_of(id)?;
        Some((name, text_of(name)?))
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        sources()
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
            .ok_or(FileError::AccessDenied)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(data) = &self.data
            && file_id(DATA_FILE) == Some(id)
        {
            return Ok(data.clone());
        }
        let (_, text) = self.file_text(id).ok_or(FileError::AccessDenied)?;
        Ok(Bytes::new(text.as_bytes().to_vec()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Datetime::from_ymd(
            self.today.year(),
            self.today.month() as u8,
            self.today.day() as u8,
        )
    }
}
