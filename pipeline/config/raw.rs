//! The configuration as written: serde structs with `deny_unknown_fields`. Nothing
//! downstream sees these; [`super::validate`] turns them into typed values.
//!
//! Every field's `///` comment is its reference documentation (docs/configuration.md
//! mirrors it).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `[program]`: the programme whose target figures maaltal follows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProgram {
    /// Programme id written into the marts' `program` column, e.g. `"imi"`.
    pub id: String,
    /// Human name of the programme, used in reports.
    pub name: String,
    /// DST codes of the programme's municipalities (3 digits).
    pub municipalities: Vec<i64>,
    /// A folder of mart queries (`*.sql`, one mart each) used instead of the embedded
    /// `queries/`.
    pub queries: Option<String>,
    /// A folder of report templates (`*.typ`, with their `*.json` sample data) used
    /// instead of the embedded `report-templates/`.
    pub templates: Option<String>,
    /// Settings the programme's SQL reads from the table `parameters` (`name`,
    /// `value`): a string, number or boolean, or a list of them (a row per item).
    pub parameters: Option<BTreeMap<String, toml::Value>>,
}

/// `[lake]`: where the Parquet lake lives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLake {
    /// Lake root folder (relative paths are relative to the config file's folder, or to
    /// the working directory for the embedded default). Overridden by `--lake` and
    /// `MAALTAL_LAKE`.
    pub path: String,
    /// Quarantine folder for rejected extracts; default: `<lake>.quarantine` beside the
    /// lake. Must not lie inside the lake.
    pub quarantine_path: Option<String>,
    /// `[lake.remote]`: the lake on S3-compatible object storage; `path` is then this
    /// machine's working copy.
    pub remote: Option<super::remote::RawRemote>,
}

/// `[pseudonym]`: the key that turns CPR numbers into pseudonyms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPseudonym {
    /// Name of the environment variable holding the HMAC key (at least 16 bytes).
    pub key_env: String,
    /// When the variable is unset, use the public demo key (and warn). Only for sample
    /// data: a real deployment sets this to `false`.
    #[serde(default)]
    pub allow_demo_key: bool,
}

/// `[http]`: how HTTP sources are fetched.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Whole-request timeout in seconds.
    pub timeout_secs: Option<u64>,
    /// TCP connect timeout in seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Retries after the first attempt on connection errors, 429 and 5xx.
    pub retries: Option<u32>,
    /// First backoff in milliseconds; doubles on each retry (a `Retry-After` is honoured up to 60 s).
    pub backoff_ms: Option<u64>,
    /// Largest extract accepted, in bytes; a larger download is aborted.
    pub max_bytes: Option<u64>,
}

/// `[reports]`: the PDF reports.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReports {
    /// Smallest group a report prints (default 5): counts of 1 to `min_group_size - 1`
    /// persons print as "<5", shares of fewer persons as "–", and a second cell goes
    /// with them so the hidden one cannot be worked out.
    pub min_group_size: Option<i64>,
    /// The programme's own reports (`[[reports.report]]`, [`super::reports`]).
    #[serde(default)]
    pub report: Vec<super::reports::RawReport>,
}

/// `[status]`: the status page of `maaltal serve --http`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatus {
    /// Name of the environment variable holding the token that the page's actions
    /// (re-run a period, resend failed mails) require. Unset, or the variable empty:
    /// the page is read-only.
    pub token_env: Option<String>,
}

/// `[mail]`: how reports are delivered.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    /// Sender, `"maaltal <maaltal@kommune.dk>"`.
    pub from: Option<String>,
    /// Where replies go (default: `from`).
    pub reply_to: Option<String>,
    /// SMTP server, `smtp://user@host:587?tls=required` (STARTTLS, the default),
    /// `smtps://user@host:465` (TLS from the start) or, for a loopback host only,
    /// `smtp://127.0.0.1:2525?tls=none`. No password in it: see `password_env`. The env
    /// var `MAALTAL_SMTP_URL` overrides it. Unset: mails are written to `outbox`.
    pub url: Option<String>,
    /// Name of the environment variable holding the SMTP password.
    pub password_env: Option<String>,
    /// Folder `.eml` files are written to when no SMTP server is configured.
    pub outbox: Option<String>,
    /// Seconds one SMTP send may take (connect, dialogue, reply) before it counts as failed.
    pub timeout_secs: Option<u64>,
    /// Retries of a transient failure (refused or reset connection, timeout, 4xx reply).
    pub retries: Option<u32>,
    /// First backoff in milliseconds; doubles on each retry.
    pub backoff_ms: Option<u64>,
}

/// `[recipients]`: who gets which report (a staff book goes to every employee with an
/// email in the case-system export).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecipients {
    /// The programme secretariat: gets the overview.
    #[serde(default)]
    pub secretariat: Vec<String>,
    /// Project leads per municipality (DST code as the key): get its quarterly report.
    #[serde(default)]
    pub project_leads: BTreeMap<String, Vec<String>>,
    /// The operator: told when a job fails.
    pub operator: Option<String>,
}

/// `[sources.<name>]` with `type = "wide_weeks"`: a quarterly register of one row per
/// person and one column per ISO week (`y_YYWW`) holding a benefit code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWideWeeks {
    /// The source's kind: `wide_weeks`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The source's name in the reports' and mails' Danish text (default: its name in
    /// `[sources]`).
    pub title: Option<String>,
    /// Where a quarter's extract is: a path or an `http(s)://` URL; `{period}` becomes `2018Q4`.
    pub location: String,
    /// `utf8` (default; a BOM is accepted) or `latin1` (Windows-1252).
    pub encoding: Option<String>,
    /// The code mapping CSV (`code;class;description`); default: the project's
    /// placeholder mapping, embedded in the binary.
    pub code_mapping: Option<String>,
    /// What an unmapped benefit code is: `error` (default) or `other_benefit`.
    pub unknown_codes: Option<String>,
    /// Environment variable holding an `Authorization` header value for HTTP.
    pub auth_env: Option<String>,
}

/// `[sources.<name>]` with `type = "jobindsats_v2"`: the Jobindsats v2 API (or a
/// folder of its JSON answers).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJobindsats {
    /// The source's kind: `jobindsats_v2`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The source's name in the reports' and mails' Danish text (default: its name in
    /// `[sources]`).
    pub title: Option<String>,
    /// API base URL (`https://api.jobindsats.dk`) or a folder holding
    /// `<TABLE>/metadata.json` and `<TABLE>/<PERIOD>.json`.
    pub location: String,
    /// Environment variable holding the API key (sent as `Authorization` as is).
    pub api_key_env: Option<String>,
    /// Dimension id of sex, e.g. `_kon`.
    pub sex_dimension: String,
    /// Sex labels to `M`, `K` or `alle`, e.g. `{ "Mænd" = "M", "Kvinder" = "K", "I alt" = "alle" }`.
    pub sex_labels: BTreeMap<String, String>,
    /// The tables to land, by the name they get in the lake (`<source>_<name>`).
    pub tables: BTreeMap<String, RawJobindsatsTable>,
}

/// `[sources.<source>.tables.<name>]`: one Jobindsats table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJobindsatsTable {
    /// Jobindsats table id, e.g. `Y60V02`.
    pub table_id: String,
    /// `month` or `quarter`: the period codes the table is asked for.
    pub frequency: String,
    /// Dimension id of the category column (visitation category, offer type).
    pub category_dimension: String,
}

/// `[sources.<name>]` with `type = "csv"`: a bundle of CSV files per period (and per
/// municipality, when it lists municipalities), with a declared contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCsvSource {
    /// The source's kind: `csv`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The source's name in the reports' and mails' Danish text (default: its name in
    /// `[sources]`).
    pub title: Option<String>,
    /// Folder or base URL holding the files (`<file>.csv` in it), or, for a source of one
    /// file, the file itself (ending in `.csv`); `{period}` becomes the period
    /// (`2018-11`, `2018Q4`) and `{municipality}` the DST code.
    pub location: String,
    /// `utf8` (default) or `latin1`.
    pub encoding: Option<String>,
    /// `month` or `quarter`: the period one bundle covers.
    pub period: Option<String>,
    /// Municipalities that each deliver a bundle (none: one bundle for all).
    #[serde(default)]
    pub municipalities: Vec<i64>,
    /// Environment variable holding an `Authorization` header value for HTTP.
    pub auth_env: Option<String>,
    /// The files and their contract (default: the embedded default's, for its source).
    pub files: Option<Vec<super::contract::RawFile>>,
}

/// `[metrics]`: the settings of the target metrics (defaults: the programme's definitions).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// Weeks in a quarter that make a person self-supporting or in education (default 5,
    /// for 12-, 13- and 14-week quarters alike).
    pub min_weeks: Option<i64>,
    /// The Jobindsats measurement the shares count (default `antal_personer`).
    pub measure: Option<String>,
    /// The visitation category counted as job-ready (default `Jobparat`).
    pub jobparat_label: Option<String>,
    /// The offer categories that are company-oriented.
    pub offer_labels: Option<Vec<String>>,
    /// The category counting all recipients (default `Modtagere i alt`).
    pub recipients_label: Option<String>,
    /// Baseline period per metric, e.g. `{ share = "2016Q4", monthly_share = "2016M12" }`.
    pub baseline: Option<BTreeMap<String, String>>,
    /// Baseline of the sex split of the metrics marked `sex_gap_baseline` (default
    /// `2017Q1`).
    pub sex_gap_baseline: Option<String>,
    /// The metrics, in report order (default: the embedded config's).
    pub catalogue: Option<Vec<super::catalogue::RawMetricInfo>>,
}

/// `[sources]`: at most one wide-weeks register, at most one Jobindsats API, any
/// number of CSV sources; each by its name.
#[derive(Debug)]
pub struct RawSources {
    /// The wide-weeks register, when the programme has one.
    pub wide_weeks: Option<(String, RawWideWeeks)>,
    /// The Jobindsats API, when the programme has it.
    pub jobindsats: Option<(String, RawJobindsats)>,
    /// The CSV sources, by name.
    pub csv: BTreeMap<String, RawCsvSource>,
}
