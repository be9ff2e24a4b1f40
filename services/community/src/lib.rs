//! Community management: complaints and questions become cases routed to
//! agents. This crate holds the domain rules (which enriched posts need a
//! human answer, what a case shows, which account may write what) and drives
//! `smo-store` to open cases in one transaction per batch; the `smo` binary
//! wires it to the bus and acks a batch only after [`CaseOpener::open_batch`]
//! returns `Ok`.

mod error;
mod new_case;
mod opener;

pub use error::{CommunityError, PostRejected};
pub use new_case::{EXCERPT_MAX_CHARS, new_case_from, text_excerpt};
pub use opener::{CaseOpener, OpenBatchReport, PostOutcome};
