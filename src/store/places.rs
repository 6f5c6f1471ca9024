//! `places` and `people`: the places and people of platforms other than Discord, each given a
//! number by the database that is its key in every other table, with what the platform needs to
//! reach it again later (see migrations/sqlite/0010). Discord's snowflakes are their own keys, so
//! Discord has no rows here. A person's row is theirs: exported by `/mydata`, erased by
//! `/forget-me`.

use chrono::{DateTime, Utc};

use super::{id_from_db, id_to_db, time_from_db, time_to_db, Pool, Store, StoreError};
use crate::domain::platform::Platform;

/// What kind of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// What a Discord server is to careprompt: the `guild_id` of the tables.
    Team,
    /// A channel of a team.
    Channel,
    /// A group chat outside any team.
    Chat,
}

impl PlaceKind {
    fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Team => "team",
            PlaceKind::Channel => "channel",
            PlaceKind::Chat => "chat",
        }
    }

    fn parse(text: &str) -> Result<PlaceKind, StoreError> {
        match text {
            "team" => Ok(PlaceKind::Team),
            "channel" => Ok(PlaceKind::Channel),
            "chat" => Ok(PlaceKind::Chat),
            other => Err(StoreError::Corrupt(format!("places.kind holds {other:?}"))),
        }
    }
}

/// What a platform needs to reach a place again: for Teams, the service URL to send to, the
/// tenant, the team's own id and the conversation id. `None` is "not known" when read, and
/// "keep what is held" when given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceReach {
    pub service_url: Option<String>,
    pub tenant_id: Option<String>,
    pub team_id: Option<String>,
    pub conversation_id: Option<String>,
}

/// A place as a platform names it, for [`Store::place_id`].
#[derive(Debug, Clone)]
pub struct PlaceSeen<'a> {
    pub platform: Platform,
    /// The platform's own id of it (a Discord snowflake in decimal, a Teams `19:...` id).
    pub external_id: &'a str,
    pub kind: PlaceKind,
    /// The team a channel is in: its id as careprompt keys it.
    pub parent: Option<u64>,
    pub reach: PlaceReach,
}

/// A place careprompt keeps a row for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceRecord {
    pub id: u64,
    pub platform: Platform,
    pub external_id: String,
    pub kind: PlaceKind,
    pub parent: Option<u64>,
    pub reach: PlaceReach,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a platform needs to reach a person again: for Teams, their tenant, their Entra (AAD)
/// object id, the service URL and the one-to-one conversation with them. `None` as for
/// [`PlaceReach`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonReach {
    pub tenant_id: Option<String>,
    pub aad_object_id: Option<String>,
    pub service_url: Option<String>,
    pub conversation_id: Option<String>,
}

/// A person as a platform names them, for [`Store::person_id`].
#[derive(Debug, Clone)]
pub struct PersonSeen<'a> {
    pub platform: Platform,
    /// The platform's own id of them (a Discord snowflake in decimal, a Teams `29:...` id).
    pub external_id: &'a str,
    pub reach: PersonReach,
}

/// A person careprompt keeps a row for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub id: u64,
    pub platform: Platform,
    pub external_id: String,
    pub reach: PersonReach,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PLACE_COLUMNS: &str = "id, platform, external_id, kind, parent_id, service_url, tenant_id, \
                             team_id, conversation_id, created_at, updated_at";

const PERSON_COLUMNS: &str = "id, platform, external_id, tenant_id, aad_object_id, service_url, \
                              conversation_id, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct PlaceRow {
    id: i64,
    platform: String,
    external_id: String,
    kind: String,
    parent_id: Option<i64>,
    service_url: Option<String>,
    tenant_id: Option<String>,
    team_id: Option<String>,
    conversation_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl PlaceRow {
    fn into_record(self) -> Result<PlaceRecord, StoreError> {
        Ok(PlaceRecord {
            id: id_from_db(self.id),
            platform: platform_from_db(&self.platform, "places")?,
            external_id: self.external_id,
            kind: PlaceKind::parse(&self.kind)?,
            parent: self.parent_id.map(id_from_db),
            reach: PlaceReach {
                service_url: self.service_url,
                tenant_id: self.tenant_id,
                team_id: self.team_id,
                conversation_id: self.conversation_id,
            },
            created_at: time_from_db(self.created_at, "places.created_at")?,
            updated_at: time_from_db(self.updated_at, "places.updated_at")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    platform: String,
    external_id: String,
    tenant_id: Option<String>,
    aad_object_id: Option<String>,
    service_url: Option<String>,
    conversation_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl PersonRow {
    fn into_record(self) -> Result<PersonRecord, StoreError> {
        Ok(PersonRecord {
            id: id_from_db(self.id),
            platform: platform_from_db(&self.platform, "people")?,
            external_id: self.external_id,
            reach: PersonReach {
                tenant_id: self.tenant_id,
                aad_object_id: self.aad_object_id,
                service_url: self.service_url,
                conversation_id: self.conversation_id,
            },
            created_at: time_from_db(self.created_at, "people.created_at")?,
            updated_at: time_from_db(self.updated_at, "people.updated_at")?,
        })
    }
}

pub(super) fn platform_from_db(text: &str, table: &str) -> Result<Platform, StoreError> {
    Platform::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("{table}.platform holds {text:?}")))
}

/// A Discord id as a platform gives it: its snowflake, in decimal.
fn snowflake(external_id: &str) -> Result<u64, StoreError> {
    external_id
        .parse()
        .map_err(|_| StoreError::NotAnId(external_id.chars().take(40).collect()))
}

impl Store {
    /// The place's key in careprompt's tables. For Discord, its snowflake (no row is kept). For
    /// another platform, the number of its row in `places`, made the first time it is seen;
    /// reach data given replaces what was held (a platform may move a conversation to another
    /// service URL), and data not given is kept. Any number of processes may ask at once: the
    /// place gets one row, and all of them its number.
    pub async fn place_id(
        &self,
        place: &PlaceSeen<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if place.platform == Platform::Discord {
            return snowflake(place.external_id);
        }
        let sql = "INSERT INTO places (platform, external_id, kind, parent_id, service_url, \
                   tenant_id, team_id, conversation_id, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                   ON CONFLICT (platform, external_id) DO UPDATE SET \
                   parent_id = COALESCE(excluded.parent_id, places.parent_id), \
                   service_url = COALESCE(excluded.service_url, places.service_url), \
                   tenant_id = COALESCE(excluded.tenant_id, places.tenant_id), \
                   team_id = COALESCE(excluded.team_id, places.team_id), \
                   conversation_id = COALESCE(excluded.conversation_id, places.conversation_id), \
                   updated_at = excluded.updated_at \
                   RETURNING id";
        let reach = &place.reach;
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .bind(place.platform.as_str())
                .bind(place.external_id)
                .bind(place.kind.as_str())
                .bind(place.parent.map(id_to_db))
                .bind(reach.service_url.as_deref())
                .bind(reach.tenant_id.as_deref())
                .bind(reach.team_id.as_deref())
                .bind(reach.conversation_id.as_deref())
                .bind(time_to_db(now))
                .fetch_one(pool)
                .await?
        });
        Ok(id_from_db(id))
    }

    /// The place careprompt numbered `id`, with what reaching it takes; `None` for an unknown
    /// number (and for every Discord place, which has no row).
    pub async fn place(&self, id: u64) -> Result<Option<PlaceRecord>, StoreError> {
        let sql = format!("SELECT {PLACE_COLUMNS} FROM places WHERE id = $1");
        let row: Option<PlaceRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id_to_db(id)).fetch_optional(pool).await?
        });
        row.map(PlaceRow::into_record).transpose()
    }

    /// The place a platform names so, if careprompt has seen it.
    pub async fn find_place(
        &self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<PlaceRecord>, StoreError> {
        let sql =
            format!("SELECT {PLACE_COLUMNS} FROM places WHERE platform = $1 AND external_id = $2");
        let row: Option<PlaceRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(platform.as_str())
                .bind(external_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(PlaceRow::into_record).transpose()
    }

    /// The person's key in careprompt's tables, as [`Store::place_id`] gives a place's.
    pub async fn person_id(
        &self,
        person: &PersonSeen<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if person.platform == Platform::Discord {
            return snowflake(person.external_id);
        }
        let sql = "INSERT INTO people (platform, external_id, tenant_id, aad_object_id, \
                   service_url, conversation_id, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                   ON CONFLICT (platform, external_id) DO UPDATE SET \
                   tenant_id = COALESCE(excluded.tenant_id, people.tenant_id), \
                   aad_object_id = COALESCE(excluded.aad_object_id, people.aad_object_id), \
                   service_url = COALESCE(excluded.service_url, people.service_url), \
                   conversation_id = COALESCE(excluded.conversation_id, people.conversation_id), \
                   updated_at = excluded.updated_at \
                   RETURNING id";
        let reach = &person.reach;
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .bind(person.platform.as_str())
                .bind(person.external_id)
                .bind(reach.tenant_id.as_deref())
                .bind(reach.aad_object_id.as_deref())
                .bind(reach.service_url.as_deref())
                .bind(reach.conversation_id.as_deref())
                .bind(time_to_db(now))
                .fetch_one(pool)
                .await?
        });
        Ok(id_from_db(id))
    }

    /// The person careprompt numbered `id`, with what reaching them takes.
    pub async fn person(&self, id: u64) -> Result<Option<PersonRecord>, StoreError> {
        let sql = format!("SELECT {PERSON_COLUMNS} FROM people WHERE id = $1");
        let row: Option<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id_to_db(id)).fetch_optional(pool).await?
        });
        row.map(PersonRow::into_record).transpose()
    }

    /// The person a platform names so, if careprompt has seen them.
    pub async fn find_person(
        &self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<PersonRecord>, StoreError> {
        let sql =
            format!("SELECT {PERSON_COLUMNS} FROM people WHERE platform = $1 AND external_id = $2");
        let row: Option<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(platform.as_str())
                .bind(external_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(PersonRow::into_record).transpose()
    }
}
