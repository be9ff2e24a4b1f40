//! Prometheus series of the ingest stage, as typed statics with bounded label
//! values: accounts and source names come from the config, hosts from the
//! configured URLs, statuses are HTTP codes, error kinds a fixed list.

use smo_proto::AccountId;
use smo_runtime::metrics::{self, MetricDef, MetricKind};

/// Posts published and confirmed, by account and source.
pub const POSTS_FETCHED: MetricDef = MetricDef {
    name: "smo_ingest_posts_fetched_total",
    help: "Posts a source fetched and the broker confirmed, by account and source.",
    kind: MetricKind::Counter,
};

/// Inputs dead-lettered, by account and source.
pub const REJECTED: MetricDef = MetricDef {
    name: "smo_ingest_rejected_total",
    help: "Inputs of a source that could not become posts (dead-lettered), by account and source.",
    kind: MetricKind::Counter,
};

/// Failed polls, by account, source and error kind.
pub const ERRORS: MetricDef = MetricDef {
    name: "smo_ingest_errors_total",
    help: "Failed polls of a source, by account, source and kind (http, bad_response, rate_limited, …).",
    kind: MetricKind::Counter,
};

/// 1 when the source's last poll succeeded, 0 when it failed.
pub const SOURCE_HEALTHY: MetricDef = MetricDef {
    name: "smo_ingest_source_healthy",
    help: "1 when the source's last poll succeeded, 0 when it failed.",
    kind: MetricKind::Gauge,
};

/// HTTP requests made by connectors, by host and status (`error` when no
/// response came back).
pub const HTTP_REQUESTS: MetricDef = MetricDef {
    name: "smo_ingest_http_requests_total",
    help: "HTTP requests made by ingest connectors, by host and status code (error: no response).",
    kind: MetricKind::Counter,
};

pub(crate) fn count_posts(account: &AccountId, source: &str, published: u64, rejected: u64) {
    let labels = [("account", account.as_str()), ("source", source)];
    metrics::series(&POSTS_FETCHED, &labels).add(published);
    metrics::series(&REJECTED, &labels).add(rejected);
}

pub(crate) fn mark_healthy(account: &AccountId, source: &str, healthy: bool) {
    metrics::series(&SOURCE_HEALTHY, &[("account", account.as_str()), ("source", source)])
        .set(i64::from(healthy));
}

pub(crate) fn count_error(account: &AccountId, source: &str, kind: &'static str) {
    metrics::series(&ERRORS, &[("account", account.as_str()), ("source", source), ("kind", kind)]).add(1);
}

pub(crate) fn count_request(host: &str, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_owned(), |code| code.to_string());
    metrics::series(&HTTP_REQUESTS, &[("host", host), ("status", &status)]).add(1);
}
