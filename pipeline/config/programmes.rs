//! The programme catalogue: the programmes a main config turns on (`programmes =
//! ["<id>", …]`), each a folder of files: `config/programmes/<id>/programme.toml` (its
//! programme, sources, metrics, reports, recipients and jobs), `queries/<id>/*.sql`
//! (its marts) and `report-templates/<id>/*` (its reports). The main config keeps what
//! every programme shares: the lake, pseudonymisation, HTTP, the engine, the status
//! page and delivery (a programme's `[mail]` gives only its sender).
//!
//! The embedded default carries every programme folder of the repository; a config
//! file's programmes are the folders `programmes/<id>/` beside it. A main config without
//! a `[program]` of its own works on the first of its `programmes` by default; one with
//! a `[program]` is a programme and the main config in one file.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use super::{Config, ConfigError, ConfigErrors};

/// The embedded programme folders: (id, `programme.toml`, its queries, its templates).
type Embedded = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
);

/// Every programme folder of the repository, as the binary carries it.
pub const EMBEDDED: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/programmes.rs"));

/// Sections that belong to the main config and are shared by its programmes.
const GLOBAL: [&str; 5] = ["lake", "pseudonym", "http", "status", "engine"];

/// The embedded default's programme: the first of `config/maaltal.toml`'s
/// `programmes`. A config's programme that is no embedded folder uses its queries
/// and templates.
#[must_use]
pub fn default_id() -> &'static str {
    static ID: LazyLock<String> =
        LazyLock::new(|| default_of(super::EMBEDDED_MAIN).unwrap_or_default());
    &ID
}

/// The embedded queries of programme `id` (none: it is not embedded).
#[must_use]
pub fn embedded_queries(id: &str) -> Option<&'static [(&'static str, &'static str)]> {
    EMBEDDED.iter().find(|e| e.0 == id).map(|e| e.2)
}

/// The embedded report templates of programme `id`.
#[must_use]
pub fn embedded_templates(id: &str) -> Option<&'static [(&'static str, &'static str)]> {
    EMBEDDED.iter().find(|e| e.0 == id).map(|e| e.3)
}

/// The embedded default in one file: the main config with its default programme's file
/// written into it (the programme's `[mail]` keys in the main `[mail]`). What a config
/// file may also be; the tests start from it.
pub static EMBEDDED_DEFAULT: LazyLock<String> = LazyLock::new(|| {
    let main = super::EMBEDDED_MAIN;
    default_of(main)
        .and_then(|id| EMBEDDED.iter().find(|e| e.0 == id))
        .map_or_else(|| main.to_string(), |e| one_file(main, e.0, e.1))
});

/// The first of a main config's `programmes`, when it has no `[program]` of its own.
fn default_of(text: &str) -> Option<String> {
    let t: toml::Table = text.parse().ok()?;
    if t.contains_key("program") {
        return None;
    }
    t.get("programmes")?
        .as_array()?
        .first()?
        .as_str()
        .map(str::to_string)
}

/// `main` with programme `id`'s file `programme` written into it.
fn one_file(main: &str, id: &str, programme: &str) -> String {
    let main_has_mail = main.lines().any(|l| l.trim() == "[mail]");
    let (mut mail_keys, mut own) = (Vec::new(), Vec::new());
    let mut in_mail = false;
    for l in programme.lines() {
        if l.trim_start().starts_with('[') {
            in_mail = main_has_mail && l.trim() == "[mail]";
            if in_mail {
                continue;
            }
        }
        if in_mail {
            if !l.trim().is_empty() && !l.trim_start().starts_with('#') {
                mail_keys.push(l);
            }
        } else {
            own.push(l);
        }
    }
    let mut out = String::new();
    for l in main.lines() {
        if l.starts_with("programmes = ") {
            let rest: Vec<String> = l
                .split_once('=')
                .and_then(|(_, v)| v.trim().parse::<toml::Value>().ok())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(toml::Value::as_str)
                .filter(|p| *p != id)
                .map(|p| format!("\"{p}\""))
                .collect();
            if !rest.is_empty() {
                out.push_str("programmes = [");
                out.push_str(&rest.join(", "));
                out.push_str("]\n");
            }
            continue;
        }
        out.push_str(l);
        out.push('\n');
        if l.trim() == "[mail]" {
            for k in &mail_keys {
                out.push_str(k);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(&own.join("\n"));
    out.push('\n');
    out
}

/// Loads a main config's text: a programme of its own (`[program]`), or the first of
/// its `programmes`, from that programme's folder, with the main config's shared
/// sections and the other programmes on.
pub(super) fn load_main(
    path: Option<&Path>,
    text: &str,
    file: &str,
    base: &Path,
) -> Result<Config, ConfigErrors> {
    let Some(id) = default_of(text) else {
        return super::parse(text, file, base);
    };
    // The shared sections, checked, with a stand-in programme; then the default one.
    let stub = "\n[program]\nid = \"_main\"\nname = \"main\"\nmunicipalities = []\n[sources]\n";
    let main = super::parse(&format!("{text}{stub}"), file, base)?;
    let mut cfg = load(path, &main, &id)?;
    cfg.programmes = main.programmes.into_iter().filter(|p| *p != id).collect();
    Ok(cfg)
}

fn error(file: &str, line: usize, message: String) -> ConfigErrors {
    ConfigErrors(vec![ConfigError {
        file: file.to_string(),
        line,
        column: 1,
        field: String::new(),
        message,
    }])
}

/// The configuration of programme `id` of the main config `main` (loaded from
/// `main_path`, or the embedded default): the programme's file with the main config's
/// shared sections.
pub fn load(main_path: Option<&Path>, main: &Config, id: &str) -> Result<Config, ConfigErrors> {
    if id == main.program.id {
        return Ok(main.clone());
    }
    if !main.programmes.iter().any(|p| p == id) {
        let mut on = vec![main.program.id.clone()];
        on.extend(main.programmes.iter().cloned());
        return Err(error(
            &main.origin,
            1,
            format!(
                "`--programme {id}`: no such programme; this config follows {} (list a programme folder in `programmes = [...]`)",
                on.join(", ")
            ),
        ));
    }
    let (text, file, base): (String, String, PathBuf) = match main_path {
        None => {
            let Some(e) = EMBEDDED.iter().find(|e| e.0 == id) else {
                return Err(error(
                    &main.origin,
                    1,
                    format!("programme `{id}` has no folder config/programmes/{id}/ in this build"),
                ));
            };
            (
                e.1.to_string(),
                format!("config/programmes/{id}/programme.toml"),
                PathBuf::from("."),
            )
        }
        Some(p) => {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .join("programmes")
                .join(id);
            let path = dir.join("programme.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| {
                error(
                    &path.display().to_string(),
                    1,
                    format!("cannot read programme `{id}`: {e}"),
                )
            })?;
            (text, path.display().to_string(), dir)
        }
    };
    // The shared sections are the main config's: a programme that sets one is told so.
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next())
            && GLOBAL.contains(&name.trim())
        {
            return Err(error(
                &file,
                i + 1,
                format!(
                    "`[{}]` is shared by every programme: set it in the main config ({})",
                    name.trim(),
                    main.origin
                ),
            ));
        }
    }
    // A programme's [mail] is its sender; how mail goes out is the main config's.
    if let Ok(t) = text.parse::<toml::Table>()
        && let Some(mail) = t.get("mail").and_then(toml::Value::as_table)
        && let Some(key) = mail
            .keys()
            .find(|k| !["from", "reply_to"].contains(&k.as_str()))
    {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(key.as_str()))
            .map_or(1, |i| i + 1);
        return Err(error(
            &file,
            line,
            format!(
                "`mail.{key}`: a programme's `[mail]` gives its sender (`from`, `reply_to`); how mail goes out is shared: set it in the main config ({})",
                main.origin
            ),
        ));
    }
    // Placeholders so the programme's file validates on its own; replaced below.
    let stubs = "\n[lake]\npath = \"lake\"\n[pseudonym]\nkey_env = \"MAALTAL_PSEUDONYM_KEY\"\n";
    let own_mail = text.lines().any(|l| l.trim() == "[mail]");
    let mut cfg = super::parse(&format!("{text}{stubs}"), &file, &base)?;
    if cfg.program.id != id {
        return Err(error(
            &file,
            1,
            format!(
                "`[program] id = \"{}\"`: the folder is programmes/{id}/, so the id is `{id}`",
                cfg.program.id
            ),
        ));
    }
    cfg.lake = main.lake.clone();
    cfg.pseudonym = main.pseudonym.clone();
    cfg.http = main.http.clone();
    cfg.status = main.status.clone();
    cfg.engine = main.engine.clone();
    let (from, reply_to) = (cfg.mail.from.clone(), cfg.mail.reply_to.clone());
    cfg.mail = main.mail.clone();
    if own_mail {
        cfg.mail.from = from;
        cfg.mail.reply_to = reply_to;
    }
    cfg.programmes = Vec::new();
    Ok(cfg)
}
