-- 0580: the staff console - what agents, analysts and admins need every day.
--
-- * listening_audit: every view of a customer's data by staff (the customer
--   panel of a case) and every erasure, append-only, read by admins.
-- * listening_staff_grants: which staff may see a linked customer's recent
--   payments in the customer panel (admins always may).
-- * listening_canned_replies: reply templates per language with {variables}.
-- * listening_saved_views: an analyst's named post-stream filters.
-- * listening_posts_fts: full-text index (FTS5) over the normalised redacted
--   text of every post (text_normalize: Persian yeh/kaf, Cyrillic folding),
--   filled by ingest; rows go with their post (trigger).  Posts stored before
--   this migration are indexed with SQLite's lower() of their text.
-- * listening_replies rebuilt with the outbound delivery states: a reply to
--   a comment on the bank's channel ('channel') is posted under it, a reply
--   to an external network ('external') goes through the outbound connector
--   (pending -> sent | failed, with attempts, the next attempt's time and
--   the last error), 'to_post' is kept for replies recorded before there
--   was a connector.

CREATE TABLE listening_audit (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action = 'customer_view' OR action = 'erase'),
    customer_id INTEGER,
    source TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    case_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX listening_audit_customer ON listening_audit(customer_id, id);
CREATE TRIGGER listening_audit_no_update BEFORE UPDATE ON listening_audit
BEGIN
    SELECT RAISE(ABORT, 'listening_audit is append-only');
END;
CREATE TRIGGER listening_audit_no_delete BEFORE DELETE ON listening_audit
BEGIN
    SELECT RAISE(ABORT, 'listening_audit is append-only');
END;

CREATE TABLE listening_staff_grants (
    username TEXT PRIMARY KEY,
    payments INTEGER NOT NULL CHECK (payments = 0 OR payments = 1),
    granted_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE listening_canned_replies (
    id INTEGER PRIMARY KEY,
    shortcut TEXT NOT NULL,
    lang TEXT NOT NULL CHECK (lang = 'fa' OR lang = 'uk' OR lang = 'ru' OR lang = 'en'),
    text TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (shortcut, lang)
) STRICT;
INSERT INTO listening_canned_replies(shortcut, lang, text, updated_by, updated_at_ms) VALUES
    ('thanks', 'fa', '{name} عزیز، از پیام شما سپاسگزاریم. پرونده {case} را {agent} پیگیری می‌کند.', 'system', 0),
    ('thanks', 'uk', '{name}, дякуємо за звернення. Справу {case} веде {agent}.', 'system', 0),
    ('thanks', 'ru', '{name}, спасибо за обращение. Обращение {case} ведёт {agent}.', 'system', 0),
    ('thanks', 'en', '{name}, thank you for writing. {agent} is handling case {case}.', 'system', 0),
    ('dm', 'fa', '{name} عزیز، لطفاً جزئیات را در پیام خصوصی برای ما بفرستید؛ شماره کارت را هرگز عمومی ننویسید.',
     'system', 0),
    ('dm', 'uk', '{name}, напишіть нам, будь ласка, в особисті повідомлення; ніколи не публікуйте номер картки.',
     'system', 0),
    ('dm', 'ru', '{name}, напишите нам, пожалуйста, в личные сообщения; никогда не публикуйте номер карты.',
     'system', 0),
    ('dm', 'en', '{name}, please send us the details in a direct message; never post your card number publicly.',
     'system', 0);

CREATE TABLE listening_saved_views (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (owner, name)
) STRICT;

CREATE VIRTUAL TABLE listening_posts_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO listening_posts_fts(rowid, body) SELECT id, lower(text) FROM listening_posts;
CREATE TRIGGER listening_posts_fts_delete AFTER DELETE ON listening_posts
BEGIN
    DELETE FROM listening_posts_fts WHERE rowid = old.id;
END;

CREATE TABLE listening_replies_0580 (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES listening_cases(id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    text TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel = 'external' OR channel = 'messenger' OR channel = 'channel'),
    delivery TEXT NOT NULL CHECK (delivery = 'to_post' OR delivery = 'pending' OR delivery = 'delivered' OR
                                  delivery = 'sent' OR delivery = 'failed'),
    created_at_ms INTEGER NOT NULL,
    -- The post answered: its source and external id (a channel comment is CHAT/SEQ).
    in_reply_to TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at_ms INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO listening_replies_0580(id, case_id, agent, text, channel, delivery, created_at_ms, updated_at_ms)
    SELECT id, case_id, agent, text, channel, delivery, created_at_ms, created_at_ms FROM listening_replies;
DROP TABLE listening_replies;
ALTER TABLE listening_replies_0580 RENAME TO listening_replies;
CREATE INDEX listening_replies_case ON listening_replies(case_id, id);
CREATE INDEX listening_replies_due ON listening_replies(next_attempt_ms) WHERE delivery = 'pending' AND
    channel = 'external';
