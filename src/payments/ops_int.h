/*
 * ops_int.h - private to the payment operations (payments_ops.c, aliases.c,
 * requests_ops.c, quotes_ops.c): resolving an alias to a customer, and the one
 * exactly-once executor every money-moving operation goes through.
 */
#ifndef SB_PAYMENTS_OPS_INT_H
#define SB_PAYMENTS_OPS_INT_H

#include "payments/ops.h"

typedef struct {
    int64_t user_id;
    payops_payee payee;
    char link_token[PAYOPS_LINK_TOKEN_CHARS + 1]; /* "" unless a link */
} payops_target;

/* Resolve an alias to a customer (the id stays inside the module), as
 * payer_id may see them: a phone number or @username only when a contact
 * search would find them (messenger_findable_check), an e-mail unless they
 * blocked the payer, a link always; SB_ENOTFOUND otherwise, exactly as for
 * an alias nobody has.  The payer's own alias is SB_EINVAL unless self_ok. */
int payops__resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms, bool self_ok,
                    payops_target *out) SB_MUST_CHECK;
/* The payee of customer user_id (display name, masked card), no visibility
 * check: the caller made it.  SB_ENOTFOUND unless a customer. */
int payops__target_user(const payops_ctx *ctx, int64_t user_id, payops_target *out) SB_MUST_CHECK;
/* payops_pay_quote, with the customer the alias resolved to in *target_out. */
int payops__pay_quote_target(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                             int64_t now_ms, payops_quote *out, payments_limit_verdict *limit_out,
                             payops_target *target_out) SB_MUST_CHECK;
/* A customer's display name for payers (name, else @username, else a masked
 * phone).  SB_ENOTFOUND unless a customer. */
int payops__display_name(store *s, int64_t user_id, char out[PAYOPS_NAME_BYTES]) SB_MUST_CHECK;
/* Copy text (NULL: "") into out, cut to cap - 1 bytes. */
void payops__copy(char *out, size_t cap, const char *text);
/* True if s is exactly `chars` lowercase hex digits (a link token, a quote
 * id); false for NULL. */
bool payops__is_hex_token(const char *s, size_t chars);

typedef struct {
    payops_kind kind;
    int64_t owner_id;
    const char *idem_key;
    ledger_id debit, credit;
    int64_t amount_minor, fee_minor;
    int64_t counterparty_id; /* 0 if none */
    const char *counterparty_name, *masked_card, *reference;
    const char *link_token; /* NULL or a link whose use this is */
    int64_t request_id;     /* 0 or the request paid */
    bool two_phase;         /* card-to-card: pending transfers */
} payops_op;

/* Run an operation exactly once (see ops.h).  SB_OK with *out the receipt
 * (state done, or pending for a two-phase hold), or an error with the
 * reason in *out. */
int payops__execute(const payops_ctx *ctx, const payops_op *op, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;
/* Load a receipt by id (no owner check). */
int payops__receipt_load(store *s, int64_t receipt_id, payops_receipt *out) SB_MUST_CHECK;

/* The wallet of any user (a merchant: a bot's account is not a customer's),
 * created on first use as payops_wallet_ensure does for customers. */
int payops__wallet_ensure_any(const payops_ctx *ctx, int64_t user_id, int64_t now_ms, ledger_id *out) SB_MUST_CHECK;

/* Post (post true) or void the hold and fee hold of a pending two-phase
 * receipt and record its final state (done / declined) and settling
 * transfer; rrn may be NULL.  Idempotent in the ledger (exists).
 * SB_EINTERNAL when the ledger says the hold was settled otherwise. */
int payops__hold_settle(const payops_ctx *ctx, payops_receipt *r, bool post, const char *rrn) SB_MUST_CHECK;

/* Is the card on file of user_id blocked (false without a card). */
int payops__card_blocked(store *s, int64_t user_id, bool *blocked_out) SB_MUST_CHECK;

#endif /* SB_PAYMENTS_OPS_INT_H */
