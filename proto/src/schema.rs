//! JSON Schemas of the wire types, generated from the Rust types and checked in
//! under `proto/schema/` so that consumers in other languages can validate
//! messages. The `schemas_match_checked_in_files` test fails when they drift;
//! regenerate with `SMO_BLESS=1 cargo test -p smo-proto`.

use schemars::{JsonSchema, schema_for};

use crate::{CaseEvent, EnrichedPost, Post};

/// Every published schema as (file name, pretty JSON text).
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("post.schema.json", render::<Post>()),
        ("enriched_post.schema.json", render::<EnrichedPost>()),
        ("case_event.schema.json", render::<CaseEvent>()),
    ]
}

fn render<T: JsonSchema>() -> String {
    let schema = schema_for!(T);
    // Serializing a schema of plain types cannot fail; fall back to an empty
    // object rather than panic so this stays usable from any caller.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
