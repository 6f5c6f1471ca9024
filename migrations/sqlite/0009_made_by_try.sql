-- `careprompt try` marks a database it made (or found holding nothing) with the one row here,
-- and opens with --database only a database so marked or holding nothing, so that a try-out never
-- touches the data of a careprompt that runs for real. Holds no personal data. migrations/postgres/0009
-- is the same.
CREATE TABLE made_by_try (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    made_at BIGINT  NOT NULL
);
