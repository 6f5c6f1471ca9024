//! The servers of a process's shards, in SQL: the queries that share out work between processes
//! read only the rows of servers on the shards the process runs, by Discord's own formula (see
//! `ShardRange::shard_of`).

use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Type};

use crate::domain::shards::ShardRange;

/// `(column >> 22) % $n BETWEEN $n+1 AND $n+2`, with `n` = `first_placeholder`: whether the
/// server id in `column` is on one of the shards that [`BindShards::bind_shards`] binds there.
pub(super) fn on_shards(column: &str, first_placeholder: u32) -> String {
    let total = first_placeholder;
    format!(
        "({column} >> 22) % ${total} BETWEEN ${} AND ${}",
        total + 1,
        total + 2
    )
}

/// Binds a [`ShardRange`] at the placeholders [`on_shards`] was given: the total number of
/// shards, then the first and the last of the range.
pub(super) trait BindShards: Sized {
    fn bind_i64(self, value: i64) -> Self;

    fn bind_shards(self, shards: &ShardRange) -> Self {
        self.bind_i64(i64::from(shards.total()))
            .bind_i64(i64::from(shards.first()))
            .bind_i64(i64::from(shards.last()))
    }
}

impl<'q, DB: Database> BindShards for Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> BindShards for QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> BindShards for QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    fn bind_i64(self, value: i64) -> Self {
        self.bind(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_numbers_its_three_placeholders_from_the_first() {
        assert_eq!(
            on_shards("s.guild_id", 3),
            "(s.guild_id >> 22) % $3 BETWEEN $4 AND $5"
        );
        assert_eq!(
            on_shards("guild_id", 1),
            "(guild_id >> 22) % $1 BETWEEN $2 AND $3"
        );
    }
}
