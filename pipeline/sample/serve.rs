//! The sample data served on 127.0.0.1 the way the real sources answer, so `maaltal
//! demo` pulls every extract over HTTP through the production fetcher: files under
//! `/files/<path>` (DREAM, the fagsystem exports) and the Jobindsats v2 API
//! (`/v2/tables/<T>/json`, `/v2/data/<T>/json?period=P`). A minimal HTTP/1.1 server
//! (GET, keep-alive, `Content-Length`), loopback only, for the demo and nothing else.

use std::path::{Component, Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A running sample server; stops when dropped.
#[derive(Debug)]
pub struct SampleServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SampleServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving `root` (a folder `maaltal sample-data` wrote) on a free loopback port.
pub async fn serve(root: PathBuf) -> std::io::Result<SampleServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let root = root.clone();
            tokio::spawn(async move {
                let _ = connection(sock, &root).await;
            });
        }
    });
    Ok(SampleServer { base, task })
}

/// The file a request target names, if any (never outside `root`).
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let rel = if let Some(rel) = path.strip_prefix("/files/") {
        rel.to_string()
    } else if let Some(t) = path
        .strip_prefix("/v2/tables/")
        .and_then(|r| r.strip_suffix("/json"))
    {
        format!("jobindsats/{t}/metadata.json")
    } else if let Some(t) = path
        .strip_prefix("/v2/data/")
        .and_then(|r| r.strip_suffix("/json"))
    {
        let period = query.split('&').find_map(|kv| kv.strip_prefix("period="))?;
        format!("jobindsats/{t}/{period}.json")
    } else {
        return None;
    };
    let rel = Path::new(&rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel))
}

async fn connection(mut sock: TcpStream, root: &Path) -> std::io::Result<()> {
    let (r, mut w) = sock.split();
    let mut reader = BufReader::new(r);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).await? == 0 {
            return Ok(());
        }
        loop {
            let mut header = String::new();
            let n = reader.read_line(&mut header).await?;
            if n == 0 || header == "\r\n" || header == "\n" {
                break;
            }
        }
        let target = request.split_whitespace().nth(1).unwrap_or("/");
        let file = resolve(root, target);
        let body = match &file {
            Some(p) => tokio::fs::read(p).await.ok(),
            None => None,
        };
        let (status, body) = match body {
            Some(b) => ("200 OK", b),
            None => ("404 Not Found", b"not found\n".to_vec()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
            body.len()
        );
        w.write_all(head.as_bytes()).await?;
        w.write_all(&body).await?;
        w.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_files_inside_the_root() {
        let root = Path::new("/s");
        assert_eq!(
            resolve(root, "/files/dream/dream_2018Q4.csv"),
            Some(PathBuf::from("/s/dream/dream_2018Q4.csv"))
        );
        assert_eq!(
            resolve(root, "/v2/tables/Y60V02/json"),
            Some(PathBuf::from("/s/jobindsats/Y60V02/metadata.json"))
        );
        assert_eq!(
            resolve(root, "/v2/data/Y60V02/json?area=*&period=2018M11&_dim=*"),
            Some(PathBuf::from("/s/jobindsats/Y60V02/2018M11.json"))
        );
        assert_eq!(resolve(root, "/files/../etc/passwd"), None);
        assert_eq!(resolve(root, "/other"), None);
    }
}
