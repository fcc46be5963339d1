-- 0550: listening_understanding with its label CHECKs written as OR chains.
--
-- SQLite 3.40 evaluates `CHECK (x IN ('a', 'b', 'c'))` with three or more
-- values by building an ephemeral index for every row inserted: about 1.5 us
-- and several allocations each, twice per understood post (sentiment, kind),
-- measured as the largest single cost of ingest's store stage after the
-- b-tree itself (bench pipeline, perf).  `x = 'a' OR x = 'b' ...` accepts
-- exactly the same values and costs nothing extra.  The table is rebuilt
-- (SQLite cannot change a CHECK in place); nothing references it, so
-- dropping the old one cascades nowhere.  legacy_alter_table keeps the
-- rename from rewriting (or rejecting) the listening_effective view, which
-- names the table and sees the new one under the same name.
PRAGMA legacy_alter_table = ON;
CREATE TABLE listening_understanding_0550 (
    post_id INTEGER PRIMARY KEY REFERENCES listening_posts(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    sentiment TEXT NOT NULL CHECK (sentiment = 'positive' OR sentiment = 'negative' OR sentiment = 'neutral'),
    sentiment_permille INTEGER NOT NULL CHECK (sentiment_permille BETWEEN 0 AND 1000),
    kind TEXT NOT NULL CHECK (kind = 'complaint' OR kind = 'suggestion' OR kind = 'question' OR kind = 'praise'
                              OR kind = 'other'),
    kind_permille INTEGER NOT NULL CHECK (kind_permille BETWEEN 0 AND 1000),
    topic TEXT NOT NULL,
    topic_permille INTEGER NOT NULL CHECK (topic_permille BETWEEN 0 AND 1000),
    model TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO listening_understanding_0550 (post_id, lang, sentiment, sentiment_permille, kind, kind_permille, topic,
                                          topic_permille, model)
    SELECT post_id, lang, sentiment, sentiment_permille, kind, kind_permille, topic, topic_permille, model
    FROM listening_understanding;
DROP TABLE listening_understanding;
ALTER TABLE listening_understanding_0550 RENAME TO listening_understanding;
PRAGMA legacy_alter_table = OFF;
