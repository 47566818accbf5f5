//! `maaltal serve --http ADDR`: the status page, its run histories, `/metrics`,
//! `/healthz`, `/readyz`, and two actions (re-run a period, resend failed mails) as POST
//! forms, served by axum on the daemon's own tokio runtime.
//!
//! ```text
//!  GET  /               status page          GET /jobs/<job>   run history
//!  GET  /metrics        Prometheus (OpenMetrics) text
//!  GET  /healthz        the process is up    GET /readyz       config, lake, scheduler
//!  POST /actions/rerun  job, period, token ─┐
//!  POST /actions/resend job, period, token ─┴─► the daemon's queue: run_job, one at a time
//! ```
//! An action needs the token from the environment variable `[status] token_env` names
//! (form field `token`, or `Authorization: Bearer …`); without it: 401, nothing done.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::{gather, html, metrics};
use crate::config::Config;
use crate::period::Period;
use crate::serve::Clock;

/// What an operator asked for on the page.
#[derive(Debug, Clone)]
pub struct Action {
    /// The job.
    pub job: String,
    /// Its period.
    pub period: Period,
    /// `rerun` or `resend`.
    pub what: &'static str,
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// What the page shows: the daemon's configuration with every programme's jobs
    /// (`serve::jobs_of_all`).
    pub config: Arc<Config>,
    /// The daemon's clock.
    pub clock: Clock,
    /// Set once the catch-up is done and the scheduler runs.
    pub ready: Arc<AtomicBool>,
    /// Where actions go.
    pub actions: mpsc::UnboundedSender<Action>,
}

#[derive(serde::Deserialize)]
struct ActionForm {
    job: String,
    period: String,
    #[serde(default)]
    token: Option<String>,
}

fn configured_token(config: &Config) -> Option<String> {
    let name = config.status.token_env.as_ref()?;
    std::env::var(name).ok().filter(|t| !t.is_empty())
}

/// Equal in time whatever the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn status(st: &AppState) -> super::Status {
    let (cfg, now) = (st.config.clone(), st.clock.now());
    tokio::task::spawn_blocking(move || gather(&cfg, now))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

async fn index(State(st): State<AppState>) -> Html<String> {
    let s = status(&st).await;
    Html(html::index(&s, configured_token(&st.config).is_some()))
}

async fn job(State(st): State<AppState>, Path(name): Path<String>) -> Response {
    let s = status(&st).await;
    match html::job(&s, &name) {
        Some(page) => Html(page).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no job `{name}`\n")).into_response(),
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    let s = status(&st).await;
    let cfg = st.config.clone();
    let landed = tokio::task::spawn_blocking(move || metrics::landed(&cfg))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics::render(&s, &landed),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(st): State<AppState>) -> Response {
    let mut missing = Vec::new();
    if std::fs::read_dir(&st.config.lake.path).is_err() {
        missing.push(format!(
            "lake {} not readable",
            st.config.lake.path.display()
        ));
    }
    if !st.ready.load(Ordering::SeqCst) {
        missing.push("scheduler not running yet (catching up)".to_string());
    }
    if missing.is_empty() {
        (
            StatusCode::OK,
            "ready: config valid, lake readable, scheduler running\n",
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", missing.join("; ")),
        )
            .into_response()
    }
}

fn act(st: &AppState, headers: &HeaderMap, form: ActionForm, what: &'static str) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let given = form.token.filter(|t| !t.is_empty()).or(bearer);
    let allowed = match (configured_token(&st.config), given) {
        (Some(want), Some(got)) => same(&want, &got),
        _ => false,
    };
    if !allowed {
        warn!(what, job = %form.job, "action refused: no valid token");
        return (
            StatusCode::UNAUTHORIZED,
            "401: this action needs the token from the variable `[status] token_env` names\n",
        )
            .into_response();
    }
    if !st.config.jobs.contains_key(&form.job) {
        return (StatusCode::BAD_REQUEST, format!("no job `{}`\n", form.job)).into_response();
    }
    let Ok(period) = form.period.parse::<Period>() else {
        return (
            StatusCode::BAD_REQUEST,
            format!("`{}` is no period (2018Q4, 2018-11)\n", form.period),
        )
            .into_response();
    };
    info!(what, job = %form.job, %period, "action queued from the status page");
    let _ = st.actions.send(Action {
        job: form.job.clone(),
        period,
        what,
    });
    Redirect::to(&format!("/jobs/{}", form.job)).into_response()
}

async fn rerun(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    act(&st, &headers, f, "rerun")
}

async fn resend(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    act(&st, &headers, f, "resend")
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/jobs/{name}", get(job))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/actions/rerun", post(rerun))
        .route("/actions/resend", post(resend))
        .with_state(state)
}

/// Binds `addr` and serves until the process ends. Binding fails loudly (a port in use).
pub async fn spawn(addr: SocketAddr, state: AppState) -> Result<(), crate::error::Error> {
    let listener =
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| crate::error::Error::Usage {
                message: format!("--http {addr}: cannot listen: {e}"),
            })?;
    info!("status page on http://{addr}/");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(state)).await {
            warn!("status page stopped: {e}");
        }
    });
    Ok(())
}
