-- Scheduled posts: pausing until a date, a thread per post, failures an admin can see, and a
-- delivery ledger that records what each slot came to. migrations/sqlite/0002 makes the same
-- change, and explains the states; change both together.

ALTER TABLE schedules ADD COLUMN paused_until BIGINT;
ALTER TABLE schedules ADD COLUMN thread BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedules ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedules ADD COLUMN last_error TEXT;
ALTER TABLE schedules ADD COLUMN last_error_at BIGINT;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('claimed', 'sent', 'failed', 'uncertain', 'missed', 'holiday', 'skipped'));
ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'scheduled'
    CHECK (kind IN ('scheduled', 'manual'));
ALTER TABLE deliveries ADD COLUMN theme TEXT;
ALTER TABLE deliveries ADD COLUMN prompt_id TEXT;
ALTER TABLE deliveries ADD COLUMN story_id TEXT;
ALTER TABLE deliveries ADD COLUMN rotation_after TEXT;
ALTER TABLE deliveries ADD COLUMN detail TEXT;
CREATE INDEX deliveries_schedule_slot ON deliveries (schedule_id, slot_at DESC);

CREATE TABLE departed_guilds (
    guild_id BIGINT PRIMARY KEY,
    left_at  BIGINT NOT NULL
);
