//! What agents write: replies to the customer (typed, or from a canned
//! response with variables), internal notes, resolving; and the account's
//! canned responses, which supervisors manage. A reply is recorded with the
//! case's response in one transaction and leaves through the outbox (the
//! account's signed webhook) at least once; the `Idempotency-Key` header
//! (or `idempotency_key` in the body) makes a retried request harmless.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use smo_proto::CaseStatus;
use smo_store::{ANY_LANGUAGE, CannedResponse, CaseNote, NewReply};

use crate::auth::Need;
use crate::routes::{ApiRoute, Verb};
use crate::v1::{ApiError, ApiResult, ApiState, caller, case_of, change_status};

/// The routes of this module: what agents write and the canned responses.
pub(crate) fn routes() -> Vec<ApiRoute> {
    const NOTES: &str = "/api/v1/accounts/{account}/cases/{case_id}/notes";
    const CANNED: &str = "/api/v1/accounts/{account}/canned/{name}/{language}";
    vec![
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/reply",
            "Reply to the customer ({text} or {canned, variables}, wait_on_customer, idempotency_key or \
             Idempotency-Key header); 201 new, 200 for a repeated key",
            "admin, supervisor, holding agent",
            reply,
        ),
        ApiRoute::new(
            Verb::Post,
            "/api/v1/accounts/{account}/cases/{case_id}/resolve",
            "Resolve ({reason})",
            "admin, supervisor, holding agent",
            resolve,
        ),
        ApiRoute::new(Verb::Get, NOTES, "Internal notes of a case", "admin, supervisor, agent", list_notes),
        ApiRoute::new(
            Verb::Post,
            NOTES,
            "Add an internal note ({text}); never sent to the customer",
            "admin, supervisor, agent",
            add_note,
        ),
        ApiRoute::new(
            Verb::Get,
            "/api/v1/accounts/{account}/canned",
            "Canned responses by name and language",
            "admin, supervisor, agent",
            list_canned,
        ),
        ApiRoute::new(
            Verb::Put,
            CANNED,
            "Create or replace a canned response ({body} with {{variables}}; language a code or any)",
            "admin, supervisor",
            put_canned,
        ),
        ApiRoute::new(Verb::Delete, CANNED, "Delete a canned response", "admin, supervisor", delete_canned),
    ]
}

/// Body of `reply`: a text, or a canned response and its variables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    text: Option<String>,
    canned: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    wait_on_customer: bool,
    idempotency_key: Option<String>,
}

/// Longest reply accepted: longer than any platform allows a post to be.
const MAX_REPLY_CHARS: usize = 10_000;

async fn reply(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    Json(body): Json<ReplyBody>,
) -> ApiResult<Response> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    let case = case_of(&state, &caller, case_id).await?;
    caller.check_holder(&case)?;
    let agent = caller.token.agent.clone().unwrap_or_else(|| caller.actor());
    // The case's language, when detection gave one.
    let case_language = Some(case.lang.clone()).filter(|l| !l.is_empty() && l != "und");
    let (text, language, canned) = match (body.text, body.canned) {
        (Some(text), None) => (text, case_language, None),
        (None, Some(name)) => {
            let all = state.store.canned_responses(&caller.account).await?;
            let template = smo_community::choose(&all, &name, &case.lang)
                .map_err(|error| ApiError::BadRequest(error.to_string()))?;
            let values = smo_community::case_variables(&case, &agent, &body.variables);
            let text = smo_community::render(&template.body, &values)
                .map_err(|error| ApiError::BadRequest(format!("canned response {name}: {error}")))?;
            let language = if template.language == ANY_LANGUAGE {
                case_language
            } else {
                Some(template.language.clone())
            };
            (text, language, Some(name))
        }
        _ => return Err(ApiError::BadRequest("give either \"text\" or \"canned\"".to_owned())),
    };
    if text.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::BadRequest(format!("a reply is at most {MAX_REPLY_CHARS} characters")));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or(body.idempotency_key)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let new = NewReply {
        agent,
        actor: caller.actor(),
        body: text,
        language,
        canned,
        idempotency_key: key,
        wait_on_customer: body.wait_on_customer,
        destination: state.reply_destinations.get(&caller.account).cloned(),
    };
    let recorded = state.store.record_reply(&caller.account, case_id, &new, chrono::Utc::now()).await?;
    let status = if recorded.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(recorded)).into_response())
}

/// Body of a note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

async fn add_note(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    Json(body): Json<NoteBody>,
) -> ApiResult<(StatusCode, Json<CaseNote>)> {
    // Any agent of the account may leave a note for the holder.
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    case_of(&state, &caller, case_id).await?;
    if body.text.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::BadRequest(format!("a note is at most {MAX_REPLY_CHARS} characters")));
    }
    let author = caller.token.agent.clone().unwrap_or_else(|| caller.actor());
    let note =
        state.store.add_note(&caller.account, case_id, &author, &body.text, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn list_notes(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
) -> ApiResult<Json<Vec<CaseNote>>> {
    let caller = caller(&state, &headers, &account, Need::ReadCases).await?;
    case_of(&state, &caller, case_id).await?;
    Ok(Json(state.store.case_notes(&caller.account, case_id).await?))
}

/// Body of `resolve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    reason: Option<String>,
}

async fn resolve(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, case_id)): Path<(String, i64)>,
    body: Option<Json<ResolveBody>>,
) -> ApiResult<Json<smo_store::CaseRow>> {
    let caller = caller(&state, &headers, &account, Need::ActOnCases).await?;
    let case = case_of(&state, &caller, case_id).await?;
    caller.check_holder(&case)?;
    let reason = body.and_then(|Json(b)| b.reason);
    change_status(&state, &caller, &case, CaseStatus::Resolved, reason).await
}

async fn list_canned(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> ApiResult<Json<Vec<CannedResponse>>> {
    let caller = caller(&state, &headers, &account, Need::ReadCases).await?;
    Ok(Json(state.store.canned_responses(&caller.account).await?))
}

/// Body of `PUT canned/{name}/{language}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedBody {
    body: String,
}

/// A name agents can type: 1 to 64 of `a-z`, `0-9`, `-`, `_`.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `any`, or a language code as the classifier reports them (`es`, `pt-br`, `hi-latn`).
fn valid_language(language: &str) -> bool {
    language == ANY_LANGUAGE
        || language.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 { (2..=3).contains(&part.len()) } else { (2..=4).contains(&part.len()) };
            len_ok && part.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

async fn put_canned(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, name, language)): Path<(String, String, String)>,
    Json(body): Json<CannedBody>,
) -> ApiResult<Json<CannedResponse>> {
    let caller = caller(&state, &headers, &account, Need::Supervise).await?;
    let language = language.to_lowercase();
    if !valid_name(&name) {
        return Err(ApiError::BadRequest(format!("{name:?}: a name is 1 to 64 of a-z, 0-9, '-', '_'")));
    }
    if !valid_language(&language) {
        return Err(ApiError::BadRequest(format!(
            "{language:?}: a language code such as es or pt-br, or any"
        )));
    }
    if body.body.trim().is_empty() || body.body.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::BadRequest(format!("a template is 1 to {MAX_REPLY_CHARS} characters")));
    }
    smo_community::template_variables(&body.body).map_err(|error| ApiError::BadRequest(error.to_string()))?;
    let canned = CannedResponse {
        name,
        language,
        body: body.body,
        updated_by: caller.actor(),
        updated_at: chrono::Utc::now(),
    };
    state.store.put_canned(&caller.account, &canned).await?;
    Ok(Json(canned))
}

async fn delete_canned(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, name, language)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let caller = caller(&state, &headers, &account, Need::Supervise).await?;
    if state.store.delete_canned(&caller.account, &name, &language.to_lowercase()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("canned response {name} ({language})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_languages() {
        assert!(valid_name("refund-delay_2"));
        assert!(
            !valid_name("Refund") && !valid_name("") && !valid_name("a b") && !valid_name(&"a".repeat(65))
        );
        for ok in ["any", "es", "pt-br", "hi-latn", "fil"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "e", "english", "es_", "es-", "../x"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }
}
