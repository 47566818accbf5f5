//! The `http` source: reqwest with timeouts, retries with exponential backoff on
//! connection errors, 429 and 5xx (never on other 4xx), conditional requests with
//! `ETag` / `Last-Modified`, a size limit, and an auth header from the environment.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{
    AUTHORIZATION, ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tracing::warn;

use super::{ExtractError, FetchOutcome, Fetched, Validators, io_err};
use crate::config::HttpConfig;

/// An HTTP client for one source.
pub struct HttpFetcher {
    client: reqwest::Client,
    retries: u32,
    backoff: Duration,
    max_bytes: u64,
    auth: Option<(String, SecretString)>,
}

impl std::fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFetcher")
            .field("retries", &self.retries)
            .field("auth", &self.auth.as_ref().map(|(env, _)| env))
            .finish_non_exhaustive()
    }
}

fn header_str(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl HttpFetcher {
    /// A client; `auth_env` names the variable with the `Authorization` value.
    pub fn new(
        cfg: &HttpConfig,
        auth_env: Option<&str>,
        what: &'static str,
    ) -> Result<Self, ExtractError> {
        let auth = match auth_env {
            None => None,
            Some(env) => match std::env::var(env) {
                Ok(v) if !v.is_empty() => Some((env.to_string(), SecretString::from(v))),
                _ => {
                    return Err(ExtractError::MissingSecret {
                        env: env.to_string(),
                        what,
                    });
                }
            },
        };
        Self::with_auth(cfg, auth)
    }

    /// A client with an explicit secret (or none).
    pub fn with_auth(
        cfg: &HttpConfig,
        auth: Option<(String, SecretString)>,
    ) -> Result<Self, ExtractError> {
        // reqwest is built without a crypto provider of its own: rustls uses ring's
        // (Cargo.toml). Installing it again later is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("maaltal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExtractError::Connect {
                url: String::new(),
                message: format!("building HTTP client: {e}"),
            })?;
        Ok(Self {
            client,
            retries: cfg.retries,
            backoff: cfg.backoff,
            max_bytes: cfg.max_bytes,
            auth,
        })
    }

    fn auth_env(&self) -> String {
        self.auth
            .as_ref()
            .map(|(e, _)| e.clone())
            .unwrap_or_default()
    }

    /// Sends a GET with retries; returns the first response that is not retryable.
    async fn send(
        &self,
        url: &str,
        validators: &Validators,
    ) -> Result<reqwest::Response, ExtractError> {
        let mut attempt = 0u32;
        loop {
            let mut req = self.client.get(url);
            if let Some((_, key)) = &self.auth {
                let mut v =
                    HeaderValue::from_str(key.expose_secret()).map_err(|_| ExtractError::Auth {
                        location: url.into(),
                        key_env: self.auth_env(),
                        message: "the key is not a valid header value".into(),
                    })?;
                v.set_sensitive(true);
                req = req.header(AUTHORIZATION, v);
            }
            if let Some(etag) = &validators.etag {
                req = req.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                req = req.header(IF_MODIFIED_SINCE, lm);
            }
            let (err, wait) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 429 || status >= 500 {
                        let retry_after = header_str(&resp, RETRY_AFTER)
                            .and_then(|s| s.trim().parse::<u64>().ok());
                        let body = resp.text().await.unwrap_or_default();
                        let wait = retry_after.map(|s| Duration::from_secs(s.min(60)));
                        (
                            ExtractError::Status {
                                url: url.into(),
                                status,
                                body: crate::redact::value(body.trim()),
                            },
                            wait,
                        )
                    } else {
                        return Ok(resp);
                    }
                }
                Err(e) => {
                    let mut message = e.to_string();
                    let mut src = std::error::Error::source(&e);
                    while let Some(s) = src {
                        message = format!("{message}: {s}");
                        src = s.source();
                    }
                    (
                        ExtractError::Connect {
                            url: url.into(),
                            message,
                        },
                        None,
                    )
                }
            };
            if attempt >= self.retries {
                return Err(err);
            }
            let wait = wait.unwrap_or(self.backoff * 2u32.saturating_pow(attempt));
            warn!(url, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %err, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn check_status(&self, url: &str, status: u16, body: &str) -> Result<(), ExtractError> {
        match status {
            200..=299 | 304 => Ok(()),
            404 | 410 => Err(ExtractError::NotFound {
                location: url.into(),
            }),
            401 | 403 => Err(ExtractError::Auth {
                location: url.into(),
                key_env: self.auth_env(),
                message: crate::parse::jobindsats::auth_failure(body)
                    .unwrap_or_else(|| crate::redact::value(body.trim())),
            }),
            _ => Err(ExtractError::Status {
                url: url.into(),
                status,
                body: crate::redact::value(body.trim()),
            }),
        }
    }

    /// GETs `url` into `dest`, streaming, hashing and enforcing the size limit.
    pub async fn get_to_file(
        &self,
        url: &str,
        validators: &Validators,
        dest: &Path,
    ) -> Result<FetchOutcome, ExtractError> {
        let mut resp = self.send(url, validators).await?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(FetchOutcome::NotModified {
                location: url.into(),
                validators: validators.clone(),
            });
        }
        if !(200..300).contains(&status) {
            let body = resp.text().await.unwrap_or_default();
            self.check_status(url, status, &body)?;
            return Err(ExtractError::Status {
                url: url.into(),
                status,
                body: crate::redact::value(body.trim()),
            });
        }
        if resp.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(ExtractError::TooLarge {
                location: url.into(),
                limit: self.max_bytes,
            });
        }
        let etag = header_str(&resp, ETAG);
        let last_modified = header_str(&resp, LAST_MODIFIED);
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(io_err(dest, "create"))?;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        loop {
            let chunk = resp.chunk().await.map_err(|e| ExtractError::Connect {
                url: url.into(),
                message: format!("reading body: {e}"),
            })?;
            let Some(chunk) = chunk else { break };
            bytes += chunk.len() as u64;
            if bytes > self.max_bytes {
                drop(file);
                let _ = tokio::fs::remove_file(dest).await;
                return Err(ExtractError::TooLarge {
                    location: url.into(),
                    limit: self.max_bytes,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(io_err(dest, "write"))?;
        }
        file.flush().await.map_err(io_err(dest, "write"))?;
        Ok(FetchOutcome::Fetched(Fetched {
            location: url.into(),
            local: dest.to_path_buf(),
            sha256: hex::encode(hasher.finalize()),
            bytes,
            etag,
            last_modified,
        }))
    }

    /// GETs a small document into memory (metadata), with the same retries and checks.
    pub async fn get_text(&self, url: &str) -> Result<String, ExtractError> {
        let resp = self.send(url, &Validators::default()).await?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| ExtractError::Connect {
            url: url.into(),
            message: format!("reading body: {e}"),
        })?;
        self.check_status(url, status, &body)?;
        if body.len() as u64 > self.max_bytes {
            return Err(ExtractError::TooLarge {
                location: url.into(),
                limit: self.max_bytes,
            });
        }
        Ok(body)
    }
}
