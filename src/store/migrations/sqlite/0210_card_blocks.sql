-- 0210: blocked cards (src/payments/cards.c).  A customer blocks the card on
-- file (the bank's service bot asks for a confirmation first); from then on
-- card-to-card from that customer is refused and the card is shown as
-- blocked.  Masked numbers only (first six + last four), as everywhere.
-- A block is never lifted by this table's owner code: unblocking is a
-- branch's job, outside the messenger.
CREATE TABLE payments_card_blocks (
    user_id INTEGER NOT NULL REFERENCES users(id),
    masked TEXT NOT NULL CHECK (length(masked) = 16),
    blocked_at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 64),
    PRIMARY KEY (user_id, masked)
) STRICT;
