-- 0001: instance settings, key/value, for what an admin changes at run time.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
