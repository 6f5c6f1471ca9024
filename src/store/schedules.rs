//! `schedules`: each channel's posting schedule, owned by its team.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::places::platform_from_db;
use super::shards::{on_shards, BindShards};
use super::{
    id_as_string, id_from_db, id_to_db, rotation_json, time_from_db, time_to_db, Pool, Store,
    StoreError,
};
use crate::domain::platform::Platform;
use crate::domain::rotation::RotationState;
use crate::domain::settings::ScheduleSettings;
use crate::domain::shards::ShardRange;

/// A channel's schedule as set up by `/schedule set`, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    pub guild_id: u64,
    pub channel_id: u64,
    pub settings: ScheduleSettings,
    /// The one role the post may ping, when an admin chose one.
    pub role_ping: Option<u64>,
    /// Open a thread on each post for replies.
    pub thread: bool,
    /// The Discord user setting it up.
    pub created_by: u64,
    /// Seeds the rotation of a new schedule; ignored when the channel already has one.
    pub seed: u64,
    pub next_due: Option<DateTime<Utc>>,
}

/// A schedule as `/mydata` lists it among what its creator set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedSchedule {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    #[serde(serialize_with = "id_as_string")]
    pub channel_id: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: i64,
    /// Whose ids `guild_id` and `channel_id` are.
    pub platform: Platform,
    pub guild_id: u64,
    pub channel_id: u64,
    pub settings: ScheduleSettings,
    pub role_ping: Option<u64>,
    pub thread: bool,
    pub paused: bool,
    /// With `paused`: posting starts again from this time. `None` with `paused`: until resumed.
    pub paused_until: Option<DateTime<Utc>>,
    /// Discord said the channel is gone; the schedule never fires again until set anew.
    pub disabled: bool,
    /// Why the last post failed, until one succeeds.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub rotation: RotationState,
    /// Changes on every write to the schedule; pass it back to `advance_rotation`.
    pub version: i64,
    pub next_due: Option<DateTime<Utc>>,
    /// The Discord user who set it up, or `ERASED_USER` once their data is erased.
    pub created_by: u64,
    pub created_at: DateTime<Utc>,
}

/// The columns of `schedules` that `ScheduleRow` reads, in its order.
macro_rules! schedule_columns {
    () => {
        "id, guild_id, channel_id, cron, timezone, bank_holidays, include_bullying, role_ping, \
         thread, paused, paused_until, disabled, last_error, last_error_at, rotation, version, \
         next_due, created_by, created_at, platform"
    };
}

/// A `schedules` row as stored; `into_record` turns it into Rust types.
#[derive(sqlx::FromRow)]
pub(super) struct ScheduleRow {
    id: i64,
    guild_id: i64,
    channel_id: i64,
    cron: String,
    timezone: String,
    bank_holidays: String,
    include_bullying: bool,
    role_ping: Option<i64>,
    thread: bool,
    paused: bool,
    paused_until: Option<i64>,
    disabled: bool,
    last_error: Option<String>,
    last_error_at: Option<i64>,
    rotation: String,
    version: i64,
    next_due: Option<i64>,
    created_by: i64,
    created_at: i64,
    platform: String,
}

/// A stored schedule whose settings no longer parse, such as a time zone a newer time-zone
/// database dropped. It is left out of the batch it was read in, so the others still post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSchedule {
    pub id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    /// Why, in words for an admin.
    pub reason: String,
}

/// The schedules due now, and those that were due but could not be read.
#[derive(Debug, Default)]
pub struct DueSchedules {
    pub due: Vec<ScheduleRecord>,
    pub unreadable: Vec<UnreadableSchedule>,
}

/// A server's schedules, and those of them that can no longer be read.
#[derive(Debug, Default)]
pub struct GuildSchedules {
    pub schedules: Vec<ScheduleRecord>,
    pub unreadable: Vec<UnreadableSchedule>,
}

/// Sorts rows into records and unreadable schedules; any other fault fails the whole read.
fn sort_rows(
    rows: Vec<ScheduleRow>,
) -> Result<(Vec<ScheduleRecord>, Vec<UnreadableSchedule>), StoreError> {
    let mut records = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for row in rows {
        match row.into_record() {
            Ok(record) => records.push(record),
            Err(StoreError::Unreadable(schedule)) => unreadable.push(schedule),
            Err(err) => return Err(err),
        }
    }
    Ok((records, unreadable))
}

impl ScheduleRow {
    pub(super) fn into_record(self) -> Result<ScheduleRecord, StoreError> {
        let rotation = serde_json::from_str(&self.rotation).map_err(|err| {
            StoreError::Corrupt(format!(
                "schedule {} has a rotation state that is not valid: {err}",
                self.id
            ))
        })?;
        let settings = ScheduleSettings::parse(
            &self.cron,
            &self.timezone,
            &self.bank_holidays,
            self.include_bullying,
        )
        .map_err(|err| {
            StoreError::Unreadable(UnreadableSchedule {
                id: self.id,
                guild_id: id_from_db(self.guild_id),
                channel_id: id_from_db(self.channel_id),
                reason: format!("its {} is no longer valid: {err}", err.setting()),
            })
        })?;
        let time = |secs: Option<i64>, column: &str| {
            secs.map(|secs| time_from_db(secs, column)).transpose()
        };
        Ok(ScheduleRecord {
            id: self.id,
            platform: platform_from_db(&self.platform, "schedules")?,
            guild_id: id_from_db(self.guild_id),
            channel_id: id_from_db(self.channel_id),
            settings,
            role_ping: self.role_ping.map(id_from_db),
            thread: self.thread,
            paused: self.paused,
            paused_until: time(self.paused_until, "schedules.paused_until")?,
            disabled: self.disabled,
            last_error: self.last_error,
            last_error_at: time(self.last_error_at, "schedules.last_error_at")?,
            rotation,
            version: self.version,
            next_due: time(self.next_due, "schedules.next_due")?,
            created_by: id_from_db(self.created_by),
            created_at: time_from_db(self.created_at, "schedules.created_at")?,
        })
    }
}

impl Store {
    /// Creates the channel's schedule, or changes its settings if it has one: the rotation carries
    /// on where it was, `next_due` is replaced, a past failure is forgotten and `version` moves
    /// on. A pause stays as it was.
    pub async fn upsert_schedule(
        &self,
        new: &NewSchedule,
        at: DateTime<Utc>,
    ) -> Result<ScheduleRecord, StoreError> {
        let rotation = rotation_json(&RotationState::new(new.seed))?;
        let sql = concat!(
            "INSERT INTO schedules (guild_id, channel_id, cron, timezone, bank_holidays, \
             include_bullying, role_ping, thread, paused, rotation, version, next_due, \
             created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, 1, $10, $11, $12) \
             ON CONFLICT (platform, channel_id) DO UPDATE SET \
             guild_id = excluded.guild_id, cron = excluded.cron, timezone = excluded.timezone, \
             bank_holidays = excluded.bank_holidays, \
             include_bullying = excluded.include_bullying, role_ping = excluded.role_ping, \
             thread = excluded.thread, next_due = excluded.next_due, disabled = FALSE, \
             last_error = NULL, last_error_at = NULL, version = schedules.version + 1 \
             RETURNING ",
            schedule_columns!()
        );
        let row: ScheduleRow = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(new.guild_id))
                .bind(id_to_db(new.channel_id))
                .bind(new.settings.cron())
                .bind(new.settings.timezone_name())
                .bind(new.settings.bank_holidays_name())
                .bind(new.settings.include_bullying)
                .bind(new.role_ping.map(id_to_db))
                .bind(new.thread)
                .bind(&rotation)
                .bind(new.next_due.map(time_to_db))
                .bind(id_to_db(new.created_by))
                .bind(time_to_db(at))
                .fetch_one(pool)
                .await?
        });
        row.into_record()
    }

    pub async fn schedule_for_channel(
        &self,
        channel_id: u64,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE platform = 'discord' AND channel_id = $1"
        );
        let row: Option<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(channel_id))
                .fetch_optional(pool)
                .await?
        });
        row.map(ScheduleRow::into_record).transpose()
    }

    pub async fn schedule(&self, schedule_id: i64) -> Result<Option<ScheduleRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE id = $1"
        );
        let row: Option<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(schedule_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(ScheduleRow::into_record).transpose()
    }

    /// The guild's schedules, oldest first, with those that can no longer be read apart.
    pub async fn schedules_for_guild(&self, guild_id: u64) -> Result<GuildSchedules, StoreError> {
        let sql = concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE platform = 'discord' AND guild_id = $1 ORDER BY id"
        );
        let rows: Vec<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(guild_id))
                .fetch_all(pool)
                .await?
        });
        let (schedules, unreadable) = sort_rows(rows)?;
        Ok(GuildSchedules {
            schedules,
            unreadable,
        })
    }

    /// Switches off a schedule that can no longer be read, saying why, so that it is not tried
    /// again and `/schedule list` shows it until an admin sets it anew.
    pub async fn switch_off_unreadable(
        &self,
        schedule: &UnreadableSchedule,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE schedules SET disabled = TRUE, last_error = $2, last_error_at = $3, \
                   version = version + 1 WHERE id = $1";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(schedule.id)
                .bind(&schedule.reason)
                .bind(time_to_db(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Schedules with a slot due at `now`, soonest first: not disabled, not paused (or paused
    /// until a time that has come), in a server careprompt is still in, on one of `shards`.
    pub async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        shards: &ShardRange,
    ) -> Result<DueSchedules, StoreError> {
        let sql = format!(
            concat!(
                "SELECT ",
                schedule_columns!(),
                " FROM schedules s WHERE s.next_due <= $1 AND s.disabled = FALSE \
                 AND (s.paused = FALSE OR (s.paused_until IS NOT NULL AND s.paused_until <= $1)) \
                 AND NOT EXISTS (SELECT 1 FROM departed_guilds d \
                 WHERE d.platform = s.platform AND d.guild_id = s.guild_id) \
                 AND {on_shards} ORDER BY s.next_due, s.id LIMIT $2"
            ),
            on_shards = on_shards("s.guild_id", 3)
        );
        let rows: Vec<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(time_to_db(now))
                .bind(i64::from(limit))
                .bind_shards(shards)
                .fetch_all(pool)
                .await?
        });
        let (due, unreadable) = sort_rows(rows)?;
        Ok(DueSchedules { due, unreadable })
    }

    /// The earliest time any active schedule of these shards' servers has something to do, for
    /// the worker's sleep.
    pub async fn next_wake(
        &self,
        shards: &ShardRange,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = format!(
            "SELECT MIN(CASE WHEN s.paused = TRUE THEN \
             (CASE WHEN s.paused_until > s.next_due THEN s.paused_until ELSE s.next_due END) \
             ELSE s.next_due END) \
             FROM schedules s WHERE s.next_due IS NOT NULL AND s.disabled = FALSE \
             AND (s.paused = FALSE OR s.paused_until IS NOT NULL) \
             AND NOT EXISTS (SELECT 1 FROM departed_guilds d \
                 WHERE d.platform = s.platform AND d.guild_id = s.guild_id) \
             AND {}",
            on_shards("s.guild_id", 1)
        );
        let earliest: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(&sql)
                .bind_shards(shards)
                .fetch_one(pool)
                .await?
        });
        earliest
            .map(|secs| time_from_db(secs, "schedules.next_due"))
            .transpose()
    }

    /// Removes the channel's schedule and its delivery ledger; false if it had none.
    pub async fn delete_schedule(&self, channel_id: u64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM schedules WHERE platform = 'discord' AND channel_id = $1";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(channel_id))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Saves the rotation state and next slot after a post, but only if the schedule is still at
    /// `expected_version`: false means another process (or a settings change) wrote it first, and
    /// the caller should read it again. On success the version is `expected_version + 1`.
    pub async fn advance_rotation(
        &self,
        schedule_id: i64,
        expected_version: i64,
        state: &RotationState,
        next_due: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let rotation = rotation_json(state)?;
        let sql = "UPDATE schedules SET rotation = $1, next_due = $2, version = version + 1 \
                   WHERE id = $3 AND version = $4";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(&rotation)
                .bind(next_due.map(time_to_db))
                .bind(schedule_id)
                .bind(expected_version)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Pauses the schedule, until `until` or (with `None`) until resumed.
    pub async fn pause_schedule(
        &self,
        schedule_id: i64,
        until: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE schedules SET paused = TRUE, paused_until = $1, version = version + 1 \
                   WHERE id = $2";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(until.map(time_to_db))
                .bind(schedule_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Ends a pause. Slots that fell inside it are not posted late: the schedule waits for
    /// `next_due`.
    pub async fn resume_schedule(
        &self,
        schedule_id: i64,
        next_due: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE schedules SET paused = FALSE, paused_until = NULL, next_due = $1, \
                   version = version + 1 WHERE id = $2";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(next_due.map(time_to_db))
                .bind(schedule_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }
}
