//! The route table of `/api/v1`. Each route is declared once, beside its
//! handler, with its method, path, summary and who may call it; the router
//! mounts exactly these, the OpenAPI document describes exactly these, and
//! the tenancy test calls every one of them, so the three cannot drift.

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::v1::ApiState;

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET: reads.
    Get,
    /// POST: actions.
    Post,
    /// PUT: create or replace.
    Put,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The method's name, lowercase, as OpenAPI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Delete => "delete",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Self::Get => MethodFilter::GET,
            Self::Post => MethodFilter::POST,
            Self::Put => MethodFilter::PUT,
            Self::Delete => MethodFilter::DELETE,
        }
    }
}

/// One authenticated route.
pub struct ApiRoute {
    /// Its method.
    pub verb: Verb,
    /// Its path template (`/api/v1/accounts/{account}/cases`).
    pub path: &'static str,
    /// What it does, for the document.
    pub summary: &'static str,
    /// Who may call it, for the document.
    pub roles: &'static str,
    pub(crate) handler: MethodRouter<ApiState>,
}

impl ApiRoute {
    /// `verb path` served by `handler`.
    pub(crate) fn new<H, T>(
        verb: Verb,
        path: &'static str,
        summary: &'static str,
        roles: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        Self { verb, path, summary, roles, handler: on(verb.filter(), handler) }
    }
}

impl std::fmt::Debug for ApiRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb.as_str(), self.path)
    }
}

/// Every authenticated route of `/api/v1`, in the document's order.
pub fn routes() -> Vec<ApiRoute> {
    let mut routes = crate::v1::routes();
    routes.extend(crate::responses::routes());
    routes
}
