-- 0510: listening on the server - per-source API keys for POST /api/ingest
-- and the thanks the bank sends to its advocates from the console.
--
-- An API key is shown once when an admin creates it; only its BLAKE2b hash
-- (sb_token_hash) is kept.  A key is bound to one or more sources: a post
-- for another source is rejected (per row).  Revoked keys stay for the
-- record (revoked_at_ms set) and no longer authenticate.

CREATE TABLE listening_api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_used_at_ms INTEGER,
    revoked_at_ms INTEGER
) STRICT;

CREATE TABLE listening_api_key_sources (
    key_id INTEGER NOT NULL REFERENCES listening_api_keys(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    PRIMARY KEY (key_id, source)
) STRICT;

-- A thank-you to an author: delivered as a message to messenger and
-- own-channel users (through the reply hook; 'pending' until it is), else
-- recorded with the text to post on the network.  Erased with the author.
CREATE TABLE listening_thanks (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('external', 'messenger')),
    delivery TEXT NOT NULL CHECK (delivery IN ('to_post', 'pending', 'delivered')),
    thanked_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX listening_thanks_author ON listening_thanks(source, author);
