//! HTTP sources against a real HTTP server on 127.0.0.1: retries on 503, a 304 that
//! lands nothing, the Jobindsats bad-key answer, no retries on 404.

use crate::common::{Script, Server, Workspace, hash_tree, sample_dir, text};

fn fast(t: String) -> String {
    t.replace("backoff_ms = 500", "backoff_ms = 20")
}

#[test]
fn retries_503_then_lands_and_a_304_lands_nothing() {
    let server = Server::start(
        sample_dir(),
        Script {
            fail_503: 2,
            ..Script::default()
        },
    );
    let ws = Workspace::with_config(fast);
    let url = format!("{}/files/dream/dream_2018Q4.csv", server.base);
    let out = ws.run(&["ingest", "dream", &url, "--period", "2018Q4"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("retrying"),
        "{}",
        text(&out.stderr)
    );
    let statuses: Vec<u16> = server.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    let persons = ws.count("select count(*) from dream_persons");
    assert!(persons > 0);
    let json = ws.ok(&[
        "sql",
        "select etag from ledger_fetches where table_name = 'dream_persons'",
        "--format",
        "json",
    ]);
    let etag = serde_json::from_str::<serde_json::Value>(&json).unwrap()[0]["etag"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(etag.starts_with('"'), "{etag}");

    // Unchanged on the server: a conditional request, a 304, nothing landed.
    let raw_before = hash_tree(&ws.lake().join("raw"));
    let out = ws.ok(&["ingest", "dream", &url, "--period", "2018Q4"]);
    assert!(out.contains("not_modified"), "{out}");
    let last = server.seen().last().cloned().unwrap();
    assert_eq!(last.status, 304);
    assert_eq!(last.if_none_match.as_deref(), Some(etag.as_str()));
    assert_eq!(raw_before, hash_tree(&ws.lake().join("raw")));
    assert_eq!(ws.count("select count(*) from dream_persons"), persons);
    assert_eq!(
        ws.count("select count(*) from ledger_fetches where status = 'not_modified'"),
        1
    );
}

#[test]
fn gives_up_after_the_configured_retries() {
    let server = Server::start(
        sample_dir(),
        Script {
            fail_503: 100,
            ..Script::default()
        },
    );
    let ws = Workspace::with_config(|t| fast(t).replace("retries = 4", "retries = 2"));
    let out = ws.run(&[
        "ingest",
        "dream",
        &format!("{}/files/dream/dream_2018Q4.csv", server.base),
        "--period",
        "2018Q4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("HTTP 503"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.seen().len(), 3, "one try and two retries");
}

#[test]
fn a_404_is_not_retried() {
    let server = Server::start(sample_dir(), Script::default());
    let ws = Workspace::with_config(fast);
    let out = ws.run(&[
        "ingest",
        "dream",
        &format!("{}/files/dream/dream_2030Q1.csv", server.base),
        "--period",
        "2030Q1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not found"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn jobindsats_v2_with_a_good_key_lands_and_a_bad_key_fails_clearly() {
    let server = Server::start(
        sample_dir(),
        Script {
            api_key: Some("good-key-123".into()),
            ..Script::default()
        },
    );
    let base = server.base.clone();
    let ws = Workspace::with_config(|t| {
        fast(t).replace(
            &format!("location = \"{}/jobindsats\"", sample_dir().display()),
            &format!("location = \"{base}\""),
        )
    });
    let bad = ws.run_env(
        &["ingest", "jobindsats", "--period", "2018Q4"],
        &[("MAALTAL_JOBINDSATS_KEY", "wrong")],
    );
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("MAALTAL_JOBINDSATS_KEY"), "{err}");
    assert!(err.contains("Ugyldig API-nøgle"), "{err}");
    assert!(!err.contains("wrong"), "the key was printed: {err}");
    assert!(!ws.lake().join("raw/jobindsats").exists());
    assert_eq!(
        server.seen().len(),
        1,
        "no retry of an authentication failure"
    );

    let missing = ws.run(&["ingest", "jobindsats", "--period", "2018Q4"]);
    assert!(
        text(&missing.stderr).contains("`MAALTAL_JOBINDSATS_KEY` is not set"),
        "{}",
        text(&missing.stderr)
    );

    let good = ws.run_env(
        &["ingest", "jobindsats", "--period", "2018Q4"],
        &[("MAALTAL_JOBINDSATS_KEY", "good-key-123")],
    );
    assert!(good.status.success(), "{}", text(&good.stderr));
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.path == "/v2/tables/Y60A05/json"
        && s.authorization.as_deref() == Some("good-key-123")));
    assert!(
        seen.iter()
            .any(|s| s.path == "/v2/data/Y60A05/json?period=2018Q4" && s.status == 200)
    );
    assert!(ws.count("select count(*) from jobindsats_offers") > 0);

    // A period the metadata does not list yet is not fetched.
    let late = ws.run_env(
        &["ingest", "jobindsats", "--period", "2019Q1"],
        &[("MAALTAL_JOBINDSATS_KEY", "good-key-123")],
    );
    assert_eq!(late.status.code(), Some(2));
    assert!(
        text(&late.stderr).contains("does not list period 2019Q1 yet (latest: 2018Q4)"),
        "{}",
        text(&late.stderr)
    );
}

#[test]
fn fagsystem_export_over_http() {
    let server = Server::start(sample_dir(), Script::default());
    let ws = Workspace::with_config(fast);
    ws.ok(&[
        "ingest",
        "fagsystem",
        &format!("{}/files/fagsystem/316/2018-11", server.base),
        "--period",
        "2018-11",
        "--municipality",
        "316",
    ]);
    assert!(ws.count("select count(*) from fagsystem_sager where kommune = 316") > 0);
    assert_eq!(server.seen().len(), 5);
    let again = ws.ok(&[
        "ingest",
        "fagsystem",
        &format!("{}/files/fagsystem/316/2018-11", server.base),
        "--period",
        "2018-11",
        "--municipality",
        "316",
    ]);
    assert_eq!(again.matches("not_modified").count(), 5, "{again}");
}

#[test]
fn a_download_over_the_size_limit_is_refused() {
    let server = Server::start(sample_dir(), Script::default());
    let ws =
        Workspace::with_config(|t| fast(t).replace("max_bytes = 4294967296", "max_bytes = 1000"));
    let out = ws.run(&[
        "ingest",
        "dream",
        &format!("{}/files/dream/dream_2018Q4.csv", server.base),
        "--period",
        "2018Q4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("larger than the limit of 1000 bytes"),
        "{}",
        text(&out.stderr)
    );
    assert!(!ws.lake().join("raw").exists());
}

#[test]
fn a_refused_connection_is_retried_with_backoff_then_reported() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ws = Workspace::with_config(|t| fast(t).replace("retries = 4", "retries = 2"));
    let out = ws.run(&[
        "ingest",
        "dream",
        &format!("http://127.0.0.1:{port}/dream_2018Q4.csv"),
        "--period",
        "2018Q4",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("retrying").count(), 2, "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!ws.lake().join("raw").exists());
}
