//! The lake's layout: which tables exist, where, with which partition columns, and
//! the fetch ledger's memory (last validators and hashes).
//!
//! ```text
//! <lake>/raw/<source>/<table>/<key>=<value>/…/part-0.parquet   → table `<source>_<table>`
//! <lake>/marts/<table>/…                                      → table `<table>`
//! <lake>/ledger/<table>/part-….parquet                        → table `ledger_<table>`
//! ```

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::extract::Validators;

/// A table found in the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Name analysts use in SQL.
    pub name: String,
    /// Folder.
    pub dir: PathBuf,
    /// Hive partition keys, outermost first.
    pub partition_keys: Vec<String>,
}

fn partition_keys(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cur = dir.to_path_buf();
    loop {
        let next = fs::read_dir(&cur).ok().and_then(|rd| {
            let mut subdirs: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subdirs.sort();
            subdirs.into_iter().find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains('='))
            })
        });
        match next {
            Some(sub) => {
                let name = sub
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                keys.push(name.split('=').next().unwrap_or_default().to_string());
                cur = sub;
            }
            None => return keys,
        }
    }
}

fn has_parquet(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let p = e.path();
            if p.is_dir() {
                has_parquet(&p)
            } else {
                p.extension().is_some_and(|x| x == "parquet")
            }
        })
    })
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(['.', '_']))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn dir_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every table in the lake that holds at least one Parquet file, sorted by name.
#[must_use]
pub fn tables(lake: &Path) -> Vec<TableInfo> {
    let mut out = Vec::new();
    for source in subdirs(&lake.join("raw")) {
        for table in subdirs(&source) {
            if has_parquet(&table) {
                let name = format!("{}_{}", dir_name(&source), dir_name(&table));
                out.push(TableInfo {
                    name,
                    partition_keys: partition_keys(&table),
                    dir: table,
                });
            }
        }
    }
    for (root, prefix) in [("marts", ""), ("ledger", "ledger_")] {
        for table in subdirs(&lake.join(root)) {
            if has_parquet(&table) {
                out.push(TableInfo {
                    name: format!("{prefix}{}", dir_name(&table)),
                    partition_keys: partition_keys(&table),
                    dir: table,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The Parquet files of ledger table `table` (`<lake>/ledger/<table>/`), oldest first
/// (file names start with the time they were written); none when there are none.
#[must_use]
pub fn ledger_files(lake: &Path, table: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(lake.join("ledger").join(table))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// What the ledger remembers of the last landing of one table partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastLanding {
    /// sha256 of the extract file.
    pub sha256: Option<String>,
    /// Validators the server sent.
    pub validators: Validators,
}

/// Reads `ledger_fetches` into memory: key (table, period, municipality, location) → last landing.
#[derive(Debug, Default)]
pub struct Ledger {
    by_partition: HashMap<(String, String, Option<i32>), LastLanding>,
    by_location: HashMap<String, LastLanding>,
}

impl Ledger {
    /// Loads the ledger (empty when there is none). Rows are applied in file-name order,
    /// which is time order.
    #[must_use]
    pub fn load(lake: &Path) -> Self {
        let mut me = Self::default();
        for path in ledger_files(lake, "fetches") {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(file) else {
                continue;
            };
            let Ok(reader) = builder.build() else {
                continue;
            };
            for batch in reader.flatten() {
                let col = |name: &str| {
                    batch
                        .column_by_name(name)
                        .map(|c| c.as_string::<i32>().clone())
                };
                let (
                    Some(table),
                    Some(period),
                    Some(location),
                    Some(sha),
                    Some(etag),
                    Some(lm),
                    Some(status),
                ) = (
                    col("table_name"),
                    col("period"),
                    col("location"),
                    col("sha256"),
                    col("etag"),
                    col("last_modified"),
                    col("status"),
                )
                else {
                    continue;
                };
                let muni = batch
                    .column_by_name("municipality")
                    .map(|c| c.as_primitive::<arrow::datatypes::Int32Type>().clone());
                for i in 0..batch.num_rows() {
                    if status.value(i) != "landed" {
                        continue;
                    }
                    let opt = |a: &arrow::array::StringArray| {
                        (!a.is_null(i)).then(|| a.value(i).to_string())
                    };
                    let landing = LastLanding {
                        sha256: opt(&sha),
                        validators: Validators {
                            etag: opt(&etag),
                            last_modified: opt(&lm),
                        },
                    };
                    let m = muni
                        .as_ref()
                        .and_then(|m| (!m.is_null(i)).then(|| m.value(i)));
                    me.by_partition.insert(
                        (table.value(i).to_string(), period.value(i).to_string(), m),
                        landing.clone(),
                    );
                    me.by_location
                        .insert(location.value(i).to_string(), landing);
                }
            }
        }
        me
    }

    /// The last landing of a table partition.
    #[must_use]
    pub fn partition(
        &self,
        table: &str,
        period: &str,
        municipality: Option<i32>,
    ) -> Option<&LastLanding> {
        self.by_partition
            .get(&(table.to_string(), period.to_string(), municipality))
    }

    /// The last landing that came from a location.
    #[must_use]
    pub fn location(&self, location: &str) -> Option<&LastLanding> {
        self.by_location.get(location)
    }
}
