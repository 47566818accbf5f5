//! Configuration: load TOML, validate every field, hand out typed values.
//!
//! ```text
//! maaltal.toml ──DeTable (spans)──► Raw* (serde, per section) ──validate──► Config
//!                                      └── every problem collected, file:line:col + dotted path
//! ```
//! Precedence: built-in defaults < the config file < CLI flags (`--lake`, `MAALTAL_LAKE`).
//! Secrets are never in the file: it names environment variables.

pub mod catalogue;
pub mod comparison;
pub mod contract;
pub mod engine;
pub mod jobs;
mod problems;
pub mod programmes;
pub mod raw;
pub mod remote;
pub mod reports;
mod sections;
mod types;

pub use catalogue::MetricInfo;
pub use comparison::{ComparisonConfig, ComparisonGroup};
pub use engine::{ClusterConfig, EngineConfig};
pub use jobs::Step;
use problems::{Problems, codes, env_name, folder};
use sections::{
    sources_sections, validate_mail, validate_metrics, validate_recipients, validate_sources,
};
pub use types::*;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::DeTable;

use raw::{
    RawHttp, RawLake, RawMail, RawMetrics, RawProgram, RawPseudonym, RawRecipients, RawReports,
    RawStatus,
};

/// The embedded main config (`config/maaltal.toml`): the shared sections and the
/// programmes that are on, each a folder `config/programmes/<id>/`.
pub const EMBEDDED_MAIN: &str = include_str!("../../config/maaltal.toml");
pub use programmes::EMBEDDED_DEFAULT;
/// The project's placeholder benefit-code mapping of a wide-weeks register
/// (`config/dream_codes.csv`), for a source that names none.
pub const DEFAULT_CODE_MAPPING: &str = include_str!("../../config/dream_codes.csv");
/// Name shown for the embedded default in error messages.
pub const EMBEDDED_NAME: &str = "<embedded config/maaltal.toml>";

/// One configuration problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Config file (or [`EMBEDDED_NAME`]).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// Dotted field path, e.g. `sources.<name>.encoding`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, line, column, field, message) = (
            &self.file,
            self.line,
            self.column,
            &self.field,
            &self.message,
        );
        if field.is_empty() {
            write!(f, "{file}:{line}:{column}: {message}")
        } else {
            write!(f, "{file}:{line}:{column}: {field}: {message}")
        }
    }
}

/// All problems of one config file.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid configuration ({n} problem{})",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl Config {
    /// Resolves a location template against the config's folder (URLs stay as they are).
    #[must_use]
    pub fn resolve_location(
        &self,
        template: &str,
        period: &str,
        municipality: Option<i32>,
    ) -> String {
        let mut s = template.replace("{period}", period);
        if let Some(m) = municipality {
            s = s.replace("{municipality}", &m.to_string());
        }
        if is_url(&s) {
            s
        } else {
            self.base_dir.join(s).to_string_lossy().into_owned()
        }
    }

    /// Points the lake (and the default quarantine beside it) somewhere else.
    pub fn override_lake(&mut self, lake: &Path) {
        let old_default = default_quarantine(&self.lake.path);
        let explicit_quarantine = self.lake.quarantine_path != old_default;
        self.lake.path = lake.to_path_buf();
        if !explicit_quarantine {
            self.lake.quarantine_path = default_quarantine(lake);
        }
    }
}

/// Is this location an `http(s)://` URL?
#[must_use]
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn default_quarantine(lake: &Path) -> PathBuf {
    let name = lake
        .file_name()
        .map_or_else(|| "lake".into(), |n| n.to_string_lossy().into_owned());
    lake.with_file_name(format!("{name}.quarantine"))
}

/// Loads the config file at `path`, or the embedded default when `None`.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
    match path {
        None => programmes::load_main(None, EMBEDDED_MAIN, EMBEDDED_NAME, Path::new(".")),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                ConfigErrors(vec![ConfigError {
                    file: p.display().to_string(),
                    line: 1,
                    column: 1,
                    field: String::new(),
                    message: format!("cannot read config: {e}"),
                }])
            })?;
            let base = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            programmes::load_main(Some(p), &text, &p.display().to_string(), base)
        }
    }
}

/// Line and column (1-based, in characters) of a byte offset.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses a wide-weeks register's code mapping CSV (`code;class;description`).
pub fn parse_code_mapping(text: &str) -> Result<BTreeMap<String, String>, String> {
    const CLASSES: &[&str] = &[
        "su",
        "igu_praktik",
        "igu_skole",
        "integrationsydelse",
        "other_benefit",
        "censored",
    ];
    let mut map = BTreeMap::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line_no = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.to_lowercase().starts_with("code;") {
            continue;
        }
        let mut parts = t.split(';');
        let code = parts.next().unwrap_or_default().trim();
        let class = parts.next().unwrap_or_default().trim();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("line {line_no}: code `{code}` is not 3 digits"));
        }
        if !CLASSES.contains(&class) {
            return Err(format!(
                "line {line_no}: class `{class}` is not one of {}",
                CLASSES.join(", ")
            ));
        }
        if map.insert(code.to_string(), class.to_string()).is_some() {
            return Err(format!("line {line_no}: code `{code}` mapped twice"));
        }
    }
    if map.is_empty() {
        return Err("no codes".into());
    }
    Ok(map)
}

/// Parses and validates config text. `file` names it in errors; relative paths
/// resolve against `base_dir`.
pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
    let root = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(text, e.span().unwrap_or(0..0).start);
            return Err(ConfigErrors(vec![ConfigError {
                file: file.to_string(),
                line,
                column,
                field: String::new(),
                message: e.message().trim().to_string(),
            }]));
        }
    };
    let root = root.get_ref();
    let mut p = Problems {
        text,
        file,
        root,
        errors: Vec::new(),
    };
    for (key, _) in root {
        let k = key.get_ref();
        if ![
            "program",
            "lake",
            "pseudonym",
            "http",
            "sources",
            "metrics",
            "reports",
            "mail",
            "recipients",
            "jobs",
            "status",
            "comparison",
            "engine",
            "programmes",
        ]
        .contains(&k.as_ref())
        {
            p.at_span(
                key.span(),
                k.to_string(),
                "unknown section; valid: `program`, `lake`, `pseudonym`, `http`, `sources`, `metrics`, `reports`, `mail`, `recipients`, `jobs`, `status`, `comparison`, `engine`, `programmes`",
            );
        }
    }
    let program: Option<RawProgram> = p.section("program");
    let programmes: Vec<String> = if root.contains_key("programmes") {
        p.section("programmes").unwrap_or_default()
    } else {
        Vec::new()
    };
    for (i, id) in programmes.iter().enumerate() {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            p.at(
                &format!("programmes.{i}"),
                format!(
                    "`{id}`: a programme id is its folder's name (lowercase letters, digits, `_`)"
                ),
            );
        }
    }
    let lake: Option<RawLake> = p.section("lake");
    let pseudonym: Option<RawPseudonym> = p.section("pseudonym");
    let http: Option<RawHttp> = if root.contains_key("http") {
        p.section("http")
    } else {
        Some(RawHttp::default())
    };
    let sources = sources_sections(&mut p);
    let metrics: Option<RawMetrics> = if root.contains_key("metrics") {
        p.section("metrics")
    } else {
        Some(RawMetrics::default())
    };
    let metrics = metrics.map(|r| validate_metrics(&mut p, r));
    let reports: Option<RawReports> = if root.contains_key("reports") {
        p.section("reports")
    } else {
        Some(RawReports::default())
    };
    let reports = reports.map(|r| {
        let min_group_size = r.min_group_size.unwrap_or(5);
        if !(1..=100).contains(&min_group_size) {
            p.at(
                "reports.min_group_size",
                format!("{min_group_size}: give 1..=100 (1 hides nothing)"),
            );
        }
        let reports = reports::validate(&mut p, r.report)
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
        ReportsConfig {
            min_group_size,
            reports,
        }
    });
    let mail: Option<RawMail> = if root.contains_key("mail") {
        p.section("mail")
    } else {
        Some(RawMail::default())
    };
    let mail = mail.map(|r| validate_mail(&mut p, r, base_dir));
    let recipients: Option<RawRecipients> = if root.contains_key("recipients") {
        p.section("recipients")
    } else {
        Some(RawRecipients::default())
    };
    let recipients = recipients.map(|r| validate_recipients(&mut p, r));
    let jobs: Option<BTreeMap<String, jobs::RawJob>> = if root.contains_key("jobs") {
        p.section("jobs")
    } else {
        Some(BTreeMap::new())
    };
    let status: Option<RawStatus> = if root.contains_key("status") {
        p.section("status")
    } else {
        Some(RawStatus::default())
    };
    let status = StatusConfig {
        token_env: status.and_then(|r| r.token_env).inspect(|name| {
            env_name(&mut p, "status.token_env", name);
        }),
    };
    let comparison: Option<comparison::RawComparison> = if root.contains_key("comparison") {
        p.section("comparison")
    } else {
        Some(comparison::RawComparison::default())
    };
    let comparison =
        comparison.map(|r| comparison::validate_comparison(&mut p, r, metrics.as_ref()));
    let engine: Option<engine::RawEngine> = if root.contains_key("engine") {
        p.section("engine")
    } else {
        Some(engine::RawEngine::default())
    };
    let engine = engine.map(|r| engine::validate_engine(&mut p, r, base_dir));

    let program = program.map(|r| {
        if r.id.trim().is_empty() {
            p.at("program.id", format!("`{}`: must not be empty", r.id));
        }
        let municipalities = codes(&mut p, "program.municipalities", &r.municipalities);
        let queries = folder(
            &mut p,
            base_dir,
            "program.queries",
            r.queries.as_ref(),
            "`*.sql` marts",
        );
        let templates = folder(
            &mut p,
            base_dir,
            "program.templates",
            r.templates.as_ref(),
            "`*.typ` report templates",
        );
        ProgramConfig {
            id: r.id,
            name: r.name,
            municipalities,
            queries,
            templates,
            parameters: sections::parameters(&mut p, r.parameters),
        }
    });
    let lake = lake.map(|r| {
        let path = base_dir.join(&r.path);
        let quarantine_path = r
            .quarantine_path
            .as_ref()
            .map_or_else(|| default_quarantine(&path), |q| base_dir.join(q));
        if quarantine_path.starts_with(&path) {
            p.at(
                "lake.quarantine_path",
                format!(
                    "`{}` must lie outside the lake `{}`: quarantined extracts still hold CPR numbers",
                    quarantine_path.display(),
                    path.display()
                ),
            );
        }
        let remote = r.remote.and_then(|r| remote::validate_remote(&mut p, r));
        LakeConfig {
            path,
            quarantine_path,
            remote,
        }
    });
    let pseudonym = pseudonym.map(|r| {
        env_name(&mut p, "pseudonym.key_env", &r.key_env);
        PseudonymConfig {
            key_env: r.key_env,
            allow_demo_key: r.allow_demo_key,
        }
    });
    let http = http.map(|r| {
        let secs = |p: &mut Problems<'_>, f: &str, v: Option<u64>, d: u64| {
            let v = v.unwrap_or(d);
            if v == 0 {
                p.at(f, "`0`: must be at least 1 (seconds)");
            }
            Duration::from_secs(v)
        };
        let timeout = secs(&mut p, "http.timeout_secs", r.timeout_secs, 300);
        let connect_timeout = secs(
            &mut p,
            "http.connect_timeout_secs",
            r.connect_timeout_secs,
            10,
        );
        if let Some(n) = r.retries.filter(|n| *n > 20) {
            p.at("http.retries", format!("`{n}`: give at most 20"));
        }
        HttpConfig {
            timeout,
            connect_timeout,
            retries: r.retries.unwrap_or(4),
            backoff: Duration::from_millis(r.backoff_ms.unwrap_or(500)),
            max_bytes: r.max_bytes.unwrap_or(4 << 30),
        }
    });
    let sources = sources.map(|s| validate_sources(&mut p, s, base_dir));
    let jobs = jobs.map(|j| jobs::validate_jobs(&mut p, j, sources.as_ref(), reports.as_ref()));

    match (
        program, lake, pseudonym, http, sources, metrics, reports, mail, recipients, jobs,
        comparison, engine,
    ) {
        (
            Some(program),
            Some(lake),
            Some(pseudonym),
            Some(http),
            Some(sources),
            Some(metrics),
            Some(reports),
            Some(mail),
            Some(recipients),
            Some(jobs),
            Some(comparison),
            Some(engine),
        ) if p.errors.is_empty() => Ok(Config {
            origin: file.to_string(),
            base_dir: base_dir.to_path_buf(),
            program,
            lake,
            pseudonym,
            http,
            sources,
            metrics,
            reports,
            mail,
            recipients,
            jobs,
            status,
            comparison,
            engine,
            programmes,
        }),
        _ => {
            let mut errors = p.errors;
            errors.sort_by_key(|e| (e.line, e.column));
            errors.dedup();
            Err(ConfigErrors(errors))
        }
    }
}
