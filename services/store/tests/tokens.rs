//! API tokens, on both backends: stored by hash, bound to an account (and an
//! agent) by role, revocable.

#[macro_use]
mod common;

use chrono::{TimeZone, Utc};
use common::TestStore;
use smo_proto::AccountId;
use smo_store::{ApiRole, NewToken, StoreError};

on_both_backends!(tokens_authenticate_by_hash_until_revoked, token_roles_are_checked);

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn token(n: u8, account: Option<&str>, role: ApiRole, agent: Option<&str>) -> NewToken {
    NewToken {
        token_hash: hash(n),
        account: account.map(|a| AccountId::new(a).expect("account")),
        role,
        agent: agent.map(str::to_owned),
        name: format!("token {n}"),
    }
}

async fn tokens_authenticate_by_hash_until_revoked(db: &TestStore) {
    let now = Utc.with_ymd_and_hms(2024, 5, 6, 9, 0, 0).single().expect("time");
    let acme = AccountId::new("acme").expect("account");
    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let admin = db.store.create_token(&token(1, None, ApiRole::Admin, None), now).await.expect("admin");
    let agent = db
        .store
        .create_token(&token(2, Some("acme"), ApiRole::Agent, Some("ann")), now)
        .await
        .expect("agent");
    db.store.create_token(&token(3, Some("globex"), ApiRole::Client, None), now).await.expect("client");

    let found = db.store.token_by_hash(&hash(2).to_uppercase()).await.expect("lookup").expect("token");
    assert_eq!(found, agent);
    assert_eq!(found.account, Some(acme.clone()));
    assert_eq!(db.store.token_by_hash(&hash(9)).await.expect("lookup"), None);
    assert_eq!(db.store.list_tokens(Some(&acme)).await.expect("list"), std::slice::from_ref(&agent));
    assert_eq!(db.store.list_tokens(None).await.expect("list").len(), 3);

    assert!(db.store.revoke_token(admin.id, now).await.expect("revoke"));
    assert!(!db.store.revoke_token(admin.id, now).await.expect("revoke twice"));
    assert_eq!(db.store.token_by_hash(&hash(1)).await.expect("lookup"), None, "revoked");
    let duplicate = db.store.create_token(&token(2, Some("acme"), ApiRole::Supervisor, None), now).await;
    assert!(matches!(duplicate, Err(StoreError::Database(_))), "{duplicate:?}");
}

async fn token_roles_are_checked(db: &TestStore) {
    let now = Utc.with_ymd_and_hms(2024, 5, 6, 9, 0, 0).single().expect("time");
    for bad in [
        token(1, Some("acme"), ApiRole::Admin, None),
        token(1, None, ApiRole::Supervisor, None),
        token(1, Some("acme"), ApiRole::Client, Some("ann")),
        token(1, Some("acme"), ApiRole::Agent, None),
        NewToken { token_hash: "secret".to_owned(), ..token(1, None, ApiRole::Admin, None) },
    ] {
        let refused = db.store.create_token(&bad, now).await;
        assert!(matches!(refused, Err(StoreError::InvalidInput(_))), "{bad:?}: {refused:?}");
    }
    let unknown_agent =
        db.store.create_token(&token(1, Some("acme"), ApiRole::Agent, Some("zed")), now).await;
    assert!(matches!(unknown_agent, Err(StoreError::NotFound(_))), "{unknown_agent:?}");
}
