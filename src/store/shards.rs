//! The servers of a process's shards, in SQL: the queries that share out work between processes
//! read only the rows of Discord servers on the shards the process runs, by Discord's own formula
//! (see `ShardRange::shard_of`), and the rows of other platforms' places only in the process
//! that serves them (`ShardRange::serves_other_platforms`).

use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Type};

use crate::domain::shards::ShardRange;

/// Whether the server id in `column` (`alias.guild_id`, with the `platform` column beside it) is
/// this process's: a Discord server on one of the shards that [`BindShards::bind_shards`] binds
/// at `$n` to `$n+2` (`n` = `first_placeholder`), or another platform's place when `$n+3` says
/// the process serves them.
pub(super) fn on_shards(column: &str, first_placeholder: u32) -> String {
    let total = first_placeholder;
    let platform = match column.rsplit_once('.') {
        Some((alias, _)) => format!("{alias}.platform"),
        None => "platform".to_string(),
    };
    format!(
        "(({platform} = 'discord' AND ({column} >> 22) % ${total} BETWEEN ${} AND ${}) \
         OR ({platform} <> 'discord' AND ${}))",
        total + 1,
        total + 2,
        total + 3
    )
}

/// Binds a [`ShardRange`] at the placeholders [`on_shards`] was given: the total number of
/// shards, the first and the last of the range, and whether it serves other platforms.
pub(super) trait BindShards: Sized {
    fn bind_i64(self, value: i64) -> Self;

    fn bind_bool(self, value: bool) -> Self;

    fn bind_shards(self, shards: &ShardRange) -> Self {
        self.bind_i64(i64::from(shards.total()))
            .bind_i64(i64::from(shards.first()))
            .bind_i64(i64::from(shards.last()))
            .bind_bool(shards.serves_other_platforms())
    }
}

impl<'q, DB: Database> BindShards for Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }

    fn bind_bool(self, value: bool) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> BindShards for QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }

    fn bind_bool(self, value: bool) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> BindShards for QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }

    fn bind_bool(self, value: bool) -> Self {
        self.bind(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_numbers_its_four_placeholders_from_the_first() {
        assert_eq!(
            on_shards("s.guild_id", 3),
            "((s.platform = 'discord' AND (s.guild_id >> 22) % $3 BETWEEN $4 AND $5) \
             OR (s.platform <> 'discord' AND $6))"
        );
        assert_eq!(
            on_shards("guild_id", 1),
            "((platform = 'discord' AND (guild_id >> 22) % $1 BETWEEN $2 AND $3) \
             OR (platform <> 'discord' AND $4))"
        );
    }
}
