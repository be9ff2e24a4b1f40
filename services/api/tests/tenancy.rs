//! The tenancy matrix over every route: a token of account A gets 404 for
//! every resource of account B, a client token never acts on cases, agents
//! act only on cases they hold, and no token means 401.

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use smo_api::auth::{generate_secret, hash_secret};
use smo_api::v1::{ApiState, router};
use smo_proto::{AccountId, CasePriority, Intent, PostId};
use smo_store::{ApiRole, NewCase, NewToken, Store, StoreOptions};
use tokio::net::TcpListener;

struct Api {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    shutdown: smo_runtime::Shutdown,
}

async fn token(store: &Store, account: Option<&AccountId>, role: ApiRole, agent: Option<&str>) -> String {
    let secret = generate_secret();
    let new = NewToken {
        token_hash: hash_secret(&secret),
        account: account.cloned(),
        role,
        agent: agent.map(str::to_owned),
        name: format!("{}-{}", role.as_str(), account.map_or("all", AccountId::as_str)),
    };
    store.create_token(&new, Utc::now()).await.expect("token");
    secret
}

fn case(native: &str) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", native),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: format!("user-{native}"),
        lang: "en".to_owned(),
        tags: vec![],
        text_excerpt: format!("post {native}"),
        opened_at: Utc.with_ymd_and_hms(2024, 5, 6, 9, 0, 0).single().expect("time"),
        first_response_due_at: None,
        next_response_due_at: None,
    }
}

async fn serve(store: Store, dir: tempfile::TempDir) -> Api {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = smo_runtime::Shutdown::new();
    tokio::spawn(smo_api::serve(listener, router(ApiState::new(store)), shutdown.subscribe()));
    Api { base: format!("http://{addr}"), client: reqwest::Client::new(), _dir: dir, shutdown }
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> StatusCode {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request").status()
    }
}

/// A request for one route of the route table: its path filled in and a
/// valid body. Panics on a route it does not know, so a new route cannot
/// escape the matrix.
fn request_for(
    method: &str,
    template: &str,
    account: &str,
    case_id: i64,
) -> (Method, String, serde_json::Value) {
    let path = template
        .replace("{account}", account)
        .replace("{case_id}", &case_id.to_string())
        .replace("{agent}", "ann")
        .replace("{name}", "refund")
        .replace("{language}", "en");
    let tail = template.rsplit('/').next().unwrap_or_default();
    let body = match (method, tail) {
        ("get" | "delete", _) => serde_json::json!(null),
        ("post", "next") => serde_json::json!({"agent": "ann"}),
        ("post", "assign") => serde_json::json!({"agent": "bob"}),
        ("post", "requeue" | "resolve" | "respond") => serde_json::json!({}),
        ("post", "status") => serde_json::json!({"to": "resolved"}),
        ("post", "reply") => serde_json::json!({"text": "hello"}),
        ("post", "notes") => serde_json::json!({"text": "internal"}),
        ("put", "presence") => serde_json::json!({"presence": "away"}),
        ("put", "{language}") => serde_json::json!({"body": "Hi {{customer}}"}),
        _ => panic!("the tenancy matrix does not know {method} {template}: add it here"),
    };
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    (method, path, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenancy_matrix_over_every_route() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let store = Store::connect(StoreOptions::new(url)).await.expect("store");
    store.migrate().await.expect("migrate");
    let (a, b) = (AccountId::new("acme").expect("a"), AccountId::new("globex").expect("b"));
    for account in [&a, &b] {
        store.sync_agents(account, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    }
    let a_cases = store.open_cases(&a, &[case("a1"), case("a2")]).await.expect("open a");
    let b_cases = store.open_cases(&b, &[case("b1"), case("b2")]).await.expect("open b");
    let (b1, a_ann) = (b_cases[0].case_id(), a_cases[0].case_id());
    let a_bob = a_cases[1].case_id();

    let admin = token(&store, None, ApiRole::Admin, None).await;
    let a_supervisor = token(&store, Some(&a), ApiRole::Supervisor, None).await;
    let a_agent = token(&store, Some(&a), ApiRole::Agent, Some("ann")).await;
    let a_client = token(&store, Some(&a), ApiRole::Client, None).await;
    let api = serve(store.clone(), dir).await;

    // Every route of the route table, on account B's resources.
    let routes_of = |account: &str, case_id: i64| -> Vec<(Method, String, serde_json::Value)> {
        smo_api::routes()
            .iter()
            .map(|route| request_for(route.verb.as_str(), route.path, account, case_id))
            .collect()
    };
    for (method, path, body) in routes_of("globex", b1) {
        for (who, secret) in [("supervisor", &a_supervisor), ("agent", &a_agent), ("client", &a_client)] {
            let status = api.call(method.clone(), &path, Some(secret), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "A's {who} on {method} {path}");
        }
        let status = api.call(method.clone(), &path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "no token on {method} {path}");
        let status = api.call(method.clone(), &path, Some("smo_forged"), body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "forged token on {method} {path}");
    }
    // A's own case ids under B's path are B's (missing) resources: still 404.
    let status = api
        .call(
            Method::GET,
            &format!("/api/v1/accounts/globex/cases/{a_ann}"),
            Some(&admin),
            serde_json::json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A client token never touches cases, even its own account's.
    for (method, path, body) in routes_of("acme", a_ann) {
        let status = api.call(method.clone(), &path, Some(&a_client), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "client on {method} {path}");
    }
    // An agent acts only on the cases they hold; bob's case is refused.
    let holder_only = ["/assign", "/requeue", "/status", "/respond", "/reply", "/resolve"];
    for (method, path, body) in routes_of("acme", a_bob)
        .into_iter()
        .filter(|(_, path, _)| holder_only.iter().any(|end| path.ends_with(end)))
    {
        let status = api.call(method.clone(), &path, Some(&a_agent), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "ann on bob's case: {method} {path}");
    }
    let status = api
        .call(
            Method::PUT,
            "/api/v1/accounts/acme/agents/bob/presence",
            Some(&a_agent),
            serde_json::json!({"presence": "away"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // What they may do works.
    let ok = [
        (Method::GET, format!("/api/v1/accounts/acme/cases/{a_ann}"), &a_agent, serde_json::json!(null)),
        (
            Method::POST,
            format!("/api/v1/accounts/acme/cases/{a_ann}/respond"),
            &a_agent,
            serde_json::json!({"wait_on_customer": true}),
        ),
        (
            Method::POST,
            format!("/api/v1/accounts/acme/cases/{a_bob}/status"),
            &a_supervisor,
            serde_json::json!({"to": "resolved"}),
        ),
        (Method::GET, "/api/v1/accounts/globex/cases".to_owned(), &admin, serde_json::json!(null)),
        (Method::GET, "/api/v1/accounts/acme/agents".to_owned(), &a_agent, serde_json::json!(null)),
    ];
    for (method, path, secret, body) in ok {
        let status = api.call(method.clone(), &path, Some(secret), body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}");
    }
    let status = api
        .call(
            Method::POST,
            &format!("/api/v1/accounts/acme/cases/{a_bob}/status"),
            Some(&a_supervisor),
            serde_json::json!({"to": "waiting_on_customer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a resolved case cannot wait on the customer");
    let openapi: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", api.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(openapi["paths"]["/api/v1/accounts/{account}/cases/next"]["post"].is_object());
    api.shutdown.trigger();
}

/// The served router, the served OpenAPI document and the route table the
/// tenancy matrix walks are one list: every table route is mounted with its
/// method (no token: 401, not 404 or 405), other methods on its path are
/// not, and the document has exactly the table's operations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_document_and_route_table_agree() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let store = Store::connect(StoreOptions::new(url)).await.expect("store");
    store.migrate().await.expect("migrate");
    let api = serve(store, dir).await;
    let routes = smo_api::routes();
    let table: std::collections::BTreeSet<(String, String)> =
        routes.iter().map(|r| (r.verb.as_str().to_owned(), r.path.to_owned())).collect();
    assert_eq!(table.len(), routes.len(), "a route is declared twice");

    let document: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", api.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let mut documented = std::collections::BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    assert_eq!(documented, table, "the OpenAPI document and the route table differ");

    for (method, template) in &table {
        let (method, path, body) = request_for(method, template, "acme", 1);
        let status = api.call(method.clone(), &path, None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {template} is not mounted as declared");
    }
    for template in table.iter().map(|(_, path)| path).collect::<std::collections::BTreeSet<_>>() {
        for method in ["get", "post", "put", "delete"] {
            if table.contains(&(method.to_owned(), template.clone())) {
                continue;
            }
            let path = template.replace(['{', '}'], "");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let status = api.call(method.clone(), &path, None, serde_json::json!(null)).await;
            assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {template} is served but not declared"
            );
        }
    }
    api.shutdown.trigger();
}
