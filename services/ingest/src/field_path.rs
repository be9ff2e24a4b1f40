//! Dotted paths into JSON (`data.items`, `user.handle`, `links.0.href`), so a
//! generic source is configured by naming fields instead of by code.

use serde_json::Value;

/// The value at `path` in `value`; an empty path is the value itself.
pub(crate) fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |node, segment| match node {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// The value at `path` as a string: strings as is, numbers and booleans
/// printed, anything else (missing, null, objects) as `None`.
pub(crate) fn lookup_string(value: &Value, path: &str) -> Option<String> {
    match lookup(value, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_objects_and_arrays() {
        let v = serde_json::json!({"data": {"items": [{"id": 7, "user": {"handle": "jo"}}]}});
        assert_eq!(lookup_string(&v, "data.items.0.id").as_deref(), Some("7"));
        assert_eq!(lookup_string(&v, "data.items.0.user.handle").as_deref(), Some("jo"));
        assert!(lookup(&v, "data.items.1").is_none());
        assert!(lookup(&v, "data.nope.x").is_none());
        assert!(lookup_string(&v, "data").is_none());
    }
}
