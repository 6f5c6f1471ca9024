-- Insights for OD leads (/insights): how much careprompt is used in a server, per theme and per
-- week, counted in distinct people without keeping who they are. migrations/sqlite/0006 is the
-- same; change both together.

-- One secret per server, made by careprompt from the operating system's random source and never
-- shown. A person is known to the usage records only as HMAC-SHA256(secret, their Discord id),
-- cut to 16 bytes: enough to tell whether they were already counted in a cell, useless for
-- finding them anywhere else (another server's secret gives them another hash), and forgotten
-- with the server.
CREATE TABLE insight_secrets (
    guild_id   BIGINT PRIMARY KEY,
    secret     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per person, week, theme and kind of event: a second Save of the same theme in the
-- same week adds nothing, so the table holds no more than the distinct counts need. week is the
-- unix time of the Monday 00:00 UTC that starts it; theme is '' for an event of no theme
-- (opting in to DMs). Posts and DMs are counted from the ledgers (deliveries, dm_deliveries).
-- Deleted after 53 weeks, with the server's other data when careprompt leaves it, and a person's
-- own rows by /forget-me.
CREATE TABLE usage_events (
    guild_id BIGINT NOT NULL,
    person   BYTEA  NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    kind     TEXT   NOT NULL CHECK (kind IN ('saved', 'opted_in')),
    PRIMARY KEY (guild_id, kind, week, theme, person)
);
CREATE INDEX usage_events_week ON usage_events (week);
CREATE INDEX usage_events_person ON usage_events (person);

-- Two summaries of usage_events, kept as each record arrives so that /insights counts distinct
-- people without sorting a year of records: usage_weeks holds each person once per week and kind
-- (whatever the theme), for the weekly totals; usage_people holds, per kind and theme, the last
-- week each person was counted ('*' for any theme), for the totals over the weeks shown, which
-- always end with the current week. Deleted with the records they summarise: by /forget-me,
-- after 53 weeks (by their week, or last week) and with a departed server.
CREATE TABLE usage_weeks (
    guild_id BIGINT NOT NULL,
    person   BYTEA NOT NULL,
    week     BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    PRIMARY KEY (guild_id, kind, week, person)
);
CREATE INDEX usage_weeks_week ON usage_weeks (week);
CREATE INDEX usage_weeks_person ON usage_weeks (person);

CREATE TABLE usage_people (
    guild_id  BIGINT NOT NULL,
    person    BYTEA NOT NULL,
    kind      TEXT   NOT NULL,
    theme     TEXT   NOT NULL,
    last_week BIGINT NOT NULL,
    PRIMARY KEY (guild_id, kind, theme, person)
);
CREATE INDEX usage_people_last_week ON usage_people (last_week);
CREATE INDEX usage_people_person ON usage_people (person);

-- How many people each week's cells and week totals hold ('*' for the week, whatever the theme),
-- counted up as a record or a week is first written and down as a person's are erased, so a
-- year's figures are a few hundred rows to read. Numbers only; deleted by week and with the
-- server as the records are.
CREATE TABLE usage_counts (
    guild_id BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    week     BIGINT NOT NULL,
    theme    TEXT   NOT NULL,
    people   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, kind, week, theme)
);
CREATE INDEX usage_counts_week ON usage_counts (week);

-- The DMs sent for a server's posts are found from the posts.
CREATE INDEX dm_deliveries_delivery ON dm_deliveries (delivery_id);
