//! The commit protocol: a run's partitions are staged, journalled, then swapped into
//! the lake; a crash at any point is finished or swept by [`recover`].
//!
//! ```text
//! <lake>/_staging/<run>/raw/.../part-0.parquet   all written + fsynced
//!      │ COMMIT journal (inode and path of each staged folder), fsynced
//!      ▼ per partition:
//!   staged ◄──exchange──► <lake>/raw/...          one atomic renameat2
//!   old (now in staging) ──rename──► <lake>/_trash/<run>/...   (deleted after)
//! ```
//! Where the file system cannot exchange, the old partition is moved aside first and the
//! staged one in after it (a reader may then find the partition missing for a moment).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;

use super::{BatchBuilder, LandError, PartitionWriter, StagedPartition, io_err, properties};

/// The staging area of one landing run.
pub struct Staging {
    lake: PathBuf,
    dir: PathBuf,
    run_id: String,
}

impl Staging {
    /// Creates `<lake>/_staging/<run_id>`.
    pub fn new(lake: &Path, run_id: &str) -> Result<Self, LandError> {
        let dir = lake.join("_staging").join(run_id);
        fs::create_dir_all(&dir).map_err(io_err(&dir, "create staging folder"))?;
        Ok(Self {
            lake: lake.to_path_buf(),
            dir,
            run_id: run_id.to_string(),
        })
    }

    /// Opens a writer for a lake-relative partition folder.
    pub fn partition(
        &self,
        relative: PathBuf,
        schema: SchemaRef,
    ) -> Result<PartitionWriter, LandError> {
        let dir = self.dir.join(&relative);
        fs::create_dir_all(&dir).map_err(io_err(&dir, "create partition folder"))?;
        let file_path = dir.join("part-0.parquet");
        let file = File::create(&file_path).map_err(io_err(&file_path, "create"))?;
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(properties())).map_err(|e| {
                LandError::Parquet {
                    path: file_path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
        let writer = super::encode::Encoder::start(writer, &file_path)?;
        Ok(PartitionWriter {
            relative,
            file_path,
            writer,
            builder: BatchBuilder::new(schema),
            rows: 0,
        })
    }

    /// The staged Parquet file of a partition.
    #[must_use]
    pub fn file(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative).join("part-0.parquet")
    }

    /// Throws the staged files away (a rejected extract).
    pub fn abort(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }

    /// Replaces every staged partition in the lake: journal first, then renames.
    /// The journal names each staged folder with its inode, which a rename keeps:
    /// after an exchange the staged path holds the old partition (another inode), so
    /// a recovery can tell what has been swapped already.
    pub fn commit(self, partitions: &[StagedPartition]) -> Result<(), LandError> {
        let journal = self.dir.join("COMMIT");
        let mut text = String::new();
        for p in partitions {
            let staged = self.dir.join(&p.relative);
            let ino = inode(&staged).map_err(io_err(&staged, "stat staged partition"))?;
            let _ = writeln!(text, "{ino}\t{}", p.relative.to_string_lossy());
        }
        write_synced(&journal, text.as_bytes())?;
        roll_forward(&self.lake, &self.dir, &self.run_id)
    }
}

/// Writes a file and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), LandError> {
    let mut f = File::create(path).map_err(io_err(path, "create"))?;
    f.write_all(bytes).map_err(io_err(path, "write"))?;
    f.sync_all().map_err(io_err(path, "fsync"))
}

fn inode(path: &Path) -> io::Result<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        fs::metadata(path).map(|m| m.ino())
    }
    #[cfg(not(unix))]
    {
        fs::metadata(path).map(|_| 0)
    }
}

fn roll_forward(lake: &Path, staging: &Path, run_id: &str) -> Result<(), LandError> {
    let journal = staging.join("COMMIT");
    let text = fs::read_to_string(&journal).map_err(io_err(&journal, "read journal"))?;
    let trash = lake.join("_trash").join(run_id);
    for line in text.lines().filter(|l| !l.is_empty()) {
        // `<inode>\t<relative>`; journals of older versions hold the path alone.
        let (ino, rel) = match line.split_once('\t') {
            Some((i, r)) => (i.parse::<u64>().ok(), r),
            None => (None, line),
        };
        let staged = staging.join(rel);
        let target = lake.join(rel);
        let old = trash.join(rel);
        if !staged.exists() {
            continue; // already moved in
        }
        if let Some(parent) = old.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent, "create trash folder"))?;
        }
        if ino.is_some_and(|i| inode(&staged).is_ok_and(|now| now != i)) {
            // Exchanged before a crash: what is left in staging is the old partition.
            fs::rename(&staged, &old).map_err(io_err(&staged, "move old partition aside"))?;
            continue;
        }
        if target.exists() {
            // One step where the file system can: the new partition takes the old one's
            // place and the old one lands where the new one was, so a reader never
            // finds the partition missing. Otherwise two renames, with a moment between.
            if exchange(&staged, &target).is_ok() {
                fs::rename(&staged, &old).map_err(io_err(&staged, "move old partition aside"))?;
                continue;
            }
            fs::rename(&target, &old).map_err(io_err(&target, "move old partition aside"))?;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent, "create table folder"))?;
        }
        fs::rename(&staged, &target).map_err(io_err(&staged, "move staged partition in"))?;
    }
    fs::remove_dir_all(staging).map_err(io_err(staging, "remove staging"))?;
    let _ = fs::remove_dir_all(&trash);
    Ok(())
}

/// Swaps two paths atomically (`renameat2` with `RENAME_EXCHANGE`, Linux 3.15+; not
/// every file system has it, and then the caller falls back to two renames).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt as _;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two NUL-terminated paths that live across the call; no memory is shared.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Finishes or sweeps what a crashed run left: staged runs with a journal are rolled
/// forward, those without are deleted; the trash is emptied.
pub fn recover(lake: &Path) -> Result<Vec<String>, LandError> {
    let mut done = Vec::new();
    let staging = lake.join("_staging");
    if let Ok(entries) = fs::read_dir(&staging) {
        for entry in entries.flatten() {
            let dir = entry.path();
            let run_id = entry.file_name().to_string_lossy().into_owned();
            if dir.join("COMMIT").exists() {
                roll_forward(lake, &dir, &run_id)?;
                done.push(format!("rolled forward {run_id}"));
            } else {
                fs::remove_dir_all(&dir).map_err(io_err(&dir, "remove abandoned staging"))?;
                done.push(format!("discarded {run_id}"));
            }
        }
    }
    let _ = fs::remove_dir_all(lake.join("_trash"));
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lake with partition `raw/s/t/p=1` holding `old`, and a run staging `new` for it.
    fn staged(old: &[u8], new: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let lake = tempfile::tempdir().unwrap();
        let rel = Path::new("raw/s/t/p=1");
        let target = lake.path().join(rel);
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("part-0.parquet"), old).unwrap();
        let staging = lake.path().join("_staging/run1");
        fs::create_dir_all(staging.join(rel)).unwrap();
        fs::write(staging.join(rel).join("part-0.parquet"), new).unwrap();
        let ino = inode(&staging.join(rel)).unwrap();
        write_synced(
            &staging.join("COMMIT"),
            format!("{ino}\t{}\n", rel.display()).as_bytes(),
        )
        .unwrap();
        (lake, target, staging)
    }

    fn content(target: &Path) -> Vec<u8> {
        fs::read(target.join("part-0.parquet")).unwrap()
    }

    #[test]
    fn a_commit_replaces_the_partition_and_leaves_nothing_behind() {
        let (lake, target, staging) = staged(b"old", b"new");
        roll_forward(lake.path(), &staging, "run1").unwrap();
        assert_eq!(content(&target), b"new");
        assert!(!staging.exists());
        assert!(!lake.path().join("_trash/run1").exists());
    }

    #[test]
    fn a_crash_after_the_exchange_is_finished_not_undone() {
        let (lake, target, staging) = staged(b"old", b"new");
        let rel = Path::new("raw/s/t/p=1");
        // The process died right after the exchange: staging holds the old partition.
        exchange(&staging.join(rel), &target).unwrap();
        assert_eq!(content(&target), b"new");
        assert_eq!(content(&staging.join(rel)), b"old");
        let done = recover(lake.path()).unwrap();
        assert_eq!(done, ["rolled forward run1"]);
        assert_eq!(content(&target), b"new", "recovery must not swap back");
        assert!(!lake.path().join("_staging/run1").exists());
    }

    #[test]
    fn a_crash_before_the_exchange_is_rolled_forward() {
        let (lake, target, _staging) = staged(b"old", b"new");
        recover(lake.path()).unwrap();
        assert_eq!(content(&target), b"new");
    }

    #[test]
    fn a_crash_before_the_journal_is_swept() {
        let (lake, target, staging) = staged(b"old", b"new");
        fs::remove_file(staging.join("COMMIT")).unwrap();
        let done = recover(lake.path()).unwrap();
        assert_eq!(done, ["discarded run1"]);
        assert_eq!(content(&target), b"old");
        assert!(!staging.exists());
    }

    #[test]
    fn a_journal_of_an_older_version_still_rolls_forward() {
        let (lake, target, staging) = staged(b"old", b"new");
        write_synced(&staging.join("COMMIT"), b"raw/s/t/p=1\n").unwrap();
        recover(lake.path()).unwrap();
        assert_eq!(content(&target), b"new");
    }
}
