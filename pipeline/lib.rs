//! maaltal: target figures (måltal) for Danish jobcentres.
//!
//! ```text
//!  extract/ ──► parse/ ──► land ──► lake (Parquet, Hive partitions) ──► query (DataFusion SQL)
//!  (http,file)  (validate,   (atomic       raw/<source>/<table>/<period>
//!               pseudonymise) rename)      ledger/fetches
//! ```
//!
//! Every stage takes plain data and returns plain data; time, randomness and the
//! environment are passed in from `run/` and `main.rs`.

pub mod cluster;
pub mod config;
pub mod deliver;
pub mod error;
pub mod extract;
pub mod lake;
pub mod land;
pub mod lock;
pub mod municipality;
pub mod parse;
pub mod period;
pub mod progress;
pub mod pseudonym;
pub mod query;
pub mod redact;
pub mod remote;
pub mod render;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod serve;
pub mod status;
pub mod transform;
pub mod visibility;
