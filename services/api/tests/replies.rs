//! Replies, canned responses, notes and resolving through the HTTP API: a
//! canned response fills its variables in the case's language, a repeated
//! idempotency key records one reply, only the holder (or a supervisor)
//! replies, the case detail shows who holds it, its replies and notes.

use std::collections::HashMap;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use smo_api::auth::{generate_secret, hash_secret};
use smo_api::v1::{ApiState, router};
use smo_proto::{AccountId, CasePriority, Intent, PostId};
use smo_store::{ApiRole, NewCase, NewToken, Store, StoreOptions};
use tokio::net::TcpListener;

struct Api {
    base: String,
    client: reqwest::Client,
    store: Store,
    _dir: tempfile::TempDir,
    shutdown: smo_runtime::Shutdown,
}

impl Api {
    async fn start(destinations: HashMap<AccountId, String>) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("api.db").display());
        let store = Store::connect(StoreOptions::new(url)).await.expect("store");
        store.migrate().await.expect("migrate");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = smo_runtime::Shutdown::new();
        let state = ApiState::new(store.clone()).with_reply_destinations(destinations);
        tokio::spawn(smo_api::serve(listener, router(state), shutdown.subscribe()));
        Self { base: format!("http://{addr}"), client: reqwest::Client::new(), store, _dir: dir, shutdown }
    }

    async fn token(&self, account: &AccountId, role: ApiRole, agent: Option<&str>) -> String {
        let secret = generate_secret();
        let new = NewToken {
            token_hash: hash_secret(&secret),
            account: Some(account.clone()),
            role,
            agent: agent.map(str::to_owned),
            name: format!("{}-{}", role.as_str(), agent.unwrap_or("x")),
        };
        self.store.create_token(&new, Utc::now()).await.expect("token");
        secret
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn case(native: &str, author: &str, lang: &str) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", native),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: author.to_owned(),
        lang: lang.to_owned(),
        tags: vec![],
        text_excerpt: format!("post {native}"),
        opened_at: Utc::now(),
        first_response_due_at: None,
        next_response_due_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_reply_with_canned_responses_once_per_key() {
    let acme = AccountId::new("acme").expect("account");
    let api =
        Api::start(HashMap::from([(acme.clone(), "https://crm.acme.example/replies".to_owned())])).await;
    api.store.sync_agents(&acme, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    let opened =
        api.store.open_cases(&acme, &[case("1", "maria", "es"), case("2", "joe", "en")]).await.expect("open");
    let (es_case, en_case) = (opened[0].case_id(), opened[1].case_id());
    let holder = |id: i64| {
        let store = api.store.clone();
        let acme = acme.clone();
        async move { store.get_case(&acme, id).await.expect("get").expect("case").assigned_agent.expect("held") }
    };
    let es_holder = holder(es_case).await;
    let other = if es_holder == "ann" { "bob" } else { "ann" };
    let holder_token = api.token(&acme, ApiRole::Agent, Some(&es_holder)).await;
    let other_token = api.token(&acme, ApiRole::Agent, Some(other)).await;
    let supervisor = api.token(&acme, ApiRole::Supervisor, None).await;
    use reqwest::Method;

    // Supervisors manage canned responses; agents may not; bad templates are refused.
    let put = |name: &str, language: &str| format!("/api/v1/accounts/acme/canned/{name}/{language}");
    let (status, _) =
        api.send(Method::PUT, &put("lost-bag", "any"), &other_token, Some(json!({"body": "x"})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, error) = api
        .send(
            Method::PUT,
            &put("lost-bag", "es"),
            &supervisor,
            Some(json!({"body": "Hola {{customer"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().is_some_and(|e| e.contains("at 5")), "{error}");
    for (language, body) in [
        ("any", "Sorry {{customer}}, we are tracing bag {{bag}}. {{agent}}"),
        ("es", "Lo sentimos {{customer}}, buscamos la maleta {{bag}}. {{agent}}"),
    ] {
        let (status, _) = api
            .send(Method::PUT, &put("lost-bag", language), &supervisor, Some(json!({"body": body})), None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, listed) =
        api.send(Method::GET, "/api/v1/accounts/acme/canned", &other_token, None, None).await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (StatusCode::OK, Some(2)));

    // A missing variable is named; the case's language picks the version.
    let reply_path = format!("/api/v1/accounts/acme/cases/{es_case}/reply");
    let (status, error) = api
        .send(Method::POST, &reply_path, &holder_token, Some(json!({"canned": "lost-bag"})), Some("k1"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().is_some_and(|e| e.contains("missing variables: bag")), "{error}");
    let body = json!({"canned": "lost-bag", "variables": {"bag": "MAD123"}, "wait_on_customer": true});
    let (status, first) =
        api.send(Method::POST, &reply_path, &holder_token, Some(body.clone()), Some("k1")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["reply"]["body"],
        format!("Lo sentimos @maria, buscamos la maleta MAD123. {es_holder}").as_str()
    );
    assert_eq!(first["reply"]["language"], "es");
    assert_eq!(first["reply"]["delivery"], "pending");
    assert_eq!(first["case"]["status"], "waiting_on_customer");
    // The same key (a retried request): the same reply, 200, nothing sent twice.
    let (status, again) = api.send(Method::POST, &reply_path, &holder_token, Some(body), Some("k1")).await;
    assert_eq!((status, again["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(again["reply"]["id"], first["reply"]["id"]);
    assert_eq!(api.store.pending_outbox(&acme, 10).await.expect("outbox").len(), 1);

    // Another agent cannot reply on it, but sees who holds it and may leave a note.
    let (status, error) =
        api.send(Method::POST, &reply_path, &other_token, Some(json!({"text": "hi"})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error["error"].as_str().is_some_and(|e| e.contains(&format!("held by {es_holder}"))), "{error}");
    let notes_path = format!("/api/v1/accounts/acme/cases/{es_case}/notes");
    let (status, _) =
        api.send(Method::POST, &notes_path, &other_token, Some(json!({"text": "VIP customer"})), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, detail) = api
        .send(Method::GET, &format!("/api/v1/accounts/acme/cases/{es_case}"), &other_token, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["holder"], es_holder.as_str());
    assert_eq!(detail["replies"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        detail["notes"][0]["text"].as_str().or(detail["notes"][0]["body"].as_str()),
        Some("VIP customer")
    );

    // A supervisor may reply on any case; both fields or neither is refused.
    let en_path = format!("/api/v1/accounts/acme/cases/{en_case}/reply");
    let (status, _) = api
        .send(Method::POST, &en_path, &supervisor, Some(json!({"text": "a", "canned": "lost-bag"})), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, reply) = api
        .send(
            Method::POST,
            &en_path,
            &supervisor,
            Some(json!({"canned": "lost-bag", "variables": {"bag": "JFK9"}})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert!(
        reply["reply"]["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("Sorry @joe, we are tracing bag JFK9."))
    );
    assert_eq!(reply["reply"]["language"], "en");

    // Resolve: the holder may; the case is then resolved.
    let (status, resolved) = api
        .send(
            Method::POST,
            &format!("/api/v1/accounts/acme/cases/{es_case}/resolve"),
            &holder_token,
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!((status, resolved["status"].as_str()), (StatusCode::OK, Some("resolved")));
    let (status, _) = api.send(Method::DELETE, &put("lost-bag", "es"), &supervisor, None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.send(Method::DELETE, &put("lost-bag", "es"), &supervisor, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_outbound_connector_replies_are_recorded_only() {
    let acme = AccountId::new("acme").expect("account");
    let api = Api::start(HashMap::new()).await;
    api.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let case_id = api.store.open_cases(&acme, &[case("1", "joe", "en")]).await.expect("open")[0].case_id();
    let ann = api.token(&acme, ApiRole::Agent, Some("ann")).await;
    let (status, reply) = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/acme/cases/{case_id}/reply"),
            &ann,
            Some(json!({"text": "Fixed, sorry!", "idempotency_key": "abc"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["reply"]["delivery"], "not_sent");
    assert_eq!(reply["reply"]["idempotency_key"], "abc");
    assert!(api.store.pending_outbox(&acme, 10).await.expect("outbox").is_empty());
    api.shutdown.trigger();
}
