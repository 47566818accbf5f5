//! The Parquet encoding of one partition file, on a thread of its own.
//!
//! ```text
//! parser thread ──batch──► [channel, DEPTH batches] ──► encoder thread: ArrowWriter (zstd) ──► part-0.parquet
//! ```
//! Encoding and compressing is over half of a landing's work; on its own thread it
//! runs beside the parsing of the next rows. The batches arrive in the order they
//! were sent and go through one `ArrowWriter`, so the file is the same bytes as when
//! written inline. At most [`DEPTH`] batches wait, so memory stays bounded.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use super::{LandError, io_err};

/// How many batches may wait for the encoder (each about 16,000 rows).
const DEPTH: usize = 4;

/// The encoding thread of one Parquet file.
pub(super) struct Encoder {
    tx: Option<SyncSender<RecordBatch>>,
    thread: Option<JoinHandle<Result<File, String>>>,
    path: PathBuf,
}

impl Encoder {
    /// Starts the thread that writes `writer`'s file.
    pub(super) fn start(writer: ArrowWriter<File>, path: &Path) -> Result<Self, LandError> {
        let (tx, rx) = sync_channel(DEPTH);
        let thread = std::thread::Builder::new()
            .name("parquet-encode".into())
            .spawn(move || encode(writer, &rx))
            .map_err(io_err(path, "start the Parquet encoder"))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            path: path.to_path_buf(),
        })
    }

    /// Hands a batch to the encoder; an earlier write's error comes back here.
    pub(super) fn write(&mut self, batch: RecordBatch) -> Result<(), LandError> {
        if let Some(Ok(())) = self.tx.as_ref().map(|tx| tx.send(batch)) {
            return Ok(());
        }
        // The encoder stopped: its error says why.
        self.finish()?;
        Err(LandError::Parquet {
            path: self.path.display().to_string(),
            message: "the Parquet encoder stopped early".into(),
        })
    }

    /// Waits for every batch to be written and the footer with them; the file.
    pub(super) fn finish(&mut self) -> Result<File, LandError> {
        drop(self.tx.take());
        let path = self.path.display().to_string();
        let Some(thread) = self.thread.take() else {
            return Err(LandError::Parquet {
                path,
                message: "the Parquet encoder was already finished".into(),
            });
        };
        match thread.join() {
            Ok(Ok(file)) => Ok(file),
            Ok(Err(message)) => Err(LandError::Parquet { path, message }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for Encoder {
    /// A partition given up (a rejected extract): the thread ends before the staged
    /// files are swept, never after.
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn encode(mut writer: ArrowWriter<File>, rx: &Receiver<RecordBatch>) -> Result<File, String> {
    for batch in rx {
        writer.write(&batch).map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}
