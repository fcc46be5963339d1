/*
 * ledger_int.h - what the files of the ledger module share (not public):
 * the byte form of ids in the store and the decoding of rows.
 */
#ifndef SB_LEDGER_INT_H
#define SB_LEDGER_INT_H

#include "ledger/ledger.h"

/* 128-bit id <-> 16 bytes big-endian (so BLOB order is numeric order). */
void ledger__id_to_bytes(ledger_id id, uint8_t out[16]);
/* SB_ECORRUPT unless len is 16. */
int ledger__id_from_bytes(const void *data, int len, ledger_id *out) SB_MUST_CHECK;

/* Column list of an account row, decoded by ledger__account_from_row
 * (num first). */
#define LEDGER__ACCOUNT_COLUMNS                                                                                        \
    "num, id, user_data, currency, kind, flags, code, debits_pending, debits_posted, credits_pending, "                \
    "credits_posted, timestamp_ns"
int ledger__account_from_row(store_stmt *st, ledger_account *out, int64_t *num_out) SB_MUST_CHECK;

/* A transfer row with its accounts' ids (t = ledger_transfers, da/ca the
 * accounts), decoded by ledger__transfer_from_row. */
#define LEDGER__TRANSFER_SELECT                                                                                        \
    "SELECT t.timestamp_ns, t.id, da.id, ca.id, t.amount, t.pending_id, t.user_data, t.timeout_ms, t.code, "           \
    "t.flags, t.state, t.debit_account, t.credit_account, t.expires_at_ns FROM ledger_transfers t "                    \
    "JOIN ledger_accounts da ON da.num = t.debit_account JOIN ledger_accounts ca ON ca.num = t.credit_account "

typedef struct {
    ledger_transfer transfer;
    ledger_transfer_state state;
    int64_t debit_num;
    int64_t credit_num;
} ledger__transfer_row;
int ledger__transfer_from_row(store_stmt *st, ledger__transfer_row *out) SB_MUST_CHECK;
/* Look a transfer up by id: SB_ENOTFOUND if absent. */
int ledger__find_transfer(store *s, ledger_id id, ledger__transfer_row *out) SB_MUST_CHECK;

/* ledger_verify with at most chunk_accounts accounts in memory at once (each
 * chunk is one pass over the journal); ledger_verify passes
 * SB_LEDGER_VERIFY_CHUNK_ACCOUNTS, tests a small number to cross chunks. */
int ledger__verify_chunked(store *s, ledger_verify_report *report, size_t chunk_accounts) SB_MUST_CHECK;

#endif /* SB_LEDGER_INT_H */
