//! 10,000 posts for two accounts through RabbitMQ + PostgreSQL.

use std::time::{Duration, Instant};

use smo_proto::AccountId;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_posts_two_accounts_on_rabbitmq_and_postgres_exactly_once() {
    require_rabbitmq();
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let a = write_posts(dir.path(), AccountId::new(unique("e2e-a")).unwrap(), 5_000, 300, true);
    let b = write_posts(dir.path(), AccountId::new(unique("e2e-b")).unwrap(), 5_000, 300, false);
    let config = write_config(dir.path(), &amqp_url(), &database.url, &[&a, &b]);
    let index_dir = dir.path().join("data/index");

    let started = Instant::now();
    let accounts = format!("{},{}", a.id, b.id);
    let smo = SmoProcess::start(
        &config,
        &["run", "--roles", "ingest,classify,index,community", "--accounts", &accounts],
        "run",
    );
    wait_until(Duration::from_secs(600), "10,000 posts indexed", &[&smo], || async {
        indexed(&index_dir, &a.id) == 5_000 && indexed(&index_dir, &b.id) == 5_000
    })
    .await;
    let indexed_after = started.elapsed();
    smo.assert_running();
    // Cases are written beside the index; wait until the community queues
    // have been drained as well.
    let store = smo_store::connect(&database.url).await.unwrap();
    wait_until(Duration::from_secs(120), "cases for every complaint", &[&smo], || async {
        let mut complete = true;
        for account in [&a, &b] {
            let reader = smo_index::IndexRoot::new(&index_dir).open_reader(&account.id).unwrap();
            let wanted =
                reader.search("intent:complaint OR intent:question", 1_000_000).unwrap().len() as u64;
            complete &= store.count_cases(&account.id).await.unwrap() == wanted;
        }
        complete
    })
    .await;
    store.close().await;
    eprintln!(
        "e2e throughput (RabbitMQ + PostgreSQL, debug build): 10,000 posts indexed in {:.1}s = {:.0} posts/s",
        indexed_after.as_secs_f64(),
        10_000.0 / indexed_after.as_secs_f64()
    );
    smo.terminate();

    let cases = assert_exactly_once(&index_dir, &database.url, &[&a, &b]).await;
    assert!(cases > 0);

    // The CLI reads the same data, scoped to the account asked for.
    let hits = smo_output(&config, &["search", a.id.as_str(), &a.token(7), "--json"]);
    let hits: serde_json::Value = serde_json::from_str(&hits).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let hits = smo_output(&config, &["search", b.id.as_str(), &a.token(7), "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&hits).unwrap().as_array().unwrap().len(), 0);
    let listed = smo_output(&config, &["cases", a.id.as_str(), "--json", "--limit", "100000"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert!(listed.iter().all(|case| case["account"] == a.id.as_str()));
    let report = smo_output(
        &config,
        &["report", a.id.as_str(), "--from", "2026-11-01", "--to", "2026-11-07", "--json"],
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["account"], a.id.as_str());

    delete_rabbit_queues(&[a.id.clone(), b.id.clone()]);
}
