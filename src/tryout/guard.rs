//! `try --database` uses a database only if it is new, holds nothing, or was made by `try`: a
//! try-out connects the stand-in's READY to it, in which every real server is missing, so
//! careprompt would take itself to be removed from each of them (their schedules stop, and their
//! data is erased after the retention period), and its scheduler could claim their due posts.
//!
//! What the database holds is read without changing it (no migrations, a read-only connection);
//! only then is it brought up to date and marked as `try`'s, before anything else is written.
//! Whether `try` made it is told by that mark, and, since a real careprompt may have used a
//! marked database since, by the servers and processes in it: only the stand-in's server and
//! processes named [`CLAIMER_PREFIX`]… may be there.

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::store::{redact_url, Contents, Store, ROWS_COUNTED, SERVERS_LISTED};
use discord_standin::GUILD_ID;

/// How the scheduler of a try-out names itself in `workers` and in its claims. A real
/// careprompt's name goes on with its process id, a number, so never starts like this.
pub const CLAIMER_PREFIX: &str = "careprompt-try-";

/// The name this try-out's scheduler goes by.
pub(super) fn claimer() -> String {
    format!(
        "{CLAIMER_PREFIX}{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A database `try` will not use: why, and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "careprompt try will not use the database {url}: {why} ({found}). A try-out connects its \
     stand-in for Discord to its database, and careprompt would take every server missing from \
     the stand-in to have removed it: their schedules would stop, and their data would be erased \
     after the retention period. Leave out --database to try careprompt on a temporary database, \
     or give try a database of its own (a new SQLite file, or an empty PostgreSQL database)."
)]
pub struct ForeignDatabase {
    /// The database's URL, its password hidden.
    pub url: String,
    pub why: &'static str,
    pub found: String,
}

/// Refuses the database at `url` unless it is new, empty or `try`'s own; otherwise brings it up
/// to date and marks it as `try`'s. Nothing is written before the answer is known.
pub(super) async fn claim(url: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    let shown = redact_url(url);
    if let Some(store) = Store::open_read_only(url)
        .await
        .with_context(|| format!("cannot read the database {shown}"))?
    {
        let contents = store.contents().await;
        store.close().await;
        let contents = contents.with_context(|| format!("cannot read the database {shown}"))?;
        judge(&shown, &contents)?;
    }
    let store = Store::connect(url, 1)
        .await
        .with_context(|| format!("opening the database {shown}"))?;
    let marked = store.mark_made_by_try(at).await;
    store.close().await;
    marked.with_context(|| format!("marking the database {shown} as try's"))
}

/// Whether `try` may use a database holding `contents`.
pub(super) fn judge(url: &str, contents: &Contents) -> Result<(), ForeignDatabase> {
    let refuse = |why, found| {
        Err(ForeignDatabase {
            url: url.to_string(),
            why,
            found,
        })
    };
    if contents.made_by_try {
        let servers: Vec<u64> = contents
            .servers
            .iter()
            .copied()
            .filter(|&server| server != GUILD_ID)
            .collect();
        let processes: Vec<&String> = contents
            .workers
            .iter()
            .filter(|claimer| !claimer.starts_with(CLAIMER_PREFIX))
            .collect();
        if servers.is_empty() && processes.is_empty() {
            return Ok(());
        }
        let mut found = Vec::new();
        found.extend(servers_found(&servers));
        found.extend(processes_found(&processes));
        return refuse(
            "try made it, but a careprompt that runs for real has used it since",
            found.join("; "),
        );
    }
    if contents.is_empty() {
        return Ok(());
    }
    let processes: Vec<&String> = contents.workers.iter().collect();
    let mut found = Vec::new();
    found.extend(servers_found(&contents.servers));
    found.extend(processes_found(&processes));
    let tables: Vec<String> = contents
        .tables
        .iter()
        .map(|(table, rows)| {
            if *rows >= ROWS_COUNTED {
                format!("{table} ({ROWS_COUNTED} or more)")
            } else {
                format!("{table} ({rows})")
            }
        })
        .collect();
    found.push(format!("rows in {}", tables.join(", ")));
    refuse(
        "it holds data that careprompt try did not make",
        found.join("; "),
    )
}

fn servers_found(servers: &[u64]) -> Option<String> {
    let list = servers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match servers.len() {
        0 => None,
        1 => Some(format!("server {list}")),
        n if n >= SERVERS_LISTED => Some(format!("servers {list} and more")),
        _ => Some(format!("servers {list}")),
    }
}

fn processes_found(processes: &[&String]) -> Option<String> {
    let list = processes
        .iter()
        .map(|name| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match processes.len() {
        0 => None,
        1 => Some(format!("the careprompt process {list}")),
        _ => Some(format!("the careprompt processes {list}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(tables: &[(&str, u64)], servers: &[u64], workers: &[&str]) -> Contents {
        Contents {
            tables: tables
                .iter()
                .map(|(table, rows)| (table.to_string(), *rows))
                .collect(),
            servers: servers.to_vec(),
            workers: workers.iter().map(|w| w.to_string()).collect(),
            made_by_try: false,
        }
    }

    #[test]
    fn a_database_holding_nothing_is_fine() {
        assert_eq!(judge("sqlite://x", &Contents::default()), Ok(()));
    }

    #[test]
    fn any_data_try_did_not_make_is_refused_with_what_was_found() {
        // The stand-in's own server, as `careprompt run` against the stand-in leaves it.
        let found = contents(
            &[("bookmarks", 3), ("dm_optins", 2), ("schedules", 1)],
            &[GUILD_ID],
            &[],
        );
        let refused = judge("sqlite://x", &found).expect_err("refused");
        assert_eq!(
            refused.why,
            "it holds data that careprompt try did not make"
        );
        assert_eq!(
            refused.found,
            format!("server {GUILD_ID}; rows in bookmarks (3), dm_optins (2), schedules (1)")
        );
        let bookmarks_only = contents(&[("bookmarks", ROWS_COUNTED)], &[], &[]);
        let refused = judge("sqlite://x", &bookmarks_only).expect_err("refused");
        assert_eq!(refused.found, "rows in bookmarks (10000 or more)");
        let message = refused.to_string();
        assert!(message.contains("Leave out --database"), "{message}");
    }

    #[test]
    fn a_database_try_made_is_fine_until_a_real_careprompt_used_it() {
        let mut ours = contents(
            &[("schedules", 1), ("workers", 1)],
            &[GUILD_ID],
            &["careprompt-try-12-0000abcd"],
        );
        ours.made_by_try = true;
        assert_eq!(judge("sqlite://x", &ours), Ok(()));

        let mut used = ours.clone();
        used.servers.push(81_234_567_890_123_456);
        used.workers.push("careprompt-4242-deadbeef".to_string());
        let refused = judge("sqlite://x", &used).expect_err("refused");
        assert_eq!(
            refused.found,
            "server 81234567890123456; the careprompt process careprompt-4242-deadbeef"
        );
        assert!(refused.why.contains("used it since"), "{}", refused.why);
    }

    #[test]
    fn a_real_claimer_never_looks_like_trys() {
        assert!(claimer().starts_with(CLAIMER_PREFIX));
        assert!(!format!("careprompt-{}-0000abcd", std::process::id()).starts_with(CLAIMER_PREFIX));
    }
}
