//! One writer at a time on a lake: landing an extract, building the marts and
//! delivering reports each hold the lake's lock while they write, whether a person runs
//! them or the daemon does.
//!
//! ```text
//!  ingest / transform / deliver ──acquire──► <lake>/.locks/lake.lock (flock, exclusive)
//!        free ─► take it, write who holds it ─► write ─► drop: released
//!        held ─► say who holds it, wait (polling) ─► take it, or fail after WAIT_LIMIT
//! ```
//! The kernel releases a `flock` when its holder exits, however it exits (kill -9
//! included), so a crash never leaves the lake locked. Two `send` at once cannot both
//! read the delivery ledger before either has written it: the second waits, then finds
//! the first's deliveries and sends nothing twice.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::error::Error;
use crate::land;

/// How long a writer waits for another before it gives up.
pub const WAIT_LIMIT: Duration = Duration::from_hours(1);

/// How often a waiting writer tries again.
const POLL: Duration = Duration::from_millis(100);

/// The lake's lock, held until dropped (closing the file releases it).
#[derive(Debug)]
pub struct LakeLock {
    file: File,
}

impl Drop for LakeLock {
    fn drop(&mut self) {
        // Nobody holds it now (emptied while still held, so no one else's text is lost).
        let _ = self.file.set_len(0);
    }
}

fn try_flock(file: &File) -> bool {
    // SAFETY: flock on a file descriptor this process owns; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Takes the lake's lock for `what` (`ingest register 2018Q4`), waiting while another
/// process holds it, up to `limit`.
pub async fn acquire(lake: &Path, what: &str, limit: Duration) -> Result<LakeLock, Error> {
    let dir = lake.join(".locks");
    std::fs::create_dir_all(&dir).map_err(land::io_err(&dir, "create lock folder"))?;
    let path = dir.join("lake.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(land::io_err(&path, "open lock"))?;
    let started = Instant::now();
    let mut told = false;
    while !try_flock(&file) {
        let mut holder = String::new();
        let _ = file.rewind();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim().to_string();
        if started.elapsed() >= limit {
            return Err(Error::Busy {
                lake: lake.to_path_buf(),
                holder,
                waited_secs: started.elapsed().as_secs(),
            });
        }
        if !told {
            warn!(
                path = %path.display(),
                "waiting for the lake's lock, held by {holder}, before {what}"
            );
            told = true;
        }
        tokio::time::sleep(POLL).await;
    }
    let holder = format!(
        "process {} ({what}, since {})",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = file.write_all(holder.as_bytes());
    let _ = file.flush();
    Ok(LakeLock { file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_writer_waits_then_gives_up_naming_the_holder() {
        let lake = tempfile::tempdir().unwrap();
        let first = acquire(lake.path(), "ingest register 2018Q4", WAIT_LIMIT)
            .await
            .unwrap();
        let err = acquire(lake.path(), "transform", Duration::from_millis(300))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("ingest register 2018Q4"), "{err}");
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        // Released when dropped: the next one gets it at once.
        let again = acquire(lake.path(), "transform", Duration::ZERO).await;
        assert!(again.is_ok());
    }
}
