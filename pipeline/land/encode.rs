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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Int32Array};
    use std::sync::Arc;

    fn batch(n: i32) -> RecordBatch {
        let a: ArrayRef = Arc::new(Int32Array::from_iter_values(0..n));
        RecordBatch::try_from_iter([("n", a)]).unwrap()
    }

    fn encoder(path: &Path) -> Encoder {
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        let writer = ArrowWriter::try_new(file, batch(1).schema(), None).unwrap();
        Encoder::start(writer, path).unwrap()
    }

    #[test]
    fn the_batches_come_back_as_a_parquet_file_in_order() {
        let dir = std::env::temp_dir().join(format!("maaltal-encode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("part-0.parquet");
        File::create(&path).unwrap();
        let mut e = encoder(&path);
        for n in [3, 5, 7] {
            e.write(batch(n)).unwrap();
        }
        e.finish().unwrap();
        let file = File::open(&path).unwrap();
        let rows: Vec<i32> =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024)
                .unwrap()
                .flat_map(|b| {
                    let b = b.unwrap();
                    let c = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
                    c.values().to_vec()
                })
                .collect();
        let expected: Vec<i32> = (0..3).chain(0..5).chain(0..7).collect();
        assert_eq!(rows, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_that_fails_on_the_encoder_thread_is_reported_with_the_path() {
        // /dev/full: every write fails with "No space left on device".
        let path = Path::new("/dev/full");
        if !path.exists() {
            return;
        }
        let mut e = encoder(path);
        let mut failed = None;
        for _ in 0..64 {
            if let Err(err) = e.write(batch(100_000)) {
                failed = Some(err);
                break;
            }
        }
        let err = match failed {
            Some(err) => err,
            None => e.finish().expect_err("the disk is full"),
        };
        let text = err.to_string();
        assert!(text.contains("/dev/full"), "{text}");
        assert!(text.to_lowercase().contains("space"), "{text}");
    }
}
