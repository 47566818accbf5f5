//! The working copy's memory of the last sync (`<lake>/.remote/state.tsv`), and which
//! of its files belong to the lake.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::RemoteError;

/// The last synced state of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) sha256: String,
    pub(super) etag: String,
    /// The working copy's file as last synced (size and modification time in ns): when
    /// both still hold, its content is not read again.
    pub(super) stamp: String,
}

const STATE: &str = ".remote/state.tsv";

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RemoteError + '_ {
    move |source| RemoteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `size:mtime_ns` of a file, or empty when it cannot be read.
pub(super) fn stamp(path: &Path) -> String {
    fs::metadata(path)
        .ok()
        .and_then(|m| {
            let t = m
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            Some(format!("{}:{}", m.len(), t.as_nanos()))
        })
        .unwrap_or_default()
}

/// The sha256 of a working-copy file: the synced one when its stamp still holds.
pub(super) fn content_sha(path: &Path, synced: Option<&Entry>) -> Result<String, RemoteError> {
    if let Some(e) = synced.filter(|e| !e.stamp.is_empty() && e.stamp == stamp(path)) {
        return Ok(e.sha256.clone());
    }
    Ok(sha256(&fs::read(path).map_err(io(path))?))
}

/// Every file of the working copy, by its key relative to the lake (`raw/…`), leaving
/// out the machine's own folders (`.locks`, `.remote`, `.deliveries`, `_staging`, `_trash`).
pub(super) fn local_files(lake: &Path) -> Result<BTreeMap<String, PathBuf>, RemoteError> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, PathBuf>) -> std::io::Result<()> {
        for e in fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let tmp = Path::new(&name).extension().is_some_and(|x| x == "tmp");
            if name.starts_with(['.', '_']) || tmp {
                continue;
            }
            let key = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type()?.is_dir() {
                walk(&e.path(), &key, out)?;
            } else {
                out.insert(key, e.path());
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    if lake.exists() {
        walk(lake, "", &mut out).map_err(io(lake))?;
    }
    Ok(out)
}

pub(super) fn hidden(key: &str) -> bool {
    key.split('/').any(|part| part.starts_with(['.', '_']))
}

pub(super) fn load(lake: &Path) -> Result<BTreeMap<String, Entry>, RemoteError> {
    let path = lake.join(STATE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io(&path)(e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (k, s, e) = (f.next()?, f.next()?, f.next()?);
            Some((
                k.to_string(),
                Entry {
                    sha256: s.to_string(),
                    etag: e.to_string(),
                    stamp: f.next().unwrap_or_default().to_string(),
                },
            ))
        })
        .collect())
}

/// Writes the state beside itself and renames it in, so a crash leaves the old or
/// the new state, never half of one.
pub(super) fn save(lake: &Path, state: &BTreeMap<String, Entry>) -> Result<(), RemoteError> {
    let path = lake.join(STATE);
    let dir = lake.join(".remote");
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut text = String::new();
    for (k, e) in state {
        let _ = writeln!(text, "{k}\t{}\t{}\t{}", e.sha256, e.etag, e.stamp);
    }
    let tmp = dir.join("state.tsv.tmp");
    fs::write(&tmp, text).map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_s_own_folders_are_not_part_of_the_lake() {
        let lake = tempfile::tempdir().unwrap();
        for f in [
            "raw/s/t/p=1/part-0.parquet",
            ".locks/lake.lock",
            ".remote/state.tsv",
            "_staging/run/raw/x.parquet",
            "marts/m/part-0.parquet.tmp",
        ] {
            let p = lake.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        let keys: Vec<String> = local_files(lake.path()).unwrap().into_keys().collect();
        assert_eq!(keys, ["raw/s/t/p=1/part-0.parquet"]);
        assert!(hidden("_staging/x") && hidden("raw/.tmp/x") && !hidden("raw/s/t/p=1/x"));
    }
}
