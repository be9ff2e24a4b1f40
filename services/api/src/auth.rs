//! Bearer tokens: secrets are shown once and stored as SHA-256 hashes; each
//! request's token resolves to a role bound to an account (admins to all).

use sha2::{Digest, Sha256};
use smo_proto::AccountId;
use smo_store::{ApiRole, TokenRow};

/// A new random secret: `smo_` and 64 hex characters (256 bits from two v4
/// UUIDs' random bits and the OS generator behind them).
pub fn generate_secret() -> String {
    format!("smo_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The hex SHA-256 of a secret: what the store keeps and looks up.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.trim().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a caller may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The resource is not visible to this token (another account): answered
    /// as 404 so that other accounts' resources are not even confirmed.
    NotFound,
    /// Visible, but the role may not do this: 403.
    Forbidden,
}

/// What a route needs from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read cases and agents: admin, supervisor, agent.
    ReadCases,
    /// Act on cases: admin, supervisor, agent (agents further limited to
    /// cases they hold, checked by the route).
    ActOnCases,
    /// Manage the account: admin, supervisor.
    Supervise,
}

/// Whether `token` may do what `need` says on `account`.
pub fn authorize(token: &TokenRow, account: &AccountId, need: Need) -> Result<(), Denied> {
    match (&token.account, token.role) {
        (None, ApiRole::Admin) => return Ok(()),
        (Some(own), _) if own == account => {}
        _ => return Err(Denied::NotFound),
    }
    match (token.role, need) {
        (ApiRole::Admin | ApiRole::Supervisor, _) => Ok(()),
        (ApiRole::Agent, Need::ReadCases | Need::ActOnCases) => Ok(()),
        (ApiRole::Agent, Need::Supervise) | (ApiRole::Client, _) => Err(Denied::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashes_are_hex_sha256() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 68);
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
