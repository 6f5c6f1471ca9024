//! `bookmarks`: what a person saved with a Save button, as it read when they saved it. Private:
//! only that person sees their bookmarks.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{id_to_db, time_from_db, time_to_db, Pool, Store, StoreError};
pub use crate::domain::bookmark::{BookmarkKind, NewBookmark};

/// How many bookmarks one person may hold.
pub const BOOKMARK_LIMIT: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bookmark {
    pub id: i64,
    pub kind: BookmarkKind,
    pub item_id: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What saving came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Added,
    /// The person had already saved the item; they still have one bookmark of it.
    AlreadySaved,
    /// The person holds [`BOOKMARK_LIMIT`] bookmarks already; nothing was saved.
    Full,
}

const BOOKMARK_COLUMNS: &str = "id, kind, item_id, title, body, url, created_at";

/// `bookmarks (id, kind, item_id, title, body, url, created_at)` as stored.
pub(super) type BookmarkRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);

impl Store {
    /// Saves an item for the person, unless they saved it before or already hold `limit`
    /// bookmarks. The limit holds under concurrent saves: the count the insert checks includes
    /// every save committed before it (see the locks below).
    pub async fn add_bookmark(
        &self,
        user_id: u64,
        item: &NewBookmark,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<Saved, StoreError> {
        let id = id_to_db(user_id);
        let insert = "INSERT INTO bookmarks \
                      (user_id, kind, item_id, title, body, url, created_at) \
                      SELECT $1, $2, $3, $4, $5, $6, $7 \
                      WHERE (SELECT COUNT(*) FROM bookmarks WHERE user_id = $1) < $8 \
                      ON CONFLICT (user_id, kind, item_id) DO NOTHING RETURNING id";
        let held =
            "SELECT COUNT(*) FROM bookmarks WHERE user_id = $1 AND kind = $2 AND item_id = $3";
        let sqlite = matches!(self.pool, Pool::Sqlite(_));
        let saved = with_pool!(self, pool => {
            let insert = || {
                sqlx::query_scalar(insert)
                    .bind(id)
                    .bind(item.kind.as_str())
                    .bind(&item.item_id)
                    .bind(&item.title)
                    .bind(&item.body)
                    .bind(&item.url)
                    .bind(time_to_db(at))
                    .bind(i64::from(limit))
            };
            if sqlite {
                // SQLite runs a write statement under the database's one write lock, taken
                // before the statement reads, so on its own the insert is the whole save. Read
                // to its end, where SQLite commits it, so that a failed commit is an error here.
                let added: Vec<i64> = insert().fetch_all(pool).await?;
                if !added.is_empty() {
                    return Ok(Saved::Added);
                }
            }
            // Nothing inserted (SQLite), or PostgreSQL: whether it is saved already or the list
            // is full is told as of one moment, in a transaction. On SQLite, IMMEDIATE takes the
            // write lock at once, rather than upgrading a read lock later, which fails busy
            // instead of waiting.
            let mut tx = if sqlite {
                pool.begin_with("BEGIN IMMEDIATE").await?
            } else {
                pool.begin().await?
            };
            if !sqlite {
                // Saves by one person queue on a lock of their id, held to the commit; each
                // statement after it reads what was committed before it (READ COMMITTED).
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let added: Vec<i64> = insert().fetch_all(&mut *tx).await?;
            let saved = if !added.is_empty() {
                Saved::Added
            } else {
                let before: i64 = sqlx::query_scalar(held)
                    .bind(id)
                    .bind(item.kind.as_str())
                    .bind(&item.item_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if before > 0 {
                    Saved::AlreadySaved
                } else {
                    Saved::Full
                }
            };
            tx.commit().await?;
            saved
        });
        Ok(saved)
    }

    /// Removes one of the person's own bookmarks; false if they hold no bookmark with that id.
    pub async fn remove_bookmark(
        &self,
        user_id: u64,
        bookmark_id: i64,
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM bookmarks WHERE user_id = $1 AND id = $2";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(user_id))
                .bind(bookmark_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// One page of the person's bookmarks, newest first, and how many they hold in all.
    pub async fn bookmarks_page(
        &self,
        user_id: u64,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Bookmark>, u64), StoreError> {
        let id = id_to_db(user_id);
        let page_sql = format!(
            "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let count_sql = "SELECT COUNT(*) FROM bookmarks WHERE user_id = $1";
        let (rows, total): (Vec<BookmarkRow>, i64) = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query_as(&page_sql)
                .bind(id)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&mut *tx)
                .await?;
            let total = sqlx::query_scalar(count_sql)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            (rows, total)
        });
        let bookmarks = rows
            .into_iter()
            .map(bookmark_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((bookmarks, u64::try_from(total).unwrap_or_default()))
    }

    /// All of the person's bookmarks, newest first.
    pub async fn bookmarks(&self, user_id: u64) -> Result<Vec<Bookmark>, StoreError> {
        let sql = bookmarks_sql();
        let rows: Vec<BookmarkRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id_to_db(user_id))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(bookmark_from_row).collect()
    }
}

pub(super) fn bookmarks_sql() -> String {
    format!(
        "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC"
    )
}

pub(super) fn bookmark_from_row(
    (id, kind, item_id, title, body, url, created_at): BookmarkRow,
) -> Result<Bookmark, StoreError> {
    Ok(Bookmark {
        id,
        kind: BookmarkKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("bookmarks.kind holds {kind:?}")))?,
        item_id,
        title,
        body,
        url,
        created_at: time_from_db(created_at, "bookmarks.created_at")?,
    })
}
