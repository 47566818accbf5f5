//! A full disk: the lake on a small tmpfs, filled to the last byte. Landing and building
//! the marts fail with an error that names the file and says the disk is full; what the
//! lake held before stays as it was and readable; once space is freed, the same commands
//! succeed and the lake is byte-identical to one that never ran out of space.
//!
//! Mounting a tmpfs needs root (CI runs as root) or passwordless sudo.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Workspace, hash_tree, text};

/// A tmpfs mounted at a folder, unmounted when dropped.
struct Tmpfs {
    at: PathBuf,
}

fn as_root(args: &[&str]) -> Command {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = Command::new(if root { args[0] } else { "sudo" });
    if root {
        cmd.args(&args[1..]);
    } else {
        cmd.arg("-n").args(args);
    }
    cmd
}

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let out = as_root(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
        ])
        .arg(at)
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root or passwordless sudo: {}",
            text(&out.stderr)
        );
        Self {
            at: at.to_path_buf(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = as_root(&["umount", "-l"]).arg(&self.at).status();
    }
}

/// Fills the file system of `dir` to the last byte with `dir/.ballast`.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join(".ballast");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&block) {
            assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
            break;
        }
    }
    // Smaller writes take what is left.
    while f.write_all(&[0u8; 512]).is_ok() {}
    let _ = f.sync_all();
    path
}

/// The lake's data files (raw and marts), by path.
fn data(lake: &Path) -> std::collections::BTreeMap<String, String> {
    hash_tree(lake)
        .into_iter()
        .filter(|(p, _)| p.starts_with("raw/") || p.starts_with("marts/"))
        .collect()
}

#[test]
fn a_full_disk_fails_clearly_keeps_the_lake_and_a_rerun_succeeds() {
    let steps: [&[&str]; 3] = [
        &["ingest", "dream", "--period", "2018Q4"],
        &["ingest", "jobindsats", "--period", "2018Q4"],
        &["transform"],
    ];
    // Never short of space: what the lake must hold in the end.
    let reference = Workspace::new();
    reference.ok(&["ingest", "dream", "--period", "2018Q3"]);
    for s in steps {
        reference.ok(s);
    }

    let ws = Workspace::new();
    let _tmpfs = Tmpfs::mount(&ws.lake(), "24m");
    ws.ok(&["ingest", "dream", "--period", "2018Q3"]);
    ws.ok(&["transform"]);
    let before = data(&ws.lake());
    let persons = ws.count("select count(*) from dream_persons");
    assert!(persons > 0);

    let ballast = fill(&ws.lake());
    for s in steps {
        let out = ws.run(s);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{s:?} on a full disk: {err}");
        assert!(err.contains("No space left on device"), "{s:?}: {err}");
        assert!(err.contains("hint: the disk is full"), "{s:?}: {err}");
        assert!(
            err.contains(&ws.lake().display().to_string()),
            "{s:?}: the error names the file: {err}"
        );
        assert_eq!(data(&ws.lake()), before, "{s:?}: the lake is as it was");
        // Still readable: reading needs no space.
        assert_eq!(ws.count("select count(*) from dream_persons"), persons);
    }

    std::fs::remove_file(ballast).unwrap();
    for s in steps {
        ws.ok(s);
    }
    assert_eq!(
        data(&ws.lake()),
        data(&reference.lake()),
        "after space was freed, the same lake as a run that never ran out"
    );
    let staging = ws.lake().join("_staging");
    let left = std::fs::read_dir(&staging).map_or(0, |d| d.count());
    assert_eq!(left, 0, "nothing left behind in {}", staging.display());
}
