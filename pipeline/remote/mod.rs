//! The lake on S3-compatible object storage (`[lake.remote]`): this machine's lake
//! folder is a working copy of the bucket. A command pulls what others published before
//! it reads, and publishes what it wrote when it is done.
//!
//! ```text
//!   bucket  s3://maaltal/lake/raw/…/part-0.parquet   (Hive layout, what analysts read)
//!      │ pull: objects whose ETag changed since the last sync ─► working copy
//!      ▼
//!   <lake>/raw/…/part-0.parquet ─ ingest / transform / send write here, as without S3
//!      │ publish: each file whose content changed since the last sync, one conditional PUT:
//!      ▼   If-Match: <the ETag this copy last saw>   (If-None-Match: * for a new object)
//!   bucket: the object is old or new, never half; a second writer's PUT fails (412)
//!   <lake>/.remote/state.tsv   key, sha256, ETag of each object as last synced
//! ```
//! Every partition and mart is one Parquet object, so one PUT publishes it whole; a
//! writer killed halfway leaves each object either as it was or as it is now, and the
//! next run publishes the rest (docs/lake.md, "On object storage").

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, UpdateVersion};

use tracing::info;

use crate::config::LakeConfig;
use crate::config::remote::RemoteConfig;
use crate::error::Error;

mod state;

use state::{Entry, content_sha, hidden, io, local_files, sha256, stamp};

/// What went wrong between the working copy and the bucket.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The object store refused or could not be reached.
    #[error("{url}: {key}: {message}")]
    Store {
        /// The lake's URL.
        url: String,
        /// The object's key.
        key: String,
        /// What the store said.
        message: String,
    },
    /// Another writer published the object since this copy last synced.
    #[error(
        "{url}/{key}: another writer published it since this copy last synced; nothing of yours was overwritten and the bucket keeps their version. {hint}"
    )]
    Conflict {
        /// The lake's URL.
        url: String,
        /// The object's key, relative to the lake.
        key: String,
        /// What to do.
        hint: &'static str,
    },
    /// The working copy could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What one sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Synced {
    /// Objects fetched into the working copy.
    pub fetched: usize,
    /// Objects published to the bucket.
    pub published: usize,
    /// Files or objects removed because the other side removed them.
    pub removed: usize,
    /// Bytes moved.
    pub bytes: u64,
}

impl Synced {
    /// `published 12 objects (3.1 MiB)`, for a command's summary.
    #[must_use]
    pub fn text(&self, verb: &str) -> String {
        let n = if verb == "pulled" {
            self.fetched
        } else {
            self.published
        };
        let mut s = format!(
            "{verb} {n} object(s) ({:.1} MiB)",
            self.bytes as f64 / 1_048_576.0
        );
        if self.removed > 0 {
            let _ = write!(s, ", removed {}", self.removed);
        }
        s
    }
}

/// Objects moved at once: a bucket answers each request in some milliseconds, so one
/// at a time would leave the link idle.
const CONCURRENCY: usize = 8;

/// Objects published between two saves of the sync state. A writer killed in between
/// loses no data: the next pull finds those objects equal to its files and adopts them.
const SAVE_EVERY: usize = 32;

/// The bucket and the working copy it syncs with.
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    url: String,
    prefix: String,
    lake: PathBuf,
}

impl Remote {
    /// The bucket of `[lake.remote]`, with credentials from the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
    pub fn new(cfg: &RemoteConfig, lake: &Path) -> Result<Self, RemoteError> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&cfg.bucket)
            .with_allow_http(cfg.allow_http);
        if let Some(e) = &cfg.endpoint {
            b = b.with_endpoint(e);
        }
        match &cfg.region {
            Some(r) => b = b.with_region(r),
            None if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none() =>
            {
                b = b.with_region("us-east-1");
            }
            None => {}
        }
        let store = b.build().map_err(|e| RemoteError::Store {
            url: cfg.url.clone(),
            key: String::new(),
            message: e.to_string(),
        })?;
        Ok(Self {
            store: Arc::new(store),
            url: cfg.url.trim_end_matches('/').to_string(),
            prefix: cfg.prefix.clone(),
            lake: lake.to_path_buf(),
        })
    }

    /// The remote of a lake, if it has one.
    pub fn of(lake: &LakeConfig) -> Result<Option<Self>, RemoteError> {
        lake.remote
            .as_ref()
            .map(|r| Self::new(r, &lake.path))
            .transpose()
    }

    fn key(&self, rel: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn store_err(
        &self,
        key: &str,
    ) -> impl FnOnce(object_store::Error) -> RemoteError + Send + use<> {
        let (url, key) = (self.url.clone(), key.to_string());
        move |e| RemoteError::Store {
            url,
            key,
            message: e.to_string(),
        }
    }

    /// Every object under the lake's prefix: key relative to the lake → `ETag`.
    async fn list(&self) -> Result<BTreeMap<String, String>, RemoteError> {
        let prefix = (!self.prefix.is_empty()).then(|| Key::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(self.store_err(""))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let rel = m.location.as_ref().strip_prefix(&strip)?.to_string();
                (!hidden(&rel)).then(|| (rel, m.e_tag.unwrap_or_default()))
            })
            .collect())
    }

    /// Brings the working copy up to the bucket: fetches each object whose `ETag` changed
    /// since the last sync (or whose file is missing), removes files whose object others
    /// removed. A file this copy changed and has not published, which the bucket changed
    /// too, is a conflict: the sync stops and both are kept.
    pub async fn pull(&self) -> Result<Synced, RemoteError> {
        let mut state = state::load(&self.lake)?;
        let remote = self.list().await?;
        let local = local_files(&self.lake)?;
        let mut done = Synced::default();
        let wanted: Vec<(String, String)> = remote
            .iter()
            .filter(|(rel, etag)| {
                !(state.get(*rel).is_some_and(|e| &e.etag == *etag) && local.contains_key(*rel))
            })
            .map(|(r, e)| (r.clone(), e.clone()))
            .collect();
        let gets: Vec<_> = wanted
            .into_iter()
            .map(|(rel, etag)| {
                let (store, key, err) = (self.store.clone(), self.key(&rel), self.store_err(&rel));
                async move {
                    let bytes = match store.get(&key).await {
                        Ok(got) => got.bytes().await,
                        Err(e) => Err(e),
                    };
                    bytes.map(|b| (rel, etag, b)).map_err(err)
                }
            })
            .collect();
        let mut gets = futures::stream::iter(gets).buffer_unordered(CONCURRENCY);
        while let Some(got) = gets.next().await {
            let (rel, etag, bytes) = got?;
            let (rel, etag) = (&rel, &etag);
            let sha = sha256(&bytes);
            let path = self.lake.join(rel);
            // The same content as the working copy's file: published by this copy
            // before it was stopped, or fetched before; only the ETag is new.
            let mine = match local.get(rel) {
                Some(p) => Some(content_sha(p, state.get(rel))?),
                None => None,
            };
            if mine.as_ref() != Some(&sha) {
                if let Some(mine) = &mine
                    && state.get(rel).is_none_or(|e| &e.sha256 != mine)
                {
                    state::save(&self.lake, &state)?;
                    return Err(RemoteError::Conflict {
                        url: self.url.clone(),
                        key: rel.clone(),
                        hint: "This copy changed it too and has not published that: move the working copy aside and run again to take the bucket's version.",
                    });
                }
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(io(dir))?;
                }
                let tmp = path.with_extension("parquet.tmp");
                fs::write(&tmp, &bytes).map_err(io(&tmp))?;
                fs::rename(&tmp, &path).map_err(io(&path))?;
                done.fetched += 1;
                done.bytes += bytes.len() as u64;
            }
            let stamp = stamp(&path);
            state.insert(
                rel.clone(),
                Entry {
                    sha256: sha,
                    etag: etag.clone(),
                    stamp,
                },
            );
        }
        let gone: Vec<String> = state
            .keys()
            .filter(|k| !remote.contains_key(*k))
            .cloned()
            .collect();
        for rel in gone {
            if let Some(p) = local.get(&rel) {
                let mine = content_sha(p, state.get(&rel))?;
                if state.get(&rel).is_some_and(|e| e.sha256 == mine) {
                    fs::remove_file(p).map_err(io(p))?;
                    done.removed += 1;
                } else {
                    continue; // changed here since: publish offers it again
                }
            }
            state.remove(&rel);
        }
        state::save(&self.lake, &state)?;
        Ok(done)
    }

    /// One conditional PUT: `If-Match` the `ETag` this copy last synced, or
    /// `If-None-Match: *` for an object it never saw. `None`: the content is as synced.
    fn put(
        &self,
        rel: String,
        path: PathBuf,
        base: Option<Entry>,
    ) -> impl Future<Output = Result<Option<Entry>, RemoteError>> + Send + use<> {
        let (store, key, err) = (self.store.clone(), self.key(&rel), self.store_err(&rel));
        let url = self.url.clone();
        async move {
            let bytes = tokio::fs::read(&path).await.map_err(io(&path))?;
            let sha = sha256(&bytes);
            let mode = match base {
                Some(e) if e.sha256 == sha => return Ok(None),
                Some(e) => PutMode::Update(UpdateVersion {
                    e_tag: Some(e.etag),
                    version: None,
                }),
                None => PutMode::Create,
            };
            let opts = PutOptions {
                mode,
                ..PutOptions::default()
            };
            match store.put_opts(&key, bytes.into(), opts).await {
                Ok(put) => Ok(Some(Entry {
                    sha256: sha,
                    etag: put.e_tag.unwrap_or_default(),
                    stamp: String::new(),
                })),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => Err(RemoteError::Conflict {
                    url,
                    key: rel,
                    hint: "Your change is kept in the working copy; the bucket keeps theirs.",
                }),
                Err(e) => Err(err(e)),
            }
        }
    }

    /// Publishes every file of the working copy whose content changed since the last
    /// sync, each with one conditional PUT ([`Self::put`]): landed data and marts first,
    /// the ledgers after them (a ledger row then never names data the bucket lacks).
    /// The state is saved as objects are published, so a writer stopped halfway
    /// publishes the rest when run again.
    pub async fn publish(&self) -> Result<Synced, RemoteError> {
        let mut state = state::load(&self.lake)?;
        let local = local_files(&self.lake)?;
        let mut done = Synced::default();
        for ledger in [false, true] {
            let puts: Vec<_> = local
                .iter()
                .filter(|(rel, _)| rel.starts_with("ledger/") == ledger)
                .filter_map(|(rel, path)| {
                    let stamp = stamp(path);
                    let base = state.get(rel).cloned();
                    let same = base
                        .as_ref()
                        .is_some_and(|e| !stamp.is_empty() && e.stamp == stamp);
                    if same {
                        return None;
                    }
                    let synced = base.as_ref().map(|b| b.sha256.clone());
                    let put = self.put(rel.clone(), path.clone(), base);
                    let rel = rel.clone();
                    Some(async move { (rel, stamp, synced, put.await) })
                })
                .collect();
            let mut puts = futures::stream::iter(puts).buffer_unordered(CONCURRENCY);
            let mut unsaved = 0;
            while let Some((rel, stamp, synced_sha, put)) = puts.next().await {
                let entry = match put {
                    Ok(Some(e)) => {
                        done.published += 1;
                        done.bytes += stamp
                            .split(':')
                            .next()
                            .and_then(|n| n.parse::<u64>().ok())
                            .unwrap_or(0);
                        e
                    }
                    Ok(None) => match state.get(&rel) {
                        Some(e) if Some(&e.sha256) == synced_sha.as_ref() => e.clone(),
                        _ => continue,
                    },
                    Err(e) => {
                        state::save(&self.lake, &state)?;
                        return Err(e);
                    }
                };
                state.insert(rel, Entry { stamp, ..entry });
                unsaved += 1;
                if unsaved >= SAVE_EVERY {
                    state::save(&self.lake, &state)?;
                    unsaved = 0;
                }
            }
            state::save(&self.lake, &state)?;
        }
        let gone: Vec<String> = state
            .keys()
            .filter(|k| !local.contains_key(*k))
            .cloned()
            .collect();
        for rel in gone {
            self.store
                .delete(&self.key(&rel))
                .await
                .map_err(self.store_err(&rel))?;
            state.remove(&rel);
            done.removed += 1;
        }
        state::save(&self.lake, &state)?;
        Ok(done)
    }
}

/// Pulls the lake's working copy from its bucket under the lake's lock (no-op without
/// `[lake.remote]`); the summary says what it fetched and from where.
pub async fn pull_lake(lake: &LakeConfig) -> Result<Option<String>, Error> {
    sync(lake, "pulled").await
}

/// Publishes what the working copy changed to its bucket under the lake's lock (no-op
/// without `[lake.remote]`); the summary says what it published and where.
pub async fn publish_lake(lake: &LakeConfig) -> Result<Option<String>, Error> {
    sync(lake, "published").await
}

async fn sync(lake: &LakeConfig, verb: &'static str) -> Result<Option<String>, Error> {
    let Some(remote) = Remote::of(lake)? else {
        return Ok(None);
    };
    fs::create_dir_all(&lake.path).map_err(crate::land::io_err(&lake.path, "create lake"))?;
    let what = format!("{verb} {}", remote.url);
    let _lock = crate::lock::acquire(&lake.path, &what, crate::lock::WAIT_LIMIT).await?;
    let started = std::time::Instant::now();
    let done = if verb == "pulled" {
        remote.pull().await?
    } else {
        remote.publish().await?
    };
    let text = format!(
        "{} {} in {:.1} s",
        done.text(verb),
        remote.url,
        started.elapsed().as_secs_f64()
    );
    info!("{text}");
    Ok(Some(text))
}
