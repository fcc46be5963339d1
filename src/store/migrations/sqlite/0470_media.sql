-- 0470: media in chats - stored files (content-addressed by BLAKE2b-256,
-- counted), pending uploads and the attachments of media messages.  The
-- reference count is kept here by triggers, so it moves in the same
-- transaction as the message or upload that holds the file; files whose
-- count reaches zero are removed by media_sweep.

CREATE TABLE media_files (
    hash TEXT PRIMARY KEY CHECK (length(hash) = 64),
    kind TEXT NOT NULL CHECK (kind IN ('photo', 'file', 'voice')),
    type TEXT NOT NULL,
    bytes INTEGER NOT NULL CHECK (bytes > 0),
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    has_thumb INTEGER NOT NULL DEFAULT 0 CHECK (has_thumb IN (0, 1)),
    refs INTEGER NOT NULL DEFAULT 0 CHECK (refs >= 0),
    -- With a scanning command configured a new file waits in 'scanning'
    -- (not served) until the command exits 0 ('clean') or not ('refused').
    state TEXT NOT NULL DEFAULT 'clean' CHECK (state IN ('scanning', 'clean', 'refused')),
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX media_files_scanning ON media_files(created_at_ms) WHERE state = 'scanning';
CREATE INDEX media_files_unreferenced ON media_files(hash) WHERE refs = 0;

-- An upload waiting to be attached by its uploader in its chat.
CREATE TABLE media_uploads (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL REFERENCES media_files(hash),
    chat_id INTEGER NOT NULL REFERENCES msg_chats(id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX media_uploads_created ON media_uploads(created_at_ms);
CREATE INDEX media_uploads_hash ON media_uploads(hash, uploader_id);

-- The file a media message carries; gone with the message's deletion or
-- its author's erasure.
CREATE TABLE media_attachments (
    chat_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES media_files(hash),
    sender_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (chat_id, seq),
    FOREIGN KEY (chat_id, seq) REFERENCES msg_messages(chat_id, seq) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX media_attachments_hash ON media_attachments(hash, chat_id);

CREATE TRIGGER media_uploads_ref AFTER INSERT ON media_uploads BEGIN
    UPDATE media_files SET refs = refs + 1 WHERE hash = NEW.hash;
END;
CREATE TRIGGER media_uploads_unref AFTER DELETE ON media_uploads BEGIN
    UPDATE media_files SET refs = refs - 1 WHERE hash = OLD.hash;
END;
CREATE TRIGGER media_attachments_ref AFTER INSERT ON media_attachments BEGIN
    UPDATE media_files SET refs = refs + 1 WHERE hash = NEW.hash;
END;
CREATE TRIGGER media_attachments_unref AFTER DELETE ON media_attachments BEGIN
    UPDATE media_files SET refs = refs - 1 WHERE hash = OLD.hash;
END;

-- A media message's payload names its upload ({"upload_id":N,...}): the
-- upload must be the sender's in this chat; it becomes the attachment.
CREATE TRIGGER media_message_attach AFTER INSERT ON msg_messages WHEN NEW.kind = 'media' BEGIN
    SELECT RAISE(ABORT, 'media upload unknown') WHERE NOT EXISTS (
        SELECT 1 FROM media_uploads WHERE id = json_extract(NEW.payload, '$.upload_id')
          AND uploader_id = NEW.sender_id AND chat_id = NEW.chat_id
          AND hash = json_extract(NEW.payload, '$.hash'));
    INSERT INTO media_attachments(chat_id, seq, hash, sender_id, name)
        SELECT NEW.chat_id, NEW.seq, hash, uploader_id, name FROM media_uploads
        WHERE id = json_extract(NEW.payload, '$.upload_id');
    DELETE FROM media_uploads WHERE id = json_extract(NEW.payload, '$.upload_id');
END;

-- Deleting a message (its tombstone) lets go of its file.
CREATE TRIGGER media_message_deleted AFTER UPDATE OF deleted_at_ms ON msg_messages
    WHEN NEW.deleted_at_ms IS NOT NULL AND OLD.deleted_at_ms IS NULL BEGIN
    DELETE FROM media_attachments WHERE chat_id = NEW.chat_id AND seq = NEW.seq;
END;

-- msg_messages.kind gains 'media'.  SQLite cannot alter a CHECK constraint;
-- widening one (every existing row still passes) is the schema-only change
-- SQLite documents for writable_schema (lang_altertable.html, "otheralter").
-- RESET makes this connection reread the schema; the table created and
-- dropped bumps the schema cookie so every other connection rereads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''notice'', ''keyboard'')', '''notice'', ''keyboard'', ''media'')')
    WHERE type = 'table' AND name = 'msg_messages';
PRAGMA writable_schema = RESET;
CREATE TABLE media_schema_bump (x INTEGER) STRICT;
DROP TABLE media_schema_bump;
