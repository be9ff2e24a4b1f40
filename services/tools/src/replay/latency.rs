//! when each batch's transaction returned: from then on the case of each of
//! its complaints and questions exists, queued or assigned. The latency of a
//! post is that moment minus the moment its publish call started.
//! `--rate N` publishes N complaints per second flat instead (texts the same
//! classifier marks as complaint or question, each a new conversation) for
//! the latency aim: p99 under one second at 1,000 complaints per second. A
//! flat rate is a wall-clock rate, so there the agents and SLA clocks run in
//! real time (at 100× the same agents would answer, and SLA clocks expire,
//! a hundred times as often per second as any real team's would).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use serde::Deserialize;
use smo_bus::Delivery;
use smo_bus::worker::{BatchHandler, HandlerError, Outcome};
use smo_proto::topology::Stage;
use smo_proto::{AccountId, Intent, PostId};

use smo_pipeline::HandlerHook;

/// When each post's publish started and when its case became assignable.
#[derive(Debug, Default)]
pub(super) struct Marks {
    pub(super) published: HashMap<PostId, Instant>,
    pub(super) assignable: HashMap<PostId, Instant>,
}

pub(super) type SharedMarks = Arc<Mutex<Marks>>;

/// The fields of an enriched post the latency hook reads.
#[derive(Deserialize)]
pub(super) struct Probe {
    pub(super) post: ProbePost,
    pub(super) intent: Intent,
}

#[derive(Deserialize)]
pub(super) struct ProbePost {
    pub(super) id: PostId,
}

/// Wraps the community stage's own handler, unchanged, in [`TimedCommunity`].
pub(super) struct TimeCommunity(pub(super) SharedMarks);

impl HandlerHook for TimeCommunity {
    fn wrap(&self, stage: Stage, _: &AccountId, handler: Box<dyn BatchHandler>) -> Box<dyn BatchHandler> {
        match stage {
            Stage::Community => Box::new(TimedCommunity { inner: handler, marks: Arc::clone(&self.0) }),
            _ => handler,
        }
    }
}

/// The community stage's own handler, unchanged, noting the moment each
/// batch's transaction returned for every complaint and question acked in
/// it: their cases exist from then on, queued or assigned.
pub(super) struct TimedCommunity {
    pub(super) inner: Box<dyn BatchHandler>,
    pub(super) marks: SharedMarks,
}

#[async_trait]
impl BatchHandler for TimedCommunity {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let outcomes = self.inner.handle(batch).await?;
        let done = Instant::now();
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        for (delivery, outcome) in batch.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::Ack)
                && let Ok(probe) = serde_json::from_slice::<Probe>(&delivery.payload)
                && probe.intent.needs_response()
            {
                marks.assignable.entry(probe.post.id).or_insert(done);
            }
        }
        Ok(outcomes)
    }
}
