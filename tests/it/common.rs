//! Helpers: the sample data (generated once), temp lakes with their own config, running
//! the binary, hashing every file under a folder, and a real HTTP server on 127.0.0.1.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// The log level of every command the tests run: maaltal's own lines down to debug,
/// the HTTP client's too, so that what [`no_personal_data`] checks includes them.
pub(crate) const LOG_FILTER: &str = "info,maaltal=debug,reqwest=debug,hyper_util=debug";

/// CPR numbers written by the tests themselves (fixtures beside the sample data).
pub(crate) const FIXTURE_CPRS: [&str; 4] = ["0101901234", "1503854321", "2212771118", "0101001234"];

/// Every CPR number of the sample data (DREAM's and the case system's), and the
/// fixtures', read once.
pub(crate) fn known_cprs() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set: HashSet<String> = FIXTURE_CPRS.iter().map(|c| (*c).to_string()).collect();
        let mut add = |path: &Path, column: usize| {
            let Ok(t) = std::fs::read_to_string(path) else {
                return;
            };
            for line in t.lines().skip(1) {
                if let Some(c) = line.split(';').nth(column).filter(|c| c.len() == 10) {
                    set.insert(c.to_string());
                }
            }
        };
        for f in files(&sample_dir().join("dream")) {
            add(&f, 0);
        }
        for f in files(&sample_dir().join("jobpakker")) {
            add(&f, 1);
        }
        for f in files(&sample_dir().join("fagsystem")) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if ["sager.csv", "samtaler.csv", "placeringer.csv"].contains(&name.as_str()) {
                add(&f, 1);
            }
        }
        assert!(
            set.len() > 2_000,
            "only {} CPR numbers in the sample data",
            set.len()
        );
        set
    })
}

/// How many 10-digit windows of `text` are CPR numbers of `set` (one pass).
pub(crate) fn count_cprs(text: &str, set: &HashSet<String>) -> usize {
    let b = text.as_bytes();
    let (mut hits, mut i) = (0, 0);
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start >= 10 {
            hits += (start..=i - 10)
                .filter(|w| set.contains(&text[*w..*w + 10]))
                .count();
        }
    }
    hits
}

/// Asserts that a command's whole output (results, errors, logs at debug) holds no CPR
/// number of the sample data or the fixtures, and none of `secrets` (the values of
/// secret environment variables a test set, eight characters or longer); returns the
/// output.
pub(crate) fn no_personal_data(out: Output, secrets: &[&str]) -> Output {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let n = count_cprs(&all, known_cprs());
    assert_eq!(n, 0, "{n} CPR number(s) in a command's output");
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(
            !all.contains(s),
            "a secret from the environment is in a command's output"
        );
    }
    out
}

/// The sample data, generated once per test run (seed 2018).
pub(crate) fn sample_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("maaltal-it-sample-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        maaltal::sample::generate(&dir, 2018, maaltal::sample::Scale::Sample).expect("sample data");
        dir
    })
}

/// A temp folder with a config pointing at the sample data and a lake of its own.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Self {
        Self::with_config(|t| t)
    }

    /// A workspace whose config text is the embedded default edited by `edit`.
    pub(crate) fn with_config(edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let sample = sample_dir().display().to_string();
        // The default's other programmes are left out: a test that wants one asks
        // (`with_programme`), so a daemon or a job here runs this programme alone.
        let text = maaltal::config::EMBEDDED_DEFAULT
            .replace("\"sample/", &format!("\"{sample}/"))
            .replace("programmes = [\"vip2\"]\n", "");
        std::fs::write(dir.path().join("maaltal.toml"), edit(text)).expect("write config");
        Self { dir }
    }

    /// A workspace whose config also has the repository's programme folder `id`
    /// (`programmes/<id>/programme.toml`, reading the sample data).
    pub(crate) fn with_programme(id: &str) -> Self {
        let ws = Self::with_config(|t| format!("programmes = [\"{id}\"]\n{t}"));
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text =
            std::fs::read_to_string(repo.join(format!("config/programmes/{id}/programme.toml")))
                .expect("programme file");
        let sample = sample_dir().display().to_string();
        let dir = ws.dir.path().join("programmes").join(id);
        std::fs::create_dir_all(&dir).expect("programme folder");
        std::fs::write(
            dir.join("programme.toml"),
            text.replace("\"sample/", &format!("\"{sample}/")),
        )
        .expect("write programme");
        ws
    }

    pub(crate) fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    pub(crate) fn quarantine(&self) -> PathBuf {
        self.dir.path().join("lake.quarantine")
    }

    /// Runs `maaltal --config <ws>/maaltal.toml <args>` with extra env vars.
    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_maaltal"));
        cmd.arg("--config")
            .arg(self.dir.path().join("maaltal.toml"))
            .args(args);
        cmd.env_remove("MAALTAL_LAKE")
            .env_remove("MAALTAL_PSEUDONYM_KEY")
            .env("MAALTAL_LOG", LOG_FILTER);
        for (k, v) in env {
            cmd.env(k, v);
        }
        // The variables that hold secrets by their name (keys, passwords, tokens).
        let secrets: Vec<&str> = env
            .iter()
            .filter(|(k, _)| {
                ["KEY", "PASSWORD", "TOKEN", "SECRET"]
                    .iter()
                    .any(|w| k.contains(w))
            })
            .map(|(_, v)| *v)
            .collect();
        no_personal_data(cmd.output().expect("run maaltal"), &secrets)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs and asserts success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "maaltal {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `maaltal sql <q> --format csv`, parsed to rows of strings (header dropped).
    pub(crate) fn sql(&self, q: &str) -> Vec<Vec<String>> {
        let out = self.ok(&["sql", q, "--format", "csv"]);
        out.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    }

    /// A single integer from SQL.
    pub(crate) fn count(&self, q: &str) -> i64 {
        let rows = self.sql(q);
        rows[0][0]
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {rows:?}"))
    }
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// sha256 of every file under `dir`, by relative path.
pub(crate) fn hash_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    hex::encode(Sha256::digest(&bytes)),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Every file under `dir`.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    walk(dir, &mut out);
    out.sort();
    out
}

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) authorization: Option<String>,
    pub(crate) if_none_match: Option<String>,
}

/// Scripted behaviour of the test server.
#[derive(Default)]
pub(crate) struct Script {
    /// Answer 503 this many times before serving.
    pub fail_503: usize,
    /// The only accepted Jobindsats key (None: no check).
    pub(crate) api_key: Option<String>,
    pub(crate) seen: Vec<Seen>,
}

/// A real HTTP server on 127.0.0.1 serving the sample folder: plain files under `/files/…`
/// (with ETag / If-None-Match) and the Jobindsats v2 API under `/v2/…`.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) script: Arc<Mutex<Script>>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    pub(crate) fn start(root: &Path, script: Script) -> Self {
        use axum::extract::{Path as AxPath, Query, State};
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::{IntoResponse, Response};
        use axum::routing::get;

        #[derive(Clone)]
        struct St {
            root: PathBuf,
            script: Arc<Mutex<Script>>,
        }

        fn serve_file(st: &St, rel: &str, headers: &HeaderMap, path_for_log: String) -> Response {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let inm = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut s = st.script.lock().unwrap();
            let record = |status: u16, s: &mut Script| {
                s.seen.push(Seen {
                    path: path_for_log.clone(),
                    status,
                    authorization: auth.clone(),
                    if_none_match: inm.clone(),
                })
            };
            if s.fail_503 > 0 {
                s.fail_503 -= 1;
                record(503, &mut s);
                return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            if let Some(key) = &s.api_key
                && rel.starts_with("jobindsats/")
                && auth.as_deref() != Some(key.as_str())
            {
                record(200, &mut s);
                // Jobindsats answers a bad key with a JSON object holding a Danish message.
                return (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"Message\":\"Ugyldig API-nøgle. Kontakt Jobindsats for en gyldig nøgle.\"}",
                )
                    .into_response();
            }
            let Ok(bytes) = std::fs::read(st.root.join(rel)) else {
                record(404, &mut s);
                return (StatusCode::NOT_FOUND, "no such extract").into_response();
            };
            let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..16]);
            if inm.as_deref() == Some(etag.as_str()) {
                record(304, &mut s);
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            }
            record(200, &mut s);
            (StatusCode::OK, [(header::ETAG, etag)], bytes).into_response()
        }

        async fn files(
            State(st): State<St>,
            AxPath(rel): AxPath<String>,
            headers: HeaderMap,
        ) -> Response {
            serve_file(&st, &rel, &headers, format!("/files/{rel}"))
        }
        async fn meta(
            State(st): State<St>,
            AxPath(table): AxPath<String>,
            headers: HeaderMap,
        ) -> Response {
            serve_file(
                &st,
                &format!("jobindsats/{table}/metadata.json"),
                &headers,
                format!("/v2/tables/{table}/json"),
            )
        }
        async fn data(
            State(st): State<St>,
            AxPath(table): AxPath<String>,
            Query(q): Query<std::collections::HashMap<String, String>>,
            headers: HeaderMap,
        ) -> Response {
            let period = q.get("period").cloned().unwrap_or_default();
            serve_file(
                &st,
                &format!("jobindsats/{table}/{period}.json"),
                &headers,
                format!("/v2/data/{table}/json?period={period}"),
            )
        }

        let script = Arc::new(Mutex::new(script));
        let st = St {
            root: root.to_path_buf(),
            script: script.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/files/{*rel}", get(files))
            .route("/v2/tables/{table}/json", get(meta))
            .route("/v2/data/{table}/json", get(data))
            .with_state(st);
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            script,
            _runtime: runtime,
        }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }
}

/// The fenced blocks of language `lang` in a Markdown document, in order.
pub(crate) fn doc_blocks(doc: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in doc.lines() {
        match &mut cur {
            None if line.trim() == format!("```{lang}") => cur = Some(String::new()),
            Some(b) if line.trim() == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}
