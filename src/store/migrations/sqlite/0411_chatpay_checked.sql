-- 0411: chatpay - when the maintenance pass last compared a pending chat
-- payment message with its request or split, so that each pass re-checks
-- the least recently checked ones (a request paid or declined through
-- /api/requests, outside the chat, shows in the chat this way).
ALTER TABLE chatpay_links ADD COLUMN checked_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chatpay_links_unchecked ON chatpay_links(checked_at_ms) WHERE status = 'pending' AND seq IS NOT NULL;
