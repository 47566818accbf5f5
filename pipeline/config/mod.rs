//! Configuration: load TOML, validate every field, hand out typed values.
//!
//! ```text
//! maaltal.toml ──DeTable (spans)──► Raw* (serde, per section) ──validate──► Config
//!                                      └── every problem collected, file:line:col + dotted path
//! ```
//! Precedence: built-in defaults < the config file < CLI flags (`--lake`, `MAALTAL_LAKE`).
//! Secrets are never in the file: it names environment variables.

pub mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::municipality;
use raw::{
    RawDream, RawFagsystem, RawHttp, RawJob, RawJobindsats, RawLake, RawMail, RawMetrics,
    RawProgram, RawPseudonym, RawRecipients, RawReports, RawSources, RawStatus,
};

/// The embedded default configuration (`config/maaltal.toml`).
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/maaltal.toml");
/// The project's placeholder DREAM code mapping (`config/dream_codes.csv`).
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
    /// Dotted field path, e.g. `sources.dream.encoding`.
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

/// Text encoding of a CSV extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Encoding {
    /// UTF-8, optional BOM.
    Utf8,
    /// ISO-8859-1 / Windows-1252.
    Latin1,
}

/// `[program]`, validated.
#[derive(Debug, Clone)]
pub struct ProgramConfig {
    /// Programme id.
    pub id: String,
    /// Programme name.
    pub name: String,
    /// DST codes of the programme municipalities.
    pub municipalities: Vec<i32>,
}

/// `[lake]`, validated and resolved.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// Lake root.
    pub path: PathBuf,
    /// Quarantine root (beside the lake).
    pub quarantine_path: PathBuf,
}

/// `[pseudonym]`, validated.
#[derive(Debug, Clone)]
pub struct PseudonymConfig {
    /// Environment variable with the key.
    pub key_env: String,
    /// Fall back to the public demo key when the variable is unset.
    pub allow_demo_key: bool,
}

/// `[http]`, validated.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff.
    pub backoff: Duration,
    /// Size limit of one download.
    pub max_bytes: u64,
}

/// `[sources.dream]`, validated.
#[derive(Debug, Clone)]
pub struct DreamConfig {
    /// Location template (`{period}`).
    pub location: String,
    /// Encoding.
    pub encoding: Encoding,
    /// The code mapping: code → class.
    pub codes: BTreeMap<String, String>,
    /// Where the mapping came from (path, or "embedded default").
    pub code_mapping_origin: String,
    /// Map unknown codes to `other_benefit` instead of rejecting.
    pub unknown_codes_as_other: bool,
    /// Env var with an `Authorization` value.
    pub auth_env: Option<String>,
}

/// One Jobindsats table, validated.
#[derive(Debug, Clone)]
pub struct JobindsatsTableConfig {
    /// Lake name suffix (`jobindsats_<name>`).
    pub name: String,
    /// Table id.
    pub table_id: String,
    /// Monthly (`false`) or quarterly (`true`) periods.
    pub quarterly: bool,
    /// Category dimension id.
    pub category_dimension: String,
}

/// `[sources.jobindsats]`, validated.
#[derive(Debug, Clone)]
pub struct JobindsatsConfig {
    /// API base URL or folder.
    pub location: String,
    /// Env var with the API key.
    pub api_key_env: Option<String>,
    /// Sex dimension id.
    pub sex_dimension: String,
    /// Sex label → `M`/`K`/`alle`.
    pub sex_labels: BTreeMap<String, String>,
    /// Tables.
    pub tables: Vec<JobindsatsTableConfig>,
}

/// `[sources.fagsystem]`, validated.
#[derive(Debug, Clone)]
pub struct FagsystemConfig {
    /// Location template (`{municipality}`, `{period}`).
    pub location: String,
    /// Encoding.
    pub encoding: Encoding,
    /// Municipalities with an export.
    pub municipalities: Vec<i32>,
    /// Env var with an `Authorization` value.
    pub auth_env: Option<String>,
}

/// `[sources]`, validated.
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    /// DREAM.
    pub dream: DreamConfig,
    /// Jobindsats.
    pub jobindsats: JobindsatsConfig,
    /// Case system.
    pub fagsystem: FagsystemConfig,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was loaded from.
    pub origin: String,
    /// Folder relative paths resolve against.
    pub base_dir: PathBuf,
    /// Programme.
    pub program: ProgramConfig,
    /// Lake.
    pub lake: LakeConfig,
    /// Pseudonymisation.
    pub pseudonym: PseudonymConfig,
    /// HTTP.
    pub http: HttpConfig,
    /// Sources.
    pub sources: SourcesConfig,
    /// Target metrics.
    pub metrics: MetricsConfig,
    /// Reports.
    pub reports: ReportsConfig,
    /// Delivery.
    pub mail: MailConfig,
    /// Who gets what.
    pub recipients: RecipientsConfig,
    /// Scheduled jobs, by name.
    pub jobs: BTreeMap<String, JobConfig>,
    /// The status page.
    pub status: StatusConfig,
}

/// `[status]`, validated.
#[derive(Debug, Clone, Default)]
pub struct StatusConfig {
    /// The environment variable holding the actions' token.
    pub token_env: Option<String>,
}

/// `[jobs.<name>]`, validated.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// Its name.
    pub name: String,
    /// What it does.
    pub kind: crate::schedule::JobKind,
    /// The cron expression as written.
    pub schedule: String,
    /// Parsed.
    pub cron: croner::Cron,
    /// Time zone.
    pub timezone: chrono_tz::Tz,
    /// Catch-up window.
    pub catch_up: chrono::Duration,
    /// Between tries for late data.
    pub retry_every: Duration,
    /// After the firing, when late data fails the job.
    pub deadline: chrono::Duration,
}

/// `[mail]`, validated.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Sender mailbox.
    pub from: String,
    /// Reply-To mailbox.
    pub reply_to: String,
    /// The SMTP server (none: the outbox).
    pub url: Option<SmtpUrl>,
    /// Env var holding the password.
    pub password_env: Option<String>,
    /// Outbox folder for `.eml` files.
    pub outbox: PathBuf,
    /// Per-send timeout.
    pub timeout: Duration,
    /// Retries of transient failures.
    pub retries: u32,
    /// First backoff.
    pub backoff: Duration,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS required (fails before credentials when not offered).
    Required,
    /// TLS from the first byte (port 465).
    Wrapper,
    /// Plain text: only to a loopback address.
    None,
}

/// A checked SMTP server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User for AUTH, if any.
    pub user: Option<String>,
    /// Security.
    pub tls: SmtpTls,
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == SmtpTls::Wrapper {
            "smtps"
        } else {
            "smtp"
        };
        let user = self
            .user
            .as_ref()
            .map_or_else(String::new, |u| format!("{u}@"));
        let tls = match self.tls {
            SmtpTls::Required => "?tls=required",
            SmtpTls::None => "?tls=none",
            SmtpTls::Wrapper => "",
        };
        write!(f, "{scheme}://{user}{}:{}{tls}", self.host, self.port)
    }
}

/// Parses an SMTP URL: `smtp://user@host:587?tls=required`, `smtps://host:465`,
/// `smtp://127.0.0.1:2525?tls=none` (plain text only to a loopback host). A password in
/// the URL is refused: it belongs in the environment.
pub fn parse_smtp_url(s: &str) -> Result<SmtpUrl, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if u.password().is_some() {
        return Err("the URL holds a password; put it in the variable `password_env` names".into());
    }
    let wrapper = match u.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => return Err(format!("scheme `{other}`; valid: `smtp`, `smtps`")),
    };
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut tls = if wrapper {
        SmtpTls::Wrapper
    } else {
        SmtpTls::Required
    };
    for (k, v) in u.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "required") if !wrapper => tls = SmtpTls::Required,
            ("tls", "none") if !wrapper => tls = SmtpTls::None,
            ("tls", other) => {
                return Err(format!(
                    "tls=`{other}`; valid: `required` or `none` (with smtp://)"
                ));
            }
            (other, _) => return Err(format!("unknown parameter `{other}`; valid: `tls`")),
        }
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if tls == SmtpTls::None && !loopback {
        return Err(format!(
            "tls=none sends mail and passwords in plain text; allowed only to a loopback address, not `{host}`"
        ));
    }
    let port = u.port().unwrap_or(if wrapper { 465 } else { 587 });
    let user = (!u.username().is_empty()).then(|| {
        form_urlencoded::parse(format!("u={}", u.username()).as_bytes())
            .next()
            .map_or_else(|| u.username().to_string(), |(_, v)| v.into_owned())
    });
    Ok(SmtpUrl {
        host,
        port,
        user,
        tls,
    })
}

/// `[recipients]`, validated.
#[derive(Debug, Clone, Default)]
pub struct RecipientsConfig {
    /// The secretariat.
    pub secretariat: Vec<String>,
    /// Project leads per municipality.
    pub project_leads: BTreeMap<i32, Vec<String>>,
    /// The operator.
    pub operator: Option<String>,
}

/// `[reports]`, validated.
#[derive(Debug, Clone)]
pub struct ReportsConfig {
    /// Smallest group printed.
    pub min_group_size: i64,
}

/// The metric names of the `target_metrics` mart.
pub const METRICS: &[&str] = &["M1", "M1_selvforsoergelse", "M1_uddannelse", "M2", "M3"];

/// `[metrics]`, validated.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Weeks needed in a quarter.
    pub min_weeks: i64,
    /// Jobindsats measurement.
    pub measure: String,
    /// M2 numerator category.
    pub jobparat_label: String,
    /// M3 numerator categories.
    pub offer_labels: Vec<String>,
    /// M3 denominator category.
    pub recipients_label: String,
    /// Baseline period per metric.
    pub baseline: BTreeMap<String, crate::period::Period>,
    /// Baseline of the sex split of M1.
    pub sex_gap_baseline: crate::period::Period,
}

fn validate_metrics(p: &mut Problems<'_>, r: RawMetrics) -> MetricsConfig {
    let min_weeks = r.min_weeks.unwrap_or(5);
    if !(1..=14).contains(&min_weeks) {
        p.at(
            "metrics.min_weeks",
            format!("{min_weeks}: a quarter has 12 to 14 weeks; give 1..=14"),
        );
    }
    let mut baseline: BTreeMap<String, crate::period::Period> = [
        ("M1", "2016Q4"),
        ("M1_selvforsoergelse", "2016Q4"),
        ("M1_uddannelse", "2016Q4"),
        ("M2", "2016M12"),
        ("M3", "2016Q3"),
    ]
    .iter()
    .filter_map(|(m, b)| Some(((*m).to_string(), b.parse().ok()?)))
    .collect();
    for (metric, period) in r.baseline.unwrap_or_default() {
        let field = format!("metrics.baseline.{metric}");
        if !METRICS.contains(&metric.as_str()) {
            p.at(
                &field,
                format!("unknown metric `{metric}`; valid: {}", METRICS.join(", ")),
            );
            continue;
        }
        match period.parse::<crate::period::Period>() {
            Ok(per) if per.is_quarter() == (metric != "M2") => {
                baseline.insert(metric, per);
            }
            Ok(_) => p.at(
                &field,
                format!("`{period}`: M2 is monthly (`2016-12`), the others quarterly (`2016Q4`)"),
            ),
            Err(e) => p.at(&field, e.to_string()),
        }
    }
    let sex_gap_baseline = match r
        .sex_gap_baseline
        .as_deref()
        .unwrap_or("2017Q1")
        .parse::<crate::period::Period>()
    {
        Ok(p) if p.is_quarter() => p,
        Ok(month) => {
            p.at(
                "metrics.sex_gap_baseline",
                format!("`{month}`: M1 is quarterly, give a quarter like `2017Q1`"),
            );
            crate::period::Period::Quarter {
                year: 2017,
                quarter: 1,
            }
        }
        Err(e) => {
            p.at("metrics.sex_gap_baseline", e.to_string());
            crate::period::Period::Quarter {
                year: 2017,
                quarter: 1,
            }
        }
    };
    MetricsConfig {
        sex_gap_baseline,
        min_weeks,
        measure: r.measure.unwrap_or_else(|| "antal_personer".into()),
        jobparat_label: r.jobparat_label.unwrap_or_else(|| "Jobparat".into()),
        offer_labels: r.offer_labels.unwrap_or_else(|| {
            [
                "Ansættelse med løntilskud i alt",
                "Virksomhedspraktik i alt",
                "Nytteindsats i alt",
            ]
            .map(String::from)
            .to_vec()
        }),
        recipients_label: r
            .recipients_label
            .unwrap_or_else(|| "Modtagere i alt".into()),
        baseline,
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
        None => parse(EMBEDDED_DEFAULT, EMBEDDED_NAME, Path::new(".")),
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
            parse(&text, &p.display().to_string(), base)
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

/// Collects problems against the source text.
struct Problems<'a> {
    text: &'a str,
    file: &'a str,
    root: &'a DeTable<'a>,
    errors: Vec<ConfigError>,
}

impl Problems<'_> {
    fn at_span(&mut self, span: Range<usize>, field: String, message: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            column,
            field,
            message: message.into(),
        });
    }

    /// A problem with the value at a dotted path (or the nearest existing parent).
    fn at(&mut self, field: &str, message: impl Into<String>) {
        let span = span_of(self.root, field).unwrap_or(0..0);
        self.at_span(span, field.to_string(), message);
    }

    /// Deserialises one section on its own, so problems in several sections all show.
    fn section<T: DeserializeOwned>(&mut self, path: &str) -> Option<T> {
        let Some(found) = lookup(self.root, path) else {
            self.at_span(
                0..0,
                path.to_string(),
                format!("missing section `[{path}]`"),
            );
            return None;
        };
        let (value, span) = (found.get_ref().clone(), found.span());
        let spanned = Spanned::new(span, value);
        match T::deserialize(
            serde::de::IntoDeserializer::<toml::de::Error>::into_deserializer(spanned),
        ) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let field = path_at(self.root, &span).unwrap_or_else(|| path.to_string());
                self.at_span(span, field, e.message().trim().to_string());
                None
            }
        }
    }
}

fn lookup<'a>(root: &'a DeTable<'a>, path: &str) -> Option<&'a Spanned<DeValue<'a>>> {
    let mut parts = path.split('.');
    let mut cur = root.get(parts.next()?)?;
    for part in parts {
        match cur.get_ref() {
            DeValue::Table(t) => cur = t.get(part)?,
            DeValue::Array(a) => cur = a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        }
    }
    Some(cur)
}

fn span_of(root: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut p = path.to_string();
    loop {
        if let Some(v) = lookup(root, &p) {
            return Some(v.span());
        }
        p = p.rsplit_once('.')?.0.to_string();
    }
}

/// The dotted path of the deepest value whose span holds `span`.
fn path_at(root: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
    // Section tables' spans cover only their headers, so every child is visited and the
    // deepest key whose key or value span holds the error wins.
    fn walk(value: &DeValue<'_>, span: &Range<usize>, prefix: &str, best: &mut Option<String>) {
        let holds = |r: Range<usize>| r.start <= span.start && span.end <= r.end && r.end > r.start;
        let consider = |key: String, best: &mut Option<String>| {
            if best
                .as_ref()
                .is_none_or(|b| b.matches('.').count() <= key.matches('.').count())
            {
                *best = Some(key);
            }
        };
        match value {
            DeValue::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.get_ref().to_string()
                    } else {
                        format!("{prefix}.{}", k.get_ref())
                    };
                    if holds(v.span()) || holds(k.span()) {
                        consider(key.clone(), best);
                    }
                    walk(v.get_ref(), span, &key, best);
                }
            }
            DeValue::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let key = format!("{prefix}.{i}");
                    if holds(v.span()) {
                        consider(key.clone(), best);
                    }
                    walk(v.get_ref(), span, &key, best);
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk(&DeValue::Table(root.clone()), span, "", &mut best);
    best
}

fn encoding(p: &mut Problems<'_>, field: &str, raw: Option<&str>) -> Encoding {
    match raw {
        None | Some("utf8" | "utf-8") => Encoding::Utf8,
        Some("latin1" | "windows-1252" | "iso-8859-1") => Encoding::Latin1,
        Some(other) => {
            p.at(
                field,
                format!("unknown encoding `{other}`; valid: `utf8`, `latin1`"),
            );
            Encoding::Utf8
        }
    }
}

fn env_name(p: &mut Problems<'_>, field: &str, name: &str) {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        p.at(field, format!("`{name}` is not an environment variable name (A-Z, 0-9, _); secrets are named here, never written"));
    }
}

fn codes(p: &mut Problems<'_>, field: &str, list: &[i64]) -> Vec<i32> {
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        match i32::try_from(*c)
            .ok()
            .filter(|c| municipality::name(*c).is_some())
        {
            Some(code) if out.contains(&code) => p.at(
                &format!("{field}.{i}"),
                format!("municipality {code} listed twice"),
            ),
            Some(code) => out.push(code),
            None => p.at(
                &format!("{field}.{i}"),
                format!("`{c}` is not a DST municipality code (98 codes, e.g. 350 for Lejre, 316 for Holbæk)"),
            ),
        }
    }
    out
}

fn location(p: &mut Problems<'_>, field: &str, loc: &str, placeholders: &[&str]) {
    if is_url(loc) && url::Url::parse(&loc.replace(['{', '}'], "")).is_err() {
        p.at(field, format!("`{loc}` is not a valid URL"));
    }
    let mut rest = loc;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + end];
        if !placeholders.contains(&name) {
            let valid: Vec<String> = placeholders.iter().map(|x| format!("`{{{x}}}`")).collect();
            p.at(
                field,
                format!(
                    "unknown placeholder `{{{name}}}`; valid: {}",
                    valid.join(", ")
                ),
            );
        }
        rest = &rest[start + end..];
    }
}

/// Parses a DREAM code mapping CSV (`code;class;description`).
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
        ]
        .contains(&k.as_ref())
        {
            p.at_span(
                key.span(),
                k.to_string(),
                "unknown section; valid: `program`, `lake`, `pseudonym`, `http`, `sources`, `metrics`, `reports`, `mail`, `recipients`, `jobs`, `status`",
            );
        }
    }
    let program: Option<RawProgram> = p.section("program");
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
        ReportsConfig { min_group_size }
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
    let jobs: Option<BTreeMap<String, RawJob>> = if root.contains_key("jobs") {
        p.section("jobs")
    } else {
        Some(BTreeMap::new())
    };
    let jobs = jobs.map(|j| validate_jobs(&mut p, j));
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

    let program = program.map(|r| {
        if r.id.trim().is_empty() {
            p.at("program.id", format!("`{}`: must not be empty", r.id));
        }
        let municipalities = codes(&mut p, "program.municipalities", &r.municipalities);
        ProgramConfig {
            id: r.id,
            name: r.name,
            municipalities,
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
        LakeConfig {
            path,
            quarantine_path,
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

    match (
        program, lake, pseudonym, http, sources, metrics, reports, mail, recipients, jobs,
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
        }),
        _ => {
            let mut errors = p.errors;
            errors.sort_by_key(|e| (e.line, e.column));
            errors.dedup();
            Err(ConfigErrors(errors))
        }
    }
}

fn mailbox(p: &mut Problems<'_>, field: &str, v: &str) {
    if v.parse::<lettre::message::Mailbox>().is_err() {
        p.at(
            field,
            format!("`{v}` is not an email address (`name@domain` or `Name <name@domain>`)"),
        );
    }
}

fn validate_mail(p: &mut Problems<'_>, r: RawMail, base_dir: &Path) -> MailConfig {
    let from = r
        .from
        .unwrap_or_else(|| "maaltal <maaltal@localhost>".into());
    mailbox(p, "mail.from", &from);
    let reply_to = r.reply_to.unwrap_or_else(|| from.clone());
    mailbox(p, "mail.reply_to", &reply_to);
    let url = r.url.as_deref().and_then(|u| match parse_smtp_url(u) {
        Ok(u) => Some(u),
        Err(e) => {
            p.at("mail.url", e);
            None
        }
    });
    if let Some(env) = &r.password_env {
        env_name(p, "mail.password_env", env);
    }
    let timeout = r.timeout_secs.unwrap_or(60);
    if timeout == 0 {
        p.at("mail.timeout_secs", "`0`: must be at least 1 (seconds)");
    }
    if let Some(n) = r.retries.filter(|n| *n > 20) {
        p.at("mail.retries", format!("`{n}`: give at most 20"));
    }
    MailConfig {
        from,
        reply_to,
        url,
        password_env: r.password_env,
        outbox: base_dir.join(r.outbox.as_deref().unwrap_or("outbox")),
        timeout: Duration::from_secs(timeout),
        retries: r.retries.unwrap_or(3),
        backoff: Duration::from_millis(r.backoff_ms.unwrap_or(1000)),
    }
}

fn validate_jobs(
    p: &mut Problems<'_>,
    raw: BTreeMap<String, RawJob>,
) -> BTreeMap<String, JobConfig> {
    use crate::schedule::JobKind;
    let mut out = BTreeMap::new();
    for (name, r) in raw {
        let field = |k: &str| format!("jobs.{name}.{k}");
        let kind = JobKind::ALL.iter().copied().find(|k| k.name() == r.kind);
        if kind.is_none() {
            p.at(
                &field("kind"),
                format!(
                    "unknown kind `{}`; valid: `dream`, `jobindsats`, `quarterly`, `maanedsbog`",
                    r.kind
                ),
            );
        }
        let cron = match crate::schedule::parse_cron(&r.schedule) {
            Ok(c) => Some(c),
            Err(e) => {
                p.at(&field("schedule"), e);
                None
            }
        };
        let tz_name = r.timezone.as_deref().unwrap_or("Europe/Copenhagen");
        let timezone = tz_name.parse::<chrono_tz::Tz>().ok();
        if timezone.is_none() {
            p.at(
                &field("timezone"),
                format!("unknown time zone `{tz_name}` (e.g. `Europe/Copenhagen`)"),
            );
        }
        if r.retry_secs == Some(0) {
            p.at(&field("retry_secs"), "`0`: must be at least 1 (seconds)");
        }
        if let (Some(kind), Some(cron), Some(timezone)) = (kind, cron, timezone) {
            out.insert(
                name.clone(),
                JobConfig {
                    name,
                    kind,
                    schedule: r.schedule,
                    cron,
                    timezone,
                    catch_up: chrono::Duration::days(i64::from(r.catch_up_days.unwrap_or(100))),
                    retry_every: Duration::from_secs(r.retry_secs.unwrap_or(3600)),
                    deadline: chrono::Duration::hours(r.deadline_hours.unwrap_or(336) as i64),
                },
            );
        }
    }
    out
}

fn validate_recipients(p: &mut Problems<'_>, r: RawRecipients) -> RecipientsConfig {
    for (i, a) in r.secretariat.iter().enumerate() {
        mailbox(p, &format!("recipients.secretariat[{i}]"), a);
    }
    if let Some(o) = &r.operator {
        mailbox(p, "recipients.operator", o);
    }
    let mut project_leads = BTreeMap::new();
    for (code, addrs) in r.project_leads {
        let field = format!("recipients.project_leads.{code}");
        let Some(c) = municipality::parse_code(&code).filter(|c| municipality::name(*c).is_some())
        else {
            p.at(
                &field,
                format!("`{code}` is not a municipality code (DST, e.g. 350 for Lejre)"),
            );
            continue;
        };
        for (i, a) in addrs.iter().enumerate() {
            mailbox(p, &format!("{field}[{i}]"), a);
        }
        project_leads.insert(c, addrs);
    }
    RecipientsConfig {
        secretariat: r.secretariat,
        project_leads,
        operator: r.operator,
    }
}

fn sources_sections(p: &mut Problems<'_>) -> Option<RawSources> {
    if lookup(p.root, "sources").is_none() {
        p.at_span(0..0, "sources".into(), "missing section `[sources]`");
        return None;
    }
    if let Some(DeValue::Table(t)) = lookup(p.root, "sources").map(Spanned::get_ref) {
        for (key, _) in t {
            if !["dream", "jobindsats", "fagsystem"].contains(&key.get_ref().as_ref()) {
                p.at_span(
                    key.span(),
                    format!("sources.{}", key.get_ref()),
                    "unknown source; valid: `dream`, `jobindsats`, `fagsystem`",
                );
            }
        }
    }
    let dream: Option<RawDream> = p.section("sources.dream");
    let jobindsats: Option<RawJobindsats> = p.section("sources.jobindsats");
    let fagsystem: Option<RawFagsystem> = p.section("sources.fagsystem");
    Some(RawSources {
        dream: dream?,
        jobindsats: jobindsats?,
        fagsystem: fagsystem?,
    })
}

#[expect(
    clippy::many_single_char_names,
    reason = "one letter per source section keeps the field paths readable"
)]
fn validate_sources(p: &mut Problems<'_>, s: RawSources, base_dir: &Path) -> SourcesConfig {
    let d = s.dream;
    location(p, "sources.dream.location", &d.location, &["period"]);
    let encoding_d = encoding(p, "sources.dream.encoding", d.encoding.as_deref());
    let (codes_map, origin) = match &d.code_mapping {
        None => (
            parse_code_mapping(DEFAULT_CODE_MAPPING).unwrap_or_default(),
            "embedded default".to_string(),
        ),
        Some(path) => {
            let full = base_dir.join(path);
            match std::fs::read_to_string(&full) {
                Ok(text) => match parse_code_mapping(&text) {
                    Ok(m) => (m, full.display().to_string()),
                    Err(e) => {
                        p.at(
                            "sources.dream.code_mapping",
                            format!("{}: {e}", full.display()),
                        );
                        (BTreeMap::new(), String::new())
                    }
                },
                Err(e) => {
                    p.at(
                        "sources.dream.code_mapping",
                        format!("cannot read `{}`: {e}", full.display()),
                    );
                    (BTreeMap::new(), String::new())
                }
            }
        }
    };
    let unknown_as_other = match d.unknown_codes.as_deref() {
        None | Some("error") => false,
        Some("other_benefit") => true,
        Some(other) => {
            p.at(
                "sources.dream.unknown_codes",
                format!("`{other}`; valid: `error`, `other_benefit`"),
            );
            false
        }
    };
    if let Some(e) = &d.auth_env {
        env_name(p, "sources.dream.auth_env", e);
    }
    let dream = DreamConfig {
        location: d.location,
        encoding: encoding_d,
        codes: codes_map,
        code_mapping_origin: origin,
        unknown_codes_as_other: unknown_as_other,
        auth_env: d.auth_env,
    };

    let j = s.jobindsats;
    location(p, "sources.jobindsats.location", &j.location, &[]);
    if let Some(e) = &j.api_key_env {
        env_name(p, "sources.jobindsats.api_key_env", e);
    }
    for (label, sex) in &j.sex_labels {
        if !["M", "K", "alle"].contains(&sex.as_str()) {
            p.at(
                &format!("sources.jobindsats.sex_labels.{label}"),
                format!("`{sex}`; valid: `M`, `K`, `alle`"),
            );
        }
    }
    if j.tables.is_empty() {
        p.at("sources.jobindsats.tables", "at least one table");
    }
    let mut tables = Vec::new();
    for (name, t) in j.tables {
        let field = format!("sources.jobindsats.tables.{name}");
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            p.at(
                &field,
                format!("table name `{name}` must be snake_case (it becomes `jobindsats_{name}`)"),
            );
        }
        let quarterly = match t.frequency.as_str() {
            "quarter" => true,
            "month" => false,
            other => {
                p.at(
                    &format!("{field}.frequency"),
                    format!("`{other}`; valid: `month`, `quarter`"),
                );
                false
            }
        };
        if t.table_id.is_empty() || !t.table_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            p.at(
                &format!("{field}.table_id"),
                format!("`{}` is not a Jobindsats table id", t.table_id),
            );
        }
        tables.push(JobindsatsTableConfig {
            name,
            table_id: t.table_id,
            quarterly,
            category_dimension: t.category_dimension,
        });
    }
    let jobindsats = JobindsatsConfig {
        location: j.location,
        api_key_env: j.api_key_env,
        sex_dimension: j.sex_dimension,
        sex_labels: j.sex_labels,
        tables,
    };

    let f: RawFagsystem = s.fagsystem;
    location(
        p,
        "sources.fagsystem.location",
        &f.location,
        &["municipality", "period"],
    );
    let encoding_f = encoding(p, "sources.fagsystem.encoding", f.encoding.as_deref());
    let municipalities = codes(p, "sources.fagsystem.municipalities", &f.municipalities);
    if let Some(e) = &f.auth_env {
        env_name(p, "sources.fagsystem.auth_env", e);
    }
    let fagsystem = FagsystemConfig {
        location: f.location,
        encoding: encoding_f,
        municipalities,
        auth_env: f.auth_env,
    };
    SourcesConfig {
        dream,
        jobindsats,
        fagsystem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let cfg = load(None).unwrap();
        assert_eq!(cfg.program.municipalities.len(), 16);
        assert_eq!(
            cfg.sources.dream.codes.get("881").map(String::as_str),
            Some("igu_praktik")
        );
        assert!(
            cfg.lake
                .quarantine_path
                .to_string_lossy()
                .ends_with("lake.quarantine")
        );
    }

    #[test]
    fn reports_every_problem_with_location_and_path() {
        let text = EMBEDDED_DEFAULT
            .replace("timeout_secs = 300", "timeout_secs = \"30s\"")
            .replace(
                "encoding = \"utf8\"\n# code_mapping",
                "encoding = \"ebcdic\"\n# code_mapping",
            )
            .replace(
                "key_env = \"MAALTAL_PSEUDONYM_KEY\"",
                "key_env = \"my secret\"",
            );
        let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
        let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 3, "{rendered:#?}");
        assert!(
            rendered
                .iter()
                .any(|e| e.contains("http.timeout_secs") && e.contains("invalid type")),
            "{rendered:#?}"
        );
        assert!(
            rendered
                .iter()
                .any(|e| e.contains("sources.dream.encoding: unknown encoding `ebcdic`")),
            "{rendered:#?}"
        );
        assert!(
            rendered.iter().any(|e| e.contains("pseudonym.key_env")),
            "{rendered:#?}"
        );
        let line = text.lines().position(|l| l.contains("\"30s\"")).unwrap() + 1;
        let e = errs
            .iter()
            .find(|e| e.field == "http.timeout_secs")
            .unwrap();
        assert_eq!((e.line, e.column), (line, 16));
    }

    #[test]
    fn rejects_unknown_field() {
        let text = EMBEDDED_DEFAULT.replace("[lake]\n", "[lake]\nsize = 3\n");
        let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "lake.size");
        assert!(
            errs[0].message.contains("unknown field `size`"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn rejects_unknown_municipality() {
        let text = EMBEDDED_DEFAULT.replace("217, 316", "217, 999");
        let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
        assert_eq!(errs[0].field, "program.municipalities.1");
        assert!(
            errs[0]
                .message
                .contains("`999` is not a DST municipality code")
        );
    }
}
