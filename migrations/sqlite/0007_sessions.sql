-- Facilitated reflective sessions (/session): what careprompt needs to run one in a thread and
-- carry it on after a restart, and nothing anyone writes in the thread. migrations/postgres/0007
-- is the same; change both together.

-- One row per session. stage is the index (from 0) of the stage on screen; stage_deadline is when
-- an automatic session moves on (NULL for one the facilitator moves on, or while paused, when
-- paused_left holds the seconds the stage still had). facilitator_id is 0 once that person's data
-- is erased. Deleted after [privacy] retention once ended.
CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id         BIGINT  NOT NULL,
    channel_id       BIGINT  NOT NULL,
    -- NULL until the thread is open.
    thread_id        BIGINT,
    facilitator_id   BIGINT  NOT NULL,
    theme            TEXT    NOT NULL,
    story_id         TEXT,
    minutes          BIGINT  NOT NULL,
    auto             BOOLEAN NOT NULL CHECK (auto IN (0, 1)),
    stage            BIGINT  NOT NULL DEFAULT 0,
    stage_started_at BIGINT  NOT NULL,
    stage_deadline   BIGINT,
    paused_left      BIGINT,
    state            TEXT    NOT NULL CHECK (state IN ('running', 'ended')),
    started_at       BIGINT  NOT NULL,
    ended_at         BIGINT
);
-- One running session per channel, kept by the database so two starts at once cannot both win.
CREATE UNIQUE INDEX sessions_one_running ON sessions (channel_id) WHERE state = 'running';
CREATE INDEX sessions_thread ON sessions (thread_id);
CREATE INDEX sessions_facilitator ON sessions (facilitator_id);

-- The ledger of stage cards, as for scheduled posts: a stage is claimed before it is sent (with
-- a nonce made from the session and stage), and its message id recorded after, so each stage is
-- posted once however careprompt stops and starts.
CREATE TABLE session_posts (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    stage      BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL,
    message_id BIGINT,
    PRIMARY KEY (session_id, stage)
);

-- The role, besides Manage Server, whose members may run sessions in a server (/session role).
CREATE TABLE session_roles (
    guild_id BIGINT PRIMARY KEY,
    role_id  BIGINT NOT NULL,
    set_at   BIGINT NOT NULL
);

-- How many sessions a server ran, per week (of the first card posted) and theme, for /insights.
-- Only numbers: kept like the usage records, for 53 weeks and until careprompt leaves the
-- server, while the sessions themselves go after [privacy] retention.
CREATE TABLE session_counts (
    guild_id BIGINT NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    sessions BIGINT NOT NULL,
    PRIMARY KEY (guild_id, week, theme)
);
CREATE INDEX session_counts_week ON session_counts (week);
