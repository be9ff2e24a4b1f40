//! Which enriched posts become cases, and what the case shows.

use smo_proto::EnrichedPost;
use smo_store::NewCase;

use crate::policy::{AccountPolicy, level_of};

/// Longest case excerpt in characters: enough to triage from the queue
/// without opening the post.
pub const EXCERPT_MAX_CHARS: usize = 280;

/// The case a post opens, if it needs a human answer (a complaint or a
/// question); `None` otherwise. The case counts as opened when the post was
/// written, so SLA clocks start when the customer spoke and a redelivered
/// post yields the very same case.
pub fn new_case_from(post: &EnrichedPost) -> Option<NewCase> {
    new_case_with(post, &AccountPolicy::default())
}

/// [`new_case_from`] under an account's policy: the team its routing rules
/// pick, and SLA due times on its business hours (first response if the post
/// opens a case, next response if it is a follow-up that starts a clock).
pub fn new_case_with(post: &EnrichedPost, policy: &AccountPolicy) -> Option<NewCase> {
    if !post.intent.needs_response() {
        return None;
    }
    let level = level_of(post.priority);
    let at = post.post.created_at;
    Some(NewCase {
        post_id: post.post.id.clone(),
        thread_id: post.post.conversation_id().clone(),
        intent: post.intent,
        priority: post.priority,
        level,
        team: policy.team_for(post),
        author_handle: post.post.author.handle.clone(),
        lang: post.language.code.clone(),
        tags: post.tags.clone(),
        text_excerpt: text_excerpt(&post.post.text, EXCERPT_MAX_CHARS),
        opened_at: at,
        first_response_due_at: policy.sla.as_ref().and_then(|sla| sla.first_response_due(level, at)),
        next_response_due_at: policy.sla.as_ref().and_then(|sla| sla.next_response_due(level, at)),
    })
}

/// `text` with runs of whitespace (newlines included) collapsed to one space
/// and cut to at most `max_chars` characters, ending in `…` when cut. Cuts
/// fall on character boundaries, so any UTF-8 text is safe.
pub fn text_excerpt(text: &str, max_chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let collapsed = words.join(" ");
    if collapsed.chars().count() <= max_chars {
        return collapsed;
    }
    let Some(keep) = max_chars.checked_sub(1) else {
        return String::new();
    };
    let mut excerpt: String = collapsed.chars().take(keep).collect();
    excerpt.truncate(excerpt.trim_end().len());
    excerpt.push('…');
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_with_whitespace_collapsed() {
        assert_eq!(text_excerpt("  my\norder\t\tis late ", 280), "my order is late");
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let text = "é".repeat(300);
        let excerpt = text_excerpt(&text, EXCERPT_MAX_CHARS);
        assert_eq!(excerpt.chars().count(), EXCERPT_MAX_CHARS);
        assert!(excerpt.ends_with('…'));
        assert_eq!(text_excerpt(&text, 0), "");
        assert_eq!(text_excerpt("abc", 1), "…");
    }
}
