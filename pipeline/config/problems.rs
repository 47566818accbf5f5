//! Collecting problems: each located by file, line, column and dotted path; the small checks every section shares.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::municipality;

use super::{ConfigError, Encoding, is_url, line_col};

/// Collects problems against the source text.
pub(super) struct Problems<'a> {
    pub(super) text: &'a str,
    pub(super) file: &'a str,
    pub(super) root: &'a DeTable<'a>,
    pub(super) errors: Vec<ConfigError>,
}

impl Problems<'_> {
    pub(super) fn at_span(
        &mut self,
        span: Range<usize>,
        field: String,
        message: impl Into<String>,
    ) {
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
    pub(super) fn at(&mut self, field: &str, message: impl Into<String>) {
        let span = span_of(self.root, field).unwrap_or(0..0);
        self.at_span(span, field.to_string(), message);
    }

    /// Deserialises one section on its own, so problems in several sections all show.
    pub(super) fn section<T: DeserializeOwned>(&mut self, path: &str) -> Option<T> {
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

pub(super) fn lookup<'a>(root: &'a DeTable<'a>, path: &str) -> Option<&'a Spanned<DeValue<'a>>> {
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

pub(super) fn span_of(root: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut p = path.to_string();
    loop {
        if let Some(v) = lookup(root, &p) {
            return Some(v.span());
        }
        p = p.rsplit_once('.')?.0.to_string();
    }
}

/// The dotted path of the deepest value whose span holds `span`.
pub(super) fn path_at(root: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
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

pub(super) fn encoding(p: &mut Problems<'_>, field: &str, raw: Option<&str>) -> Encoding {
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

pub(super) fn env_name(p: &mut Problems<'_>, field: &str, name: &str) {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        p.at(field, format!("`{name}` is not an environment variable name (A-Z, 0-9, _); secrets are named here, never written"));
    }
}

/// A folder a key names (relative to the config file's folder), which must be there.
pub(super) fn folder(
    p: &mut Problems<'_>,
    base_dir: &Path,
    field: &str,
    value: Option<&String>,
    of_what: &str,
) -> Option<PathBuf> {
    let dir = base_dir.join(value?);
    if !dir.is_dir() {
        p.at(
            field,
            format!(
                "`{}` is not a folder (of the programme's {of_what})",
                dir.display()
            ),
        );
    }
    Some(dir)
}

pub(super) fn codes(p: &mut Problems<'_>, field: &str, list: &[i64]) -> Vec<i32> {
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

pub(super) fn location(
    p: &mut Problems<'_>,
    field: &str,
    loc: &str,
    placeholders_allowed: &[&str],
) {
    if is_url(loc) && url::Url::parse(&loc.replace(['{', '}'], "")).is_err() {
        p.at(field, format!("`{loc}` is not a valid URL"));
    }
    placeholders(p, field, loc, placeholders_allowed);
}

/// Every `{name}` in `text` is one of `valid`; an unknown one is a problem of `field`.
pub(super) fn placeholders(p: &mut Problems<'_>, field: &str, text: &str, placeholders: &[&str]) {
    let mut rest = text;
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
