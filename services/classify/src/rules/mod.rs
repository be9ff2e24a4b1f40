//! Boolean topic rules in the query language agencies know from Brandwatch
//! and Sprinklr: an account's topics, tag definitions, and later routing
//! conditions and searches are written as rules such as
//!
//! ```text
//! (delay* OR late OR cancel*) AND NOT "on time"
//! refund NEAR/3 (ticket OR flight)
//! {Apple} AND NOT (fruit OR pie)
//! #fail AND @acmeair
//! lang:es AND (reembolso OR devolución)
//! ```
//!
//! A rule is parsed once ([`parse`], [`Rule::parse`]) or compiled with the
//! account's other rules into a [`RuleSet`]; each post is prepared once as a
//! [`PostView`] (built from the same [`NormalizedText`](crate::text::NormalizedText)
//! tags and the classifier use, so all of them see the same words), and
//! [`RuleSet::matching`] names the rules it matches. Evaluation costs about
//! one hash lookup per word of the post plus the rules whose terms occur,
//! however many rules the set holds.
//!
//! # Grammar
//!
//! ```text
//! rule        = expression ;
//! expression  = unary , { ( "AND" | "NOT" ) , unary }      (* all of them   *)
//!             | unary , { "OR" , unary } ;                 (* any of them   *)
//! unary       = "NOT" , unary | proximity ;
//! proximity   = primary , [ near , primary ] ;             (* no chaining   *)
//! near        = "NEAR/" , n | "NEAR/" , n , "f" | "ONEAR/" , n ;
//! primary     = "(" , expression , ")" | term ;
//! term        = word | wildcard | phrase | case | hashtag | mention | field ;
//! word        = letters and digits, with inner apostrophes ;  (* e-mail = "e mail" *)
//! wildcard    = letter , { letter | "?" } , [ "*" ] ;          (* colo?r  deliver* *)
//! phrase      = '"' , ( word | wildcard ) , { " " , ( word | wildcard ) } , '"' ;
//! case        = "{" , word , { " " , word } , "}" ;           (* {Apple} *)
//! hashtag     = "#" , tag-name | "#" , wildcard ;
//! mention     = "@" , handle | "@" , wildcard ;
//! field       = field-name , ":" , ( value | '"' , value , '"' ) ;
//! field-name  = "author" | "lang" | "source" | "url" | "tag" | "intent" | "sentiment"
//!             | "urgency" ;
//! n           = 0 … 100 ;
//! ```
//!
//! # Semantics and deliberate choices
//!
//! - **Operators are upper case** (`AND`, `OR`, `NOT`, `NEAR/3`), as in
//!   Brandwatch: lowercase `and`, `or`, `not`, `near` are ordinary words.
//!   To search for the word `AND` itself, quote it: `"AND"`.
//! - **No implicit AND**: `apple pie` is an error ("terms need an operator
//!   between them"); write `apple AND pie` or the phrase `"apple pie"`.
//!   Being strict catches the common mistake of a forgotten quote.
//! - **AND and OR are not mixed without parentheses**: `a OR b AND c` is an
//!   error; write `(a OR b) AND c` or `a OR (b AND c)`. Precedence rules
//!   differ between tools, so the rule says what it means.
//! - `NOT x` negates; `a NOT b` and `a AND NOT b` both mean "a and not b".
//!   A rule may be purely negative (`NOT lang:en`); such rules are checked
//!   against every post.
//! - `NEAR/n` binds tighter than `NOT`, which binds tighter than AND/OR.
//!   `a NEAR/n b` matches when an occurrence of `a` and one of `b` have at
//!   most `n` other words between them, in either order (`NEAR/0`:
//!   adjacent); `ONEAR/n` (or Brandwatch's `NEAR/nf`) requires `a` first.
//!   Each side is a word, wildcard, phrase, `{case}` term, or a parenthesised
//!   OR-group of them; NEAR does not chain (`a NEAR/2 b NEAR/2 c` is an
//!   error) and cannot take hashtags, mentions or fields.
//! - **Matching is case- and accent-insensitive** on the tokens of
//!   [`crate::text::normalize`]: `Devolución`, `devolucion` and `DEVOLUCION`
//!   are the same word. Folding covers Latin-1 and Latin Extended-A letters
//!   (`é`, `ñ`, `ł`, `ß` → `ss`) and combining accents; other scripts are
//!   compared lowercased. `{Apple}` compares the word exactly as written,
//!   case and accents included (`{Apple}` does not match `apple` or
//!   `APPLE`).
//! - Words are whole tokens: `late` does not match `latest`. A phrase needs
//!   its words adjacent, in order and in the same clause (`late. Delivery`
//!   is not `"late delivery"`). The post's words exclude mentions, URLs and
//!   emoji; a hashtag's text is also a word (`#fail` gives the word `fail`).
//! - Wildcards: `*` only at the end of a word, for any number of characters
//!   including none, after at least [`MIN_WILDCARD_PREFIX`] (3) letters —
//!   `de*` would match half the language; `?` stands for exactly one
//!   character and cannot start a word. Both work in phrases, hashtags and
//!   mentions, not in `{case}` terms.
//! - `#tag` matches the post's hashtags, `@handle` the handles it mentions
//!   (both case-insensitive). `author:acmeair` compares the author's handle
//!   (a leading `@` is optional), `lang:es` the detected language code (also
//!   accepting a regional code such as `es-mx`), `source:twitter` the source
//!   name or its kind before `:` (`source:file` matches `file:sample`), and
//!   a trailing `*` makes any of these a prefix. `url:acme.com` matches that
//!   domain and its subdomains; a `url:` value with a `/` or without a dot
//!   is matched as a substring of the URL. `intent:complaint`,
//!   `sentiment:negative` and `urgency:legal` compare what classification
//!   decided; topic tags see them (the classifier decides them first), as do
//!   the rules that run after classification (routing conditions, searches;
//!   see [`PostView::with_classification`] and [`PostView::with_labels`]).
//!   `tag:billing` compares the tags themselves, so it serves only the rules
//!   that run after tagging. Field values with spaces, `(` or
//!   `)` are quoted: `source:"web form"`. A field the post does not carry
//!   (no URL, language not supplied) never matches.
//! - `foo:bar` with an unknown field name is an error (catches typos such as
//!   `autor:`); quote text that contains a colon.
//! - Limits: [`MAX_NESTING`] (64) nested parentheses or NOTs,
//!   [`MAX_NEAR_DISTANCE`] (100), [`MAX_RULE_CHARS`] (32,768). Exceeding one
//!   is a parse error, never a stack overflow.
//!
//! Errors ([`RuleError`]) carry the character offset where parsing stopped,
//! what was expected and what was found: `(delay* OR late` gives
//! `at 15: expected ')' to close the '(' at 0 but found end of rule`.
//!
//! # Example
//!
//! ```
//! use smo_classify::rules::{PostView, RuleSet};
//!
//! let rules = RuleSet::compile(&[
//!     ("delays", "(delay* OR late OR cancel*) AND NOT \"on time\""),
//!     ("refunds", "refund NEAR/3 (ticket OR flight)"),
//!     ("spanish-refunds", "lang:es AND (reembolso OR devolución)"),
//! ])?;
//! // Once per post, whatever the number of rule sets it meets.
//! let view = PostView::from_raw("@AcmeAir flight delayed 4h, I want a refund for my ticket")
//!     .with_lang("en");
//! assert_eq!(rules.matching(&view), ["delays", "refunds"]);
//!
//! let error = RuleSet::compile(&[("broken", "(delay* OR late")]).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "rule \"broken\": at 15: expected ')' to close the '(' at 0 but found end of rule"
//! );
//! # Ok::<(), smo_classify::rules::RuleSetError>(())
//! ```

mod ast;
mod error;
mod fold;
mod parser;
mod ruleset;
mod view;

pub use ast::{Expr, Field, FieldFilter, Near, Term, Wildcard, WordMatch};
pub use error::{RuleError, RuleSetError};
pub use parser::{MAX_NEAR_DISTANCE, MAX_NESTING, MAX_RULE_CHARS, MIN_WILDCARD_PREFIX, parse};
pub use ruleset::{Rule, RuleSet};
pub use view::PostView;

#[cfg(test)]
mod tests;
