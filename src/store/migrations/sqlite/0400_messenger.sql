-- 0400: messenger - chats (1:1, groups, the bank's channel, the bank's
-- official account per user), members with their receipts, messages with
-- per-chat sequence numbers, likes on channel posts, blocks, per-user
-- settings and bots.  Deleted messages keep their row (a tombstone).

-- Per-user messenger settings: may others find me by phone/@username, and is
-- the bank's official account muted.
CREATE TABLE msg_settings (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    discoverable INTEGER NOT NULL DEFAULT 0 CHECK (discoverable IN (0, 1)),
    official_muted INTEGER NOT NULL DEFAULT 0 CHECK (official_muted IN (0, 1))
) STRICT;

-- blocker_id does not want to hear from blocked_id.
CREATE TABLE msg_blocks (
    blocker_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE msg_chats (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'channel', 'official')),
    title TEXT NOT NULL DEFAULT '',
    -- direct chats: the pair, smaller id first (one chat per pair);
    -- official chats: the user in pair_lo (one per user).
    pair_lo INTEGER REFERENCES users(id) ON DELETE CASCADE,
    pair_hi INTEGER REFERENCES users(id) ON DELETE CASCADE,
    -- Highest message seq (dense: 1..last_seq) and the change counter that
    -- every new, edited, deleted or updated message takes a value from.
    last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_rev INTEGER NOT NULL DEFAULT 0 CHECK (last_rev >= 0),
    member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    created_at_ms INTEGER NOT NULL,
    CHECK ((kind = 'direct') = (pair_hi IS NOT NULL)),
    CHECK ((kind IN ('direct', 'official')) = (pair_lo IS NOT NULL)),
    CHECK (pair_hi IS NULL OR pair_lo < pair_hi)
) STRICT;
CREATE UNIQUE INDEX msg_chats_direct ON msg_chats(pair_lo, pair_hi) WHERE kind = 'direct';
CREATE UNIQUE INDEX msg_chats_official ON msg_chats(pair_lo) WHERE kind = 'official';
CREATE UNIQUE INDEX msg_chats_channel ON msg_chats(kind) WHERE kind = 'channel';

CREATE TABLE msg_members (
    chat_id INTEGER NOT NULL REFERENCES msg_chats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    -- Order of joining (a global counter), for the owner hand-off.
    joined_order INTEGER NOT NULL,
    joined_at_ms INTEGER NOT NULL,
    delivered_seq INTEGER NOT NULL DEFAULT 0 CHECK (delivered_seq >= 0),
    read_seq INTEGER NOT NULL DEFAULT 0 CHECK (read_seq >= 0 AND read_seq <= delivered_seq),
    PRIMARY KEY (chat_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX msg_members_user ON msg_members(user_id, chat_id);
CREATE TABLE msg_join_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL) STRICT;
INSERT INTO msg_join_counter(id, value) VALUES (1, 0);

CREATE TABLE msg_messages (
    chat_id INTEGER NOT NULL REFERENCES msg_chats(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL CHECK (seq > 0),
    rev INTEGER NOT NULL CHECK (rev > 0),
    -- NULL: the bank itself (official notifications).
    sender_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'payment', 'post', 'comment', 'share', 'notice', 'keyboard')),
    -- NULL once deleted (the row stays as a tombstone).
    body TEXT,
    payload TEXT,
    reply_to_seq INTEGER,
    client_id TEXT,
    status TEXT CHECK (status IS NULL OR status IN ('pending', 'paid', 'declined', 'expired')),
    created_at_ms INTEGER NOT NULL,
    edited_at_ms INTEGER,
    deleted_at_ms INTEGER,
    like_count INTEGER NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count INTEGER NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    share_count INTEGER NOT NULL DEFAULT 0 CHECK (share_count >= 0),
    PRIMARY KEY (chat_id, seq),
    CHECK (reply_to_seq IS NULL OR reply_to_seq < seq)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX msg_messages_client ON msg_messages(chat_id, sender_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX msg_messages_rev ON msg_messages(chat_id, rev);

CREATE TABLE msg_likes (
    chat_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (chat_id, seq, user_id),
    FOREIGN KEY (chat_id, seq) REFERENCES msg_messages(chat_id, seq) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- A bot is a user with a token; only the token's BLAKE2b hash is kept.
CREATE TABLE msg_bots (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at_ms INTEGER NOT NULL
) STRICT;
