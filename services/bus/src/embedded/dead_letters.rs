//! Dead-lettering in the embedded bus: moving a message to its queue's
//! dead-letter target, on request or when the delivery limit is exceeded.

use std::collections::{BTreeSet, HashMap};

use smo_proto::topology::{ORIGINAL_KEY_HEADER, REASON_HEADER};
use sqlx::Row;
use tracing::{debug, error, warn};

use super::{DELIVERY_LIMIT_REASON, Inner, Tx, db_error, decode_headers, encode_headers};
use crate::BusError;

impl Inner {
    /// Moves message `id` to its queue's dead-letter target. With `strict`,
    /// an unroutable dead letter is an error (the message stays); without,
    /// it is dropped with an error log, as RabbitMQ does.
    pub(super) async fn dead_letter_row(
        tx: &mut Tx,
        id: i64,
        reason: &str,
        strict: bool,
    ) -> Result<(), BusError> {
        let Some(row) = sqlx::query(
            "SELECT m.routing_key, m.payload, m.headers, q.dead_letter_exchange, q.dead_letter_key, m.queue
             FROM bus_messages m LEFT JOIN bus_queues q ON q.name = m.queue
             WHERE m.id = ?1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?
        else {
            return Ok(());
        };
        let routing_key: String = row.try_get(0).map_err(db_error)?;
        let payload: Vec<u8> = row.try_get(1).map_err(db_error)?;
        let headers: String = row.try_get(2).map_err(db_error)?;
        let target_exchange: Option<String> = row.try_get(3).map_err(db_error)?;
        let target_key: Option<String> = row.try_get(4).map_err(db_error)?;
        let queue: String = row.try_get(5).map_err(db_error)?;

        let (Some(exchange), Some(key)) = (target_exchange, target_key) else {
            warn!(queue, id, reason, "queue has no dead-letter target; dropping the message");
            return Self::delete_message(tx, id).await;
        };
        let queues = match Self::bindings(tx, &exchange).await? {
            Some(bindings) => Self::route(&bindings, &key),
            None => BTreeSet::new(),
        };
        if queues.is_empty() {
            if strict {
                return Err(BusError::NotConfirmed {
                    exchange,
                    routing_key: key,
                    reason: "dead letter unroutable: no queue bound for its routing key".to_owned(),
                });
            }
            error!(queue, id, reason, exchange, key, "dead letter unroutable; dropping the message");
            return Self::delete_message(tx, id).await;
        }
        let mut headers = decode_headers(&headers);
        headers.insert(REASON_HEADER.to_owned(), reason.to_owned());
        headers.insert(ORIGINAL_KEY_HEADER.to_owned(), routing_key);
        let headers = encode_headers(&headers)?;
        for target in &queues {
            Self::insert_message(tx, target, &exchange, &key, &payload, &headers).await?;
        }
        Self::delete_message(tx, id).await
    }

    async fn delete_message(tx: &mut Tx, id: i64) -> Result<(), BusError> {
        sqlx::query("DELETE FROM bus_messages WHERE id = ?1")
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Dead-letters those of the just-returned `(id, queue, returns)` rows
    /// whose queue's delivery limit they exceed.
    pub(super) async fn enforce_delivery_limits(
        tx: &mut Tx,
        returned: &[(i64, String, i64)],
    ) -> Result<(), BusError> {
        let mut limits: HashMap<&str, Option<i64>> = HashMap::new();
        for (id, queue, returns) in returned {
            let limit = match limits.get(queue.as_str()) {
                Some(limit) => *limit,
                None => {
                    let limit = sqlx::query("SELECT delivery_limit FROM bus_queues WHERE name = ?1")
                        .bind(queue)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db_error)?
                        .map(|row| row.try_get::<Option<i64>, _>(0))
                        .transpose()
                        .map_err(db_error)?
                        .flatten();
                    limits.insert(queue.as_str(), limit);
                    limit
                }
            };
            if let Some(limit) = limit
                && *returns > limit
            {
                debug!(queue, id, returns, limit, "delivery limit exceeded; dead-lettering");
                Self::dead_letter_row(tx, *id, DELIVERY_LIMIT_REASON, false).await?;
            }
        }
        Ok(())
    }

    pub(super) fn returned_rows(
        rows: Vec<sqlx::sqlite::SqliteRow>,
    ) -> Result<Vec<(i64, String, i64)>, BusError> {
        rows.into_iter()
            .map(|row| {
                Ok((
                    row.try_get(0).map_err(db_error)?,
                    row.try_get(1).map_err(db_error)?,
                    row.try_get(2).map_err(db_error)?,
                ))
            })
            .collect()
    }
}
