//! The one Typst `World` of maaltal, rendering's only I/O: the templates (the files of
//! `report-templates/` embedded in the binary, or of the folder `[program] templates`
//! names, read when a run starts), the report's data as a file whose path is
//! `sys.inputs.data` (as `typst compile --input data=<file>` gives it), fonts bundled
//! in the binary (typst-assets), no packages, and the document date from the caller,
//! never the clock.
//!
//! The standard library, its inputs and the fonts are the same for every document of
//! a process. Typst memoises layout by what a computation read, so whatever does not
//! read the data (the page set-up, a chart's axes, a name in a chart that every
//! report shows) is laid out once and reused by the next document. With the data in
//! `sys.inputs` itself, every document had a library of its own and nothing carried
//! over. The same holds for the templates' set rules, which are part of every layout's
//! key: they hold no report's data (`report()` in `report-templates/common.typ`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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

/// The text of an embedded template file.
#[must_use]
pub fn text_of(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Whether the file `name` ends in `.<ext>` (as Typst imports it: case matters).
fn has_extension(name: &str, ext: &str) -> bool {
    Path::new(name).extension().is_some_and(|e| e == ext)
}

/// A programme's report templates, parsed: the embedded `report-templates/`, or every
/// `*.typ` and `*.json` file of a folder.
#[derive(Debug)]
pub struct Templates {
    /// The folder they were read from (none: embedded).
    folder: Option<PathBuf>,
    /// Each file's name and text.
    files: Vec<(String, String)>,
    /// The `*.typ` files, parsed once.
    sources: Vec<(FileId, Source)>,
    /// Built into the binary (`folder` only names them).
    embedded: bool,
}

impl Templates {
    fn new(folder: Option<PathBuf>, files: Vec<(String, String)>) -> Self {
        let sources = files
            .iter()
            .filter(|(name, _)| has_extension(name, "typ"))
            .filter_map(|(name, text)| {
                let id = file_id(name)?;
                Some((id, Source::new(id, text.clone())))
            })
            .collect();
        Self {
            folder,
            files,
            sources,
            embedded: false,
        }
    }

    /// The embedded default programme's templates (those of a programme that is no
    /// embedded folder), made once per process.
    #[must_use]
    pub fn embedded() -> Arc<Self> {
        static EMBEDDED: OnceLock<Arc<Templates>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                Self::embedded_for(crate::config::programmes::default_id()).unwrap_or_else(|| {
                    let files = FILES
                        .iter()
                        .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
                        .collect();
                    Arc::new(Self::new(None, files))
                })
            })
            .clone()
    }

    /// The templates of an embedded programme folder (`report-templates/<id>/`), with
    /// the shared `common.typ` beside them; none when the programme has no folder.
    #[must_use]
    pub fn embedded_for(id: &str) -> Option<Arc<Self>> {
        let own = crate::config::programmes::embedded_templates(id)?;
        let mut files: Vec<(String, String)> = own
            .iter()
            .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
            .collect();
        if !files.iter().any(|(n, _)| n == "common.typ")
            && let Some(common) = text_of("common.typ")
        {
            files.push(("common.typ".into(), common.into()));
        }
        files.sort();
        // Messages name the repository's files: report-templates/<id>/<file>.typ.
        let folder = PathBuf::from("report-templates").join(id);
        let mut me = Self::new(Some(folder), files);
        me.embedded = true;
        Some(Arc::new(me))
    }

    /// Every `*.typ` and `*.json` file of `folder` (not its subfolders), with the shared
    /// `common.typ` when the folder has none of its own. An error names
    /// the file that cannot be read.
    pub fn read(folder: &Path) -> Result<Arc<Self>, String> {
        let entries = std::fs::read_dir(folder)
            .map_err(|e| format!("{}: {e} (the report templates' folder)", folder.display()))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("{}: {e}", folder.display()))?
                .path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !(has_extension(name, "typ") || has_extension(name, "json")) || !path.is_file() {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push((name.to_string(), text));
        }
        // The shared helpers, when the folder has no `common.typ` of its own.
        if !files.iter().any(|(n, _)| n == "common.typ")
            && let Some(common) = text_of("common.typ")
        {
            files.push(("common.typ".into(), common.into()));
        }
        files.sort();
        Ok(Arc::new(Self::new(Some(folder.to_path_buf()), files)))
    }

    /// The text of one of the files.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    /// How a message names one of the files: its path in the folder, or
    /// `report-templates/<name>` for the embedded ones.
    #[must_use]
    pub fn display(&self, name: &str) -> String {
        match &self.folder {
            Some(_) if self.embedded && name == "common.typ" => format!("report-templates/{name}"),
            Some(f) => f.join(name).display().to_string(),
            None => format!("report-templates/{name}"),
        }
    }

    fn name_of(&self, id: FileId) -> Option<&str> {
        self.files
            .iter()
            .find(|(name, _)| file_id(name) == Some(id))
            .map(|(name, _)| name.as_str())
    }
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

/// One template with its data, ready to compile.
pub struct ReportWorld {
    templates: Arc<Templates>,
    library: &'static LazyHash<Library>,
    main: FileId,
    data: Option<Bytes>,
    today: NaiveDate,
}

impl ReportWorld {
    /// A world whose main file is `template` (a name in `templates`); `data` (JSON)
    /// is the file `sys.inputs.data` names, unless none (then the template reads its
    /// sample data). `None` when the template is not one of the files.
    #[must_use]
    pub fn new(
        templates: &Arc<Templates>,
        template: &str,
        data: Option<&[u8]>,
        today: NaiveDate,
    ) -> Option<Self> {
        templates.text(template)?;
        Some(Self {
            templates: templates.clone(),
            library: library(data.is_some()),
            main: file_id(template)?,
            data: data.map(|d| Bytes::new(d.to_vec())),
            today,
        })
    }

    /// How a message names the file a diagnostic points into, and its text.
    #[must_use]
    pub fn file_text(&self, id: FileId) -> Option<(String, &str)> {
        let name = self.templates.name_of(id)?;
        Some((self.templates.display(name), self.templates.text(name)?))
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
        self.templates
            .sources
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
        let name = self.templates.name_of(id).ok_or(FileError::AccessDenied)?;
        let text = self.templates.text(name).ok_or(FileError::AccessDenied)?;
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
