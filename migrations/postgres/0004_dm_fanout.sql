-- A channel post owes its opted-in members their DMs until every one of them is settled, so a
-- restart between the post and its DMs still sends them. migrations/sqlite/0004 is the same.
ALTER TABLE deliveries ADD COLUMN dms_pending BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX deliveries_dms_pending ON deliveries (dms_pending);
