//! The LLM router: an OpenAI-compatible gateway in front of a primary LLM backend and a
//! secondary one, with the platform's traffic manager (admission per key, rate counters,
//! spillover, in-flight caps, quota-aware rotation, retries and fallback) and a usage ledger of
//! every request and every attempt. Never depends on the station, the engine or tauri; shares
//! wire types with the station through `protocol` only.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod backend;
pub mod blobs;
pub mod config;
pub mod db;
pub mod devices;
pub mod dispatch;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod metrics;
pub mod rollup;
pub mod state;
pub mod tasks;
pub mod traffic;
pub mod updates;

use std::future::Future;
use std::sync::Arc;

pub use config::RouterConfig;
pub use error::RouterError;
pub use state::AppState;

/// Serves on `listener` until `shutdown` resolves; then the ledger is flushed.
pub async fn serve(
    config: RouterConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RouterError> {
    serve_state(AppState::new(config).await?, listener, shutdown).await
}

/// Serves a state already opened (its ledger migrated): the binary opens it before it binds,
/// so whoever sees the router listening finds its database ready for the other commands.
pub async fn serve_state(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RouterError> {
    match jobs::resume_running(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "jobs a stopped router left running are run again"),
        Err(error) => tracing::error!(%error, "jobs left running not resumed"),
    }
    let app = api::router(Arc::clone(&state));
    let sweeper = tokio::spawn({
        let pool = state.ledger.db().clone();
        async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                if let Err(error) = idempotency::sweep(&pool).await {
                    tracing::warn!(%error, "expired idempotency keys not swept");
                }
            }
        }
    });
    let resumer = tokio::spawn(jobs::keep_resuming(Arc::clone(&state)));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    sweeper.abort();
    resumer.abort();
    state.ledger.flush().await;
    Ok(())
}
