//! Reading the response headers and bodies that steer polling: `Retry-After`
//! (seconds or an HTTP date), the rate-limit budget headers of Reddit
//! (`x-ratelimit-*`) and Bluesky (`ratelimit-*`), RFC 8288 `Link` headers
//! (Mastodon's pagination), and a short description of an error body (the
//! API's message, or the title of an HTML error page) for error messages.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// Longest part of a body quoted in an error message.
const QUOTE_CHARS: usize = 160;

/// The delay a `Retry-After` value asks for: delta-seconds or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), relative to `now`. Dates in the past
/// mean "now"; anything unreadable is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e9)));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    let now: DateTime<Utc> = now.into();
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// When a response says the client's budget is spent, how long until it
/// refills: Reddit's `x-ratelimit-remaining` / `x-ratelimit-reset` (seconds
/// until reset) and Bluesky's `ratelimit-remaining` / `ratelimit-reset` (a
/// Unix time).
pub fn exhausted_budget(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for (remaining, reset) in
        [("x-ratelimit-remaining", "x-ratelimit-reset"), ("ratelimit-remaining", "ratelimit-reset")]
    {
        let Some(left) = header_str(headers, remaining).and_then(|v| v.trim().parse::<f64>().ok()) else {
            continue;
        };
        if left >= 1.0 {
            return None;
        }
        let reset = header_str(headers, reset).and_then(|v| v.trim().parse::<u64>().ok())?;
        let unix_now = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Large values are Unix times, small ones are seconds from now.
        let wait = if reset > 1_000_000_000 { reset.saturating_sub(unix_now) } else { reset };
        return Some(Duration::from_secs(wait));
    }
    None
}

/// A header as text, if present and visible ASCII.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The target of the first link with relation `rel` in an RFC 8288 `Link`
/// header (`<https://…?max_id=7>; rel="next", <…>; rel="prev"`).
pub fn link_target<'a>(link: &'a str, rel: &str) -> Option<&'a str> {
    link.split(',').find_map(|part| {
        let part = part.trim();
        let target = part.strip_prefix('<')?;
        let end = target.find('>')?;
        let params = &target[end + 1..];
        let matches = params.split(';').any(|param| {
            let Some((name, value)) = param.trim().split_once('=') else { return false };
            name.trim().eq_ignore_ascii_case("rel")
                && value.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case(rel))
        });
        matches.then(|| &target[..end])
    })
}

/// True when a body is an HTML page rather than the JSON or XML asked for.
pub fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html")) {
        return true;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(256)]).trim_start().to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// A one-line description of an error body: an API's own message (`message`,
/// `error`, `error.message`, `error_description`, YouTube's first
/// `errors[].reason`), the title of an HTML page, or the start of the text.
pub fn describe_body(content_type: Option<&str>, body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "empty body".into();
    }
    if looks_like_html(content_type, body) {
        return match html_title(body) {
            Some(title) => format!("an HTML page titled {title:?}"),
            None => "an HTML page".into(),
        };
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(message) = api_message(&value)
    {
        return format!("API says {:?}", quote(&message));
    }
    format!("body starts with {:?}", quote(&String::from_utf8_lossy(body)))
}

fn api_message(value: &serde_json::Value) -> Option<String> {
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let error = value.get("error");
    if let Some(inner) = error.filter(|e| e.is_object()) {
        // Google APIs: {"error": {"code", "message", "errors": [{"reason"}]}}
        let message = text(inner.get("message"));
        let reason = text(inner.get("errors").and_then(|e| e.get(0)).and_then(|e| e.get("reason")));
        return match (message, reason) {
            (Some(m), Some(r)) => Some(format!("{m} ({r})")),
            (m, r) => m.or(r),
        };
    }
    // Bluesky XRPC: {"error": "InvalidRequest", "message": "…"}; Mastodon:
    // {"error": "…"}; Reddit and Algolia: {"message": "…"}.
    match (text(error), text(value.get("message")).or_else(|| text(value.get("error_description")))) {
        (Some(e), Some(m)) => Some(format!("{e}: {m}")),
        (e, m) => e.or(m),
    }
}

fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = crate::html_text::html_to_text(&text[open_end..close]);
    (!title.is_empty()).then(|| quote(&title))
}

/// `text` cut to a short single line for messages.
pub fn quote(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(QUOTE_CHARS).collect();
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21T07:27:50Z
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn rate_limit_budgets_of_reddit_and_bluesky() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0.0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("42"));
        assert_eq!(exhausted_budget(&headers, now), Some(Duration::from_secs(42)));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("57.0"));
        assert_eq!(exhausted_budget(&headers, now), None);

        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("ratelimit-reset", HeaderValue::from_static("1700000030"));
        assert_eq!(exhausted_budget(&headers, now), Some(Duration::from_secs(30)));
        assert_eq!(exhausted_budget(&HeaderMap::new(), now), None);
    }

    #[test]
    fn link_headers_give_targets_by_relation() {
        let link = r#"<https://m.example/api/v1/timelines/tag/rust?max_id=109>; rel="next", <https://m.example/api/v1/timelines/tag/rust?min_id=112>; rel="prev""#;
        assert_eq!(link_target(link, "next"), Some("https://m.example/api/v1/timelines/tag/rust?max_id=109"));
        assert_eq!(link_target(link, "prev"), Some("https://m.example/api/v1/timelines/tag/rust?min_id=112"));
        assert_eq!(link_target(link, "last"), None);
        assert_eq!(link_target("garbage, <x", "next"), None);
    }

    #[test]
    fn error_bodies_are_described_briefly() {
        let youtube = br#"{"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your quota.", "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}"#;
        assert!(describe_body(Some("application/json"), youtube).contains("(quotaExceeded)"));
        let bluesky = br#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#;
        assert_eq!(describe_body(None, bluesky), r#"API says "RateLimitExceeded: Rate Limit Exceeded""#);
        let html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>x</body></html>";
        assert_eq!(describe_body(Some("text/html"), html), r#"an HTML page titled "502 Bad Gateway""#);
        assert_eq!(describe_body(None, b"  "), "empty body");
        assert!(describe_body(None, "x".repeat(10_000).as_bytes()).len() < 200);
    }
}
