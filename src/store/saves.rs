//! Saves (a bookmark and its usage record) and opt-ins' usage records, written in batches.
//!
//! Every Save writes a bookmark and, for `/insights`, a usage record and its summaries: up to
//! seven statements, and on SQLite every one of them waits for the one writer. Written one Save
//! at a time, that made Save ten times slower than before insights under load. So Saves that
//! arrive together are written together: a Save joins a queue, and a writer task (started by the
//! Save that finds none at work) writes everything queued in one transaction, a statement per
//! table whatever the number of Saves, until the queue is empty. Each Save is answered only once
//! its transaction has committed. Nothing is answered that is not on disk, so a crash (even
//! SIGKILL) loses only Saves nobody was told were saved; and every write is idempotent (a
//! bookmark or usage record already there is kept, and counted once), so a Save written again
//! after a failure adds nothing twice.
//!
//! The rules of one Save hold within a batch: a person's bookmark limit (each person's saves are
//! inserted one per statement, and on PostgreSQL under a lock on the person, which `/forget-me`
//! takes too), and a person counted once per cell and week.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::insights::{person_hash, ANY_THEME, SECRET_BYTES};
use super::{id_to_db, time_to_db, NewBookmark, Pool, Saved, Store, StoreError};
use crate::domain::insights::{week_of, UsageKind};
use crate::domain::platform::Platform;

/// Requests written in one transaction at most; the rest go in the next.
const BATCH_MAX: usize = 64;

/// A usage record to write: the person did something in the server, in the week of `at`: saved
/// a card of each of `themes` (one Save of a story of two themes counts in both), or opted in to
/// DMs (`themes` empty). A second of the same in the week adds nothing.
#[derive(Debug, Clone)]
pub struct Usage<'a> {
    pub guild_id: u64,
    pub user_id: u64,
    pub themes: &'a [String],
    pub kind: UsageKind,
    pub at: DateTime<Utc>,
}

/// One Save, or one usage record alone.
#[derive(Debug)]
struct Request {
    bookmark: Option<BookmarkSave>,
    usage: Option<UsageRecord>,
}

#[derive(Debug)]
struct BookmarkSave {
    user_id: i64,
    item: NewBookmark,
    at: i64,
    limit: i64,
}

#[derive(Debug)]
struct UsageRecord {
    guild_id: i64,
    user_id: u64,
    /// The themes of its cells, in order: its themes, or the one theme `''` of an opt-in.
    cells: Vec<String>,
    /// The themes it counts in `usage_people`: its themes and [`ANY_THEME`].
    people: Vec<String>,
    kind: &'static str,
    week: i64,
    at: i64,
}

impl UsageRecord {
    fn new(usage: &Usage<'_>) -> UsageRecord {
        let mut cells: Vec<String> = usage.themes.to_vec();
        cells.sort_unstable();
        cells.dedup();
        let mut people = cells.clone();
        people.push(ANY_THEME.to_string());
        if cells.is_empty() {
            cells.push(String::new());
        }
        UsageRecord {
            guild_id: id_to_db(usage.guild_id),
            user_id: usage.user_id,
            cells,
            people,
            kind: usage.kind.as_str(),
            week: week_of(time_to_db(usage.at)),
            at: time_to_db(usage.at),
        }
    }
}

impl Request {
    fn user(&self) -> Option<i64> {
        match (&self.bookmark, &self.usage) {
            (Some(bookmark), _) => Some(bookmark.user_id),
            (None, Some(usage)) => Some(id_to_db(usage.user_id)),
            (None, None) => None,
        }
    }
}

/// A cell of a usage record as `usage_events` keys it: (server, person, week, theme, kind).
/// The insights secrets of `guilds`, read inside the transaction `tx` (a macro, since the
/// transaction's type differs between the backends `with_pool!` writes the code for).
macro_rules! read_secrets {
    ($tx:ident, $guilds:expr) => {{
        let guilds: &[i64] = $guilds;
        let sql = secrets_sql(guilds.len());
        let mut read = sqlx::query_as::<_, (i64, Vec<u8>)>(&sql);
        for guild in guilds {
            read = read.bind(*guild);
        }
        let found: Vec<(i64, Vec<u8>)> = read.fetch_all(&mut *$tx).await?;
        found
    }};
}

type Cell = (i64, Vec<u8>, i64, String, &'static str);

/// What a request came to: `Some` for a Save, `None` for a usage record alone.
type Answer = Result<Option<Saved>, StoreError>;

/// The requests waiting to be written, whether a writer is at work, and the servers' secrets
/// as last read.
#[derive(Default)]
pub(super) struct Saves {
    queue: Mutex<Queue>,
    /// A secret here is only a hint: a record is written only while the secret it was hashed
    /// under is its server's stored one (see `insert_events_sql`), and a record not written is
    /// checked against the stored secret, so a secret erased or replaced meanwhile, by this
    /// process or another, is noticed and never used.
    secrets: Mutex<HashMap<i64, Vec<u8>>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(Arc<Request>, oneshot::Sender<Answer>)>,
    writing: bool,
}

impl Saves {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<u8>>> {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the secrets held, once servers' secrets were erased.
    pub(super) fn forget_secrets(&self) {
        self.secrets().clear();
    }
}

/// Lets another writer start should the writer stop before the queue is empty (its task
/// dropped as the runtime shuts down).
struct Writing {
    saves: Arc<Saves>,
    done: bool,
}

impl Drop for Writing {
    fn drop(&mut self) {
        if !self.done {
            self.saves.queue().writing = false;
        }
    }
}

impl Store {
    /// Saves an item for the person, unless they saved it before or already hold `limit`
    /// bookmarks. The limit holds under concurrent saves: the count the insert checks includes
    /// every save committed before it.
    pub async fn add_bookmark(
        &self,
        user_id: u64,
        item: &NewBookmark,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<Saved, StoreError> {
        self.save_bookmark(user_id, item, at, limit, None).await
    }

    /// Saves an item for the person as [`Store::add_bookmark`] does, and counts the Save for
    /// `/insights` as `usage` says, in the same transaction: the bookmark and its usage record are
    /// written together or not at all. A Save is counted when the item is saved or was saved
    /// already, not when the list is full.
    pub async fn save_bookmark(
        &self,
        user_id: u64,
        item: &NewBookmark,
        at: DateTime<Utc>,
        limit: u32,
        usage: Option<&Usage<'_>>,
    ) -> Result<Saved, StoreError> {
        let request = Request {
            bookmark: Some(BookmarkSave {
                user_id: id_to_db(user_id),
                item: item.clone(),
                at: time_to_db(at),
                limit: i64::from(limit),
            }),
            usage: usage.map(UsageRecord::new),
        };
        self.write(request)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a Save was written without an outcome".into()))
    }

    /// Notes that the person did something in the server, in the week of `at`: saved a card of
    /// `theme`, or opted in to DMs (`theme` is empty). A second of the same in the week adds
    /// nothing.
    pub async fn record_usage(
        &self,
        guild_id: u64,
        user_id: u64,
        theme: &str,
        kind: UsageKind,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let themes: Vec<String> = [theme]
            .into_iter()
            .filter(|theme| !theme.is_empty())
            .map(str::to_string)
            .collect();
        let usage = Usage {
            guild_id,
            user_id,
            themes: &themes,
            kind,
            at,
        };
        self.write(Request {
            bookmark: None,
            usage: Some(UsageRecord::new(&usage)),
        })
        .await
        .map(|_| ())
    }

    /// Queues the request and waits for its answer; starts a writer if none is at work.
    async fn write(&self, request: Request) -> Answer {
        let request = Arc::new(request);
        let (sender, answer) = oneshot::channel();
        let start = {
            let mut queue = self.saves.queue();
            queue.waiting.push((request.clone(), sender));
            !std::mem::replace(&mut queue.writing, true)
        };
        if start {
            // In a task of its own: a Save whose handler is cancelled cannot stop a batch
            // half-way for everyone else.
            let store = self.clone();
            tokio::spawn(async move { store.write_queue().await });
        }
        self.answered(answer.await, &request).await
    }

    /// Writes batches until the queue is empty.
    async fn write_queue(self) {
        let mut writing = Writing {
            saves: self.saves.clone(),
            done: false,
        };
        loop {
            let batch: Vec<_> = {
                let mut queue = self.saves.queue();
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    writing.done = true;
                    return;
                }
                let n = queue.waiting.len().min(BATCH_MAX);
                queue.waiting.drain(..n).collect()
            };
            self.write_all(batch).await;
        }
    }

    /// The answer the writer of the request's batch sent. Without one, the writer was stopped
    /// before answering (its task dropped), and its transaction rolled back or committed: the
    /// request is written again on its own, which writes nothing twice.
    async fn answered(
        &self,
        answered: Result<Answer, oneshot::error::RecvError>,
        request: &Request,
    ) -> Answer {
        match answered {
            Ok(answer) => answer,
            Err(_) => self.write_alone(request).await,
        }
    }

    /// Writes a batch and answers each of its requests. Should the batch fail, each request is
    /// written on its own, so that one that cannot be written fails alone.
    async fn write_all(&self, batch: Vec<(Arc<Request>, oneshot::Sender<Answer>)>) {
        let requests: Vec<&Request> = batch.iter().map(|(request, _)| request.as_ref()).collect();
        match self.write_batch(&requests).await {
            Ok(answers) => {
                for ((_, sender), saved) in batch.into_iter().zip(answers) {
                    let _ = sender.send(Ok(saved));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some((_, sender)) = batch.into_iter().next() {
                    let _ = sender.send(Err(err));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, saves = batch.len(), "a batch of Saves failed; writing each on its own");
                for (request, sender) in batch {
                    let answer = self.write_alone(&request).await;
                    let _ = sender.send(answer);
                }
            }
        }
    }

    async fn write_alone(&self, request: &Request) -> Answer {
        let mut answers = self.write_batch(&[request]).await?;
        Ok(answers.pop().flatten())
    }

    /// Writes the requests in one transaction: their bookmarks, then the usage records of the
    /// Saves not refused for a full list, and of the usage records alone.
    async fn write_batch(&self, requests: &[&Request]) -> Result<Vec<Option<Saved>>, StoreError> {
        let sqlite = matches!(self.pool, Pool::Sqlite(_));
        if sqlite {
            if let [Request {
                bookmark: Some(bookmark),
                usage: None,
            }] = requests
            {
                // A bookmark alone, on SQLite: one statement, whose write lock is taken before
                // it reads, is the whole Save when it inserts.
                if let Some(saved) = self.insert_bookmark_alone(bookmark).await? {
                    return Ok(vec![Some(saved)]);
                }
            }
        }
        let mut users: Vec<i64> = requests.iter().filter_map(|r| r.user()).collect();
        users.sort_unstable();
        users.dedup();
        let rounds = bookmark_rounds(requests);
        // On SQLite, IMMEDIATE takes the write lock at once, rather than upgrading a read lock
        // later, which fails busy instead of waiting. On PostgreSQL, each person's Saves queue on
        // a lock of their id, taken in one order with the BEGIN (ids are numbers, written into
        // the statement) and held to the commit; each statement after it reads what was
        // committed before it (READ COMMITTED). /forget-me takes the same lock.
        let begin = if sqlite {
            "BEGIN IMMEDIATE".to_string()
        } else {
            let ids: Vec<String> = users.iter().map(i64::to_string).collect();
            format!(
                "BEGIN; SELECT pg_advisory_xact_lock(u) FROM unnest(ARRAY[{}]::BIGINT[]) AS u",
                ids.join(", ")
            )
        };
        let mut saved: Vec<Option<Saved>> = vec![None; requests.len()];
        // The secrets the records were written under, kept once committed.
        let mut secrets: HashMap<i64, Vec<u8>> = HashMap::new();
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            for round in &rounds {
                let sql = insert_bookmarks_sql(round.len());
                let mut insert = sqlx::query_as::<_, (i64, String, String)>(&sql);
                for &i in round {
                    if let Some(b) = &requests[i].bookmark {
                        insert = insert
                            .bind(b.user_id)
                            .bind(b.item.kind.as_str())
                            .bind(&b.item.item_id)
                            .bind(&b.item.title)
                            .bind(&b.item.body)
                            .bind(&b.item.url)
                            .bind(b.at)
                            .bind(b.limit);
                    }
                }
                let added: Vec<(i64, String, String)> = insert.fetch_all(&mut *tx).await?;
                let mut held_back = Vec::new();
                for &i in round {
                    if let Some(b) = &requests[i].bookmark {
                        let key = (b.user_id, b.item.kind.as_str(), b.item.item_id.as_str());
                        if added.iter().any(|(u, k, id)| (*u, k.as_str(), id.as_str()) == key) {
                            saved[i] = Some(Saved::Added);
                        } else {
                            held_back.push(i);
                        }
                    }
                }
                if held_back.is_empty() {
                    continue;
                }
                // Saved already, or the list is full: told as of the same moment.
                let sql = held_bookmarks_sql(held_back.len());
                let mut held = sqlx::query_as::<_, (i64, String, String)>(&sql);
                for &i in &held_back {
                    if let Some(b) = &requests[i].bookmark {
                        held = held
                            .bind(b.user_id)
                            .bind(b.item.kind.as_str())
                            .bind(&b.item.item_id);
                    }
                }
                let held: Vec<(i64, String, String)> = held.fetch_all(&mut *tx).await?;
                for i in held_back {
                    if let Some(b) = &requests[i].bookmark {
                        let key = (b.user_id, b.item.kind.as_str(), b.item.item_id.as_str());
                        saved[i] = Some(
                            if held.iter().any(|(u, k, id)| (*u, k.as_str(), id.as_str()) == key) {
                                Saved::AlreadySaved
                            } else {
                                Saved::Full
                            },
                        );
                    }
                }
            }

            // The usage records to write, with their servers' secrets.
            let counted: Vec<&UsageRecord> = requests
                .iter()
                .zip(&saved)
                .filter(|(_, saved)| **saved != Some(Saved::Full))
                .filter_map(|(request, _)| request.usage.as_ref())
                .collect();
            if !counted.is_empty() {
                let guilds: BTreeSet<i64> = counted.iter().map(|u| u.guild_id).collect();
                {
                    let held = self.saves.secrets();
                    for guild in &guilds {
                        if let Some(secret) = held.get(guild) {
                            secrets.insert(*guild, secret.clone());
                        }
                    }
                }
                // Twice at most: once as held or read, once more for servers whose secret was
                // erased or replaced since (see `purge_departed_guilds`).
                let mut to_write: Vec<&UsageRecord> = counted.clone();
                let mut reread: Vec<i64> = guilds
                    .iter()
                    .copied()
                    .filter(|guild| !secrets.contains_key(guild))
                    .collect();
                let mut new_cells: BTreeSet<Cell> = BTreeSet::new();
                let mut persons: HashMap<(i64, u64), Vec<u8>> = HashMap::new();
                for pass in 0..2 {
                    let mut missing: Vec<i64> = Vec::new();
                    if !reread.is_empty() {
                        let stored = read_secrets!(tx, &reread);
                        missing = reread
                            .iter()
                            .copied()
                            .filter(|g| !stored.iter().any(|(s, _)| s == g))
                            .collect();
                        for guild in &reread {
                            secrets.remove(guild);
                        }
                        secrets.extend(stored);
                    }
                    if !missing.is_empty() {
                        // Made the first time a server needs one; should another process make
                        // one at the same time, the one stored first is everyone's.
                        let sql = new_secrets_sql(missing.len());
                        let mut insert = sqlx::query(&sql);
                        for guild in &missing {
                            let mut fresh = vec![0u8; SECRET_BYTES];
                            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
                            let at = counted
                                .iter()
                                .find(|u| u.guild_id == *guild)
                                .map_or(0, |u| u.at);
                            insert = insert.bind(*guild).bind(fresh).bind(at);
                        }
                        insert.execute(&mut *tx).await?;
                        secrets.extend(read_secrets!(tx, &missing));
                    }
                    // The records' cells, each once, in one order (see `upsert_counts_sql`).
                    let mut cells: BTreeMap<Cell, Vec<u8>> = BTreeMap::new();
                    for usage in &to_write {
                        let secret = secrets.get(&usage.guild_id).ok_or_else(|| {
                            StoreError::Corrupt("an insights secret vanished as it was made".into())
                        })?;
                        let person = person_hash(secret, Platform::Discord, usage.user_id)?;
                        persons.insert((usage.guild_id, usage.user_id), person.clone());
                        for theme in &usage.cells {
                            cells.insert(
                                (usage.guild_id, person.clone(), usage.week, theme.clone(), usage.kind),
                                secret.clone(),
                            );
                        }
                    }
                    // On PostgreSQL the weeks, counts and last weeks are written by the same
                    // statement, from what it inserted; on SQLite, one statement each, below.
                    let people: BTreeSet<(i64, Vec<u8>, i64, &'static str, &str)> = if sqlite {
                        BTreeSet::new()
                    } else {
                        to_write
                            .iter()
                            .filter_map(|u| {
                                let person = persons.get(&(u.guild_id, u.user_id))?;
                                Some(u.people.iter().map(move |theme| {
                                    (u.guild_id, person.clone(), u.week, u.kind, theme.as_str())
                                }))
                            })
                            .flatten()
                            .collect()
                    };
                    let sql = if sqlite {
                        insert_events_sql(cells.len())
                    } else {
                        record_usage_sql(cells.len(), people.len())
                    };
                    let mut insert = sqlx::query_as::<_, (i64, Vec<u8>, i64, String, String)>(&sql);
                    for ((guild, person, week, theme, kind), secret) in &cells {
                        insert = insert
                            .bind(*guild)
                            .bind(person)
                            .bind(*week)
                            .bind(theme)
                            .bind(*kind)
                            .bind(secret);
                    }
                    for (guild, person, week, kind, theme) in &people {
                        insert = insert
                            .bind(*guild)
                            .bind(person)
                            .bind(*week)
                            .bind(*kind)
                            .bind(*theme);
                    }
                    let inserted: Vec<(i64, Vec<u8>, i64, String, String)> =
                        insert.fetch_all(&mut *tx).await?;
                    let mut written = BTreeSet::new();
                    for (guild, person, week, theme, kind) in inserted {
                        let kind = UsageKind::parse(&kind).map_or("", UsageKind::as_str);
                        written.insert((guild, person, week, theme, kind));
                    }
                    // A cell not written was counted already, unless its server's secret is no
                    // longer the one it was hashed under: then read again and written again.
                    let unwritten: BTreeSet<i64> = cells
                        .keys()
                        .filter(|cell| !written.contains(*cell))
                        .map(|(guild, ..)| *guild)
                        .collect();
                    new_cells.extend(written);
                    if unwritten.is_empty() || pass == 1 {
                        break;
                    }
                    let unwritten: Vec<i64> = unwritten.into_iter().collect();
                    let now = read_secrets!(tx, &unwritten);
                    reread = unwritten
                        .into_iter()
                        .filter(|guild| {
                            now.iter().find(|(g, _)| g == guild).map(|(_, s)| s)
                                != secrets.get(guild)
                        })
                        .collect();
                    if reread.is_empty() {
                        break;
                    }
                    to_write = counted
                        .iter()
                        .copied()
                        .filter(|u| reread.contains(&u.guild_id))
                        .collect();
                }

                if sqlite && !new_cells.is_empty() {
                    // The weeks each person is new in, and the counts and last weeks that go up.
                    let mut weeks: BTreeSet<(i64, Vec<u8>, i64, &'static str)> = BTreeSet::new();
                    for (guild, person, week, _, kind) in &new_cells {
                        weeks.insert((*guild, person.clone(), *week, *kind));
                    }
                    let sql = insert_weeks_sql(weeks.len());
                    let mut insert = sqlx::query_as::<_, (i64, i64, String)>(&sql);
                    for (guild, person, week, kind) in &weeks {
                        insert = insert.bind(*guild).bind(person).bind(*week).bind(*kind);
                    }
                    let new_weeks: Vec<(i64, i64, String)> = insert.fetch_all(&mut *tx).await?;
                    let mut counts: BTreeMap<(i64, &str, i64, &str), i64> = BTreeMap::new();
                    for (guild, _, week, theme, kind) in &new_cells {
                        *counts.entry((*guild, *kind, *week, theme.as_str())).or_default() += 1;
                    }
                    for (guild, week, kind) in &new_weeks {
                        let kind = UsageKind::parse(kind).map_or("", UsageKind::as_str);
                        *counts.entry((*guild, kind, *week, ANY_THEME)).or_default() += 1;
                    }
                    let sql = upsert_counts_sql(counts.len());
                    let mut upsert = sqlx::query(&sql);
                    for ((guild, kind, week, theme), people) in &counts {
                        upsert = upsert
                            .bind(*guild)
                            .bind(*kind)
                            .bind(*week)
                            .bind(*theme)
                            .bind(*people);
                    }
                    upsert.execute(&mut *tx).await?;
                    let mut last_weeks: BTreeMap<(i64, &str, &str, Vec<u8>), i64> = BTreeMap::new();
                    for usage in &counted {
                        let Some(person) = persons.get(&(usage.guild_id, usage.user_id)) else {
                            continue;
                        };
                        let new = new_cells.iter().any(|(g, p, w, _, k)| {
                            *g == usage.guild_id && p == person && *w == usage.week && *k == usage.kind
                        });
                        if !new {
                            continue;
                        }
                        for theme in &usage.people {
                            let last = last_weeks
                                .entry((usage.guild_id, usage.kind, theme.as_str(), person.clone()))
                                .or_insert(usage.week);
                            *last = (*last).max(usage.week);
                        }
                    }
                    if !last_weeks.is_empty() {
                        let sql = upsert_people_sql(last_weeks.len());
                        let mut upsert = sqlx::query(&sql);
                        for ((guild, kind, theme, person), week) in &last_weeks {
                            upsert = upsert
                                .bind(*guild)
                                .bind(person)
                                .bind(*kind)
                                .bind(*theme)
                                .bind(*week);
                        }
                        upsert.execute(&mut *tx).await?;
                    }
                }
            }
            tx.commit().await?;
        });
        self.saves.secrets().extend(secrets);
        Ok(saved)
    }

    /// On SQLite, the bookmark alone in one statement; `None` when it inserted nothing, which a
    /// transaction then tells apart (saved already, or the list full).
    async fn insert_bookmark_alone(&self, b: &BookmarkSave) -> Result<Option<Saved>, StoreError> {
        let sql = insert_bookmarks_sql(1);
        let added: Vec<(i64, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(b.user_id)
                .bind(b.item.kind.as_str())
                .bind(&b.item.item_id)
                .bind(&b.item.title)
                .bind(&b.item.body)
                .bind(&b.item.url)
                .bind(b.at)
                .bind(b.limit)
                // Read to its end, where SQLite commits it, so a failed commit is an error here.
                .fetch_all(pool)
                .await?
        });
        Ok((!added.is_empty()).then_some(Saved::Added))
    }
}

/// The batch's Saves in rounds in which each person appears once, in the order they came: the
/// limit check of each insert counts the person's bookmarks as of the statement's start.
fn bookmark_rounds(requests: &[&Request]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for (i, request) in requests.iter().enumerate() {
        if let Some(bookmark) = &request.bookmark {
            let round = seen.entry(bookmark.user_id).or_insert(0);
            if rounds.len() <= *round {
                rounds.push(Vec::new());
            }
            rounds[*round].push(i);
            *round += 1;
        }
    }
    rounds
}

/// `rows` tuples of `columns` placeholders numbered from `$first`: `($1, $2), ($3, $4)`.
fn values(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells = (0..columns)
                .map(|column| format!("${}", first + row * columns + column))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({cells})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts bookmarks of different people, each unless already saved or its person holds as
/// many as its limit; returns those inserted.
fn insert_bookmarks_sql(rows: usize) -> String {
    format!(
        "WITH v (user_id, kind, item_id, title, body, url, created_at, max_held) AS \
         (VALUES {}) \
         INSERT INTO bookmarks (user_id, kind, item_id, title, body, url, created_at) \
         SELECT user_id, kind, item_id, title, body, url, created_at FROM v \
         WHERE (SELECT COUNT(*) FROM bookmarks b \
                WHERE b.platform = 'discord' AND b.user_id = v.user_id) < v.max_held \
         ON CONFLICT (platform, user_id, kind, item_id) DO NOTHING \
         RETURNING user_id, kind, item_id",
        values(rows, 8, 1)
    )
}

/// Which of the (person, kind, item) given are saved.
fn held_bookmarks_sql(rows: usize) -> String {
    format!(
        "WITH v (user_id, kind, item_id) AS (VALUES {}) \
         SELECT v.user_id, v.kind, v.item_id FROM v JOIN bookmarks b \
         ON b.platform = 'discord' AND b.user_id = v.user_id AND b.kind = v.kind \
         AND b.item_id = v.item_id",
        values(rows, 3, 1)
    )
}

fn secrets_sql(guilds: usize) -> String {
    let placeholders = (1..=guilds)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT guild_id, secret FROM insight_secrets \
         WHERE platform = 'discord' AND guild_id IN ({placeholders})"
    )
}

fn new_secrets_sql(guilds: usize) -> String {
    format!(
        "INSERT INTO insight_secrets (guild_id, secret, created_at) VALUES {} \
         ON CONFLICT (platform, guild_id) DO NOTHING",
        values(guilds, 3, 1)
    )
}

/// Inserts the usage records' cells that are new, each only while the secret given is its
/// server's stored one; returns those inserted.
fn insert_events_sql(rows: usize) -> String {
    format!(
        "WITH v (guild_id, person, week, theme, kind, secret) AS (VALUES {}) \
         INSERT INTO usage_events (guild_id, person, week, theme, kind) \
         SELECT guild_id, person, week, theme, kind FROM v \
         WHERE EXISTS (SELECT 1 FROM insight_secrets s WHERE s.platform = 'discord' \
                       AND s.guild_id = v.guild_id AND s.secret = v.secret) \
         ON CONFLICT DO NOTHING RETURNING guild_id, person, week, theme, kind",
        values(rows, 6, 1)
    )
}

/// On PostgreSQL, all of a batch's usage records in one statement: the cells, as
/// [`insert_events_sql`], and from those inserted, the weeks new for their person, the counts
/// (in one order, as [`upsert_counts_sql`]) and the last weeks, from the candidates given after
/// the cells (`people` rows of server, person, week, kind and theme). Returns the cells inserted.
fn record_usage_sql(cells: usize, people: usize) -> String {
    format!(
        "WITH v (guild_id, person, week, theme, kind, secret) AS (VALUES {}), \
         pv (guild_id, person, week, kind, theme) AS (VALUES {}), \
         e AS (INSERT INTO usage_events (guild_id, person, week, theme, kind) \
               SELECT guild_id, person, week, theme, kind FROM v \
               WHERE EXISTS (SELECT 1 FROM insight_secrets s WHERE s.platform = 'discord' \
                             AND s.guild_id = v.guild_id AND s.secret = v.secret) \
               ON CONFLICT DO NOTHING RETURNING guild_id, person, week, theme, kind), \
         w AS (INSERT INTO usage_weeks (guild_id, person, week, kind) \
               SELECT DISTINCT guild_id, person, week, kind FROM e \
               ON CONFLICT DO NOTHING RETURNING guild_id, week, kind), \
         c AS (INSERT INTO usage_counts (guild_id, kind, week, theme, people) \
               SELECT guild_id, kind, week, theme, COUNT(*) FROM \
               (SELECT guild_id, kind, week, theme FROM e \
                UNION ALL SELECT guild_id, kind, week, '*' FROM w) n \
               GROUP BY guild_id, kind, week, theme ORDER BY guild_id, kind, week, theme \
               ON CONFLICT (platform, guild_id, kind, week, theme) \
               DO UPDATE SET people = usage_counts.people + excluded.people), \
         p AS (INSERT INTO usage_people (guild_id, person, kind, theme, last_week) \
               SELECT guild_id, person, kind, theme, MAX(week) FROM pv \
               WHERE EXISTS (SELECT 1 FROM e WHERE e.guild_id = pv.guild_id \
                             AND e.person = pv.person AND e.week = pv.week AND e.kind = pv.kind) \
               GROUP BY guild_id, person, kind, theme ORDER BY guild_id, kind, theme, person \
               ON CONFLICT (platform, guild_id, kind, theme, person) DO UPDATE SET last_week = CASE \
               WHEN excluded.last_week > usage_people.last_week THEN excluded.last_week \
               ELSE usage_people.last_week END) \
         SELECT guild_id, person, week, theme, kind FROM e",
        values(cells, 6, 1),
        values(people, 5, 1 + cells * 6)
    )
}

/// Marks weeks as ones their people are counted in; returns the weeks new for their person.
fn insert_weeks_sql(rows: usize) -> String {
    format!(
        "INSERT INTO usage_weeks (guild_id, person, week, kind) VALUES {} \
         ON CONFLICT DO NOTHING RETURNING guild_id, week, kind",
        values(rows, 4, 1)
    )
}

/// Adds people to counts. Rows come in one order (by server, kind, week and theme), so two
/// transactions adding to the same counts lock them in the same order and never wait for each
/// other in a circle.
fn upsert_counts_sql(rows: usize) -> String {
    format!(
        "INSERT INTO usage_counts (guild_id, kind, week, theme, people) VALUES {} \
         ON CONFLICT (platform, guild_id, kind, week, theme) \
         DO UPDATE SET people = usage_counts.people + excluded.people",
        values(rows, 5, 1)
    )
}

/// Moves each person's last week per theme on, never back.
fn upsert_people_sql(rows: usize) -> String {
    format!(
        "INSERT INTO usage_people (guild_id, person, kind, theme, last_week) VALUES {} \
         ON CONFLICT (platform, guild_id, kind, theme, person) DO UPDATE SET last_week = CASE \
         WHEN excluded.last_week > usage_people.last_week THEN excluded.last_week \
         ELSE usage_people.last_week END",
        values(rows, 5, 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_their_placeholders_row_by_row() {
        assert_eq!(values(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values(1, 1, 4), "($4)");
    }

    fn save(user: i64, item: &str) -> Request {
        Request {
            bookmark: Some(BookmarkSave {
                user_id: user,
                item: NewBookmark {
                    kind: crate::domain::bookmark::BookmarkKind::Prompt,
                    item_id: item.to_string(),
                    title: String::new(),
                    body: None,
                    url: None,
                },
                at: 0,
                limit: 500,
            }),
            usage: None,
        }
    }

    #[test]
    fn each_round_holds_a_person_once_in_the_order_they_came() {
        let requests = [
            save(1, "a"),
            save(2, "a"),
            save(1, "b"),
            save(1, "c"),
            save(3, "a"),
        ];
        let requests: Vec<&Request> = requests.iter().collect();
        assert_eq!(
            bookmark_rounds(&requests),
            vec![vec![0, 1, 4], vec![2], vec![3]]
        );
    }
}
