//! The OpenAPI 3.1 document of `/api/v1`, written from the route table
//! ([`crate::routes`]) so it lists exactly what [`crate::v1::router`] serves.

use serde_json::{Value, json};

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in crate::routes::routes() {
        let (path, summary, roles) = (route.path, route.summary, route.roles);
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
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        if let Some(object) = entry.as_object_mut() {
            object.insert(route.verb.as_str().to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "smo API", "version": "1" },
        "components": { "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
        "paths": paths
    })
}
