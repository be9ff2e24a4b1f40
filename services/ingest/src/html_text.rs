//! HTML fragments to plain text: Mastodon statuses, Hacker News comments and
//! feed descriptions arrive as HTML, while classification and search want the
//! words. Tags are dropped (their text kept), line and paragraph breaks become
//! newlines, `<script>`/`<style>` content is skipped and entities decoded.
//! Small and forgiving by design: any input gives some text, never a panic.

/// The text of an HTML fragment.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skipping: Option<&'static str> = None;
    while let Some(lt) = rest.find('<') {
        if skipping.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        let after = &rest[lt + 1..];
        if !after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            // `a < b`: text, not a tag.
            if skipping.is_none() {
                out.push('<');
            }
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A lone `<`: text, not a tag.
            if skipping.is_none() {
                push_text(&mut out, &rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = after[..gt].trim();
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(skipped) = skipping {
            if closing && name == skipped {
                skipping = None;
            }
            continue;
        }
        match name.as_str() {
            "script" if !closing => skipping = Some("script"),
            "style" if !closing => skipping = Some("style"),
            "br" => out.push('\n'),
            "p" | "div" | "li" | "blockquote" | "pre" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr"
                if !out.is_empty() && !out.ends_with("\n\n") =>
            {
                out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
            }
            _ => {}
        }
    }
    if skipping.is_none() {
        push_text(&mut out, rest);
    }
    tidy(&out)
}

fn push_text(out: &mut String, raw: &str) {
    out.push_str(&decode_entities(raw));
}

/// Collapses runs of spaces and tabs, trims lines, keeps at most one blank
/// line between paragraphs.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

/// Decodes character references: numeric ones and the named ones found in
/// social-media text. Unknown or broken references are kept as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let candidate = &rest[amp + 1..];
        let decoded = candidate
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_one(&candidate[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &candidate[semi + 1..];
            }
            None => {
                out.push('&');
                rest = candidate;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_one(entity: &str) -> Option<char> {
    if let Some(number) = entity.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match entity {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_content_becomes_text() {
        let html = r#"<p>Flight cancelled again <a href="https://m.example/tags/airline" class="mention hashtag" rel="tag">#<span>airline</span></a> <span class="h-card"><a href="https://m.example/@brand" class="u-url mention">@<span>brand</span></a></span></p><p>see <a href="https://example.com/a/very/long/path"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very</span><span class="invisible">/long/path</span></a><br>thanks &amp; bye &#39;all&#x27; &hellip;</p>"#;
        assert_eq!(
            html_to_text(html),
            "Flight cancelled again #airline @brand\n\nsee https://example.com/a/very/long/path\nthanks & bye 'all' …"
        );
    }

    #[test]
    fn odd_input_never_panics() {
        for html in
            ["", "<", "a < b", "<p", "&", "&#xFFFFFFFF;", "&#0;", "<script>x", "<<>>", "é<br/>ü", "&amp"]
        {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(html_to_text("<style>p{}</style>hi<script>alert(1)</script> there"), "hi there");
        assert_eq!(decode_entities("fish &chips; &unknown; &#65;"), "fish &chips; &unknown; A");
    }
}
