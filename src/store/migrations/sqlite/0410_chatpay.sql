-- 0410: chatpay - payments made inside chats.  One row per payment message
-- a member started from a chat (send, request, split, bill, top-up): the
-- idempotency key that made it, the chat message (chat_id, seq) that shows
-- it, and the payments object behind it (a money request, a split, or the
-- receipt of money that already moved).  `status` mirrors the message's
-- status so the expiry pass finds the pending ones that fell due.
CREATE TABLE chatpay_links (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 64),
    chat_id INTEGER NOT NULL REFERENCES msg_chats(id) ON DELETE CASCADE,
    -- NULL until the message is posted (a retry with the same key posts it).
    seq INTEGER CHECK (seq IS NULL OR seq > 0),
    kind TEXT NOT NULL CHECK (kind IN ('send', 'request', 'split', 'bill', 'topup')),
    -- What the key was used for (chat, kind and the arguments), so that the
    -- same key with other arguments is refused instead of replayed.
    fingerprint TEXT NOT NULL,
    request_id INTEGER REFERENCES payments_requests(id),
    split_id INTEGER REFERENCES payments_splits(id),
    receipt_id INTEGER REFERENCES payments_receipts(id),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'declined', 'expired')),
    expires_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (actor_id, idem_key),
    FOREIGN KEY (chat_id, seq) REFERENCES msg_messages(chat_id, seq)
) STRICT;
CREATE UNIQUE INDEX chatpay_links_message ON chatpay_links(chat_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX chatpay_links_due ON chatpay_links(expires_at_ms) WHERE status = 'pending' AND expires_at_ms IS NOT NULL;
CREATE INDEX chatpay_links_request ON chatpay_links(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX chatpay_links_split ON chatpay_links(split_id) WHERE split_id IS NOT NULL;
