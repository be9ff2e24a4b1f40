//! `/api/v1/accounts/{account}/…`: the agents' case API. Every route checks
//! the bearer token first: another account's resources answer 404 (never
//! confirming they exist), a client token may not touch cases (403), and an
//! agent acts only on cases they hold (403 naming the holder).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use smo_community::CaseOpener;
use smo_proto::{AccountId, CaseStatus};
use smo_store::{
    ApiRole, CaseAction, CaseCommand, CaseFilter, CaseRow, NextCase, Presence, Store, StoreError, TokenRow,
};

use crate::auth::{Denied, Need, authorize, hash_secret};
use crate::routes::{ApiRoute, Verb};

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) store: Store,
    pub(crate) opener: CaseOpener,
    /// Each account's outbound connector destination (its signed webhook);
    /// replies of accounts without one are recorded only.
    pub(crate) reply_destinations: Arc<HashMap<AccountId, String>>,
}

impl ApiState {
    /// State over `store`; SLA clocks follow each account's stored policy.
    pub fn new(store: Store) -> Self {
        Self { opener: CaseOpener::new(store.clone()), store, reply_destinations: Arc::default() }
    }

    /// Sends replies of each listed account to its destination (the
    /// account's outbound webhook) through the outbox.
    pub fn with_reply_destinations(mut self, destinations: HashMap<AccountId, String>) -> Self {
        self.reply_destinations = Arc::new(destinations);
        self
    }
}

/// An error as the API answers it: a status and `{"error": …}`.
#[derive(Debug)]
pub enum ApiError {
    /// No or unknown token: 401.
    Unauthorized,
    /// 404.
    NotFound(String),
    /// 403.
    Forbidden(String),
    /// 400.
    BadRequest(String),
    /// 409.
    Conflict(String),
    /// 500; the detail is logged, not sent.
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or invalid bearer token".to_owned()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::Conflict(m) => (StatusCode::CONFLICT, m),
            Self::Internal(m) => {
                tracing::error!(error = %m, "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(format!("not found: {what}")),
            StoreError::InvalidTransition { .. } | StoreError::Conflict(_) => {
                Self::Conflict(error.to_string())
            }
            StoreError::InvalidInput(_) => Self::BadRequest(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<smo_community::CommunityError> for ApiError {
    fn from(error: smo_community::CommunityError) -> Self {
        match error {
            smo_community::CommunityError::Store(store) => store.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

fn denied(denied: Denied) -> ApiError {
    match denied {
        Denied::NotFound => ApiError::NotFound("not found".to_owned()),
        Denied::Forbidden => ApiError::Forbidden("this token's role may not do this".to_owned()),
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// The caller's token and the account they may act on for this request.
pub(crate) struct Caller {
    pub(crate) token: TokenRow,
    pub(crate) account: AccountId,
}

impl Caller {
    pub(crate) fn actor(&self) -> String {
        self.token
            .agent
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.token.role.as_str(), self.token.name))
    }

    /// Agents act only on cases they hold.
    pub(crate) fn check_holder(&self, case: &CaseRow) -> ApiResult<()> {
        if self.token.role != ApiRole::Agent || case.assigned_agent == self.token.agent {
            return Ok(());
        }
        Err(ApiError::Forbidden(match &case.assigned_agent {
            Some(holder) => format!("case {} is held by {holder}", case.id),
            None => format!("case {} is not assigned to you", case.id),
        }))
    }
}

pub(crate) async fn caller(
    state: &ApiState,
    headers: &HeaderMap,
    account: &str,
    need: Need,
) -> ApiResult<Caller> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    let token = state.store.token_by_hash(&hash_secret(secret)).await?.ok_or(ApiError::Unauthorized)?;
    let account = AccountId::new(account).map_err(|_| ApiError::NotFound("not found".to_owned()))?;
    authorize(&token, &account, need).map_err(denied)?;
    Ok(Caller { token, account })
}

pub(crate) async fn case_of(state: &ApiState, caller: &Caller, case_id: i64) -> ApiResult<CaseRow> {
    state
        .store
        .get_case(&caller.account, case_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("case {case_id}")))
}

/// The routes under `/api/v1`: the table of [`crate::routes`] and the
/// document describing it.
pub fn router(state: ApiState) -> Router {
    crate::routes::routes()
        .into_iter()
        .fold(Router::new().route("/api/v1/openapi.json", get(openapi)), |router, route| {
            router.route(route.path, route.handler)
        })
        .with_state(state)
}

/// The case and agent routes of this module.
pub(crate) fn routes() -> Vec<ApiRoute> {
    const CASES: &str = "/api/v1/accounts/{account}/cases";
    const CASE: &str = "/api/v1/accounts/{account}/cases/{case_id}";
    vec![
        ApiRoute::new(
            Verb::Get,
            CASES,
            "The queue: cases, most urgent first (?status, ?agent, ?limit)",
            "admin, supervisor, agent",
            list_cases,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/next",
            "Pull the next case ({agent} for supervisors)",
            "admin, supervisor, agent",
            next_case,
        ),
        ApiRoute::new(
            Verb::Get,
            CASE,
            "A case with its holder, thread (messages), replies with delivery state, notes and audit log",
            "admin, supervisor, agent",
            case_detail,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/assign",
            "Assign to an agent ({agent, reason})",
            "admin, supervisor",
            assign,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/requeue",
            "Return to the queue ({reason})",
            "admin, supervisor, holding agent",
            requeue,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/status",
            "Change status ({to, reason})",
            "admin, supervisor, holding agent",
            set_status,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/respond",
            "Mark as answered elsewhere ({wait_on_customer, reason}); replies through smo use reply",
            "admin, supervisor, holding agent",
            respond,
        ),
        ApiRoute::new(
            Verb::Get,
            "/api/v1/accounts/{account}/agents",
            "Agents with presence and load",
            "admin, supervisor, agent",
            list_agents,
        ),
        ApiRoute::new(
            Verb::Put,
            "/api/v1/accounts/{account}/agents/{agent}/presence",
            "Set presence ({presence})",
            "admin, supervisor, the agent",
            set_presence,
        ),
    ]
}

/// `?status=&agent=&limit=` of the queue.
#[derive(Debug, Deserialize)]
struct QueueQuery {
    status: Option<String>,
    agent: Option<String>,
    limit: Option<u32>,
}

async fn list_cases(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Query(query): Query<QueueQuery>,
) -> ApiResult<Json<Vec<CaseRow>>> {
    let caller = caller(&state, &headers, &account, Need::ReadCases).await?;
    let status = match query.status.as_deref() {
        Some(name) => Some(
            CaseStatus::parse(name)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown status {name:?}")))?,
        ),
        None => None,
    };
    let filter = CaseFilter { status, agent: query.agent, limit: Some(query.limit.unwrap_or(100).min(1000)) };
    Ok(Json(state.store.list_cases(&caller.account, filter).await?))
}

/// Body of `cases/next`: which agent pulls (supervisors and admins must say).
#[derive(Debug, Default, Deserialize)]
struct NextBody {
    agent: Option<String>,
}

async fn next_case(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: Option<Json<NextBody>>,
) -> ApiResult<Json<NextCase>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    let asked = body.map(|Json(b)| b.agent).unwrap_or_default();
    let agent = match (&caller.token.agent, asked) {
        (Some(own), Some(other)) if *own != other => {
            return Err(ApiError::Forbidden("agents pull cases for themselves".to_owned()));
        }
        (Some(own), _) => own.clone(),
        (None, Some(agent)) => agent,
        (None, None) => return Err(ApiError::BadRequest("name the agent who pulls".to_owned())),
    };
    Ok(Json(state.store.next_case(&caller.account, &agent, chrono::Utc::now()).await?))
}

async fn case_detail(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
) -> ApiResult<Json<serde_json::Value>> {
    let caller = caller(&state, &headers, &account, Need::ReadCases).await?;
    let case = case_of(&state, &caller, case_id).await?;
    let messages = state.store.case_messages(&caller.account, case_id).await?;
    let events = state.store.case_events(&caller.account, case_id).await?;
    let replies = state.store.case_replies(&caller.account, case_id).await?;
    let notes = state.store.case_notes(&caller.account, case_id).await?;
    Ok(Json(serde_json::json!({
        "case": case,
        "holder": case.assigned_agent,
        "messages": messages,
        "replies": replies,
        "notes": notes,
        "events": events,
    })))
}

/// Body of `assign`.
#[derive(Debug, Deserialize)]
struct AssignBody {
    agent: String,
    reason: Option<String>,
}

pub(crate) async fn run_command(
    state: &ApiState,
    caller: &Caller,
    case_id: i64,
    reason: Option<String>,
    action: CaseAction,
) -> ApiResult<Json<CaseRow>> {
    let command = CaseCommand {
        actor: caller.actor(),
        reason: reason.unwrap_or_else(|| "through the API".to_owned()),
        expected_version: None,
        action,
    };
    Ok(Json(state.store.update_case(&caller.account, case_id, command, chrono::Utc::now()).await?))
}

async fn assign(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    Json(body): Json<AssignBody>,
) -> ApiResult<Json<CaseRow>> {
    let caller = caller(&state, &headers, &account, Need::Supervise).await?;
    run_command(&state, &caller, case_id, body.reason, CaseAction::Assign { agent: body.agent }).await
}

/// Body of actions that only take a reason.
#[derive(Debug, Default, Deserialize)]
struct ReasonBody {
    reason: Option<String>,
}

async fn requeue(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    body: Option<Json<ReasonBody>>,
) -> ApiResult<Json<CaseRow>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    caller.check_holder(&case_of(&state, &caller, case_id).await?)?;
    let reason = body.and_then(|Json(b)| b.reason);
    run_command(&state, &caller, case_id, reason, CaseAction::Requeue).await
}

/// Body of `status`.
#[derive(Debug, Deserialize)]
struct StatusBody {
    to: String,
    reason: Option<String>,
}

async fn set_status(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    Json(body): Json<StatusBody>,
) -> ApiResult<Json<CaseRow>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    let case = case_of(&state, &caller, case_id).await?;
    caller.check_holder(&case)?;
    let to = CaseStatus::parse(&body.to)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown status {:?}", body.to)))?;
    change_status(&state, &caller, &case, to, body.reason).await
}

/// Moves `case` to `to`, with what the account's SLA policy says its clock
/// does (pause while waiting on the customer, resume after).
pub(crate) async fn change_status(
    state: &ApiState,
    caller: &Caller,
    case: &CaseRow,
    to: CaseStatus,
    reason: Option<String>,
) -> ApiResult<Json<CaseRow>> {
    let policy = state.opener.policy(&caller.account).await?;
    let now = chrono::Utc::now();
    let sla = policy.sla.as_ref().map(|sla| sla.clock_for(case, to, now)).unwrap_or_default();
    run_command(state, caller, case.id, reason, CaseAction::SetStatus { to, sla }).await
}

/// Body of `respond`.
#[derive(Debug, Default, Deserialize)]
struct RespondBody {
    #[serde(default)]
    wait_on_customer: bool,
    reason: Option<String>,
}

async fn respond(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    body: Option<Json<RespondBody>>,
) -> ApiResult<Json<CaseRow>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    let case = case_of(&state, &caller, case_id).await?;
    caller.check_holder(&case)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let agent = caller.token.agent.clone().or(case.assigned_agent).unwrap_or_else(|| caller.actor());
    run_command(
        &state,
        &caller,
        case_id,
        body.reason,
        CaseAction::Respond { agent, wait_on_customer: body.wait_on_customer },
    )
    .await
}

async fn list_agents(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> ApiResult<Json<Vec<smo_store::AgentRow>>> {
    let caller = caller(&state, &headers, &account, Need::ReadCases).await?;
    Ok(Json(state.store.agents(&caller.account).await?))
}

/// Body of `presence`.
#[derive(Debug, Deserialize)]
struct PresenceBody {
    presence: Presence,
}

async fn set_presence(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, agent)): Path<(String, String)>,
    Json(body): Json<PresenceBody>,
) -> ApiResult<Json<smo_store::PresenceChange>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    if caller.token.role == ApiRole::Agent && caller.token.agent.as_deref() != Some(agent.as_str()) {
        return Err(ApiError::Forbidden("agents set their own presence".to_owned()));
    }
    Ok(Json(state.store.set_presence(&caller.account, &agent, body.presence, chrono::Utc::now()).await?))
}

/// The OpenAPI document of these routes.
async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}
