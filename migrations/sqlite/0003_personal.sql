-- The personal side: opt-in DMs per server, muted themes, the DM ledger, and bookmarks of any
-- item with what it said when saved. Everything here is about one person, private to them,
-- exported by /mydata and erased by /forget-me. migrations/postgres/0003 makes the same change.

-- Replaced by per-server opt-ins; no command ever wrote it.
DROP TABLE user_settings;

-- "Send me this server's scheduled cards by DM."
CREATE TABLE dm_optins (
    user_id     BIGINT NOT NULL,
    guild_id    BIGINT NOT NULL,
    opted_in_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, guild_id)
);
CREATE INDEX dm_optins_guild ON dm_optins (guild_id);

-- Themes a person keeps out of their DMs (in every server).
CREATE TABLE theme_mutes (
    user_id  BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    muted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, theme)
);

-- A person's DM channel once opened (so it is opened once, not once per DM), and whether DMs to
-- them work: closed_at is when Discord refused one (403, code 50007), which pauses their DMs;
-- told_at is when careprompt told them so, which it does once.
CREATE TABLE dm_status (
    user_id    BIGINT PRIMARY KEY,
    channel_id BIGINT,
    closed_at  BIGINT,
    told_at    BIGINT
);

-- One row per person per card sent by DM, for exactly once across restarts. card_key names the
-- card (its slot and prompt), so a person opted in on several servers whose schedules post the
-- same card together gets it once. delivery_id is the channel post that caused it.
CREATE TABLE dm_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL,
    card_key    TEXT   NOT NULL,
    delivery_id BIGINT REFERENCES deliveries (id) ON DELETE SET NULL,
    state       TEXT   NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'skipped')),
    claimed_at  BIGINT NOT NULL,
    message_id  BIGINT,
    detail      TEXT,
    UNIQUE (user_id, card_key)
);
CREATE INDEX dm_deliveries_state ON dm_deliveries (state, claimed_at);

-- Bookmarks of prompts, stories and packs. title, body and url hold what the item said when it
-- was saved, so a bookmark outlives a change to prompts/.
CREATE TABLE bookmarks_v2 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('prompt', 'story', 'pack')),
    item_id    TEXT   NOT NULL,
    title      TEXT   NOT NULL,
    body       TEXT,
    url        TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, kind, item_id)
);
INSERT INTO bookmarks_v2 (id, user_id, kind, item_id, title, created_at)
SELECT id, user_id, 'prompt', prompt_id, prompt_id, created_at FROM bookmarks;
DROP TABLE bookmarks;
ALTER TABLE bookmarks_v2 RENAME TO bookmarks;
CREATE INDEX bookmarks_user_newest ON bookmarks (user_id, created_at DESC, id DESC);
