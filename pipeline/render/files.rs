//! Report file names made from ids, and writing rendered reports to a folder.

use super::RenderError;
use super::Rendered;

/// Lower-case ASCII for file names: "Faaborg-Midtfyn" → "faaborg-midtfyn", "Brønderslev" → "broenderslev".
#[must_use]
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        match c {
            'æ' | 'ä' => out.push_str("ae"),
            'ø' | 'ö' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'é' => out.push('e'),
            'ü' => out.push_str("ue"),
            c if c.is_ascii_alphanumeric() || c == '-' => out.push(c),
            _ => out.push('_'),
        }
    }
    out
}

/// An id (an employee id, an email address) as part of a file name, so that two
/// different ids never share one: the id itself when it is only ASCII letters, digits
/// and `-` (`H001`); otherwise its [`slug`], `_` and a short hash of the id
/// (`h_1_…`), since the slug alone maps `h/1` and `h_1` alike. A plain id holds no `_`,
/// so it never equals a hashed one.
#[must_use]
pub fn file_part(id: &str) -> String {
    use sha2::Digest;
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return id.to_string();
    }
    let hash = hex::encode(sha2::Sha256::digest(id.as_bytes()));
    format!("{}_{}", slug(id), &hash[..10])
}

/// Writes rendered reports into `dir` (created), and with `with_json` each one's data
/// beside it (`<name>.json`), returning the PDFs' paths.
pub fn write_all(
    dir: &std::path::Path,
    reports: &[Rendered],
    with_json: bool,
) -> Result<Vec<std::path::PathBuf>, RenderError> {
    let io = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| RenderError::Io { path, source }
    };
    // Two reports under one name would overwrite each other: refuse before writing.
    let mut names: std::collections::BTreeMap<&str, &Rendered> = std::collections::BTreeMap::new();
    for r in reports {
        if let Some(first) = names.insert(&r.file_name, r) {
            let who = |r: &Rendered| {
                r.recipient
                    .clone()
                    .or_else(|| r.municipality.map(|m| m.to_string()))
                    .unwrap_or_default()
            };
            return Err(RenderError::NameClash {
                path: dir.join(&r.file_name).display().to_string(),
                first: who(first),
                second: who(r),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    reports
        .iter()
        .map(|r| write_one(dir, r, with_json))
        .collect()
}

/// Writes one rendered report into `dir` (which exists), whole or not at all (a
/// temporary file, then a rename), and with `with_json` its data beside it.
pub fn write_one(
    dir: &std::path::Path,
    r: &Rendered,
    with_json: bool,
) -> Result<std::path::PathBuf, RenderError> {
    let io = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| RenderError::Io { path, source }
    };
    let path = dir.join(&r.file_name);
    let tmp = dir.join(format!(".{}.tmp", r.file_name));
    std::fs::write(&tmp, &r.pdf).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    if with_json {
        let json_path = path.with_extension("json");
        std::fs::write(&json_path, &r.data).map_err(io(&json_path))?;
    }
    Ok(path)
}
