//! A malformed line in a file source and an invalid JSON message on a queue go
//! to the dead-letter queues with a reason; the rest of the stream flows.

use std::time::Duration;

use smo_bus::{ConsumeSpec, OutgoingMessage};
use smo_proto::AccountId;
use smo_proto::topology::{self, REASON_HEADER, Stage};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_line_and_invalid_message_are_dead_lettered_while_the_pipeline_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let account = write_posts(dir.path(), AccountId::new("bad-input").unwrap(), 500, 0, true);
    let bus_url = format!("sqlite://{}", dir.path().join("data/bus.sqlite").display());
    let store_url = format!("sqlite://{}", dir.path().join("data/smo.sqlite").display());
    let config = write_config(dir.path(), &bus_url, &store_url, &[&account]);
    let index_dir = dir.path().join("data/index");

    let smo = SmoProcess::start(&config, &["run"], "run");
    wait_until(Duration::from_secs(300), "topology declared", &[&smo], || async {
        dir.path().join("data/bus.sqlite").exists() && indexed(&index_dir, &account.id) > 0
    })
    .await;
    // An invalid message straight onto the account's raw queue.
    let bus = smo_bus::connect(&bus_url, &smo_bus::BusOptions::default()).await.unwrap();
    bus.publish(
        topology::POSTS_EXCHANGE,
        &[OutgoingMessage::new(topology::raw_key(&account.id), b"{\"this is\": not json".to_vec())],
    )
    .await
    .unwrap();
    wait_until(Duration::from_secs(300), "500 posts indexed", &[&smo], || async {
        indexed(&index_dir, &account.id) == 500
    })
    .await;

    let dead_ingest = next_dead_letter(&bus, Stage::Ingest).await;
    assert!(dead_ingest.0.contains("malformed JSON"), "reason: {}", dead_ingest.0);
    assert_eq!(dead_ingest.1, topology::raw_key(&account.id));
    let dead_classify = next_dead_letter(&bus, Stage::Classify).await;
    assert!(dead_classify.0.contains("invalid Post JSON"), "reason: {}", dead_classify.0);
    smo.terminate();
    // Everything else went through exactly once.
    let reader = smo_index::IndexRoot::new(&index_dir).open_reader(&account.id).unwrap();
    for id in account.post_ids() {
        assert_eq!(reader.count_by_id(&id).unwrap(), 1);
    }
}

/// The reason and original routing key of the first dead letter of `stage`.
async fn next_dead_letter(bus: &smo_bus::SharedBus, stage: Stage) -> (String, String) {
    let mut consumer =
        bus.consume(&ConsumeSpec { queue: topology::dead_letter_queue(stage), prefetch: 10 }).await.unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(30), consumer.next())
        .await
        .expect("a dead letter within 30s")
        .unwrap()
        .expect("consumer open");
    consumer.ack(delivery.tag, false).await.unwrap();
    (
        delivery.headers.get(REASON_HEADER).cloned().unwrap_or_default(),
        delivery.headers.get(topology::ORIGINAL_KEY_HEADER).cloned().unwrap_or_default(),
    )
}
