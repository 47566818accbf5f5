//! `[lake.remote]`: the lake on S3-compatible object storage. The lake's `path` is then
//! this machine's working copy; the bucket is the lake other machines and analysts read
//! (docs/scale-out.md). Credentials come from the environment, never from a file.

use serde::Deserialize;

use super::problems::Problems;

/// `[lake.remote]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemote {
    /// `s3://bucket/prefix` (the prefix may be empty).
    pub url: String,
    /// The S3 endpoint (`http://127.0.0.1:9000`, `https://s3.example.dk`); default: AWS's
    /// own, or `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// The bucket's region (default `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Allow an `http://` endpoint (default false: TLS only).
    #[serde(default)]
    pub allow_http: bool,
}

/// The remote lake, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// `s3://bucket/prefix`, as written (for messages).
    pub url: String,
    /// The bucket.
    pub bucket: String,
    /// The key prefix (no leading or trailing `/`; empty for the bucket's root).
    pub prefix: String,
    /// The endpoint, if not AWS's.
    pub endpoint: Option<String>,
    /// The region, if set.
    pub region: Option<String>,
    /// Whether an `http://` endpoint is allowed.
    pub allow_http: bool,
}

/// Splits `s3://bucket/prefix`; the error names what is wrong with it.
pub fn parse_url(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        format!("`{url}`: give an S3 URL, `s3://bucket/prefix` (the only object store kind)")
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid {
        return Err(format!(
            "`{url}`: the bucket `{bucket}` is not a valid S3 bucket name (3-63 of a-z, 0-9, `-`, `.`)"
        ));
    }
    Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

pub(super) fn validate_remote(p: &mut Problems<'_>, r: RawRemote) -> Option<RemoteConfig> {
    let (bucket, prefix) = match parse_url(&r.url) {
        Ok(v) => v,
        Err(message) => {
            p.at("lake.remote.url", message);
            return None;
        }
    };
    if let Some(e) = &r.endpoint {
        match url::Url::parse(e) {
            Ok(u) if u.scheme() == "http" && !r.allow_http => p.at(
                "lake.remote.endpoint",
                format!(
                    "`{e}` is plain http: set `allow_http = true` to allow it (test servers only)"
                ),
            ),
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => p.at(
                "lake.remote.endpoint",
                format!("`{e}`: give an http(s) URL, `https://s3.example.dk`"),
            ),
        }
    }
    Some(RemoteConfig {
        url: r.url,
        bucket,
        prefix,
        endpoint: r.endpoint,
        region: r.region,
        allow_http: r.allow_http,
    })
}
