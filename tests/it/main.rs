#![allow(
    clippy::pedantic,
    reason = "test code favours plain, explicit steps over pedantic style"
)]

//! The integration test binary: one module per stage. Real parts on loopback only:
//! the `maaltal` binary as a subprocess, a real HTTP server on 127.0.0.1, the lake in a
//! temp folder, Parquet read back by DuckDB/pyarrow.

mod analysts_guide;
mod cli_errors;
mod cluster;
mod common;
mod comparison;
mod concurrent;
mod config_default;
mod config_files;
mod contract;
mod demo;
mod full_disk;
mod http_sources;
mod ingest;
mod kill;
mod lake_doc;
mod maanedsbog;
mod mail;
mod memory;
mod metrics;
mod national;
mod privacy;
mod programme;
mod reports;
mod s3;
mod schedule;
mod sql_read_only;
mod status;
mod third_party;
mod validation;
mod vip2;
