//! Validating the sections one by one: metrics, mail, recipients, sources.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;
use toml::de::DeValue;

use super::problems::{Problems, encoding, env_name, location, lookup};
use super::raw::{RawJobindsats, RawMail, RawMetrics, RawRecipients, RawSources, RawWideWeeks};
use super::{
    DEFAULT_CODE_MAPPING, JobindsatsConfig, JobindsatsTableConfig, MailConfig, MetricsConfig,
    RecipientsConfig, SourcesConfig, WideWeeksConfig, parse_code_mapping, parse_smtp_url,
};
use crate::municipality;

/// The embedded default's `[metrics]`: the defaults of every key a config leaves out.
fn embedded_metrics() -> RawMetrics {
    toml::from_str::<toml::Table>(&super::EMBEDDED_DEFAULT)
        .ok()
        .and_then(|t| t.get("metrics").cloned())
        .and_then(|v| v.try_into::<RawMetrics>().ok())
        .unwrap_or_default()
}

/// `[program.parameters]` as (name, value) rows.
pub(super) fn parameters(
    p: &mut Problems<'_>,
    raw: Option<BTreeMap<String, toml::Value>>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, v) in raw.unwrap_or_default() {
        let items = match v {
            toml::Value::Array(a) => a,
            other => vec![other],
        };
        for item in items {
            match item {
                toml::Value::String(s) => out.push((name.clone(), s)),
                toml::Value::Integer(n) => out.push((name.clone(), n.to_string())),
                toml::Value::Float(f) => out.push((name.clone(), f.to_string())),
                toml::Value::Boolean(b) => out.push((name.clone(), b.to_string())),
                _ => p.at(
                    &format!("program.parameters.{name}"),
                    "give a string, number or boolean, or a list of them",
                ),
            }
        }
    }
    out
}

pub(super) fn validate_metrics(p: &mut Problems<'_>, r: RawMetrics) -> MetricsConfig {
    let d = embedded_metrics();
    let min_weeks = r.min_weeks.or(d.min_weeks).unwrap_or_default();
    if !(1..=14).contains(&min_weeks) {
        p.at(
            "metrics.min_weeks",
            format!("{min_weeks}: a quarter has 12 to 14 weeks; give 1..=14"),
        );
    }
    let catalogue = super::catalogue::validate_catalogue(p, r.catalogue);
    let names: Vec<&str> = catalogue.iter().map(|m| m.metric.as_str()).collect();
    // The embedded default's baselines, then the config's own.
    let mut baseline: BTreeMap<String, crate::period::Period> = d
        .baseline
        .unwrap_or_default()
        .into_iter()
        .filter(|(m, _)| names.contains(&m.as_str()))
        .filter_map(|(m, b)| Some((m, b.parse().ok()?)))
        .collect();
    for (metric, period) in r.baseline.unwrap_or_default() {
        let field = format!("metrics.baseline.{metric}");
        let Some(info) = catalogue.iter().find(|m| m.metric == metric) else {
            p.at(
                &field,
                format!("unknown metric `{metric}`; valid: {}", names.join(", ")),
            );
            continue;
        };
        match period.parse::<crate::period::Period>() {
            Ok(per) if per.is_quarter() != info.monthly => {
                baseline.insert(metric, per);
            }
            Ok(_) if info.monthly => p.at(
                &field,
                format!("`{period}`: {metric} is monthly, give a month (`2016-12`)"),
            ),
            Ok(_) => p.at(
                &field,
                format!("`{period}`: {metric} is quarterly, give a quarter (`2016Q4`)"),
            ),
            Err(e) => p.at(&field, e.to_string()),
        }
    }
    // When the value is wrong the config is refused; the placeholder is never used.
    let placeholder = crate::period::Period::Quarter {
        year: 2000,
        quarter: 1,
    };
    let sex_gap_baseline = match r
        .sex_gap_baseline
        .or(d.sex_gap_baseline)
        .unwrap_or_default()
        .parse::<crate::period::Period>()
    {
        Ok(p) if p.is_quarter() => p,
        Ok(month) => {
            p.at(
                "metrics.sex_gap_baseline",
                format!("`{month}`: the sex split is quarterly, give a quarter like `2017Q1`"),
            );
            placeholder
        }
        Err(e) => {
            p.at("metrics.sex_gap_baseline", e.to_string());
            placeholder
        }
    };
    MetricsConfig {
        sex_gap_baseline,
        min_weeks,
        measure: r.measure.or(d.measure).unwrap_or_default(),
        jobparat_label: r.jobparat_label.or(d.jobparat_label).unwrap_or_default(),
        offer_labels: r.offer_labels.or(d.offer_labels).unwrap_or_default(),
        recipients_label: r
            .recipients_label
            .or(d.recipients_label)
            .unwrap_or_default(),
        baseline,
        catalogue,
    }
}

pub(super) fn mailbox(p: &mut Problems<'_>, field: &str, v: &str) {
    if v.parse::<lettre::message::Mailbox>().is_err() {
        p.at(
            field,
            format!("`{v}` is not an email address (`name@domain` or `Name <name@domain>`)"),
        );
    }
}

pub(super) fn validate_mail(p: &mut Problems<'_>, r: RawMail, base_dir: &Path) -> MailConfig {
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

pub(super) fn validate_recipients(p: &mut Problems<'_>, r: RawRecipients) -> RecipientsConfig {
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

pub(super) fn sources_sections(p: &mut Problems<'_>) -> Option<RawSources> {
    if lookup(p.root, "sources").is_none() {
        p.at_span(0..0, "sources".into(), "missing section `[sources]`");
        return None;
    }
    // Each `[sources.<name>]` says its kind with `type`; a CSV source may leave it out
    // (its own validation says so).
    let mut names = Vec::new();
    if let Some(DeValue::Table(t)) = lookup(p.root, "sources").map(Spanned::get_ref) {
        for (key, _) in t {
            let name = key.get_ref().to_string();
            let kind = match lookup(p.root, &format!("sources.{name}.type")).map(Spanned::get_ref) {
                Some(DeValue::String(k)) => k.to_string(),
                _ => String::new(),
            };
            names.push((name, kind));
        }
    }
    let mut wide_weeks = None;
    let mut jobindsats = None;
    let mut csv = BTreeMap::new();
    let mut ok = true;
    for (name, kind) in names {
        let field = format!("sources.{name}");
        let one_only = |p: &mut Problems<'_>, taken: Option<&String>| {
            if let Some(first) = taken {
                p.at(
                    &format!("{field}.type"),
                    format!(
                        "`{kind}`: a programme has one source of this kind, and `{first}` is one"
                    ),
                );
            }
        };
        match kind.as_str() {
            "wide_weeks" => {
                one_only(p, wide_weeks.as_ref().map(|(n, _)| n));
                match p.section::<RawWideWeeks>(&field) {
                    Some(r) => {
                        wide_weeks.get_or_insert((name, r));
                    }
                    None => ok = false,
                }
            }
            "jobindsats_v2" => {
                one_only(p, jobindsats.as_ref().map(|(n, _)| n));
                match p.section::<RawJobindsats>(&field) {
                    Some(r) => {
                        jobindsats.get_or_insert((name, r));
                    }
                    None => ok = false,
                }
            }
            "csv" | "" => match p.section::<super::raw::RawCsvSource>(&field) {
                Some(r) => {
                    csv.insert(name, r);
                }
                None => ok = false,
            },
            other => {
                p.at(
                    &format!("{field}.type"),
                    super::contract::kinds_message(other),
                );
                ok = false;
            }
        }
    }
    ok.then_some(RawSources {
        wide_weeks,
        jobindsats,
        csv,
    })
}

pub(super) fn validate_sources(
    p: &mut Problems<'_>,
    s: RawSources,
    base_dir: &Path,
) -> SourcesConfig {
    let wide_weeks = s
        .wide_weeks
        .map(|(name, d)| validate_wide_weeks(p, name, d, base_dir));
    let jobindsats = s
        .jobindsats
        .map(|(name, j)| validate_jobindsats(p, name, j));
    let csv = s
        .csv
        .into_iter()
        .map(|(name, r)| super::contract::validate_csv_source(p, name, r))
        .collect();
    SourcesConfig {
        wide_weeks,
        jobindsats,
        csv,
    }
}

fn validate_wide_weeks(
    p: &mut Problems<'_>,
    name: String,
    d: RawWideWeeks,
    base_dir: &Path,
) -> WideWeeksConfig {
    let at = |k: &str| format!("sources.{name}.{k}");
    location(p, &at("location"), &d.location, &["period"]);
    let encoding_d = encoding(p, &at("encoding"), d.encoding.as_deref());
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
                        p.at(&at("code_mapping"), format!("{}: {e}", full.display()));
                        (BTreeMap::new(), String::new())
                    }
                },
                Err(e) => {
                    p.at(
                        &at("code_mapping"),
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
                &at("unknown_codes"),
                format!("`{other}`; valid: `error`, `other_benefit`"),
            );
            false
        }
    };
    if let Some(e) = &d.auth_env {
        env_name(p, &at("auth_env"), e);
    }
    WideWeeksConfig {
        title: d.title.unwrap_or_else(|| name.clone()),
        name,
        location: d.location,
        encoding: encoding_d,
        codes: codes_map,
        code_mapping_origin: origin,
        unknown_codes_as_other: unknown_as_other,
        auth_env: d.auth_env,
    }
}

fn validate_jobindsats(p: &mut Problems<'_>, source: String, j: RawJobindsats) -> JobindsatsConfig {
    location(p, &format!("sources.{source}.location"), &j.location, &[]);
    if let Some(e) = &j.api_key_env {
        env_name(p, &format!("sources.{source}.api_key_env"), e);
    }
    for (label, sex) in &j.sex_labels {
        if !["M", "K", "alle"].contains(&sex.as_str()) {
            p.at(
                &format!("sources.{source}.sex_labels.{label}"),
                format!("`{sex}`; valid: `M`, `K`, `alle`"),
            );
        }
    }
    if j.tables.is_empty() {
        p.at(&format!("sources.{source}.tables"), "at least one table");
    }
    let mut tables = Vec::new();
    for (name, t) in j.tables {
        let field = format!("sources.{source}.tables.{name}");
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            p.at(
                &field,
                format!("table name `{name}` must be snake_case (it becomes `{source}_{name}`)"),
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
    JobindsatsConfig {
        title: j.title.unwrap_or_else(|| source.clone()),
        name: source,
        location: j.location,
        api_key_env: j.api_key_env,
        sex_dimension: j.sex_dimension,
        sex_labels: j.sex_labels,
        tables,
    }
}
