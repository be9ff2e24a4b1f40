//! One conformance suite for both backends: every check is written once as a
//! function of a [`Fixture`] (a bus and a unique name prefix) and run against
//! the embedded SQLite queue and against RabbitMQ (`SMO_TEST_AMQP_URL`,
//! default `amqp://guest:guest@127.0.0.1:5672/%2f`; an unreachable broker
//! fails the `rabbitmq::` tests, it never skips them).
//!
//! Checks only use names derived from their own prefix or account, so they run
//! in parallel (cargo-nextest: one process per test) against one broker, and
//! the RabbitMQ harness deletes what a check declared, even when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use smo_bus::topology::declare_account;
use smo_bus::{
    BatchHandler, BatchPolicy, Bus, BusError, ConsumeSpec, Consumer, Delivery, EmbeddedBus,
    EmbeddedBusOptions, HandlerError, Outcome, OutgoingMessage, QueueSpec, RabbitBus, RabbitBusOptions,
    SharedBus, run_batches,
};
use smo_proto::topology::{
    ENRICHED_EXCHANGE, ORIGINAL_KEY_HEADER, POSTS_EXCHANGE, REASON_HEADER, Stage, raw_key, stage_queue,
};
use smo_proto::{AccountId, Intent};
use tokio::time::{Instant, timeout};

/// Longest wait for something that should happen.
const WAIT: Duration = Duration::from_secs(15);
/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_millis(700);

// ---------------------------------------------------------------- fixture --

struct Fixture {
    bus: SharedBus,
    prefix: String,
    queues: Mutex<Vec<String>>,
    exchanges: Mutex<Vec<String>>,
}

impl Fixture {
    fn new(bus: SharedBus) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            bus,
            prefix: format!("smo-test-{}", &id[..12]),
            queues: Mutex::new(Vec::new()),
            exchanges: Mutex::new(Vec::new()),
        }
    }

    fn bus(&self) -> &dyn Bus {
        self.bus.as_ref()
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }

    /// A fresh account id (valid slug, unique per call).
    fn account(&self) -> AccountId {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let account = AccountId::new(format!("t-{}", &id[..16])).unwrap();
        let mut queues = self.queues.lock().unwrap();
        for stage in Stage::ALL {
            if stage != Stage::Ingest {
                queues.push(stage_queue(stage, &account));
            }
        }
        account
    }

    async fn exchange(&self, suffix: &str) -> String {
        let name = self.name(suffix);
        self.exchanges.lock().unwrap().push(name.clone());
        self.bus.declare_exchange(&name).await.unwrap();
        name
    }

    async fn queue(
        &self,
        suffix: &str,
        dead_letter: Option<(&str, &str)>,
        single_active_consumer: bool,
        delivery_limit: Option<u32>,
    ) -> String {
        let name = self.name(suffix);
        self.queues.lock().unwrap().push(name.clone());
        let spec = QueueSpec {
            name: name.clone(),
            dead_letter: dead_letter.map(|(e, k)| (e.to_owned(), k.to_owned())),
            single_active_consumer,
            delivery_limit,
        };
        self.bus.declare_queue(&spec).await.unwrap();
        name
    }

    /// Exchange `x`, queue `q` bound with `k.#`.
    async fn simple(&self) -> (String, String) {
        let exchange = self.exchange("x").await;
        let queue = self.queue("q", None, false, None).await;
        self.bus.bind(&queue, &exchange, "k.#").await.unwrap();
        (exchange, queue)
    }

    /// Exchange `x`, queue `q` (`k.#`, dead letters to `dlx` with key
    /// `dl.q`, optional delivery limit) and queue `dead` bound to `dlx` `dl.#`.
    async fn with_dead_letters(&self, delivery_limit: Option<u32>) -> (String, String, String) {
        let exchange = self.exchange("x").await;
        let dlx = self.exchange("dlx").await;
        let queue = self.queue("q", Some((&dlx, "dl.q")), false, delivery_limit).await;
        let dead = self.queue("dead", None, false, None).await;
        self.bus.bind(&queue, &exchange, "k.#").await.unwrap();
        self.bus.bind(&dead, &dlx, "dl.#").await.unwrap();
        (exchange, queue, dead)
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Box<dyn Consumer> {
        self.bus.consume(&ConsumeSpec { queue: queue.to_owned(), prefetch }).await.unwrap()
    }

    async fn publish(&self, exchange: &str, messages: &[(&str, &str)]) {
        let messages: Vec<OutgoingMessage> =
            messages.iter().map(|(key, body)| OutgoingMessage::new(*key, body.as_bytes())).collect();
        self.bus.publish(exchange, &messages).await.unwrap();
    }

    async fn wait_depth(&self, queue: &str, expected: u64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let depth = self.bus.queue_depth(queue).await.unwrap();
            if depth == expected {
                return;
            }
            assert!(Instant::now() < deadline, "queue {queue} depth stayed {depth}, expected {expected}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn recv(consumer: &mut Box<dyn Consumer>) -> Delivery {
    timeout(WAIT, consumer.next())
        .await
        .expect("timed out waiting for a delivery")
        .expect("next failed")
        .expect("consumer ended")
}

async fn recv_n(consumer: &mut Box<dyn Consumer>, n: usize) -> Vec<Delivery> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(recv(consumer).await);
    }
    out
}

async fn recv_none(consumer: &mut Box<dyn Consumer>) {
    if let Ok(result) = timeout(QUIET, consumer.next()).await {
        panic!("expected no delivery, got {result:?}");
    }
}

fn body(delivery: &Delivery) -> String {
    String::from_utf8(delivery.payload.clone()).unwrap()
}

fn bodies(deliveries: &[Delivery]) -> BTreeSet<String> {
    deliveries.iter().map(body).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

// ----------------------------------------------------------------- checks --

async fn publish_confirm_consume(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    let mut message = OutgoingMessage::new("k.a", b"one".to_vec());
    message.headers.insert("h".to_owned(), "v".to_owned());
    fx.bus()
        .publish(
            &exchange,
            &[
                message,
                OutgoingMessage::new("k.b", b"two".to_vec()),
                OutgoingMessage::new("k.c.d", b"three".to_vec()),
            ],
        )
        .await
        .unwrap();
    fx.wait_depth(&queue, 3).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let got = recv_n(&mut consumer, 3).await;
    assert_eq!(bodies(&got), set(&["one", "two", "three"]));
    let first = got.iter().find(|d| body(d) == "one").unwrap();
    assert_eq!(first.headers.get("h").map(String::as_str), Some("v"));
    assert_eq!(first.routing_key, "k.a");
    assert_eq!(first.exchange, exchange);
    assert!(got.iter().all(|d| !d.redelivered));
    for delivery in &got {
        consumer.ack(delivery.tag, false).await.unwrap();
    }
}

async fn ack_removes(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    fx.publish(&exchange, &[("k.1", "a"), ("k.2", "b")]).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let got = recv_n(&mut consumer, 2).await;
    for delivery in &got {
        consumer.ack(delivery.tag, false).await.unwrap();
    }
    // Settling twice is an error, not a panic.
    assert!(consumer.ack(got[0].tag, false).await.is_err());
    drop(consumer);
    let mut again = fx.consume(&queue, 10).await;
    recv_none(&mut again).await;
    fx.wait_depth(&queue, 0).await;
}

async fn requeue_redelivers(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    fx.publish(&exchange, &[("k.1", "again")]).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let first = recv(&mut consumer).await;
    assert!(!first.redelivered);
    consumer.requeue(first.tag).await.unwrap();
    let second = recv(&mut consumer).await;
    assert_eq!(body(&second), "again");
    assert!(second.redelivered);
    assert_ne!(first.tag, second.tag);
    consumer.ack(second.tag, false).await.unwrap();
    recv_none(&mut consumer).await;
}

async fn dead_letter_moves(fx: &Fixture) {
    let (exchange, queue, dead) = fx.with_dead_letters(None).await;
    let mut message = OutgoingMessage::new("k.orig", b"poison".to_vec());
    message.headers.insert("trace".to_owned(), "t1".to_owned());
    fx.bus().publish(&exchange, &[message]).await.unwrap();
    let mut consumer = fx.consume(&queue, 10).await;
    let delivery = recv(&mut consumer).await;
    consumer.dead_letter(&delivery, "bad input").await.unwrap();

    let mut dead_consumer = fx.consume(&dead, 10).await;
    let letter = recv(&mut dead_consumer).await;
    assert_eq!(body(&letter), "poison");
    assert_eq!(letter.routing_key, "dl.q");
    assert_eq!(letter.headers.get(REASON_HEADER).map(String::as_str), Some("bad input"));
    assert_eq!(letter.headers.get(ORIGINAL_KEY_HEADER).map(String::as_str), Some("k.orig"));
    assert_eq!(letter.headers.get("trace").map(String::as_str), Some("t1"));
    dead_consumer.ack(letter.tag, false).await.unwrap();
    // The original is gone.
    recv_none(&mut consumer).await;
    fx.wait_depth(&queue, 0).await;
}

async fn unroutable_is_not_confirmed(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    let result = fx.bus().publish(&exchange, &[OutgoingMessage::new("nobody.home", b"x".to_vec())]).await;
    assert!(matches!(result, Err(BusError::NotConfirmed { .. })), "unroutable publish gave {result:?}");
    let missing = fx.name("no-such-exchange");
    let result = fx.bus().publish(&missing, &[OutgoingMessage::new("k.1", b"x".to_vec())]).await;
    assert!(
        matches!(result, Err(BusError::NotConfirmed { .. })),
        "publish to a missing exchange gave {result:?}"
    );
    // The bus is fine afterwards.
    fx.publish(&exchange, &[("k.1", "ok")]).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let delivery = recv(&mut consumer).await;
    assert_eq!(body(&delivery), "ok");
    consumer.ack(delivery.tag, false).await.unwrap();
}

async fn redelivered_after_consumer_dies(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    fx.publish(&exchange, &[("k.1", "a"), ("k.2", "b"), ("k.3", "c")]).await;
    let mut doomed = fx.consume(&queue, 10).await;
    let held = recv_n(&mut doomed, 3).await;
    assert_eq!(bodies(&held), set(&["a", "b", "c"]));
    drop(doomed);
    let mut heir = fx.consume(&queue, 10).await;
    let again = recv_n(&mut heir, 3).await;
    assert_eq!(bodies(&again), set(&["a", "b", "c"]));
    assert!(again.iter().all(|d| d.redelivered));
    heir.ack(again[2].tag, true).await.unwrap();
    recv_none(&mut heir).await;
}

async fn accounts_are_isolated(fx: &Fixture) {
    let a = fx.account();
    let b = fx.account();
    declare_account(fx.bus(), &a).await.unwrap();
    declare_account(fx.bus(), &b).await.unwrap();
    declare_account(fx.bus(), &a).await.unwrap(); // idempotent
    fx.publish(POSTS_EXCHANGE, &[(&raw_key(&a), "raw-a")]).await;
    let enriched = smo_proto::topology::enriched_key(&a, Intent::Complaint);
    fx.publish(ENRICHED_EXCHANGE, &[(&enriched, "enriched-a")]).await;
    fx.wait_depth(&stage_queue(Stage::Classify, &a), 1).await;
    fx.wait_depth(&stage_queue(Stage::Index, &a), 1).await;
    fx.wait_depth(&stage_queue(Stage::Community, &a), 1).await;
    for stage in [Stage::Classify, Stage::Index, Stage::Community] {
        assert_eq!(
            fx.bus().queue_depth(&stage_queue(stage, &b)).await.unwrap(),
            0,
            "{stage:?} queue of the other account got a message"
        );
    }
    let mut other = fx.consume(&stage_queue(Stage::Index, &b), 10).await;
    recv_none(&mut other).await;
    let mut own = fx.consume(&stage_queue(Stage::Classify, &a), 10).await;
    let delivery = recv(&mut own).await;
    assert_eq!(body(&delivery), "raw-a");
    own.ack(delivery.tag, false).await.unwrap();
}

async fn topic_routing(fx: &Fixture) {
    let a = fx.account();
    declare_account(fx.bus(), &a).await.unwrap();
    let key = |intent| smo_proto::topology::enriched_key(&a, intent);
    let messages = [
        (key(Intent::Complaint), "complaint"),
        (key(Intent::Question), "question"),
        (key(Intent::Praise), "praise"),
        (key(Intent::Other), "other"),
    ];
    let refs: Vec<(&str, &str)> = messages.iter().map(|(k, b)| (k.as_str(), *b)).collect();
    fx.publish(ENRICHED_EXCHANGE, &refs).await;

    let mut index = fx.consume(&stage_queue(Stage::Index, &a), 10).await;
    let indexed = recv_n(&mut index, 4).await;
    assert_eq!(bodies(&indexed), set(&["complaint", "question", "praise", "other"]));
    recv_none(&mut index).await;
    let mut community = fx.consume(&stage_queue(Stage::Community, &a), 10).await;
    let cases = recv_n(&mut community, 2).await;
    assert_eq!(bodies(&cases), set(&["complaint", "question"]));
    recv_none(&mut community).await;
    let last = indexed.iter().map(|d| d.tag).max().unwrap();
    index.ack(last, true).await.unwrap();
    let last = cases.iter().map(|d| d.tag).max().unwrap();
    community.ack(last, true).await.unwrap();
}

async fn delivery_limit_dead_letters(fx: &Fixture) {
    const LIMIT: u32 = 2;
    let (exchange, queue, dead) = fx.with_dead_letters(Some(LIMIT)).await;
    fx.publish(&exchange, &[("k.loop", "poison")]).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let deadline = Instant::now() + WAIT;
    let mut deliveries = 0u32;
    loop {
        match timeout(Duration::from_millis(300), consumer.next()).await {
            Ok(next) => {
                let delivery = next.unwrap().expect("consumer ended");
                deliveries += 1;
                assert!(deliveries <= LIMIT + 2, "message delivered {deliveries} times");
                consumer.requeue(delivery.tag).await.unwrap();
            }
            Err(_) => {
                if fx.bus().queue_depth(&dead).await.unwrap() >= 1 {
                    break;
                }
                assert!(Instant::now() < deadline, "never dead-lettered");
            }
        }
    }
    assert!(deliveries >= LIMIT, "dead-lettered after {deliveries} deliveries");
    let mut dead_consumer = fx.consume(&dead, 10).await;
    let letter = recv(&mut dead_consumer).await;
    assert_eq!(body(&letter), "poison");
    assert_eq!(letter.headers.get(REASON_HEADER).map(String::as_str), Some("delivery limit exceeded"));
    assert_eq!(letter.headers.get(ORIGINAL_KEY_HEADER).map(String::as_str), Some("k.loop"));
    dead_consumer.ack(letter.tag, false).await.unwrap();
    fx.wait_depth(&queue, 0).await;
}

async fn single_active_consumer(fx: &Fixture) {
    let exchange = fx.exchange("x").await;
    let queue = fx.queue("sac", None, true, None).await;
    fx.bus().bind(&queue, &exchange, "k.#").await.unwrap();
    let mut active = fx.consume(&queue, 10).await;
    let mut standby = fx.consume(&queue, 10).await;
    fx.publish(&exchange, &[("k.1", "m1"), ("k.2", "m2")]).await;
    let got = recv_n(&mut active, 2).await;
    assert_eq!(bodies(&got), set(&["m1", "m2"]));
    recv_none(&mut standby).await;
    let m1 = got.iter().find(|d| body(d) == "m1").unwrap();
    active.ack(m1.tag, false).await.unwrap();
    // The active consumer dies holding m2: the standby takes over.
    drop(active);
    let taken = recv(&mut standby).await;
    assert_eq!(body(&taken), "m2");
    assert!(taken.redelivered);
    standby.ack(taken.tag, false).await.unwrap();
    fx.publish(&exchange, &[("k.3", "m3")]).await;
    let next = recv(&mut standby).await;
    assert_eq!(body(&next), "m3");
    standby.ack(next.tag, false).await.unwrap();
}

async fn ack_multiple(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    fx.publish(&exchange, &[("k.1", "1"), ("k.2", "2"), ("k.3", "3"), ("k.4", "4"), ("k.5", "5")]).await;
    let mut consumer = fx.consume(&queue, 10).await;
    let got = recv_n(&mut consumer, 5).await;
    consumer.ack(got[3].tag, true).await.unwrap();
    // Tags up to the fourth are settled now.
    assert!(consumer.ack(got[1].tag, false).await.is_err());
    let last = body(&got[4]);
    drop(consumer);
    let mut heir = fx.consume(&queue, 10).await;
    let left = recv(&mut heir).await;
    assert_eq!(body(&left), last);
    assert!(left.redelivered);
    heir.ack(left.tag, false).await.unwrap();
    recv_none(&mut heir).await;
}

#[derive(Default)]
struct Progress {
    /// Payloads that reached their final outcome (acked or dead-lettered).
    done: HashSet<String>,
    /// Payloads the handler asked to retry once already.
    retried: HashSet<String>,
}

struct MixedHandler {
    progress: Arc<Mutex<Progress>>,
    failed_once: bool,
}

#[async_trait]
impl BatchHandler for MixedHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        if !self.failed_once {
            self.failed_once = true;
            return Err(HandlerError::msg("database down"));
        }
        let mut progress = self.progress.lock().unwrap();
        Ok(batch
            .iter()
            .map(|delivery| {
                let text = body(delivery);
                if text.starts_with("dead") {
                    progress.done.insert(text);
                    Outcome::DeadLetter("poison".to_owned())
                } else if text.starts_with("retry") && progress.retried.insert(text.clone()) {
                    Outcome::Requeue
                } else {
                    progress.done.insert(text);
                    Outcome::Ack
                }
            })
            .collect())
    }
}

async fn worker_batches(fx: &Fixture) {
    let (exchange, queue, dead) = fx.with_dead_letters(Some(20)).await;
    let mut messages = Vec::new();
    for i in 0..3 {
        messages.push((format!("k.{i}"), format!("ack-{i}")));
        messages.push((format!("k.{i}"), format!("dead-{i}")));
        messages.push((format!("k.{i}"), format!("retry-{i}")));
    }
    let refs: Vec<(&str, &str)> = messages.iter().map(|(k, b)| (k.as_str(), b.as_str())).collect();
    fx.publish(&exchange, &refs).await;

    let progress = Arc::new(Mutex::new(Progress::default()));
    let consumer = fx.consume(&queue, 8).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handler_progress = Arc::clone(&progress);
    let worker = tokio::spawn(async move {
        let mut handler = MixedHandler { progress: handler_progress, failed_once: false };
        let policy = BatchPolicy { max_messages: 4, max_wait: Duration::from_millis(100) };
        run_batches(consumer, &mut handler, &policy, stopped).await
    });
    let deadline = Instant::now() + WAIT;
    while progress.lock().unwrap().done.len() < 9 {
        assert!(Instant::now() < deadline, "worker did not finish the messages");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    let stats = timeout(WAIT, worker).await.expect("worker did not stop on shutdown").unwrap().unwrap();
    assert_eq!(stats.acked, 6, "{stats:?}");
    assert_eq!(stats.dead_lettered, 3, "{stats:?}");
    assert_eq!(stats.failed_batches, 1, "{stats:?}");
    // The failed batch was retried in place; only the handler's own
    // `Requeue`s went back to the queue.
    assert_eq!(stats.requeued, 3, "{stats:?}");
    assert_eq!(stats.received, stats.acked + stats.dead_lettered + stats.requeued, "{stats:?}");
    assert!(stats.batches >= 3, "{stats:?}");
    fx.wait_depth(&queue, 0).await;
    fx.wait_depth(&dead, 3).await;
    let mut dead_consumer = fx.consume(&dead, 10).await;
    let letters = recv_n(&mut dead_consumer, 3).await;
    assert_eq!(bodies(&letters), set(&["dead-0", "dead-1", "dead-2"]));
    assert!(letters.iter().all(|d| d.headers.get(REASON_HEADER).map(String::as_str) == Some("poison")));
    // Nothing is left in flight with the stopped worker.
    let mut after = fx.consume(&queue, 10).await;
    recv_none(&mut after).await;
}

/// Fails every batch a number of times before succeeding.
struct FlakyHandler {
    failures_left: u32,
    acked: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl BatchHandler for FlakyHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        if self.failures_left > 0 {
            self.failures_left -= 1;
            return Err(HandlerError::msg("database down"));
        }
        self.acked.lock().unwrap().extend(batch.iter().map(body));
        Ok(vec![Outcome::Ack; batch.len()])
    }
}

/// An outage longer than the delivery limit must not dead-letter good
/// messages: the worker retries them in place instead of requeueing them.
async fn worker_retries_in_place_within_the_delivery_limit(fx: &Fixture) {
    let (exchange, queue, dead) = fx.with_dead_letters(Some(1)).await;
    fx.publish(&exchange, &[("k.a", "one"), ("k.b", "two")]).await;
    let consumer = fx.consume(&queue, 10).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut handler = FlakyHandler { failures_left: 4, acked: Arc::clone(&acked) };
    let worker = tokio::spawn(async move {
        let policy = BatchPolicy { max_messages: 10, max_wait: Duration::from_millis(100) };
        run_batches(consumer, &mut handler, &policy, stopped).await
    });
    let deadline = Instant::now() + WAIT;
    while acked.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the batch was never handled successfully");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    let stats = timeout(WAIT, worker).await.expect("worker stops").unwrap().unwrap();
    assert!(stats.failed_batches >= 4, "{stats:?}");
    assert_eq!(stats.requeued, 0, "{stats:?}");
    assert_eq!(stats.acked, 2, "{stats:?}");
    fx.wait_depth(&queue, 0).await;
    fx.wait_depth(&dead, 0).await;
}

async fn worker_stops_when_idle(fx: &Fixture) {
    let (_exchange, queue) = fx.simple().await;
    let consumer = fx.consume(&queue, 8).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(async move {
        let mut handler = MixedHandler { progress: Arc::default(), failed_once: true };
        run_batches(consumer, &mut handler, &BatchPolicy::default(), stopped).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(true).unwrap();
    let stats = timeout(WAIT, worker).await.unwrap().unwrap().unwrap();
    assert_eq!(stats.received, 0);
}

async fn redeclare_with_other_arguments_is_refused(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    let spec = QueueSpec {
        name: queue.clone(),
        dead_letter: Some((exchange.clone(), "elsewhere".to_owned())),
        single_active_consumer: false,
        delivery_limit: None,
    };
    let result = fx.bus().declare_queue(&spec).await;
    assert!(matches!(result, Err(BusError::Topology { .. })), "conflicting redeclaration gave {result:?}");
    // The same arguments again are fine, and the bus keeps working.
    let same = QueueSpec { dead_letter: None, ..spec };
    fx.bus().declare_queue(&same).await.unwrap();
    fx.publish(&exchange, &[("k.1", "still fine")]).await;
    fx.wait_depth(&queue, 1).await;
}

struct BuggyHandler {
    calls: u32,
    acked: Arc<Mutex<usize>>,
}

#[async_trait]
impl BatchHandler for BuggyHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        self.calls += 1;
        if self.calls == 1 {
            return Ok(Vec::new()); // wrong number of outcomes
        }
        *self.acked.lock().unwrap() += batch.len();
        Ok(vec![Outcome::Ack; batch.len()])
    }
}

async fn worker_survives_a_buggy_handler(fx: &Fixture) {
    let (exchange, queue) = fx.simple().await;
    fx.publish(&exchange, &[("k.1", "a"), ("k.2", "b"), ("k.3", "c")]).await;
    fx.wait_depth(&queue, 3).await;
    let consumer = fx.consume(&queue, 8).await;
    let acked = Arc::new(Mutex::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handler_acked = Arc::clone(&acked);
    let worker = tokio::spawn(async move {
        let mut handler = BuggyHandler { calls: 0, acked: handler_acked };
        let policy = BatchPolicy { max_messages: 8, max_wait: Duration::from_millis(100) };
        run_batches(consumer, &mut handler, &policy, stopped).await
    });
    let deadline = Instant::now() + WAIT;
    while *acked.lock().unwrap() < 3 {
        assert!(Instant::now() < deadline, "worker did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    let stats = timeout(WAIT, worker).await.unwrap().unwrap().unwrap();
    assert_eq!(stats.failed_batches, 1, "{stats:?}");
    assert_eq!(stats.acked, 3, "{stats:?}");
    fx.wait_depth(&queue, 0).await;
}

// -------------------------------------------------------------- harnesses --

fn embedded_options() -> EmbeddedBusOptions {
    EmbeddedBusOptions {
        poll_interval: Duration::from_millis(50),
        synchronous_full: false,
        ..EmbeddedBusOptions::default()
    }
    .with_lease(Duration::from_secs(1))
}

async fn run_embedded<F, Fut>(check: F)
where
    F: FnOnce(Arc<Fixture>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let bus = EmbeddedBus::open(&dir.path().join("bus.db"), embedded_options()).await.unwrap();
    let fixture = Arc::new(Fixture::new(Arc::new(bus)));
    check(fixture).await;
}

fn amqp_url() -> String {
    std::env::var("SMO_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

async fn rabbit_bus() -> RabbitBus {
    let url = amqp_url();
    let options = RabbitBusOptions { reconnect_attempts: 2, ..RabbitBusOptions::default() };
    RabbitBus::connect(&url, options).await.unwrap_or_else(|error| {
        panic!(
            "RabbitMQ is required by the rabbitmq:: conformance tests and is unreachable at \
             {url}: {error}. Start it or point SMO_TEST_AMQP_URL at one."
        )
    })
}

/// Runs `check` against RabbitMQ and deletes what it declared, also when it
/// fails.
async fn run_rabbit<F, Fut>(check: F)
where
    F: FnOnce(Arc<Fixture>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let bus = rabbit_bus().await;
    let fixture = Arc::new(Fixture::new(Arc::new(bus.clone())));
    let outcome = tokio::spawn(check(Arc::clone(&fixture))).await;
    cleanup_rabbit(&bus, &fixture).await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

async fn cleanup_rabbit(bus: &RabbitBus, fixture: &Fixture) {
    let queues = fixture.queues.lock().unwrap().clone();
    let exchanges = fixture.exchanges.lock().unwrap().clone();
    for queue in queues {
        let _ = bus.delete_queue(&queue).await;
    }
    for exchange in exchanges {
        let _ = bus.delete_exchange(&exchange).await;
    }
    bus.close().await;
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::run_embedded(|fx| async move { super::$check(&fx).await }).await;
                }
            )*
        }
        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::run_rabbit(|fx| async move { super::$check(&fx).await }).await;
                }
            )*
        }
    };
}

conformance!(
    publish_confirm_consume,
    ack_removes,
    requeue_redelivers,
    dead_letter_moves,
    unroutable_is_not_confirmed,
    redelivered_after_consumer_dies,
    accounts_are_isolated,
    topic_routing,
    delivery_limit_dead_letters,
    single_active_consumer,
    ack_multiple,
    worker_batches,
    worker_retries_in_place_within_the_delivery_limit,
    worker_stops_when_idle,
    redeclare_with_other_arguments_is_refused,
    worker_survives_a_buggy_handler,
);

// ------------------------------------------------------ backend-specific --

mod rabbitmq_only {
    use super::*;

    /// Finds this bus's connection among the broker's and closes it.
    fn close_connection_named(name: &str) {
        let listing = std::process::Command::new("rabbitmqctl")
            .args(["list_connections", "-q", "--no-table-headers", "pid", "client_properties"])
            .output()
            .expect("running rabbitmqctl (it must be on PATH)");
        assert!(
            listing.status.success(),
            "rabbitmqctl list_connections failed: {}",
            String::from_utf8_lossy(&listing.stderr)
        );
        let stdout = String::from_utf8_lossy(&listing.stdout);
        let pid = stdout
            .lines()
            .find(|line| line.contains(name))
            .and_then(|line| line.split_whitespace().next())
            .unwrap_or_else(|| panic!("connection {name} not listed by rabbitmqctl:\n{stdout}"))
            .to_owned();
        let closed = std::process::Command::new("rabbitmqctl")
            .args(["close_connection", &pid, "conformance test: connection lost"])
            .output()
            .expect("running rabbitmqctl close_connection");
        assert!(
            closed.status.success(),
            "rabbitmqctl close_connection failed: {}",
            String::from_utf8_lossy(&closed.stderr)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recovers_after_connection_loss() {
        let bus = rabbit_bus().await;
        let fixture = Arc::new(Fixture::new(Arc::new(bus.clone())));
        let name = bus.connection_name().to_owned();
        let check = {
            let fx = Arc::clone(&fixture);
            async move {
                let (exchange, queue) = fx.simple().await;
                fx.publish(&exchange, &[("k.1", "before")]).await;
                let mut consumer = fx.consume(&queue, 10).await;
                let held = recv(&mut consumer).await;
                assert_eq!(body(&held), "before");

                tokio::task::spawn_blocking(move || close_connection_named(&name)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;

                // The tag belongs to the dead channel: an error, never a panic.
                let stale = consumer.ack(held.tag, false).await;
                assert!(stale.is_err(), "ack on a dead channel gave {stale:?}");

                // Publishing reconnects; consuming re-establishes itself and
                // gets the unacked message back.
                fx.publish(&exchange, &[("k.2", "after")]).await;
                let got = recv_n(&mut consumer, 2).await;
                assert_eq!(bodies(&got), set(&["before", "after"]));
                assert!(got.iter().any(|d| body(d) == "before" && d.redelivered));
                let last = got.iter().map(|d| d.tag).max().unwrap();
                consumer.ack(last, true).await.unwrap();
                recv_none(&mut consumer).await;
                fx.wait_depth(&queue, 0).await;
            }
        };
        let outcome = tokio::spawn(check).await;
        cleanup_rabbit(&bus, &fixture).await;
        if let Err(error) = outcome {
            std::panic::resume_unwind(error.into_panic());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_deletion_ends_the_consumer() {
        let bus = rabbit_bus().await;
        let fixture = Arc::new(Fixture::new(Arc::new(bus.clone())));
        let (_exchange, queue) = fixture.simple().await;
        let mut consumer = fixture.consume(&queue, 10).await;
        bus.delete_queue(&queue).await.unwrap();
        let end = timeout(WAIT, consumer.next()).await.unwrap().unwrap();
        assert!(end.is_none());
        cleanup_rabbit(&bus, &fixture).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_ends_consumers() {
        let bus = rabbit_bus().await;
        let fixture = Arc::new(Fixture::new(Arc::new(bus.clone())));
        let (exchange, queue) = fixture.simple().await;
        let mut consumer = fixture.consume(&queue, 10).await;
        // Clean up first: the bus is unusable once closed.
        cleanup_rabbit(&bus, &fixture).await;
        let end = timeout(WAIT, consumer.next()).await.unwrap().unwrap();
        assert!(end.is_none());
        let publish = bus.publish(&exchange, &[OutgoingMessage::new("k.1", b"x".to_vec())]).await;
        assert!(matches!(publish, Err(BusError::Connection(_))), "{publish:?}");
    }
}

mod embedded_only {
    use super::*;
    use tokio::io::{AsyncBufReadExt, BufReader};

    const CHILD_DB: &str = "SMO_BUS_CRASH_CHILD_DB";
    const CHILD_QUEUE: &str = "SMO_BUS_CRASH_CHILD_QUEUE";
    const CLAIMED: &str = "SMO_BUS_CHILD_CLAIMED";

    /// Not a test on its own: the body of the child process that
    /// `crash_of_another_process` starts and kills. Without its environment
    /// variables it does nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crash_child() {
        let (Ok(db), Ok(queue)) = (std::env::var(CHILD_DB), std::env::var(CHILD_QUEUE)) else {
            return;
        };
        let bus = EmbeddedBus::open(std::path::Path::new(&db), embedded_options()).await.unwrap();
        let mut consumer = bus.consume(&ConsumeSpec { queue, prefetch: 10 }).await.unwrap();
        let held = recv_n(&mut consumer, 5).await;
        println!("{CLAIMED} {}", held.len());
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        // Hold them, unacked, until killed.
        tokio::time::sleep(Duration::from_secs(60)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_deletion_ends_the_consumer() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EmbeddedBus::open(&dir.path().join("bus.db"), embedded_options()).await.unwrap();
        let fx = Fixture::new(Arc::new(bus.clone()));
        let (exchange, queue) = fx.simple().await;
        fx.publish(&exchange, &[("k.1", "x")]).await;
        let mut consumer = fx.consume(&queue, 10).await;
        let held = recv(&mut consumer).await;
        assert_eq!(bus.delete_queue(&queue).await.unwrap(), 1);
        assert!(consumer.ack(held.tag, false).await.is_err());
        let end = timeout(WAIT, consumer.next()).await.unwrap().unwrap();
        assert!(end.is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crash_of_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus.db");
        let bus = EmbeddedBus::open(&path, embedded_options()).await.unwrap();
        let fx = Fixture::new(Arc::new(bus.clone()));
        let (exchange, queue) = fx.simple().await;
        fx.publish(&exchange, &[("k.1", "1"), ("k.2", "2"), ("k.3", "3"), ("k.4", "4"), ("k.5", "5")]).await;

        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "embedded_only::crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB, &path)
            .env(CHILD_QUEUE, &queue)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let claimed = timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                // libtest may print "test … " on the same line first.
                if let Some(at) = line.find(CLAIMED) {
                    return line[at..].trim().to_owned();
                }
            }
            panic!("child exited without claiming the messages");
        })
        .await
        .expect("child did not claim the messages in time");
        assert_eq!(claimed, format!("{CLAIMED} 5"));
        assert_eq!(fx.bus().queue_depth(&queue).await.unwrap(), 0);

        child.kill().await.unwrap(); // SIGKILL: no chance to release anything
        let _ = child.wait().await;

        let mut heir = fx.consume(&queue, 10).await;
        let again = recv_n(&mut heir, 5).await;
        assert_eq!(bodies(&again), set(&["1", "2", "3", "4", "5"]));
        assert!(again.iter().all(|d| d.redelivered));
        heir.ack(again.iter().map(|d| d.tag).max().unwrap(), true).await.unwrap();
        fx.wait_depth(&queue, 0).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_picks_the_backend_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let options = smo_bus::BusOptions::default();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let bus = smo_bus::connect(&url, &options).await.unwrap();
    bus.declare_exchange("e").await.unwrap();
    let plain = dir.path().join("b.db").display().to_string();
    smo_bus::connect(&plain, &options).await.unwrap();
    assert!(smo_bus::connect("postgres://x/y", &options).await.is_err());
    let rabbit = smo_bus::connect(&amqp_url(), &options).await.unwrap();
    rabbit.queue_depth("smo.no-such-queue").await.unwrap_err();
}
