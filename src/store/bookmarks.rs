//! `bookmarks`: what a person saved with a Save button, as it read when they saved it. Private:
//! only that person sees their bookmarks.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{id_to_db, time_from_db, Pool, Store, StoreError};
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
    /// Removes one of the person's own bookmarks; false if they hold no bookmark with that id.
    pub async fn remove_bookmark(
        &self,
        user_id: u64,
        bookmark_id: i64,
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM bookmarks WHERE platform = 'discord' AND user_id = $1 AND id = $2";
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
            "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE platform = 'discord' AND user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let count_sql =
            "SELECT COUNT(*) FROM bookmarks WHERE platform = 'discord' AND user_id = $1";
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
        "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE platform = 'discord' AND user_id = $1 \
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
