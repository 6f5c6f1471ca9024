-- Stage cards of reflective sessions join the takeover that posts and DMs have (0005): a claim
-- names the process sending it, and another process takes it only once that one has gone unheard
-- for [processes] takeover_after, by compare and swap on attempts, so that of two processes
-- taking it over exactly one goes on. A claim made before this (claimed_by NULL) may be taken by
-- any process. migrations/sqlite/0008 is the same.
ALTER TABLE session_posts ADD COLUMN claimed_by TEXT;
ALTER TABLE session_posts ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
