-- Places and people of platforms other than Discord, and the platform of every row keyed by one.
-- migrations/postgres/0010 makes the same change; change both together.
--
-- Discord keeps its snowflakes as keys and needs no rows here. Another platform's ids are opaque
-- strings (Microsoft Teams: `19:...@thread.tacv2`, `29:...`), so careprompt gives each of its
-- places and people a number of its own, the `id` below, which is its key in every other table,
-- and keeps beside it what the platform needs to reach it again later. A key is unique per
-- platform: every table keyed by a server, channel or person says whose key it is in `platform`,
-- 'discord' for every row made before this.
--
-- SQLite cannot change a table's keys in place, so the tables whose keys change are made anew
-- with every row they held; AUTOINCREMENT tables keep the last id they issued, so no id is ever
-- issued twice.

-- A place careprompt posts in or hears from: a team (what a Discord server is to careprompt), a
-- channel of one (parent_id names the team), or a group chat. What reaching it takes: the
-- service URL to send to, the tenant, the team's own id and the conversation id.
CREATE TABLE places (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    platform        TEXT    NOT NULL CHECK (platform <> 'discord'),
    external_id     TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('team', 'channel', 'chat')),
    parent_id       BIGINT  REFERENCES places (id),
    service_url     TEXT,
    tenant_id       TEXT,
    team_id         TEXT,
    conversation_id TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (platform, external_id)
);

-- A person careprompt heard from. Private: exported by /mydata and erased by /forget-me with the
-- rest of what careprompt holds about them. What reaching them takes: their tenant, their Entra
-- (AAD) object id, the service URL and the one-to-one conversation with them.
CREATE TABLE people (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    platform        TEXT    NOT NULL CHECK (platform <> 'discord'),
    external_id     TEXT    NOT NULL,
    tenant_id       TEXT,
    aad_object_id   TEXT,
    service_url     TEXT,
    conversation_id TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (platform, external_id)
);

-- schedules, with deliveries and dm_deliveries, whose foreign keys name them: each is renamed out
-- of the way first (renaming a table also renames it in the foreign keys that name it), made
-- anew, filled, and the old one dropped once nothing names it.
ALTER TABLE dm_deliveries RENAME TO dm_deliveries_0009;
ALTER TABLE deliveries RENAME TO deliveries_0009;
ALTER TABLE schedules RENAME TO schedules_0009;

CREATE TABLE schedules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id         BIGINT  NOT NULL,
    channel_id       BIGINT  NOT NULL,
    cron             TEXT    NOT NULL,
    timezone         TEXT    NOT NULL,
    bank_holidays    TEXT    NOT NULL,
    include_bullying BOOLEAN NOT NULL CHECK (include_bullying IN (0, 1)),
    role_ping        BIGINT,
    paused           BOOLEAN NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    rotation         TEXT    NOT NULL,
    version          BIGINT  NOT NULL DEFAULT 1,
    next_due         BIGINT,
    created_by       BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    paused_until     BIGINT,
    thread           BOOLEAN NOT NULL DEFAULT 0 CHECK (thread IN (0, 1)),
    disabled         BOOLEAN NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    last_error       TEXT,
    last_error_at    BIGINT,
    platform         TEXT    NOT NULL DEFAULT 'discord',
    UNIQUE (platform, channel_id)
);
INSERT INTO schedules (id, guild_id, channel_id, cron, timezone, bank_holidays, include_bullying,
                       role_ping, paused, rotation, version, next_due, created_by, created_at,
                       paused_until, thread, disabled, last_error, last_error_at)
SELECT id, guild_id, channel_id, cron, timezone, bank_holidays, include_bullying, role_ping,
       paused, rotation, version, next_due, created_by, created_at, paused_until, thread,
       disabled, last_error, last_error_at
FROM schedules_0009;

CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id    BIGINT  NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    slot_at        BIGINT  NOT NULL,
    kind           TEXT    NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'manual')),
    state          TEXT    NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'uncertain',
                                                     'missed', 'holiday', 'skipped')),
    claimed_by     TEXT,
    claimed_at     BIGINT,
    message_id     BIGINT,
    nonce          TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    theme          TEXT,
    prompt_id      TEXT,
    story_id       TEXT,
    rotation_after TEXT,
    detail         TEXT,
    dms_pending    BOOLEAN NOT NULL DEFAULT 0 CHECK (dms_pending IN (0, 1)),
    UNIQUE (schedule_id, slot_at)
);
INSERT INTO deliveries (id, schedule_id, slot_at, kind, state, claimed_by, claimed_at, message_id,
                        nonce, attempts, theme, prompt_id, story_id, rotation_after, detail,
                        dms_pending)
SELECT id, schedule_id, slot_at, kind, state, claimed_by, claimed_at, message_id, nonce, attempts,
       theme, prompt_id, story_id, rotation_after, detail, dms_pending
FROM deliveries_0009;

CREATE TABLE dm_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL,
    card_key    TEXT   NOT NULL,
    delivery_id BIGINT REFERENCES deliveries (id) ON DELETE SET NULL,
    state       TEXT   NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'skipped')),
    claimed_at  BIGINT NOT NULL,
    message_id  BIGINT,
    detail      TEXT,
    claimed_by  TEXT,
    platform    TEXT   NOT NULL DEFAULT 'discord',
    UNIQUE (platform, user_id, card_key)
);
INSERT INTO dm_deliveries (id, user_id, card_key, delivery_id, state, claimed_at, message_id,
                           detail, claimed_by)
SELECT id, user_id, card_key, delivery_id, state, claimed_at, message_id, detail, claimed_by
FROM dm_deliveries_0009;

-- Each new table takes over the last id its old one issued (the old one's row in
-- sqlite_sequence, renamed with it), and the old ones go, children first.
DELETE FROM sqlite_sequence WHERE name IN ('schedules', 'deliveries', 'dm_deliveries');
UPDATE sqlite_sequence SET name = 'schedules' WHERE name = 'schedules_0009';
UPDATE sqlite_sequence SET name = 'deliveries' WHERE name = 'deliveries_0009';
UPDATE sqlite_sequence SET name = 'dm_deliveries' WHERE name = 'dm_deliveries_0009';
DROP TABLE dm_deliveries_0009;
DROP TABLE deliveries_0009;
DROP TABLE schedules_0009;

CREATE INDEX schedules_guild ON schedules (guild_id);
CREATE INDEX schedules_next_due ON schedules (next_due);
CREATE INDEX schedules_created_by ON schedules (created_by);
CREATE INDEX deliveries_state ON deliveries (state, claimed_at);
CREATE INDEX deliveries_schedule_slot ON deliveries (schedule_id, slot_at DESC);
CREATE INDEX deliveries_dms_pending ON deliveries (dms_pending);
CREATE INDEX dm_deliveries_state ON dm_deliveries (state, claimed_at);
CREATE INDEX dm_deliveries_delivery ON dm_deliveries (delivery_id);

-- Bookmarks, the same way.
ALTER TABLE bookmarks RENAME TO bookmarks_0009;
CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('prompt', 'story', 'pack')),
    item_id    TEXT   NOT NULL,
    title      TEXT   NOT NULL,
    body       TEXT,
    url        TEXT,
    created_at BIGINT NOT NULL,
    platform   TEXT   NOT NULL DEFAULT 'discord',
    UNIQUE (platform, user_id, kind, item_id)
);
INSERT INTO bookmarks (id, user_id, kind, item_id, title, body, url, created_at)
SELECT id, user_id, kind, item_id, title, body, url, created_at FROM bookmarks_0009;
DELETE FROM sqlite_sequence WHERE name = 'bookmarks';
UPDATE sqlite_sequence SET name = 'bookmarks' WHERE name = 'bookmarks_0009';
DROP TABLE bookmarks_0009;
CREATE INDEX bookmarks_user_newest ON bookmarks (platform, user_id, created_at DESC, id DESC);

-- The tables keyed by a server or a person alone, the same way (none issues ids).
ALTER TABLE departed_guilds RENAME TO departed_guilds_0009;
CREATE TABLE departed_guilds (
    guild_id BIGINT NOT NULL,
    left_at  BIGINT NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id)
);
INSERT INTO departed_guilds (guild_id, left_at) SELECT guild_id, left_at FROM departed_guilds_0009;
DROP TABLE departed_guilds_0009;

ALTER TABLE dm_optins RENAME TO dm_optins_0009;
CREATE TABLE dm_optins (
    user_id     BIGINT NOT NULL,
    guild_id    BIGINT NOT NULL,
    opted_in_at BIGINT NOT NULL,
    platform    TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, user_id, guild_id)
);
INSERT INTO dm_optins (user_id, guild_id, opted_in_at)
SELECT user_id, guild_id, opted_in_at FROM dm_optins_0009;
DROP TABLE dm_optins_0009;
CREATE INDEX dm_optins_guild ON dm_optins (platform, guild_id);

ALTER TABLE theme_mutes RENAME TO theme_mutes_0009;
CREATE TABLE theme_mutes (
    user_id  BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    muted_at BIGINT NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, user_id, theme)
);
INSERT INTO theme_mutes (user_id, theme, muted_at)
SELECT user_id, theme, muted_at FROM theme_mutes_0009;
DROP TABLE theme_mutes_0009;

ALTER TABLE dm_status RENAME TO dm_status_0009;
CREATE TABLE dm_status (
    user_id    BIGINT NOT NULL,
    channel_id BIGINT,
    closed_at  BIGINT,
    told_at    BIGINT,
    platform   TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, user_id)
);
INSERT INTO dm_status (user_id, channel_id, closed_at, told_at)
SELECT user_id, channel_id, closed_at, told_at FROM dm_status_0009;
DROP TABLE dm_status_0009;

ALTER TABLE insight_secrets RENAME TO insight_secrets_0009;
CREATE TABLE insight_secrets (
    guild_id   BIGINT NOT NULL,
    secret     BLOB   NOT NULL,
    created_at BIGINT NOT NULL,
    platform   TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id)
);
INSERT INTO insight_secrets (guild_id, secret, created_at)
SELECT guild_id, secret, created_at FROM insight_secrets_0009;
DROP TABLE insight_secrets_0009;

ALTER TABLE usage_events RENAME TO usage_events_0009;
CREATE TABLE usage_events (
    guild_id BIGINT NOT NULL,
    person   BLOB   NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    kind     TEXT   NOT NULL CHECK (kind IN ('saved', 'opted_in')),
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id, kind, week, theme, person)
);
INSERT INTO usage_events (guild_id, person, week, theme, kind)
SELECT guild_id, person, week, theme, kind FROM usage_events_0009;
DROP TABLE usage_events_0009;
CREATE INDEX usage_events_week ON usage_events (week);
CREATE INDEX usage_events_person ON usage_events (person);

ALTER TABLE usage_weeks RENAME TO usage_weeks_0009;
CREATE TABLE usage_weeks (
    guild_id BIGINT NOT NULL,
    person   BLOB   NOT NULL,
    week     BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id, kind, week, person)
);
INSERT INTO usage_weeks (guild_id, person, week, kind)
SELECT guild_id, person, week, kind FROM usage_weeks_0009;
DROP TABLE usage_weeks_0009;
CREATE INDEX usage_weeks_week ON usage_weeks (week);
CREATE INDEX usage_weeks_person ON usage_weeks (person);

ALTER TABLE usage_people RENAME TO usage_people_0009;
CREATE TABLE usage_people (
    guild_id  BIGINT NOT NULL,
    person    BLOB   NOT NULL,
    kind      TEXT   NOT NULL,
    theme     TEXT   NOT NULL,
    last_week BIGINT NOT NULL,
    platform  TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id, kind, theme, person)
);
INSERT INTO usage_people (guild_id, person, kind, theme, last_week)
SELECT guild_id, person, kind, theme, last_week FROM usage_people_0009;
DROP TABLE usage_people_0009;
CREATE INDEX usage_people_last_week ON usage_people (last_week);
CREATE INDEX usage_people_person ON usage_people (person);

ALTER TABLE usage_counts RENAME TO usage_counts_0009;
CREATE TABLE usage_counts (
    guild_id BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    people   BIGINT NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id, kind, week, theme)
);
INSERT INTO usage_counts (guild_id, kind, week, theme, people)
SELECT guild_id, kind, week, theme, people FROM usage_counts_0009;
DROP TABLE usage_counts_0009;
CREATE INDEX usage_counts_week ON usage_counts (week);

ALTER TABLE session_roles RENAME TO session_roles_0009;
CREATE TABLE session_roles (
    guild_id BIGINT NOT NULL,
    role_id  BIGINT NOT NULL,
    set_at   BIGINT NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id)
);
INSERT INTO session_roles (guild_id, role_id, set_at)
SELECT guild_id, role_id, set_at FROM session_roles_0009;
DROP TABLE session_roles_0009;

ALTER TABLE session_counts RENAME TO session_counts_0009;
CREATE TABLE session_counts (
    guild_id BIGINT NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    sessions BIGINT NOT NULL,
    platform TEXT   NOT NULL DEFAULT 'discord',
    PRIMARY KEY (platform, guild_id, week, theme)
);
INSERT INTO session_counts (guild_id, week, theme, sessions)
SELECT guild_id, week, theme, sessions FROM session_counts_0009;
DROP TABLE session_counts_0009;
CREATE INDEX session_counts_week ON session_counts (week);

-- sessions keeps its rows where they are (session_posts names it): its one key that must be
-- unique, a running session per channel, is an index, made anew per platform.
ALTER TABLE sessions ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord';
DROP INDEX sessions_one_running;
CREATE UNIQUE INDEX sessions_one_running ON sessions (platform, channel_id) WHERE state = 'running';
