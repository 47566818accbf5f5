//! `maaltal cluster`: a Ballista scheduler and executors in this process, or executors
//! that join a scheduler elsewhere (docs/scale-out.md).
//!
//! ```text
//!  maaltal cluster --bind 0.0.0.0:50050 --executors 2      scheduler + 2 executors
//!  maaltal cluster --join sched.example.dk:50050 --executors 4   4 executors, another machine
//!        transform ([engine] kind = "ballista") ──df://…:50050──► scheduler ──► executors
//! ```

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use tracing::{error, info};

use crate::error::Error;

/// What to start.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Where the scheduler listens (`None`: no scheduler here, `join` one).
    pub bind: Option<SocketAddr>,
    /// The scheduler to join, `host:port` (`None`: the one started here).
    pub join: Option<String>,
    /// Executors to start.
    pub executors: usize,
    /// Task slots per executor (default: the cores).
    pub vcores: Option<usize>,
    /// Where executors keep shuffle files (a folder per executor under it).
    pub work_dir: Option<PathBuf>,
    /// The host other machines reach this one's executors by (default: 127.0.0.1).
    pub external_host: Option<String>,
}

fn usage(message: String) -> Error {
    Error::Usage { message }
}

/// A port nobody listens on now (the executor binds it a moment later).
fn free_port(host: &str) -> Result<u16, Error> {
    let l = TcpListener::bind((host, 0))
        .map_err(|e| usage(format!("cannot find a free port on {host}: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| usage(format!("cannot find a free port on {host}: {e}")))
}

/// Waits until `host:port` accepts connections, for at most `limit`.
async fn listening(host: &str, port: u16, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if tokio::net::TcpStream::connect((host, port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Starts what `opts` asks for, says where it listens (`ready …` on stdout), and runs
/// until SIGTERM or Ctrl-C.
pub async fn run(opts: &NodeOptions) -> Result<(), Error> {
    let (scheduler_host, scheduler_port) =
        match (&opts.bind, &opts.join) {
            (Some(addr), None) => {
                let config = SchedulerConfig {
                    bind_host: addr.ip().to_string(),
                    bind_port: addr.port(),
                    external_host: opts
                        .external_host
                        .clone()
                        .unwrap_or_else(|| addr.ip().to_string()),
                    ..SchedulerConfig::default()
                };
                let cluster = BallistaCluster::new_from_config(&config)
                    .await
                    .map_err(|e| usage(format!("the scheduler: {e}")))?;
                let addr = *addr;
                tokio::spawn(async move {
                    if let Err(e) = start_server(cluster, addr, Arc::new(config)).await {
                        error!("the scheduler stopped: {e}");
                    }
                });
                let host = addr.ip().to_string();
                if !listening(&host, addr.port(), Duration::from_secs(30)).await {
                    return Err(usage(format!(
                        "the scheduler did not start listening on {addr} (is the port in use?)"
                    )));
                }
                (host, addr.port())
            }
            (None, Some(join)) => {
                let (h, p) = join
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| usage(format!("--join `{join}`: give host:port")))?;
                (h, p)
            }
            _ => return Err(usage(
                "give --bind (start a scheduler) or --join (executors for one elsewhere), not both"
                    .into(),
            )),
        };
    let host = opts
        .external_host
        .clone()
        .unwrap_or_else(|| "127.0.0.1".into());
    let mut ports = Vec::new();
    for i in 0..opts.executors {
        let (port, grpc_port) = (free_port("127.0.0.1")?, free_port("127.0.0.1")?);
        let work_dir = match &opts.work_dir {
            Some(d) => {
                let d = d.join(format!("executor-{i}"));
                std::fs::create_dir_all(&d)
                    .map_err(|e| usage(format!("--work-dir {}: {e}", d.display())))?;
                Some(d.display().to_string())
            }
            None => None,
        };
        let config = ExecutorProcessConfig {
            bind_host: if opts.external_host.is_some() {
                "0.0.0.0".into()
            } else {
                "127.0.0.1".into()
            },
            external_host: Some(host.clone()),
            port,
            grpc_port,
            scheduler_host: scheduler_host.clone(),
            scheduler_port,
            scheduler_connect_timeout_seconds: 30,
            vcores: opts.vcores.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
            }),
            work_dir,
            print_thread_info: false,
            ..ExecutorProcessConfig::default()
        };
        tokio::spawn(async move {
            if let Err(e) = start_executor_process(Arc::new(config)).await {
                error!("executor {i} stopped: {e}");
            }
        });
        ports.push(port);
    }
    for port in &ports {
        if !listening("127.0.0.1", *port, Duration::from_secs(30)).await {
            return Err(usage(format!(
                "an executor did not start listening on port {port}"
            )));
        }
    }
    println!(
        "ready: scheduler df://{scheduler_host}:{scheduler_port}, {} executor(s) here",
        ports.len()
    );
    info!(executors = ports.len(), "cluster ready");
    wait_for_stop().await;
    info!("cluster stopped");
    Ok(())
}

async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
