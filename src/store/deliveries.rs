//! `deliveries`: the ledger that makes each scheduled post go out exactly once. A slot is claimed
//! in the database before anything is sent, sent with a nonce, then recorded with its message id
//! in the same transaction that moves the schedule's rotation on. See the migrations for what
//! each state means.

use chrono::{DateTime, Utc};

use super::places::platform_from_db;
use super::shards::{on_shards, BindShards};
use super::{
    id_from_db, id_to_db, rotation_json, time_from_db, time_to_db, Pool, Store, StoreError, Worker,
};
use crate::domain::planning::DuePlan;
use crate::domain::platform::Platform;
use crate::domain::rotation::{Pick, RotationState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A slot of the schedule.
    Scheduled,
    /// `/schedule post-now`.
    Manual,
}

impl DeliveryKind {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Scheduled => "scheduled",
            DeliveryKind::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Claimed,
    Sent,
    Failed,
    Uncertain,
    Missed,
    Holiday,
    Skipped,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Claimed => "claimed",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Uncertain => "uncertain",
            DeliveryState::Missed => "missed",
            DeliveryState::Holiday => "holiday",
            DeliveryState::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Result<DeliveryState, StoreError> {
        Ok(match text {
            "claimed" => DeliveryState::Claimed,
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            "uncertain" => DeliveryState::Uncertain,
            "missed" => DeliveryState::Missed,
            "holiday" => DeliveryState::Holiday,
            "skipped" => DeliveryState::Skipped,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "a delivery is in the unknown state \"{other}\""
                )))
            }
        })
    }
}

/// What a claimed slot will post, chosen when it is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePick {
    pub pick: Pick,
    /// The schedule's rotation once this post is made.
    pub rotation_after: RotationState,
}

/// One row of the ledger, with what sending it needs from its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub schedule_id: i64,
    /// Whose ids `guild_id`, `channel_id` and `message_id` are: the schedule's.
    pub platform: Platform,
    pub guild_id: u64,
    pub channel_id: u64,
    pub role_ping: Option<u64>,
    pub thread: bool,
    pub slot_at: DateTime<Utc>,
    pub kind: DeliveryKind,
    pub state: DeliveryState,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub message_id: Option<u64>,
    pub nonce: Option<String>,
    pub attempts: i64,
    pub pick: Option<Pick>,
    /// Why it failed, or the holiday's name.
    pub detail: Option<String>,
}

/// What claiming a schedule's due slots came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The slot is ours to send.
    Claimed(Box<Delivery>),
    /// Missed or holiday slots were recorded, and nothing is to be sent.
    Recorded,
    /// The schedule changed since it was read, or an earlier claim of it is still open; try
    /// again later with a fresh read.
    Busy,
}

/// The claim to make, for [`Store::claim`].
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub schedule_id: i64,
    /// The version the schedule was read at; the claim fails if it has moved on.
    pub version: i64,
    pub kind: DeliveryKind,
    /// For a scheduled claim, what the due slots came to; `next_due` replaces the schedule's.
    pub plan: Option<&'a DuePlan>,
    /// The slot to post, with what it posts.
    pub post: Option<(DateTime<Utc>, DuePick)>,
    /// Which process claims it.
    pub claimer: &'a str,
}

/// Whether recording a post moved the ledger on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Done,
    /// The row was no longer open (the schedule was removed, or another process recorded it).
    AlreadySettled,
}

macro_rules! delivery_columns {
    () => {
        "d.id, d.schedule_id, s.guild_id, s.channel_id, s.role_ping, s.thread, d.slot_at, d.kind, \
         d.state, d.claimed_by, d.claimed_at, d.message_id, d.nonce, d.attempts, d.theme, \
         d.prompt_id, d.story_id, d.detail, s.platform"
    };
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    schedule_id: i64,
    guild_id: i64,
    channel_id: i64,
    role_ping: Option<i64>,
    thread: bool,
    slot_at: i64,
    kind: String,
    state: String,
    claimed_by: Option<String>,
    claimed_at: Option<i64>,
    message_id: Option<i64>,
    nonce: Option<String>,
    attempts: i32,
    theme: Option<String>,
    prompt_id: Option<String>,
    story_id: Option<String>,
    detail: Option<String>,
    platform: String,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, StoreError> {
        let pick = match (self.theme, self.prompt_id) {
            (Some(theme), Some(prompt_id)) => Some(Pick {
                theme,
                prompt_id,
                story_id: self.story_id,
            }),
            _ => None,
        };
        Ok(Delivery {
            id: self.id,
            schedule_id: self.schedule_id,
            platform: platform_from_db(&self.platform, "schedules")?,
            guild_id: id_from_db(self.guild_id),
            channel_id: id_from_db(self.channel_id),
            role_ping: self.role_ping.map(id_from_db),
            thread: self.thread,
            slot_at: time_from_db(self.slot_at, "deliveries.slot_at")?,
            kind: if self.kind == "manual" {
                DeliveryKind::Manual
            } else {
                DeliveryKind::Scheduled
            },
            state: DeliveryState::parse(&self.state)?,
            claimed_by: self.claimed_by,
            claimed_at: self
                .claimed_at
                .map(|secs| time_from_db(secs, "deliveries.claimed_at"))
                .transpose()?,
            message_id: self.message_id.map(id_from_db),
            nonce: self.nonce,
            attempts: i64::from(self.attempts),
            pick,
            detail: self.detail,
        })
    }
}

/// The nonce of a channel post: its delivery id names the slot uniquely.
pub fn nonce_for(delivery_id: i64) -> String {
    nonce("cp", delivery_id)
}

/// The nonce of a DM: its id in the DM ledger names the person and card uniquely.
pub fn dm_nonce_for(dm_id: i64) -> String {
    nonce("dm", dm_id)
}

/// Discord takes a nonce of at most 25 characters: two letters and any `i64` fit. The letters
/// keep a post's nonce and a DM's apart.
fn nonce(prefix: &str, id: i64) -> String {
    format!("{prefix}{id}")
}

impl Store {
    /// Claims a schedule's due slot, all or nothing: records its missed and holiday slots,
    /// inserts the slot to post as `claimed` with its card chosen, and moves the schedule's
    /// `next_due` on. Only one claim of a schedule is open at a time, so two posts never draw
    /// from the same rotation state.
    pub async fn claim(
        &self,
        claim: &Claim<'_>,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let outcome = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Writing first takes the row (PostgreSQL) or the database (SQLite) for the
            // transaction, so what follows cannot race another claim.
            let moved = match claim.plan {
                Some(plan) => {
                    sqlx::query(
                        "UPDATE schedules SET next_due = $1, \
                         paused = CASE WHEN paused_until IS NOT NULL AND paused_until <= $2 \
                         THEN FALSE ELSE paused END, \
                         paused_until = CASE WHEN paused_until IS NOT NULL AND paused_until <= $2 \
                         THEN NULL ELSE paused_until END, \
                         version = version + 1 WHERE id = $3 AND version = $4",
                    )
                    .bind(plan.next_due.map(time_to_db))
                    .bind(time_to_db(now))
                    .bind(claim.schedule_id)
                    .bind(claim.version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                }
                None => {
                    sqlx::query(
                        "UPDATE schedules SET version = version + 1 WHERE id = $1 AND version = $2",
                    )
                    .bind(claim.schedule_id)
                    .bind(claim.version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                }
            };
            if moved != 1 {
                tx.rollback().await?;
                return Ok(ClaimOutcome::Busy);
            }
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM deliveries WHERE schedule_id = $1 AND state = 'claimed'",
            )
            .bind(claim.schedule_id)
            .fetch_one(&mut *tx)
            .await?;
            if open > 0 {
                tx.rollback().await?;
                return Ok(ClaimOutcome::Busy);
            }
            if let Some(plan) = claim.plan {
                let passed = plan
                    .missed
                    .iter()
                    .map(|slot| (*slot, DeliveryState::Missed, None))
                    .chain(plan.holidays.iter().map(|(slot, holiday)| {
                        (*slot, DeliveryState::Holiday, Some(holiday.name.clone()))
                    }));
                for (slot, state, detail) in passed {
                    sqlx::query(
                        "INSERT INTO deliveries (schedule_id, slot_at, state, detail) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (schedule_id, slot_at) DO NOTHING",
                    )
                    .bind(claim.schedule_id)
                    .bind(time_to_db(slot))
                    .bind(state.as_str())
                    .bind(detail)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut claimed_id = None;
            if let Some((slot, due)) = &claim.post {
                let rotation_after = rotation_json(&due.rotation_after)?;
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO deliveries (schedule_id, slot_at, kind, state, claimed_by, \
                     claimed_at, attempts, theme, prompt_id, story_id, rotation_after) \
                     VALUES ($1, $2, $3, 'claimed', $4, $5, 0, $6, $7, $8, $9) \
                     ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING id",
                )
                .bind(claim.schedule_id)
                .bind(time_to_db(*slot))
                .bind(claim.kind.as_str())
                .bind(claim.claimer)
                .bind(time_to_db(now))
                .bind(&due.pick.theme)
                .bind(&due.pick.prompt_id)
                .bind(due.pick.story_id.as_deref())
                .bind(&rotation_after)
                .fetch_optional(&mut *tx)
                .await?;
                match inserted {
                    Some(id) => {
                        sqlx::query("UPDATE deliveries SET nonce = $1 WHERE id = $2")
                            .bind(nonce_for(id))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        claimed_id = Some(id);
                    }
                    None => {
                        // The slot already has a row: it was posted, skipped or recorded before.
                        tracing::info!(
                            schedule = claim.schedule_id,
                            "a due slot was already in the ledger; not posting it again"
                        );
                    }
                }
            }
            tx.commit().await?;
            claimed_id
        });
        match outcome {
            Some(id) => match self.delivery(id).await? {
                Some(delivery) => Ok(ClaimOutcome::Claimed(Box::new(delivery))),
                None => Ok(ClaimOutcome::Recorded),
            },
            None => Ok(ClaimOutcome::Recorded),
        }
    }

    pub async fn delivery(&self, delivery_id: i64) -> Result<Option<Delivery>, StoreError> {
        let sql = concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries d JOIN schedules s ON s.id = d.schedule_id WHERE d.id = $1"
        );
        let row: Option<DeliveryRow> = with_pool!(self, pool => {
            sqlx::query_as(sql).bind(delivery_id).fetch_optional(pool).await?
        });
        row.map(DeliveryRow::into_delivery).transpose()
    }

    /// Claims still open that this process should finish, for servers of its shards: its own
    /// (from a send that ran out of retries) and those of processes no longer alive. The caller
    /// leaves alone the ones it is sending right now, and takes each with [`Store::take_claim`]
    /// before touching it.
    pub async fn open_claims(&self, worker: &Worker<'_>) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM deliveries d JOIN schedules s ON s.id = d.schedule_id \
                 WHERE d.state = 'claimed' AND {on_shards} \
                 AND (d.claimed_by = $1 OR d.claimed_by IS NULL OR NOT EXISTS \
                      (SELECT 1 FROM workers w WHERE w.claimer = d.claimed_by AND w.seen_at >= $2)) \
                 ORDER BY d.slot_at, d.id"
            ),
            on_shards = on_shards("s.guild_id", 3)
        );
        let rows: Vec<DeliveryRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(worker.claimer)
                .bind(time_to_db(worker.alive_since))
                .bind_shards(&worker.shards)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// Whether another process holds open claims (posts, DMs or the current stage card of a
    /// running session) for servers of these shards: if that process has died, they are this
    /// one's to finish once the takeover time passes.
    pub async fn claims_held_elsewhere(&self, worker: &Worker<'_>) -> Result<bool, StoreError> {
        let on_shards = on_shards("s.guild_id", 2);
        let posts = format!(
            "SELECT d.id FROM deliveries d JOIN schedules s ON s.id = d.schedule_id \
             WHERE d.state = 'claimed' AND d.claimed_by <> $1 AND {on_shards} LIMIT 1"
        );
        let dms = format!(
            "SELECT m.id FROM dm_deliveries m JOIN deliveries d ON d.id = m.delivery_id \
             JOIN schedules s ON s.id = d.schedule_id \
             WHERE m.state = 'claimed' AND (m.claimed_by IS NULL OR m.claimed_by <> $1) \
             AND {on_shards} LIMIT 1"
        );
        let stages = format!(
            "SELECT p.session_id FROM session_posts p JOIN sessions s ON s.id = p.session_id \
             WHERE p.message_id IS NULL AND s.state = 'running' AND p.stage = s.stage \
             AND (p.claimed_by IS NULL OR p.claimed_by <> $1) AND {on_shards} LIMIT 1"
        );
        let held = with_pool!(self, pool => {
            let mut held = false;
            for sql in [&posts, &dms, &stages] {
                let found: Option<i64> = sqlx::query_scalar(sql)
                    .bind(worker.claimer)
                    .bind_shards(&worker.shards)
                    .fetch_optional(pool)
                    .await?;
                if found.is_some() {
                    held = true;
                    break;
                }
            }
            held
        });
        Ok(held)
    }

    /// Takes an open claim, as read, for one more attempt: compare and swap on its attempt count,
    /// so of two processes taking the same claim exactly one succeeds. The claim keeps its
    /// `claimed_at`, from which a look for an earlier send must start. False if it was settled
    /// or taken meanwhile.
    pub async fn take_claim(&self, delivery: &Delivery, claimer: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE deliveries SET claimed_by = $1, attempts = attempts + 1 \
                   WHERE id = $2 AND state = 'claimed' AND attempts = $3";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(claimer)
                .bind(delivery.id)
                .bind(i32::try_from(delivery.attempts).unwrap_or(i32::MAX))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Marks a taken claim as about to be sent again at `now`, once a look found no earlier send;
    /// a later look starts from here. False if it is no longer this process's.
    pub async fn resend_claim(
        &self,
        delivery_id: i64,
        claimer: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE deliveries SET claimed_at = $1 \
                   WHERE id = $2 AND state = 'claimed' AND claimed_by = $3";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(time_to_db(now))
                .bind(delivery_id)
                .bind(claimer)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records the post and moves the schedule's rotation on, in one transaction, and clears
    /// any failure shown for the schedule.
    pub async fn record_sent(
        &self,
        delivery_id: i64,
        message_id: u64,
    ) -> Result<Recorded, StoreError> {
        let done = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let settled: Option<(i64, Option<String>)> = sqlx::query_as(
                "UPDATE deliveries SET state = 'sent', message_id = $1, detail = NULL, \
                 dms_pending = TRUE WHERE id = $2 AND state IN ('claimed', 'uncertain') \
                 RETURNING schedule_id, rotation_after",
            )
            .bind(id_to_db(message_id))
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((schedule_id, rotation_after)) = settled else {
                tx.rollback().await?;
                return Ok(Recorded::AlreadySettled);
            };
            sqlx::query(
                "UPDATE schedules SET rotation = COALESCE($1, rotation), last_error = NULL, \
                 last_error_at = NULL, version = version + 1 WHERE id = $2",
            )
            .bind(rotation_after)
            .bind(schedule_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Recorded::Done
        });
        Ok(done)
    }

    /// Settles an open claim that was not posted (`Failed`, `Missed`) or may have been
    /// (`Uncertain`). The reason is shown to admins in `/schedule list`; `disable` stops the
    /// schedule for good (its channel is gone). The rotation does not move.
    pub async fn settle_unsent(
        &self,
        delivery_id: i64,
        state: DeliveryState,
        reason: &str,
        disable: bool,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let done = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let settled: Option<i64> = sqlx::query_scalar(
                "UPDATE deliveries SET state = $1, detail = $2 \
                 WHERE id = $3 AND state = 'claimed' RETURNING schedule_id",
            )
            .bind(state.as_str())
            .bind(reason)
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(schedule_id) = settled else {
                tx.rollback().await?;
                return Ok(Recorded::AlreadySettled);
            };
            sqlx::query(
                "UPDATE schedules SET last_error = $1, last_error_at = $2, \
                 disabled = (disabled OR $3), version = version + 1 WHERE id = $4",
            )
            .bind(reason)
            .bind(time_to_db(now))
            .bind(disable)
            .bind(schedule_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Recorded::Done
        });
        Ok(done)
    }

    /// Shows why the last attempt at a post failed while the claim stays open for a retry.
    pub async fn note_failure(
        &self,
        schedule_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE schedules SET last_error = $1, last_error_at = $2 WHERE id = $3";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(reason)
                .bind(time_to_db(now))
                .bind(schedule_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Skips the schedule's next slot (`/schedule skip`): recorded as skipped, and the schedule
    /// waits for `following`. The rotation does not move. False if the slot was already
    /// claimed or the schedule changed meanwhile.
    pub async fn skip_slot(
        &self,
        schedule_id: i64,
        version: i64,
        slot: DateTime<Utc>,
        following: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE schedules SET next_due = $1, version = version + 1 \
                 WHERE id = $2 AND version = $3",
            )
            .bind(following.map(time_to_db))
            .bind(schedule_id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let inserted = if moved == 1 {
                sqlx::query(
                    "INSERT INTO deliveries (schedule_id, slot_at, state) VALUES ($1, $2, 'skipped') \
                     ON CONFLICT (schedule_id, slot_at) DO NOTHING",
                )
                .bind(schedule_id)
                .bind(time_to_db(slot))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                0
            };
            if inserted == 1 {
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(done)
    }

    /// The schedule's latest ledger rows, newest slot first.
    pub async fn recent_deliveries(
        &self,
        schedule_id: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries d JOIN schedules s ON s.id = d.schedule_id \
             WHERE d.schedule_id = $1 ORDER BY d.slot_at DESC, d.id DESC LIMIT $2"
        );
        let rows: Vec<DeliveryRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(schedule_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }
}
