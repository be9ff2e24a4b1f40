//! SIGKILL a classify worker and an index worker mid-stream: after restarts,
//! nothing is lost and nothing is duplicated.

use std::time::Duration;

use smo_proto::AccountId;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_classify_and_index_workers_mid_stream_loses_and_duplicates_nothing() {
    require_rabbitmq();
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let account = write_posts(dir.path(), AccountId::new(unique("e2e-crash")).unwrap(), 6_000, 0, false);
    let config = write_config(dir.path(), &amqp_url(), &database.url, &[&account]);
    let index_dir = dir.path().join("data/index");
    let id = account.id.as_str();

    // Index first, so it is mid-stream when killed; classify and ingest come after.
    let index = SmoProcess::start(&config, &["run", "--roles", "index", "--accounts", id], "index-1");
    let community =
        SmoProcess::start(&config, &["run", "--roles", "community", "--accounts", id], "community");
    let classify =
        SmoProcess::start(&config, &["run", "--roles", "classify", "--accounts", id], "classify-1");
    let ingest = SmoProcess::start(&config, &["run", "--roles", "ingest", "--accounts", id], "ingest");

    // Kill classify once the index has seen part of the stream.
    wait_until(
        Duration::from_secs(300),
        "first documents indexed",
        &[&index, &classify, &ingest],
        || async { indexed(&index_dir, &account.id) > 0 },
    )
    .await;
    classify.kill();
    let classify =
        SmoProcess::start(&config, &["run", "--roles", "classify", "--accounts", id], "classify-2");

    // Kill the index worker mid-stream, without a chance to commit or ack.
    wait_until(Duration::from_secs(300), "more documents indexed", &[&index, &classify], || async {
        indexed(&index_dir, &account.id) > 1_000
    })
    .await;
    let before_kill = indexed(&index_dir, &account.id);
    index.kill();
    assert!(before_kill < 6_000, "the kill must happen mid-stream (indexed {before_kill})");
    let index = SmoProcess::start(&config, &["run", "--roles", "index", "--accounts", id], "index-2");

    wait_until(
        Duration::from_secs(600),
        "all 6,000 posts indexed",
        &[&index, &classify, &ingest, &community],
        || async { indexed(&index_dir, &account.id) == 6_000 },
    )
    .await;
    let store = smo_store::connect(&database.url).await.unwrap();
    wait_until(Duration::from_secs(120), "cases for every complaint", &[&community], || async {
        let reader = smo_index::IndexRoot::new(&index_dir).open_reader(&account.id).unwrap();
        let wanted = reader.search("intent:complaint OR intent:question", 1_000_000).unwrap().len() as u64;
        store.count_cases(&account.id).await.unwrap() == wanted
    })
    .await;
    store.close().await;
    for process in [ingest, classify, index, community] {
        process.terminate();
    }
    assert_exactly_once(&index_dir, &database.url, &[&account]).await;
    delete_rabbit_queues(std::slice::from_ref(&account.id));
}
