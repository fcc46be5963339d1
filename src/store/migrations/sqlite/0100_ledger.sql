-- 0100: the ledger (src/ledger/ledger.h).  Accounts with their four balances,
-- and the journal: one row per recorded transfer.  Balances always equal the
-- sums of the journal (checked by `socialbank ledger verify`).
CREATE TABLE ledger_accounts (
    num INTEGER PRIMARY KEY,                  -- internal row number, referenced by the journal
    id BLOB NOT NULL UNIQUE CHECK (length(id) = 16), -- client's 128-bit id, big-endian
    user_data BLOB NOT NULL CHECK (length(user_data) = 16),
    currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency GLOB '[A-Z][A-Z][A-Z]'),
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 7),
    flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 3 AND flags <> 3),
    code INTEGER NOT NULL CHECK (code > 0),
    debits_pending INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    debits_posted INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_pending INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    credits_posted INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    timestamp_ns INTEGER NOT NULL
) STRICT;

-- The journal.  timestamp_ns is assigned by the writer, unique and rising.
-- flags: 1 linked, 2 pending, 4 post_pending, 8 void_pending.
-- state: pending transfers 1 pending, 2 posted, 3 voided, 4 expired; others 0.
-- For post/void rows the accounts are those of the pending transfer and
-- amount is the amount posted (void: the pending amount).
CREATE TABLE ledger_transfers (
    timestamp_ns INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    debit_account INTEGER NOT NULL REFERENCES ledger_accounts(num),
    credit_account INTEGER NOT NULL REFERENCES ledger_accounts(num),
    amount INTEGER NOT NULL CHECK (amount > 0),
    pending_id BLOB CHECK (pending_id IS NULL OR length(pending_id) = 16),
    user_data BLOB NOT NULL CHECK (length(user_data) = 16),
    timeout_ms INTEGER NOT NULL CHECK (timeout_ms >= 0),
    code INTEGER NOT NULL CHECK (code > 0),
    flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 15),
    state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),
    expires_at_ns INTEGER,                    -- pending with a timeout only
    CHECK (debit_account <> credit_account)
) STRICT;

-- No per-account history index on purpose: (account, timestamp) indexes put
-- every insert at a random page and cut durable throughput from ~187k to ~77k
-- transfers/s (bench ledger, batch 8000).  Statements and receipts come from
-- the payments module's own records; add such an index in a later migration
-- only together with a benchmark.
-- The writer's expiry scan touches only pending transfers that can expire.
CREATE INDEX ledger_transfers_expiry ON ledger_transfers(expires_at_ns) WHERE state = 1 AND expires_at_ns IS NOT NULL;
-- verify matches every post/void with its pending transfer.
CREATE INDEX ledger_transfers_pending ON ledger_transfers(pending_id) WHERE pending_id IS NOT NULL;
-- Every ledger commit increments commit_seq.  A writer that finds a value it
-- did not write knows another writer (a CLI command beside the server)
-- committed, and drops its balance cache before applying anything.
CREATE TABLE ledger_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    commit_seq INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_meta(id, commit_seq) VALUES (1, 0);
