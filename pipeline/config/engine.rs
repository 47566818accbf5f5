//! `[engine]`: what the SQL engine (`DataFusion`) may take of the machine: a memory
//! limit for its operators, and where they spill to disk beyond it; or the Ballista
//! cluster that builds the marts instead (`kind = "ballista"`, docs/scale-out.md).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::problems::Problems;

/// The memory limit when none is configured: sized for a small VM that runs other
/// services too. The national transform (twelve quarters of 1 million persons) stays
/// under 2 GiB of resident memory with it (docs/performance.md).
pub const DEFAULT_MEMORY_LIMIT_MIB: u64 = 1024;

/// `[engine]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    /// Memory the SQL operators (aggregations, sorts, joins) may hold, in MiB (default
    /// 1024). Beyond it, aggregations and sorts spill to disk; `0` sets no limit.
    pub memory_limit_mib: Option<u64>,
    /// Folder for spill files (default: the system's temporary folder). Spill files
    /// hold pseudonymised rows of the lake, never CPR numbers; they are deleted when
    /// the query ends.
    pub spill_path: Option<String>,
    /// Partitions a query runs in (default: one per core).
    pub partitions: Option<usize>,
    /// `in_process` (default) or `ballista`: the marts built on a Ballista cluster.
    pub kind: Option<String>,
    /// With `kind = "ballista"`: the scheduler, `df://host:50050`.
    pub scheduler: Option<String>,
    /// With `kind = "ballista"`: how long one mart's query may take on the cluster
    /// before it is run in-process instead, with a warning (default 600).
    pub query_timeout_secs: Option<u64>,
}

/// A Ballista cluster that builds the marts (`[engine] kind = "ballista"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The scheduler: `df://host:port`.
    pub scheduler: String,
    /// How long one query may take on the cluster.
    pub query_timeout: std::time::Duration,
}

/// The engine's resources, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Bytes the operators may hold; `None`: no limit.
    pub memory_limit: Option<usize>,
    /// Folder for spill files; `None`: the system's temporary folder.
    pub spill_path: Option<PathBuf>,
    /// Partitions a query runs in; `None`: one per core.
    pub partitions: Option<usize>,
    /// The cluster the marts are built on; `None`: in this process.
    pub cluster: Option<ClusterConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            memory_limit: Some((DEFAULT_MEMORY_LIMIT_MIB << 20) as usize),
            spill_path: None,
            partitions: None,
            cluster: None,
        }
    }
}

impl EngineConfig {
    /// The limit in MiB, for messages (`None`: no limit).
    #[must_use]
    pub fn memory_limit_mib(&self) -> Option<u64> {
        self.memory_limit.map(|b| b as u64 >> 20)
    }
}

pub(super) fn validate_engine(p: &mut Problems<'_>, r: RawEngine, base_dir: &Path) -> EngineConfig {
    let mib = r.memory_limit_mib.unwrap_or(DEFAULT_MEMORY_LIMIT_MIB);
    // Below a few MiB not even one batch of a sort fits: the query would fail, not spill.
    if mib != 0 && mib < 8 {
        p.at(
            "engine.memory_limit_mib",
            format!("`{mib}`: give at least 8 (MiB), or 0 for no limit"),
        );
    }
    if mib > 1 << 24 {
        p.at(
            "engine.memory_limit_mib",
            format!("`{mib}`: more than 16 TiB; give the limit in MiB (2048 = 2 GiB)"),
        );
    }
    if let Some(n) = r.partitions.filter(|n| !(1..=1024).contains(n)) {
        p.at("engine.partitions", format!("`{n}`: give 1..=1024"));
    }
    let cluster = match r.kind.as_deref() {
        None | Some("in_process") => {
            if r.scheduler.is_some() {
                p.at(
                    "engine.scheduler",
                    "a scheduler without `kind = \"ballista\"`: set the kind, or drop the scheduler",
                );
            }
            None
        }
        Some("ballista") => match r.scheduler {
            Some(s) if valid_scheduler(&s) => Some(ClusterConfig {
                scheduler: s,
                query_timeout: std::time::Duration::from_secs(r.query_timeout_secs.unwrap_or(600)),
            }),
            Some(s) => {
                p.at(
                    "engine.scheduler",
                    format!(
                        "`{s}`: give the scheduler as `df://host:port` (`df://127.0.0.1:50050`)"
                    ),
                );
                None
            }
            None => {
                p.at(
                    "engine.kind",
                    "`ballista` needs `scheduler = \"df://host:port\"`",
                );
                None
            }
        },
        Some(k) => {
            p.at(
                "engine.kind",
                format!("`{k}`: give `in_process` (the default) or `ballista`"),
            );
            None
        }
    };
    EngineConfig {
        cluster,
        partitions: r.partitions,
        memory_limit: (mib != 0).then_some((mib << 20) as usize),
        spill_path: r.spill_path.map(|s| base_dir.join(s)),
    }
}

/// `df://host:port` with a port.
fn valid_scheduler(s: &str) -> bool {
    s.strip_prefix("df://")
        .and_then(|hp| hp.rsplit_once(':'))
        .is_some_and(|(h, port)| !h.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
}
