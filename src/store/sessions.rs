//! `sessions`, `session_posts` and `session_roles`: facilitated reflective sessions, the ledger
//! of their stage cards, and the role allowed to run them in each server. Nothing anyone writes
//! in a session's thread is kept.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::shards::{on_shards, BindShards};
use super::{
    id_as_string, id_from_db, id_to_db, time_from_db, time_to_db, Pool, Store, StoreError, Worker,
};
use crate::domain::shards::ShardRange;

/// A session, as careprompt keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub id: i64,
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    #[serde(serialize_with = "id_as_string")]
    pub channel_id: u64,
    pub thread_id: Option<u64>,
    #[serde(skip)]
    pub facilitator_id: u64,
    pub theme: String,
    pub story_id: Option<String>,
    pub minutes: u32,
    pub auto: bool,
    pub stage: u32,
    pub stage_started_at: DateTime<Utc>,
    pub stage_deadline: Option<DateTime<Utc>>,
    /// Seconds the stage still had when it was paused; `None` while it runs.
    pub paused_left: Option<i64>,
    pub running: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A session about to start.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub guild_id: u64,
    pub channel_id: u64,
    pub facilitator_id: u64,
    pub theme: &'a str,
    pub story_id: Option<&'a str>,
    pub minutes: u32,
    pub auto: bool,
}

/// What starting a session came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStart {
    Started(Box<SessionRecord>),
    /// The channel already has a running session: this one.
    Busy(Box<SessionRecord>),
}

/// Where a stage card stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagePost {
    /// Claimed now, by this call: send it.
    Fresh,
    /// Claimed at this time by an earlier attempt that did not record a message (this process's,
    /// or one gone unheard for the takeover time), and now taken by this call: anything that
    /// attempt sent was sent since then.
    Taken(DateTime<Utc>),
    /// Claimed by another process that is alive, which finishes it, or the session has ended:
    /// leave it alone.
    Held,
    /// Posted already, as this message.
    Posted(u64),
}

const COLUMNS: &str = "id, guild_id, channel_id, thread_id, facilitator_id, theme, story_id, \
     minutes, auto, stage, stage_started_at, stage_deadline, paused_left, state, started_at, ended_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    guild_id: i64,
    channel_id: i64,
    thread_id: Option<i64>,
    facilitator_id: i64,
    theme: String,
    story_id: Option<String>,
    minutes: i64,
    auto: bool,
    stage: i64,
    stage_started_at: i64,
    stage_deadline: Option<i64>,
    paused_left: Option<i64>,
    state: String,
    started_at: i64,
    ended_at: Option<i64>,
}

impl SessionRow {
    fn into_record(self) -> Result<SessionRecord, StoreError> {
        let small = |value: i64, column: &str| {
            u32::try_from(value).map_err(|_| {
                StoreError::Corrupt(format!("sessions.{column} holds {value}, out of range"))
            })
        };
        Ok(SessionRecord {
            id: self.id,
            guild_id: id_from_db(self.guild_id),
            channel_id: id_from_db(self.channel_id),
            thread_id: self.thread_id.map(id_from_db),
            facilitator_id: id_from_db(self.facilitator_id),
            theme: self.theme,
            story_id: self.story_id,
            minutes: small(self.minutes, "minutes")?,
            auto: self.auto,
            stage: small(self.stage, "stage")?,
            stage_started_at: time_from_db(self.stage_started_at, "sessions.stage_started_at")?,
            stage_deadline: self
                .stage_deadline
                .map(|secs| time_from_db(secs, "sessions.stage_deadline"))
                .transpose()?,
            paused_left: self.paused_left,
            running: self.state == "running",
            started_at: time_from_db(self.started_at, "sessions.started_at")?,
            ended_at: self
                .ended_at
                .map(|secs| time_from_db(secs, "sessions.ended_at"))
                .transpose()?,
        })
    }
}

/// The nonce of a stage card: the session and stage name it uniquely, well inside Discord's 25
/// characters.
pub fn session_nonce(session_id: i64, stage: u32) -> String {
    format!("ss{session_id}-{stage}")
}

impl Store {
    /// Starts a session in a channel, unless one is running there already. The database's
    /// unique index decides, so two starts at once cannot both win.
    pub async fn start_session(
        &self,
        new: &NewSession<'_>,
        deadline: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<SessionStart, StoreError> {
        let inserted: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO sessions (guild_id, channel_id, facilitator_id, theme, story_id, \
                 minutes, auto, stage, stage_started_at, stage_deadline, state, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, 'running', $8) \
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(id_to_db(new.guild_id))
            .bind(id_to_db(new.channel_id))
            .bind(id_to_db(new.facilitator_id))
            .bind(new.theme)
            .bind(new.story_id)
            .bind(i64::from(new.minutes))
            .bind(new.auto)
            .bind(time_to_db(now))
            .bind(deadline.map(time_to_db))
            .fetch_optional(pool)
            .await?
        });
        let (id, started) = match inserted {
            Some(id) => (Some(id), true),
            None => (None, false),
        };
        let record = match id {
            Some(id) => self.session(id).await?,
            None => self.running_session_in(new.channel_id).await?,
        };
        // The running one can end between the refused insert and the read; the caller is told
        // it is busy all the same, and may try again.
        let record = record.ok_or_else(|| {
            StoreError::Corrupt("a session vanished as it was started".to_string())
        })?;
        Ok(if started {
            SessionStart::Started(Box::new(record))
        } else {
            SessionStart::Busy(Box::new(record))
        })
    }

    pub async fn session(&self, id: i64) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
        let row: Option<SessionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(SessionRow::into_record).transpose()
    }

    /// The session running in a channel, or in a thread of it.
    pub async fn running_session_in(
        &self,
        channel_id: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE platform = 'discord' AND state = 'running' \
             AND (channel_id = $1 OR thread_id = $1) ORDER BY id LIMIT 1"
        );
        let row: Option<SessionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id_to_db(channel_id))
                .fetch_optional(pool)
                .await?
        });
        row.map(SessionRow::into_record).transpose()
    }

    /// Every running session in Discord, for the worker to carry on after a restart.
    pub async fn running_sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE platform = 'discord' AND state = 'running' \
             ORDER BY id"
        );
        let rows: Vec<SessionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(SessionRow::into_record).collect()
    }

    /// When the worker next has something to do for the running sessions of these shards'
    /// servers: an automatic stage whose time is up, or a session reaching `archive_after` since
    /// it started.
    pub async fn next_session_wake(
        &self,
        shards: &ShardRange,
        archive_after: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = format!(
            "SELECT MIN(stage_deadline), MIN(started_at) FROM sessions \
             WHERE state = 'running' AND {}",
            on_shards("guild_id", 1)
        );
        let (deadline, started): (Option<i64>, Option<i64>) = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind_shards(shards).fetch_one(pool).await?
        });
        let deadline = deadline
            .map(|secs| time_from_db(secs, "sessions.stage_deadline"))
            .transpose()?;
        let too_long = started
            .map(|secs| time_from_db(secs, "sessions.started_at"))
            .transpose()?
            .map(|started| started + archive_after);
        Ok(deadline.into_iter().chain(too_long).min())
    }

    pub async fn set_session_thread(&self, id: i64, thread_id: u64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET thread_id = $1 WHERE id = $2")
                .bind(id_to_db(thread_id))
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Forgets a session that never got going (its thread could not be opened).
    pub async fn delete_session(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Moves a running session from stage `from` to `to`; false if it had already moved on,
    /// ended, or another click got there first.
    pub async fn move_session(
        &self,
        id: i64,
        from: u32,
        to: u32,
        deadline: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let moved = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET stage = $1, stage_started_at = $2, stage_deadline = $3, \
                 paused_left = NULL WHERE id = $4 AND stage = $5 AND state = 'running'",
            )
            .bind(i64::from(to))
            .bind(time_to_db(now))
            .bind(deadline.map(time_to_db))
            .bind(id)
            .bind(i64::from(from))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(moved > 0)
    }

    /// Pauses (with the seconds the stage still has) or resumes (with its new deadline) a
    /// running session at `stage`; false if it had moved on, ended or was already so.
    pub async fn pause_session(
        &self,
        id: i64,
        stage: u32,
        paused_left: Option<i64>,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let pausing = paused_left.is_some();
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET paused_left = $1, stage_deadline = $2 \
                 WHERE id = $3 AND stage = $4 AND state = 'running' \
                 AND (paused_left IS NULL) = $5",
            )
            .bind(paused_left)
            .bind(deadline.map(time_to_db))
            .bind(id)
            .bind(i64::from(stage))
            .bind(pausing)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Ends a running session; false if it had ended already.
    pub async fn end_session(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let ended = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET state = 'ended', ended_at = $1, stage_deadline = NULL \
                 WHERE id = $2 AND state = 'running'",
            )
            .bind(time_to_db(now))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(ended > 0)
    }

    /// Claims a stage card for `worker` before it is sent, or says where an earlier claim of it
    /// stands. An open claim is taken over as a post's is ([`Store::take_claim`]): only if it is
    /// the worker's own, or its process has gone unheard since `worker.alive_since`, and by
    /// compare and swap on its attempts, so of two processes taking it exactly one goes on.
    pub async fn claim_stage_post(
        &self,
        session_id: i64,
        stage: u32,
        worker: &Worker<'_>,
        now: DateTime<Utc>,
    ) -> Result<StagePost, StoreError> {
        let stage = i64::from(stage);
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Only for a session still running: a card posted into an ended session's thread
            // would open the archived thread again.
            let claimed = sqlx::query(
                "INSERT INTO session_posts (session_id, stage, claimed_at, claimed_by) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS \
                 (SELECT 1 FROM sessions WHERE id = $1 AND state = 'running') \
                 ON CONFLICT (session_id, stage) DO NOTHING",
            )
            .bind(session_id)
            .bind(stage)
            .bind(time_to_db(now))
            .bind(worker.claimer)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed > 0 {
                tx.commit().await?;
                return Ok(StagePost::Fresh);
            }
            let row: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
                "SELECT claimed_at, message_id, attempts FROM session_posts \
                 WHERE session_id = $1 AND stage = $2",
            )
            .bind(session_id)
            .bind(stage)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = match row {
                // The session ended or was deleted meanwhile: there is nothing to post.
                None => Ok(StagePost::Held),
                Some((_, Some(message_id), _)) => Ok(StagePost::Posted(id_from_db(message_id))),
                Some((claimed_at, None, attempts)) => {
                    let taken = sqlx::query(
                        "UPDATE session_posts SET claimed_by = $1, attempts = attempts + 1 \
                         WHERE session_id = $2 AND stage = $3 AND message_id IS NULL \
                         AND attempts = $4 AND (claimed_by = $1 OR claimed_by IS NULL \
                         OR NOT EXISTS (SELECT 1 FROM workers w \
                         WHERE w.claimer = session_posts.claimed_by AND w.seen_at >= $5)) \
                         AND EXISTS (SELECT 1 FROM sessions s \
                         WHERE s.id = session_posts.session_id AND s.state = 'running')",
                    )
                    .bind(worker.claimer)
                    .bind(session_id)
                    .bind(stage)
                    .bind(attempts)
                    .bind(time_to_db(worker.alive_since))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if taken == 1 {
                        time_from_db(claimed_at, "session_posts.claimed_at").map(StagePost::Taken)
                    } else {
                        Ok(StagePost::Held)
                    }
                }
            };
            tx.commit().await?;
            outcome
        })
    }

    /// Starts a taken claim's nonce window again, before a card found missing is sent anew;
    /// false if it is no longer this process's.
    pub async fn reclaim_stage_post(
        &self,
        session_id: i64,
        stage: u32,
        claimer: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE session_posts SET claimed_at = $1 WHERE session_id = $2 AND stage = $3 \
                 AND message_id IS NULL AND claimed_by = $4",
            )
            .bind(time_to_db(now))
            .bind(session_id)
            .bind(i64::from(stage))
            .bind(claimer)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a stage card as posted. The first card of a session, recorded the first time,
    /// counts the session as run for `/insights`, in the week it started.
    pub async fn record_stage_post(
        &self,
        session_id: i64,
        stage: u32,
        message_id: u64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE session_posts SET message_id = $1 WHERE session_id = $2 AND stage = $3";
        if stage > 0 {
            return self
                .update_stage_post(sql, id_to_db(message_id), session_id, stage)
                .await;
        }
        let first = "UPDATE session_posts SET message_id = $1 \
                     WHERE session_id = $2 AND stage = 0 AND message_id IS NULL";
        // Weeks as week_of counts them: FIRST_MONDAY plus whole weeks.
        let count = "INSERT INTO session_counts (platform, guild_id, week, theme, sessions) \
                     SELECT platform, guild_id, \
                     345600 + ((started_at - 345600) / 604800) * 604800, theme, 1 \
                     FROM sessions WHERE id = $1 \
                     ON CONFLICT (platform, guild_id, week, theme) \
                     DO UPDATE SET sessions = session_counts.sessions + 1";
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let recorded = sqlx::query(first)
                .bind(id_to_db(message_id))
                .bind(session_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if recorded > 0 {
                sqlx::query(count).bind(session_id).execute(&mut *tx).await?;
            } else {
                sqlx::query(sql)
                    .bind(id_to_db(message_id))
                    .bind(session_id)
                    .bind(0i64)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets one column (`$1`) of a stage's ledger row.
    async fn update_stage_post(
        &self,
        sql: &str,
        value: i64,
        session_id: i64,
        stage: u32,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(value)
                .bind(session_id)
                .bind(i64::from(stage))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The stages of a session that were posted, for its summary.
    pub async fn posted_stages(&self, session_id: i64) -> Result<u32, StoreError> {
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM session_posts WHERE session_id = $1 AND message_id IS NOT NULL",
            )
            .bind(session_id)
            .fetch_one(pool)
            .await?
        });
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Deletes sessions that ended before `cutoff` (`[privacy] retention` ago), with their
    /// ledgers; returns how many.
    pub async fn purge_old_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let purged = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE state = 'ended' AND ended_at < $1")
                .bind(time_to_db(cutoff))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(purged)
    }

    /// Sets (or with `None`, clears) the role whose members may run sessions in a server.
    pub async fn set_facilitator_role(
        &self,
        guild_id: u64,
        role_id: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            match role_id {
                Some(role) => sqlx::query(
                    "INSERT INTO session_roles (guild_id, role_id, set_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (platform, guild_id) DO UPDATE SET role_id = $2, set_at = $3",
                )
                .bind(id_to_db(guild_id))
                .bind(id_to_db(role))
                .bind(time_to_db(now))
                .execute(pool)
                .await?
                .rows_affected(),
                None => sqlx::query(
                    "DELETE FROM session_roles WHERE platform = 'discord' AND guild_id = $1",
                )
                    .bind(id_to_db(guild_id))
                    .execute(pool)
                    .await?
                    .rows_affected(),
            }
        });
        Ok(())
    }

    pub async fn facilitator_role(&self, guild_id: u64) -> Result<Option<u64>, StoreError> {
        let role: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT role_id FROM session_roles WHERE platform = 'discord' AND guild_id = $1",
            )
                .bind(id_to_db(guild_id))
                .fetch_optional(pool)
                .await?
        });
        Ok(role.map(id_from_db))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_fit_discord_s_25_characters() {
        assert!(session_nonce(i64::MAX, 9).chars().count() <= 25);
        assert_ne!(session_nonce(1, 12), session_nonce(11, 2));
    }
}
