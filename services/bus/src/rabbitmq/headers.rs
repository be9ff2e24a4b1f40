//! Our string headers to and from AMQP field tables, including the broker's
//! own dead-letter headers (`x-death`) mapped to ours.

use lapin::types::{AMQPValue, FieldTable, ShortString};
use smo_proto::topology::{ORIGINAL_KEY_HEADER, REASON_HEADER};

use crate::Headers;

pub(super) fn headers_to_table(headers: &Headers) -> Result<FieldTable, String> {
    let mut table = FieldTable::default();
    for (name, value) in headers {
        let key = ShortString::try_new(name.as_str())
            .map_err(|_| format!("header name {name:.40}… longer than 255 bytes"))?;
        table.insert(key, AMQPValue::LongString(value.as_str().into()));
    }
    Ok(table)
}

fn value_to_string(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
        AMQPValue::ShortString(text) => text.as_str().to_owned(),
        AMQPValue::Boolean(flag) => flag.to_string(),
        AMQPValue::ShortShortInt(number) => number.to_string(),
        AMQPValue::ShortShortUInt(number) => number.to_string(),
        AMQPValue::ShortInt(number) => number.to_string(),
        AMQPValue::ShortUInt(number) => number.to_string(),
        AMQPValue::LongInt(number) => number.to_string(),
        AMQPValue::LongUInt(number) => number.to_string(),
        AMQPValue::LongLongInt(number) => number.to_string(),
        AMQPValue::Timestamp(number) => number.to_string(),
        AMQPValue::Float(number) => number.to_string(),
        AMQPValue::Double(number) => number.to_string(),
        _ => return None,
    })
}

/// String-valued headers of a delivery. Dead letters made by the broker
/// itself (delivery limit) carry `x-death` instead of our headers; their
/// reason and original key are copied into [`REASON_HEADER`] and
/// [`ORIGINAL_KEY_HEADER`] so consumers see the same shape from both backends.
pub(super) fn headers_from_table(table: Option<&FieldTable>) -> Headers {
    let mut headers = Headers::new();
    let Some(table) = table else {
        return headers;
    };
    for (name, value) in table {
        if let Some(text) = value_to_string(value) {
            headers.insert(name.as_str().to_owned(), text);
        }
    }
    if !headers.contains_key(REASON_HEADER)
        && let Some(reason) = table.inner().get("x-first-death-reason").and_then(value_to_string)
    {
        let reason = match reason.as_str() {
            "delivery_limit" => "delivery limit exceeded".to_owned(),
            "rejected" => "rejected by a consumer".to_owned(),
            "expired" => "expired".to_owned(),
            "maxlen" => "queue length limit".to_owned(),
            _ => reason,
        };
        headers.insert(REASON_HEADER.to_owned(), reason);
        let original_key = match table.inner().get("x-death") {
            Some(AMQPValue::FieldArray(deaths)) => match deaths.as_slice().first() {
                Some(AMQPValue::FieldTable(death)) => match death.inner().get("routing-keys") {
                    Some(AMQPValue::FieldArray(keys)) => keys.as_slice().first().and_then(value_to_string),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(key) = original_key {
            headers.entry(ORIGINAL_KEY_HEADER.to_owned()).or_insert(key);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_dead_letters_get_our_headers() {
        let mut death = FieldTable::default();
        death.insert(
            "routing-keys".into(),
            AMQPValue::FieldArray(vec![AMQPValue::LongString("acme.raw".into())].into()),
        );
        let mut table = FieldTable::default();
        table.insert("x-first-death-reason".into(), AMQPValue::LongString("delivery_limit".into()));
        table.insert("x-death".into(), AMQPValue::FieldArray(vec![AMQPValue::FieldTable(death)].into()));
        table.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        let headers = headers_from_table(Some(&table));
        assert_eq!(headers.get(REASON_HEADER).map(String::as_str), Some("delivery limit exceeded"));
        assert_eq!(headers.get(ORIGINAL_KEY_HEADER).map(String::as_str), Some("acme.raw"));
        assert_eq!(headers.get("x-delivery-count").map(String::as_str), Some("3"));
        assert!(!headers.contains_key("x-death"));
    }
}
