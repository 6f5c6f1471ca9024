-- careprompt's tables, SQLite flavour. migrations/postgres/0001_initial.sql holds the same tables
-- with the same columns and meanings; change both together.
--
-- Conventions, the same on both backends:
--   * Discord ids (snowflakes, u64) are BIGINT holding the id's 64 bits as a signed integer. Every
--     real snowflake is below 2^63 and reads as itself; larger values come back negative in SQL
--     but round-trip losslessly through the store.
--   * Times are BIGINT unix seconds, UTC.
--   * Booleans are BOOLEAN (0 or 1 here).

-- One posting schedule per channel, owned by the team (guild), not by the person who set it up.
CREATE TABLE schedules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id         BIGINT  NOT NULL,
    channel_id       BIGINT  NOT NULL UNIQUE,
    cron             TEXT    NOT NULL,
    timezone         TEXT    NOT NULL,
    bank_holidays    TEXT    NOT NULL,
    include_bullying BOOLEAN NOT NULL CHECK (include_bullying IN (0, 1)),
    role_ping        BIGINT,
    paused           BOOLEAN NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    -- rotation::RotationState as JSON text.
    rotation         TEXT    NOT NULL,
    -- Bumped by every write to the row; writers compare it to detect a lost race.
    version          BIGINT  NOT NULL DEFAULT 1,
    -- The next slot to post; NULL when nothing is due.
    next_due         BIGINT,
    -- The Discord user who set the schedule up; 0 once that person's data is erased.
    created_by       BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL
);

CREATE INDEX schedules_guild ON schedules (guild_id);
CREATE INDEX schedules_next_due ON schedules (next_due);
CREATE INDEX schedules_created_by ON schedules (created_by);

-- Per-person settings. Private: exported and erased on request.
CREATE TABLE user_settings (
    user_id      BIGINT  PRIMARY KEY,
    dm_opt_in    BOOLEAN NOT NULL CHECK (dm_opt_in IN (0, 1)),
    -- When the person last made that choice.
    dm_opt_in_at BIGINT  NOT NULL
);

-- Prompts a person saved for later. Private: exported and erased on request.
CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL,
    prompt_id  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, prompt_id)
);

-- The ledger of scheduled posts, for delivering each one exactly once across crashes and across
-- several processes sharing one database. A process claims a slot by inserting its row as
-- 'claimed' (UNIQUE (schedule_id, slot_at) lets only one claim win), sends the message with
-- `nonce` so a retry after a crash cannot post twice, then records 'sent' with the message id.
-- 'failed' rows may be retried (attempts counts tries); 'missed' marks slots skipped after
-- downtime longer than the catch-up window. claimed_by names the claiming process and
-- claimed_at lets others take over a claim that went stale. Holds no personal data.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id BIGINT  NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    slot_at     BIGINT  NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'missed')),
    claimed_by  TEXT,
    claimed_at  BIGINT,
    message_id  BIGINT,
    nonce       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (schedule_id, slot_at)
);

CREATE INDEX deliveries_state ON deliveries (state, claimed_at);
