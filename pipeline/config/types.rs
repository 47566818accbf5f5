//! The validated configuration: the typed values the rest of maaltal sees.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The folder of its mart queries (none: the embedded `queries/`).
    pub queries: Option<PathBuf>,
    /// The folder of its report templates (none: the embedded `report-templates/`).
    pub templates: Option<PathBuf>,
    /// `[program.parameters]`: the programme's settings its SQL reads (table
    /// `parameters`: one row per name and value, a list giving a row per item).
    pub parameters: Vec<(String, String)>,
}

/// `[lake]`, validated and resolved.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// Lake root.
    pub path: PathBuf,
    /// Quarantine root (beside the lake).
    pub quarantine_path: PathBuf,
    /// The lake on object storage, of which `path` is the working copy.
    pub remote: Option<super::remote::RemoteConfig>,
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

/// A `type = "wide_weeks"` source, validated.
#[derive(Debug, Clone)]
pub struct WideWeeksConfig {
    /// Its name in `[sources]`: the lake's `raw/<name>/{persons,weeks}`, the tables
    /// `<name>_persons` and `<name>_weeks`.
    pub name: String,
    /// Its name in Danish text (`[sources.<name>] title`, default the name).
    pub title: String,
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
    /// Lake name suffix (`<source>_<name>`).
    pub name: String,
    /// Table id.
    pub table_id: String,
    /// Monthly (`false`) or quarterly (`true`) periods.
    pub quarterly: bool,
    /// Category dimension id.
    pub category_dimension: String,
}

/// A `type = "jobindsats_v2"` source, validated.
#[derive(Debug, Clone)]
pub struct JobindsatsConfig {
    /// Its name in `[sources]`: the lake's `raw/<name>/<table>`, the tables
    /// `<name>_<table>`.
    pub name: String,
    /// Its name in Danish text (`[sources.<name>] title`, default the name).
    pub title: String,
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

impl JobindsatsConfig {
    /// The lake table of one of its tables: `<source>_<table>`.
    #[must_use]
    pub fn table(&self, t: &JobindsatsTableConfig) -> String {
        format!("{}_{}", self.name, t.name)
    }
}

/// A `type = "csv"` source, validated.
#[derive(Debug, Clone)]
pub struct CsvSourceConfig {
    /// Its name in `[sources]`: the lake's `raw/<name>/`, tables `<name>_<file>`.
    pub name: String,
    /// Its name in Danish text (`[sources.<name>] title`, default the name).
    pub title: String,
    /// Location template (`{period}`, `{municipality}`).
    pub location: String,
    /// Encoding.
    pub encoding: Encoding,
    /// The period one bundle covers.
    pub span: crate::schedule::Span,
    /// Municipalities that each deliver a bundle (empty: one bundle for all).
    pub municipalities: Vec<i32>,
    /// Env var with an `Authorization` value.
    pub auth_env: Option<String>,
    /// The files of a bundle, in the order they are read, with their contract.
    pub files: Vec<super::contract::FileContract>,
}

/// What kind of extract a source is. The Rust knows kinds; `[sources]` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A quarterly register of persons × ISO weeks (`type = "wide_weeks"`).
    WideWeeks,
    /// The Jobindsats v2 API (`type = "jobindsats_v2"`).
    #[serde(rename = "jobindsats_v2")]
    Jobindsats,
    /// A bundle of CSV files with a declared contract (`type = "csv"`).
    Csv,
}

/// `[sources]`, validated.
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    /// The wide-weeks register, when the programme has one.
    pub wide_weeks: Option<WideWeeksConfig>,
    /// The Jobindsats API, when the programme has it.
    pub jobindsats: Option<JobindsatsConfig>,
    /// The CSV sources, by name.
    pub csv: Vec<CsvSourceConfig>,
}

impl SourcesConfig {
    /// The kind of the source named `name`, if there is one.
    #[must_use]
    pub fn kind(&self, name: &str) -> Option<SourceKind> {
        if self.wide_weeks.as_ref().is_some_and(|w| w.name == name) {
            return Some(SourceKind::WideWeeks);
        }
        if self.jobindsats.as_ref().is_some_and(|j| j.name == name) {
            return Some(SourceKind::Jobindsats);
        }
        self.csv(name).map(|_| SourceKind::Csv)
    }

    /// Every source's name.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(w) = &self.wide_weeks {
            out.push(w.name.as_str());
        }
        if let Some(j) = &self.jobindsats {
            out.push(j.name.as_str());
        }
        out.extend(self.csv.iter().map(|c| c.name.as_str()));
        out.sort_unstable();
        out
    }

    /// The name of the source `name` in Danish text (its `title`).
    #[must_use]
    pub fn title<'a>(&'a self, name: &'a str) -> &'a str {
        let w = self.wide_weeks.iter().map(|w| (&w.name, &w.title));
        let j = self.jobindsats.iter().map(|j| (&j.name, &j.title));
        let c = self.csv.iter().map(|c| (&c.name, &c.title));
        w.chain(j)
            .chain(c)
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, t)| t.as_str())
    }

    /// The CSV source named `name`.
    #[must_use]
    pub fn csv(&self, name: &str) -> Option<&CsvSourceConfig> {
        self.csv.iter().find(|c| c.name == name)
    }

    /// Does the source deliver extracts for periods of `span`?
    #[must_use]
    pub fn takes(&self, name: &str, span: crate::schedule::Span) -> bool {
        use crate::schedule::Span;
        match self.kind(name) {
            Some(SourceKind::WideWeeks) => span == Span::Quarter,
            Some(SourceKind::Jobindsats) => true,
            Some(SourceKind::Csv) => self.csv(name).is_some_and(|c| c.span == span),
            None => false,
        }
    }

    /// The pulls one period of a source takes: one per municipality for a CSV source
    /// whose municipalities each deliver a bundle, else one.
    #[must_use]
    pub fn units(&self, name: &str) -> Vec<Option<i32>> {
        match self.csv(name) {
            Some(c) if !c.municipalities.is_empty() => {
                c.municipalities.iter().map(|m| Some(*m)).collect()
            }
            _ => vec![None],
        }
    }
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
    /// The comparison with similar municipalities.
    pub comparison: super::ComparisonConfig,
    /// `[engine]`: the SQL engine's memory limit and spill folder.
    pub engine: super::EngineConfig,
    /// The other programmes this config turns on (`programmes = [...]`), each a folder
    /// `programmes/<id>/` ([`super::programmes`]).
    pub programmes: Vec<String>,
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
    /// The period a firing stands for (the quarter or month before it).
    pub span: crate::schedule::Span,
    /// What it does, in stage order.
    pub steps: Vec<super::jobs::Step>,
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
    /// The programme's reports (`[[reports.report]]`), in the config's order.
    pub reports: Vec<std::sync::Arc<super::reports::ReportSpec>>,
}

/// `[metrics]`, validated.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Weeks needed in a quarter.
    pub min_weeks: i64,
    /// Jobindsats measurement.
    pub measure: String,
    /// The visitation category counted as job-ready (`{jobparat_label}`).
    pub jobparat_label: String,
    /// The company-oriented offer categories (`{offer_labels}`).
    pub offer_labels: Vec<String>,
    /// The category counting all recipients.
    pub recipients_label: String,
    /// Baseline period per metric.
    pub baseline: BTreeMap<String, crate::period::Period>,
    /// Baseline of the sex split of the metrics with `sex_gap_baseline`.
    pub sex_gap_baseline: crate::period::Period,
    /// The programme's metrics, in report order (`[[metrics.catalogue]]`).
    pub catalogue: Vec<super::MetricInfo>,
}

impl MetricsConfig {
    /// The metrics' names, in report order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.catalogue.iter().map(|m| m.metric.as_str()).collect()
    }

    /// The catalogue entry of `metric`.
    #[must_use]
    pub fn info(&self, metric: &str) -> Option<&super::MetricInfo> {
        self.catalogue.iter().find(|m| m.metric == metric)
    }
}
