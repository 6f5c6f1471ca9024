-- Several careprompt processes can share one database. Each says it is alive here every few
-- seconds; the posts and DMs claimed by a process not heard from for a while are taken over by
-- another, and never sooner. migrations/postgres/0005 is the same.
CREATE TABLE workers (
    claimer    TEXT    PRIMARY KEY,
    shards     TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);

-- Which process is sending each DM, as deliveries.claimed_by says for channel posts.
ALTER TABLE dm_deliveries ADD COLUMN claimed_by TEXT;
