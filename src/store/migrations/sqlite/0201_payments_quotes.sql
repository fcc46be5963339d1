-- 0201: pay-a-person quotes held for confirming (payops_pay_quote_hold): the
-- confirm pays the payee, amount and fee the payer was shown, before the
-- expiry, once.  The alias is kept to tell whether it still names the same
-- customer at the confirm.
CREATE TABLE payments_quotes (
    id TEXT PRIMARY KEY CHECK (length(id) = 32),
    payer_id INTEGER NOT NULL REFERENCES users(id),
    payee_id INTEGER NOT NULL REFERENCES users(id),
    alias TEXT NOT NULL,
    link_token TEXT CHECK (link_token IS NULL OR length(link_token) = 32),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
    payee_name TEXT NOT NULL,
    masked_card TEXT NOT NULL DEFAULT '',
    fixed_amount_minor INTEGER NOT NULL DEFAULT 0 CHECK (fixed_amount_minor >= 0),
    expires_at_ms INTEGER NOT NULL,
    -- the idempotency key of the confirm that took it (NULL: not confirmed)
    idem_key TEXT,
    created_at_ms INTEGER NOT NULL,
    CHECK (payer_id <> payee_id)
) STRICT;
CREATE INDEX payments_quotes_payer ON payments_quotes(payer_id, expires_at_ms);
