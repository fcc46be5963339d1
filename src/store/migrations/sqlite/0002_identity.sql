-- 0002: identity - users (customers and staff), one-time codes, sessions and
-- the events the rate limits count.  Secrets are never stored in clear: a
-- one-time code is kept as a keyed BLAKE2b hash, a bearer token as a BLAKE2b
-- hash of its random bytes, a staff password as an argon2id string.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('customer', 'agent', 'analyst', 'marketer', 'admin')),
    -- E.164; customers sign in with it, staff have none.
    phone TEXT UNIQUE,
    -- Lowercase; the staff login name, or a customer's optional @username.
    username TEXT UNIQUE CHECK (username IS NULL OR username = lower(username)),
    display_name TEXT NOT NULL DEFAULT '',
    -- argon2id string (crypto_pwhash_str) for staff; NULL for customers.
    password_hash TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    CHECK ((role = 'customer') = (phone IS NOT NULL)),
    CHECK ((role = 'customer') = (password_hash IS NULL)),
    CHECK (role = 'customer' OR username IS NOT NULL)
) STRICT;
CREATE INDEX users_role ON users(role, id);

-- At most one live code per phone; a new request replaces the old one.
CREATE TABLE otp_codes (
    phone TEXT PRIMARY KEY,
    -- 32 random bytes: the BLAKE2b key for this code's hash.
    salt BLOB NOT NULL CHECK (length(salt) = 32),
    code_hash BLOB NOT NULL CHECK (length(code_hash) = 32),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
) STRICT;
CREATE INDEX otp_codes_expires ON otp_codes(expires_at_ms);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at_ms);

-- One row per counted event: kind 'otp.phone', 'otp.addr' or 'login.fail',
-- subject the phone, client address or username.  Sliding windows count the
-- rows newer than now - window; old rows are pruned as new ones arrive.
CREATE TABLE rate_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_events_subject ON rate_events(kind, subject, at_ms);
