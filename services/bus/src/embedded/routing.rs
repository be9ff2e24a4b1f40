//! Topic routing of the embedded bus: which queues a routing key reaches, and
//! the row insert that puts a message in one; shared by publishing and dead letters.

use std::collections::BTreeSet;

use sqlx::Row;

use super::{Inner, Tx, db_error};
use crate::BusError;
use crate::topology::topic_matches;

impl Inner {
    /// Queues bound to `exchange` whose pattern matches `routing_key`, or
    /// `None` when the exchange does not exist.
    pub(super) async fn bindings(
        tx: &mut Tx,
        exchange: &str,
    ) -> Result<Option<Vec<(String, String)>>, BusError> {
        let exists = sqlx::query("SELECT 1 FROM bus_exchanges WHERE name = ?1")
            .bind(exchange)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let rows = sqlx::query("SELECT queue, pattern FROM bus_bindings WHERE exchange = ?1")
            .bind(exchange)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_error)?;
        let mut bindings = Vec::with_capacity(rows.len());
        for row in rows {
            bindings.push((
                row.try_get::<String, _>(0).map_err(db_error)?,
                row.try_get::<String, _>(1).map_err(db_error)?,
            ));
        }
        Ok(Some(bindings))
    }

    pub(super) fn route(bindings: &[(String, String)], routing_key: &str) -> BTreeSet<String> {
        bindings
            .iter()
            .filter(|(_, pattern)| topic_matches(pattern, routing_key))
            .map(|(queue, _)| queue.clone())
            .collect()
    }

    pub(super) async fn insert_message(
        tx: &mut Tx,
        queue: &str,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        headers: &str,
    ) -> Result<(), BusError> {
        sqlx::query(
            "INSERT INTO bus_messages (queue, exchange, routing_key, payload, headers)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(queue)
        .bind(exchange)
        .bind(routing_key)
        .bind(payload)
        .bind(headers)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
