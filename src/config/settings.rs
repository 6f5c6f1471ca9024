//! The configuration once checked: every value typed, so that nothing after loading parses a
//! setting again. `LoadedConfig::validate` is the only way to make one.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use chrono::NaiveDate;

use crate::config::{
    ContentSettings, DatabaseSettings, DiscordSettings, OrgSupport, PackOverride, SupportSettings,
};
use crate::domain::settings::ScheduleSettings;
use crate::domain::shards::ShardRange;

#[derive(Debug, Clone)]
pub struct Settings {
    pub discord: DiscordSettings,
    pub database: DatabaseSettings,
    pub schedule: Scheduling,
    pub content: ContentSettings,
    /// Per theme slug, links to an organisation's own copy of the facilitator pack.
    pub packs: BTreeMap<String, PackOverride>,
    pub support: SupportSettings,
    pub privacy: Privacy,
    pub insights: Insights,
    pub sessions: Sessions,
    /// Where `/metrics`, `/healthz` and `/readyz` are served; `None` leaves the listener off.
    pub metrics_listen: Option<SocketAddr>,
    pub processes: Processes,
}

/// `[schedule]`: what every new schedule starts from, and how the scheduler treats them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduling {
    pub defaults: ScheduleSettings,
    /// How late a missed post may still go out after downtime; older ones are recorded as missed.
    pub catch_up: chrono::Duration,
    /// The organisation's one-off holidays, skipped by every schedule that skips holidays.
    pub extra_holidays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privacy {
    /// How long a departed server's data is kept in case careprompt is added back.
    pub retention: chrono::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insights {
    /// Counts of fewer people than this are not shown; at least 3.
    pub min_people: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sessions {
    /// A reflective session still running this long after it started is ended and its thread
    /// archived; between an hour and a week.
    pub archive_after: chrono::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processes {
    /// A process not heard from for this long is taken to be dead.
    pub takeover_after: chrono::Duration,
    /// The gateway shards this process runs (`--shards`); `None` runs every shard Discord
    /// recommends.
    pub shards: Option<ShardRange>,
}

impl Settings {
    /// The organisation's own contact, which `/support` shows first.
    pub fn org_support(&self) -> Option<&OrgSupport> {
        self.support.org.as_ref()
    }
}
