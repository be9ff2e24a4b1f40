//! The store's traits, one per kind of consumer, each implemented once for
//! every backend by the generic operations of [`crate::ops`].

mod cases;
mod cursors;
mod reports;
mod responses;
mod roster;
mod tokens;

pub use cases::CaseStore;
pub use cursors::CursorStore;
pub use reports::ReportStore;
pub use responses::ResponseStore;
pub use roster::RosterStore;
pub use tokens::TokenStore;
