-- 0200: payment operations on the ledger (src/payments/ops.h): customers'
-- wallets, e-mail aliases, cards on file (masked only), payment links,
-- receipts (which are also the journal of operations in flight), money
-- requests and group bill splits.  Phone numbers and @usernames are aliases
-- straight from users.  Money in INTEGER minor units.

-- The ledger account of a customer's wallet (created on first use).
CREATE TABLE payments_wallets (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    account_id TEXT NOT NULL UNIQUE CHECK (length(account_id) = 32),
    created_at_ms INTEGER NOT NULL
) STRICT;

-- E-mail aliases (lowercase), one customer each.
CREATE TABLE payments_emails (
    email TEXT PRIMARY KEY CHECK (email = lower(email)),
    user_id INTEGER NOT NULL REFERENCES users(id)
) STRICT;
CREATE INDEX payments_emails_user ON payments_emails(user_id);

-- A card on file, masked (first six + last four); the full number is never stored.
CREATE TABLE payments_cards (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    masked TEXT NOT NULL CHECK (length(masked) = 16)
) STRICT;

-- Payment links: a random token (32 hex), optional fixed amount, expiry,
-- single or multi use.
CREATE TABLE payments_links (
    token TEXT PRIMARY KEY CHECK (length(token) = 32),
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount_minor INTEGER CHECK (amount_minor IS NULL OR amount_minor > 0),
    expires_at_ms INTEGER NOT NULL,
    multi_use INTEGER NOT NULL CHECK (multi_use IN (0, 1)),
    uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_links_user ON payments_links(user_id);

-- One row per operation, keyed by the owner's idempotency key.  Written as
-- 'pending' with its ledger transfer ids BEFORE the ledger is asked, so that
-- a retry after a crash resubmits the same ids (the ledger answers exists).
-- state: pending, done, declined (card-to-card hold voided), manual
-- (card-to-card hold kept for the operator).
CREATE TABLE payments_receipts (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    idem_key TEXT NOT NULL,
    kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 5),
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'declined', 'manual')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
    counterparty_id INTEGER,
    counterparty_name TEXT NOT NULL DEFAULT '',
    masked_card TEXT NOT NULL DEFAULT '',
    reference TEXT NOT NULL DEFAULT '',
    credit_account TEXT NOT NULL CHECK (length(credit_account) = 32),
    transfer_id TEXT NOT NULL UNIQUE CHECK (length(transfer_id) = 32),
    fee_transfer_id TEXT CHECK (fee_transfer_id IS NULL OR length(fee_transfer_id) = 32),
    settle_transfer_id TEXT CHECK (settle_transfer_id IS NULL OR length(settle_transfer_id) = 32),
    link_token TEXT,
    request_id INTEGER,
    rrn TEXT NOT NULL DEFAULT '',
    day INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (owner_id, idem_key)
) STRICT;
CREATE INDEX payments_receipts_usage ON payments_receipts(owner_id, day, kind);
-- The owner's statement (payops_receipt_list), by id.
CREATE INDEX payments_receipts_owner ON payments_receipts(owner_id, id);
CREATE INDEX payments_receipts_state ON payments_receipts(state) WHERE state IN ('pending', 'manual');

-- Group bill splits: the payer paid the whole bill; each other member owes a share.
CREATE TABLE payments_splits (
    id INTEGER PRIMARY KEY,
    payer_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL DEFAULT '',
    total_minor INTEGER NOT NULL CHECK (total_minor > 0),
    created_at_ms INTEGER NOT NULL
) STRICT;

-- Money requests (request-first flow), also a split's shares.
-- state: 0 pending, 1 paid, 2 declined, 3 cancelled, 4 expired (payments_request_state).
CREATE TABLE payments_requests (
    id INTEGER PRIMARY KEY,
    requester_id INTEGER NOT NULL REFERENCES users(id),
    payer_id INTEGER NOT NULL REFERENCES users(id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    expires_at_ms INTEGER NOT NULL,
    state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),
    settled_by_id INTEGER NOT NULL DEFAULT 0,
    settled_at_ms INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    split_id INTEGER REFERENCES payments_splits(id),
    created_at_ms INTEGER NOT NULL,
    CHECK (requester_id <> payer_id)
) STRICT;
CREATE INDEX payments_requests_payer ON payments_requests(payer_id, state);
CREATE INDEX payments_requests_requester ON payments_requests(requester_id, state);
CREATE INDEX payments_requests_split ON payments_requests(split_id) WHERE split_id IS NOT NULL;
CREATE INDEX payments_requests_expiry ON payments_requests(expires_at_ms) WHERE state = 0;

-- Every member's share of a split (the payer's own share is settled at once).
CREATE TABLE payments_split_shares (
    split_id INTEGER NOT NULL REFERENCES payments_splits(id),
    position INTEGER NOT NULL CHECK (position >= 0),
    member_id INTEGER NOT NULL REFERENCES users(id),
    share_minor INTEGER NOT NULL CHECK (share_minor >= 0),
    request_id INTEGER REFERENCES payments_requests(id),
    PRIMARY KEY (split_id, position)
) STRICT;

-- A request is paid at most once, a bill (bill id + payment id) at most once,
-- whatever idempotency keys clients choose.
CREATE UNIQUE INDEX payments_receipts_request ON payments_receipts(request_id) WHERE request_id IS NOT NULL;
CREATE UNIQUE INDEX payments_receipts_bill ON payments_receipts(reference) WHERE kind = 2;
