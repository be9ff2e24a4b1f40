//! Connector tests: each platform's connector against a local HTTP server
//! that replays responses in that API's real format (the recorded pages are
//! in `tests/fixtures/<source>/`), covering pagination, rate limiting (429 +
//! `Retry-After`), a burst of server errors and a malformed page; plus the
//! shared HTTP client, the webhook receiver and the ingest loop's health and
//! checkpoint guarantees. One test binary, to keep link time down.

#![allow(clippy::unwrap_used, missing_docs)]

mod bluesky;
mod common;
mod feed;
mod hackernews;
mod http_client;
mod http_json;
mod ingestor;
mod mastodon;
mod reddit;
mod webhook;
mod youtube;
