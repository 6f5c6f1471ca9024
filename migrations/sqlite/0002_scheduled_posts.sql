-- Scheduled posts: pausing until a date, a thread per post, failures an admin can see, and a
-- delivery ledger that records what each slot came to. migrations/postgres/0002 makes the same
-- change; change both together.

ALTER TABLE schedules ADD COLUMN paused_until BIGINT;
ALTER TABLE schedules ADD COLUMN thread BOOLEAN NOT NULL DEFAULT 0 CHECK (thread IN (0, 1));
-- Set when Discord says the channel is gone (404); a disabled schedule never fires again.
ALTER TABLE schedules ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
-- Why the last post failed (for example, a missing permission), cleared by the next success.
ALTER TABLE schedules ADD COLUMN last_error TEXT;
ALTER TABLE schedules ADD COLUMN last_error_at BIGINT;

-- SQLite cannot change a CHECK constraint in place, so the ledger is rebuilt with its new states
-- and columns. States:
--   claimed   a process has taken the slot and is sending it (or died doing so)
--   sent      posted; message_id says where
--   failed    Discord refused it outright (detail says why); nothing was posted
--   uncertain careprompt could not tell whether it was posted, so did not post again
--   missed    the slot passed while careprompt was down, too long ago to post late
--   holiday   the slot fell on a bank holiday the schedule skips (detail names it)
--   skipped   an admin skipped it with /schedule skip
-- kind 'manual' marks a /schedule post-now, whose slot_at is when it was asked for.
-- theme, prompt_id and story_id are chosen when the slot is claimed, so a re-send after a crash
-- sends the same card; rotation_after is the rotation state to keep once it is posted.
CREATE TABLE deliveries_v2 (
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
    UNIQUE (schedule_id, slot_at)
);

INSERT INTO deliveries_v2 (id, schedule_id, slot_at, state, claimed_by, claimed_at, message_id,
                           nonce, attempts)
SELECT id, schedule_id, slot_at, state, claimed_by, claimed_at, message_id, nonce, attempts
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_state ON deliveries (state, claimed_at);
CREATE INDEX deliveries_schedule_slot ON deliveries (schedule_id, slot_at DESC);

-- Servers careprompt has been removed from: their schedules stop at once. Holds no personal data.
CREATE TABLE departed_guilds (
    guild_id BIGINT PRIMARY KEY,
    left_at  BIGINT NOT NULL
);
