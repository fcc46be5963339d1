-- 0451: invoices bots send with the Bot API's sendInvoice (src/api/
-- botapi_pay.c, src/messenger/messenger_botapi.c).  An invoice is a message
-- of the bot in a chat (seq) and a row here with its money: open (unpaid),
-- checkout (a member confirmed paying: the amount is held in the payer's
-- wallet, receipt_id, and the bot must answer its pre-checkout query before
-- deadline_ms), then paid (the hold posted to the bot's wallet), refused
-- (the bot said no: voided), expired (no answer in time: voided), refunded
-- (staff paid it back).  settled: the ledger side of the last move is done
-- (a move whose settle failed is retried by the sweeper).
CREATE TABLE msg_botapi_invoices (
    id INTEGER PRIMARY KEY,
    bot_id INTEGER NOT NULL REFERENCES msg_bots(user_id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL REFERENCES msg_chats(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL DEFAULT 0 CHECK (seq >= 0),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency = 'IRR'),
    total_minor INTEGER NOT NULL CHECK (total_minor > 0),
    prices TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'checkout', 'paid', 'refused', 'expired', 'refunded')),
    payer_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    receipt_id INTEGER,
    query_update_id INTEGER NOT NULL DEFAULT 0,
    deadline_ms INTEGER NOT NULL DEFAULT 0,
    settled INTEGER NOT NULL DEFAULT 1 CHECK (settled IN (0, 1)),
    refund_receipt_id INTEGER,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX msg_botapi_invoices_due ON msg_botapi_invoices(state, deadline_ms);
