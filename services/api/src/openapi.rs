//! The OpenAPI 3.1 document of `/api/v1`, written from the route table so it
//! lists exactly what [`crate::v1::router`] serves.

use serde_json::{Value, json};

/// (method, path, summary, who may call it) of every authenticated route;
/// the tenancy test walks this table, so a route missing here is untested.
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    (
        "get",
        "/api/v1/accounts/{account}/cases",
        "The queue: cases, most urgent first (?status, ?agent, ?limit)",
        "admin, supervisor, agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/next",
        "Pull the next case ({agent} for supervisors)",
        "admin, supervisor, agent",
    ),
    (
        "get",
        "/api/v1/accounts/{account}/cases/{case_id}",
        "A case with its holder, thread (messages), replies with delivery state, notes and audit log",
        "admin, supervisor, agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/assign",
        "Assign to an agent ({agent, reason})",
        "admin, supervisor",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/requeue",
        "Return to the queue ({reason})",
        "admin, supervisor, holding agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/status",
        "Change status ({to, reason})",
        "admin, supervisor, holding agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/respond",
        "Mark as answered elsewhere ({wait_on_customer, reason}); replies through smo use reply",
        "admin, supervisor, holding agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/reply",
        "Reply to the customer ({text} or {canned, variables}, wait_on_customer, idempotency_key or \
         Idempotency-Key header); 201 new, 200 for a repeated key",
        "admin, supervisor, holding agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/resolve",
        "Resolve ({reason})",
        "admin, supervisor, holding agent",
    ),
    (
        "get",
        "/api/v1/accounts/{account}/cases/{case_id}/notes",
        "Internal notes of a case",
        "admin, supervisor, agent",
    ),
    (
        "post",
        "/api/v1/accounts/{account}/cases/{case_id}/notes",
        "Add an internal note ({text}); never sent to the customer",
        "admin, supervisor, agent",
    ),
    (
        "get",
        "/api/v1/accounts/{account}/canned",
        "Canned responses by name and language",
        "admin, supervisor, agent",
    ),
    (
        "put",
        "/api/v1/accounts/{account}/canned/{name}/{language}",
        "Create or replace a canned response ({body} with {{variables}}; language a code or any)",
        "admin, supervisor",
    ),
    (
        "delete",
        "/api/v1/accounts/{account}/canned/{name}/{language}",
        "Delete a canned response",
        "admin, supervisor",
    ),
    ("get", "/api/v1/accounts/{account}/agents", "Agents with presence and load", "admin, supervisor, agent"),
    (
        "put",
        "/api/v1/accounts/{account}/agents/{agent}/presence",
        "Set presence ({presence})",
        "admin, supervisor, the agent",
    ),
];

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, roles) in ROUTES {
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let operation = json!({
            "summary": summary,
            "description": format!("Allowed: {roles}. Another account's resources answer 404."),
            "security": [{ "bearer": [] }],
            "parameters": parameters,
            "responses": {
                "200": { "description": "OK" },
                "401": { "description": "Missing or invalid token" },
                "403": { "description": "Role may not do this" },
                "404": { "description": "Not found, or another account's" },
                "409": { "description": "Not allowed in the case's current state" }
            }
        });
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        if let Some(object) = entry.as_object_mut() {
            object.insert((*method).to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "smo API", "version": "1" },
        "components": { "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
        "paths": paths
    })
}
