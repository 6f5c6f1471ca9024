//! `insight_secrets` and `usage_events`: what `/insights` counts people by, without knowing who
//! they are (see migrations/sqlite/0006_insights.sql), and the one query behind each view.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{id_from_db, id_to_db, time_to_db, Pool, Store, StoreError};
use crate::domain::insights::{week_of, Measure, Tally, WEEK_SECS};
use crate::domain::platform::Platform;

/// Bytes of a server's secret: as long as SHA-256's block of output, the most HMAC-SHA256 gains
/// from.
pub(super) const SECRET_BYTES: usize = 32;

/// Bytes of the keyed hash kept per person: 128 bits tell one server's people apart with no
/// realistic chance of two sharing one.
const PERSON_BYTES: usize = 16;

/// `usage_people`'s theme for a person counted in any theme.
pub(super) const ANY_THEME: &str = "*";

/// How many hashes one statement looks for at once, well under both backends' limits on binds.
pub(super) const HASHES_PER_STATEMENT: usize = 500;

/// The person as the usage records know them: HMAC-SHA256 of their id as careprompt keys them
/// under the server's secret, cut short. A Discord id is hashed as it always was (its decimal
/// digits), so hashes made before other platforms came stay valid; another platform's id is
/// hashed with the platform's name before it, so that it never hashes as a Discord id of the same
/// number would.
pub(super) fn person_hash(
    secret: &[u8],
    platform: Platform,
    user_id: u64,
) -> Result<Vec<u8>, StoreError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|err| StoreError::Corrupt(format!("an insights secret is unusable: {err}")))?;
    let hashed = match platform {
        Platform::Discord => user_id.to_string(),
        other => format!("{other}:{user_id}"),
    };
    mac.update(hashed.as_bytes());
    let mut hash = mac.finalize().into_bytes().to_vec();
    hash.truncate(PERSON_BYTES);
    Ok(hash)
}

impl Store {
    /// The person's hash under every server's secret: what their usage records carry.
    async fn person_hashes_now(&self, user_id: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let secrets: Vec<Vec<u8>> = with_pool!(self, pool => {
            sqlx::query_scalar(SECRETS_SQL).fetch_all(pool).await?
        });
        person_hashes(&secrets, user_id)
    }

    /// How many usage records careprompt holds about the person, in every server.
    pub async fn usage_records_of(&self, user_id: u64) -> Result<u64, StoreError> {
        let hashes = self.person_hashes_now(user_id).await?;
        let mut total = 0i64;
        for chunk in hashes.chunks(HASHES_PER_STATEMENT) {
            let sql = format!(
                "SELECT COUNT(*) FROM usage_events WHERE person IN ({})",
                placeholders(chunk.len())
            );
            let count: i64 = with_pool!(self, pool => {
                let mut query = sqlx::query_scalar(&sql);
                for hash in chunk {
                    query = query.bind(hash);
                }
                query.fetch_one(pool).await?
            });
            total += count;
        }
        Ok(u64::try_from(total).unwrap_or_default())
    }

    /// Deletes usage records of weeks that started before `before`; how many went.
    pub async fn purge_old_usage(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let cutoff = week_of(time_to_db(before));
        let removed = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let removed = sqlx::query("DELETE FROM usage_events WHERE week < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for summary in [
                "DELETE FROM usage_weeks WHERE week < $1",
                "DELETE FROM usage_people WHERE last_week < $1",
                "DELETE FROM usage_counts WHERE week < $1",
                "DELETE FROM session_counts WHERE week < $1",
            ] {
                sqlx::query(summary).bind(cutoff).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            removed
        });
        if removed > 0 {
            tracing::info!(
                records = removed,
                "deleted usage records past their keeping time"
            );
        }
        Ok(removed)
    }

    /// The server a scheduled post belongs to, for a click on a card sent by DM.
    pub async fn guild_of_delivery(&self, delivery_id: i64) -> Result<Option<u64>, StoreError> {
        let sql = "SELECT s.guild_id FROM deliveries p JOIN schedules s ON s.id = p.schedule_id \
                   WHERE p.id = $1";
        let guild: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .bind(delivery_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(guild.map(id_from_db))
    }

    /// Every figure of the server's view of the `weeks` weeks from `first_week` (a Monday 00:00
    /// UTC) to the current week, in one statement: posts and DMs from the ledgers, people from
    /// the usage records and their summaries, each count of people counting each person once per
    /// cell and per margin.
    pub async fn insight_tallies(
        &self,
        guild_id: u64,
        first_week: i64,
        weeks: u32,
    ) -> Result<Vec<Tally>, StoreError> {
        let end = first_week + i64::from(weeks) * WEEK_SECS;
        // Weeks of a post from its slot, as week_of does: FIRST_MONDAY plus whole weeks.
        // People are counted without reading the records: a week's savers, per theme and in all,
        // are kept counted in usage_counts, and those over the weeks shown are the rows of
        // usage_people whose last week falls in them, which holds because the weeks shown end
        // with the current one. Counting the records with DISTINCT took 150 to 250 ms over
        // 100,000 of them.
        let sql = "WITH posts AS ( \
                SELECT p.id, COALESCE(p.theme, '') AS theme, \
                       345600 + ((p.slot_at - 345600) / 604800) * 604800 AS week \
                FROM deliveries p JOIN schedules s ON s.id = p.schedule_id \
                WHERE s.platform = 'discord' AND s.guild_id = $1 AND p.state = 'sent' \
                AND p.slot_at >= $2 AND p.slot_at < $3 \
            ), dms AS ( \
                SELECT d.user_id, posts.theme, posts.week \
                FROM dm_deliveries d JOIN posts ON d.delivery_id = posts.id \
                WHERE d.state = 'sent' \
            ) \
            SELECT 'posts' AS measure, week, theme, COUNT(*) AS n FROM posts GROUP BY week, theme \
            UNION ALL SELECT 'dms', week, theme, COUNT(*) FROM dms GROUP BY week, theme \
            UNION ALL SELECT 'dm_people', week, theme, COUNT(*) \
                FROM (SELECT DISTINCT week, theme, user_id FROM dms) d GROUP BY week, theme \
            UNION ALL SELECT 'dm_people', week, NULL, COUNT(*) \
                FROM (SELECT DISTINCT week, user_id FROM dms) d GROUP BY week \
            UNION ALL SELECT 'dm_people', NULL, theme, COUNT(*) \
                FROM (SELECT DISTINCT theme, user_id FROM dms) d GROUP BY theme \
            UNION ALL SELECT 'dm_people', NULL, NULL, COUNT(*) \
                FROM (SELECT DISTINCT user_id FROM dms) d \
            UNION ALL SELECT 'savers', week, NULLIF(theme, '*'), people FROM usage_counts \
                WHERE platform = 'discord' AND guild_id = $1 AND kind = 'saved' \
                AND week >= $2 AND week < $3 \
            UNION ALL SELECT 'savers', NULL, NULLIF(theme, '*'), COUNT(*) FROM usage_people \
                WHERE platform = 'discord' AND guild_id = $1 AND kind = 'saved' \
                AND last_week >= $2 GROUP BY theme \
            UNION ALL SELECT 'opted_in', NULL, NULL, COUNT(*) FROM usage_people \
                WHERE platform = 'discord' AND guild_id = $1 AND kind = 'opted_in' \
                AND theme = '*' AND last_week >= $2 \
            UNION ALL SELECT 'sessions', week, theme, sessions FROM session_counts \
                WHERE platform = 'discord' AND guild_id = $1 AND week >= $2 AND week < $3 \
            UNION ALL SELECT 'opted_in_now', NULL, NULL, COUNT(*) FROM dm_optins \
                WHERE platform = 'discord' AND guild_id = $1 \
            UNION ALL SELECT 'people_ever', NULL, NULL, COUNT(*) \
                FROM (SELECT DISTINCT person FROM usage_people \
                      WHERE platform = 'discord' AND guild_id = $1 AND theme = '*') e";
        let rows: Vec<(String, Option<i64>, Option<String>, i64)> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(guild_id))
                .bind(first_week)
                .bind(end)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(measure, week, theme, count)| {
                let measure = Measure::parse(&measure).ok_or_else(|| {
                    StoreError::Corrupt(format!("an insights query gave a measure {measure}"))
                })?;
                Ok(Tally {
                    measure,
                    week,
                    theme,
                    count: u64::try_from(count).unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// Every Discord server's secret.
pub(super) const SECRETS_SQL: &str =
    "SELECT secret FROM insight_secrets WHERE platform = 'discord'";

/// The Discord person's hash under each of `secrets`.
pub(super) fn person_hashes(secrets: &[Vec<u8>], user_id: u64) -> Result<Vec<Vec<u8>>, StoreError> {
    secrets
        .iter()
        .map(|secret| person_hash(secret, Platform::Discord, user_id))
        .collect()
}

/// The statements erasing the usage records of `n` hashes, for `/forget-me`, in order: taking
/// the person out of the counts of each cell and week they are in, then deleting their records
/// (whose count is the person's records) and summaries.
pub(super) fn erase_usage_sql(n: usize) -> [String; 5] {
    let hashes = placeholders(n);
    let uncount = |table: &str, theme: &str| {
        format!(
            "UPDATE usage_counts SET people = people - 1 WHERE EXISTS (SELECT 1 FROM {table} r \
             WHERE r.person IN ({hashes}) AND r.platform = usage_counts.platform \
             AND r.guild_id = usage_counts.guild_id \
             AND r.kind = usage_counts.kind AND r.week = usage_counts.week \
             AND {theme} = usage_counts.theme)"
        )
    };
    [
        uncount("usage_events", "r.theme"),
        uncount("usage_weeks", "'*'"),
        format!("DELETE FROM usage_events WHERE person IN ({hashes})"),
        format!("DELETE FROM usage_weeks WHERE person IN ({hashes})"),
        format!("DELETE FROM usage_people WHERE person IN ({hashes})"),
    ]
}

/// `$1, $2, ..., $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_hashes_differently_under_each_servers_secret_and_never_to_their_id() {
        let one = person_hash(&[1; SECRET_BYTES], Platform::Discord, 123_456_789).expect("hash");
        let two = person_hash(&[2; SECRET_BYTES], Platform::Discord, 123_456_789).expect("hash");
        assert_eq!(one.len(), PERSON_BYTES);
        assert_ne!(one, two);
        assert_eq!(
            one,
            person_hash(&[1; SECRET_BYTES], Platform::Discord, 123_456_789).expect("hash")
        );
        assert!(!one.windows(4).any(|w| w == 123_456_789u32.to_be_bytes()));
    }

    #[test]
    fn a_discord_id_hashes_as_before_and_another_platform_s_same_number_does_not() {
        let secret = [7; SECRET_BYTES];
        // As careprompt hashed a Discord id before places and people: its decimal digits.
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("key");
        mac.update(b"693187552210591745");
        let before = &mac.finalize().into_bytes()[..PERSON_BYTES];
        let discord =
            person_hash(&secret, Platform::Discord, 693_187_552_210_591_745).expect("hash");
        assert_eq!(discord, before);
        let teams = person_hash(&secret, Platform::Teams, 693_187_552_210_591_745).expect("hash");
        assert_ne!(teams, discord);
        assert_eq!(teams.len(), PERSON_BYTES);
    }

    #[test]
    fn placeholders_count_from_one() {
        assert_eq!(placeholders(3), "$1, $2, $3");
    }
}
