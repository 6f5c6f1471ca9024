//! Departure: what a platform's own events say about the places careprompt is in (a Discord
//! server, a team), and what the core makes of it. A place careprompt was removed from has its
//! schedules stopped at once, and what careprompt holds for it erased after the retention period
//! (`scheduler::retention`); one it is back in carries on as before.
//!
//! Each platform tells it in its own way: Discord by GUILD_DELETE and GUILD_CREATE, and by
//! READY's list of a shard's servers after a reconnect (removals while careprompt was away reach
//! it no other way); Teams by its installation and membership updates.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::shards::ShardRange;
use crate::store::{Store, StoreError};

/// The core's side of departure, shared by whatever reports it. It keeps a copy of the places
/// careprompt was removed from, on the shards this process runs, as the database has them: a
/// platform may report every place careprompt is in each time it connects (Discord sends a
/// GUILD_CREATE for every server of a shard, thousands for a large bot), and the copy lets all
/// but a returning place's pass without a database write. Only this process writes departures
/// for its shards, so the copy stays true.
#[derive(Debug)]
pub struct Presence {
    store: Store,
    departed: Mutex<HashSet<u64>>,
}

impl Presence {
    pub fn new(store: Store) -> Presence {
        Presence {
            store,
            departed: Mutex::default(),
        }
    }

    fn departed(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.departed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// careprompt was removed from `place`: its schedules stop now.
    pub async fn removed(&self, place: u64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.store.guild_departed(place, now).await?;
        self.departed().insert(place);
        Ok(())
    }

    /// careprompt is in `place`. True if it had been removed and is back, so its schedules carry
    /// on again; nothing is written otherwise.
    pub async fn present(&self, place: u64) -> Result<bool, StoreError> {
        if !self.departed().remove(&place) {
            return Ok(false);
        }
        if let Err(err) = self.store.guild_present(place).await {
            self.departed().insert(place);
            return Err(err);
        }
        Ok(true)
    }

    /// Every place of `scope` careprompt is in, as the platform lists them when it connects.
    /// One careprompt holds data for that is missing was left while careprompt could not hear
    /// of it, and is taken as removed at `now`; one listed that was departed is back. Returns how
    /// many were found removed.
    pub async fn listed(
        &self,
        scope: &ShardRange,
        listed: &HashSet<u64>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        for place in self.store.departed_guilds(scope).await? {
            if listed.contains(&place) {
                self.store.guild_present(place).await?;
                self.departed().remove(&place);
            } else {
                self.departed().insert(place);
            }
        }
        let mut left = 0;
        for place in self.store.known_guilds(scope).await? {
            if !listed.contains(&place) {
                self.removed(place, now).await?;
                left += 1;
            }
        }
        Ok(left)
    }
}
