//! The HTTP surface of smo: the ops endpoints every worker process serves
//! (`/healthz` for liveness probes, `/metrics` in the Prometheus text format)
//! and the agents' case API under `/api/v1/accounts/{account}/…` ([`v1`]),
//! with hashed bearer tokens and roles ([`auth`]); each route is declared
//! once in the route table ([`routes`]) that the router, the OpenAPI document
//! and the tenancy test all read.
//! The service takes its listener and shutdown signal as arguments, so tests
//! run it in-process on port 0.

pub mod auth;
pub mod openapi;
mod responses;
pub mod routes;
pub mod v1;

pub use routes::{ApiRoute, Verb, routes};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Routes for ops: liveness and metrics.
pub fn ops_router() -> Router {
    Router::new().route("/healthz", get(|| async { "ok\n" })).route("/metrics", get(metrics))
}

async fn metrics() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], smo_runtime::metrics::render())
}

/// Serves `router` on `listener` until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { smo_runtime::shutdown::fired(&mut shutdown).await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use smo_runtime::metrics::{MetricDef, MetricKind, series};

    #[tokio::test]
    async fn serves_health_and_prometheus_metrics() {
        const SEEN: MetricDef =
            MetricDef { name: "smo_api_test_total", help: "Test.", kind: MetricKind::Counter };
        series(&SEEN, &[("account", "acme")]).add(2);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = smo_runtime::Shutdown::new();
        let server = tokio::spawn(serve(listener, ops_router(), shutdown.subscribe()));
        let health =
            reqwest::get(format!("http://{addr}/healthz")).await.expect("get").text().await.expect("body");
        assert_eq!(health, "ok\n");
        let metrics = reqwest::get(format!("http://{addr}/metrics")).await.expect("get");
        assert!(
            metrics.headers()[header::CONTENT_TYPE.as_str()]
                .to_str()
                .expect("ascii")
                .starts_with("text/plain")
        );
        let text = metrics.text().await.expect("body");
        assert!(text.contains("smo_api_test_total{account=\"acme\"} 2"), "{text}");
        shutdown.trigger();
        server.await.expect("join").expect("serve");
    }
}
