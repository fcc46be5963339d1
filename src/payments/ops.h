/*
 * ops.h - payment OPERATIONS on the ledger: wallets, aliases (phone,
 * @username, e-mail, payment links), pay a person (quote, then confirm with
 * an idempotency key; the quote may be held under an id and confirmed by it), money requests, group bill splits, bill
 * payment, top-up, card-to-card through the switch adapter, and receipts.
 *
 * Domain functions, so that HTTP routes are a thin layer: a route takes the
 * authenticated principal's user id as `owner`/`payer`, decodes its JSON
 * into these arguments and encodes the receipt.  Only the owner of a wallet
 * moves its money: every function that debits a wallet debits the wallet of
 * the user id it is given, never one named by the client.
 *
 * How an operation stays exactly-once.  The receipt row (payments_receipts,
 * migration 0200) is written 'pending' with its ledger transfer ids BEFORE
 * the ledger is asked; then ONE linked ledger batch (the transfer and its
 * fee) is submitted; then the row becomes 'done'.  The same (owner,
 * idempotency key) again finds the row: done returns the same receipt,
 * pending resubmits the same ids (the ledger answers exists, nothing moves
 * twice).  A rejected batch (insufficient funds...) deletes the row, so
 * nothing moved and a retry is judged afresh.  Different fields under a used
 * key are SB_ECONFLICT.
 *
 * Ledger accounts.  A customer's wallet: kind customer_wallet, IRR,
 * debits_must_not_exceed_credits, id payops_wallet_id(user) (created on first
 * use).  The bank's accounts have fixed ids (payops_bank_account_id) and are
 * created by payops_init: settlement (funding of wallets), fees, card
 * switch, suspense, one biller account per bill type and one operator
 * account per mobile operator.
 *
 * Errors common to all: SB_EINVAL malformed input (a payments_reason in the
 * receipt's `reason` when an instrument failed), SB_ENOTFOUND unknown alias,
 * user, request or receipt (also a receipt of someone else), SB_ELIMIT a
 * daily limit or the operation cap (receipt's `limit`), SB_ECONFLICT the
 * ledger refused (receipt's `ledger_result`, e.g. exceeds_credits) or an
 * idempotency key reused with other fields, SB_EPERM not allowed (request
 * rules: receipt's / out `verdict`), and store or ledger errors (SB_EIO,
 * SB_EBUSY: nothing committed, retry with the same key).
 */
#ifndef SB_PAYMENTS_OPS_H
#define SB_PAYMENTS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "ledger/ledger.h"
#include "payments/payments.h"
#include "payments/switch.h"
#include "store/store.h"

#define PAYOPS_NAME_BYTES (SB_DISPLAY_NAME_BYTES_MAX + 1)
#define PAYOPS_LINK_TOKEN_CHARS 32
#define PAYOPS_REFERENCE_BYTES (SB_PAYOPS_NOTE_BYTES_MAX + 1)

/* What an operation needs: the caller's store connection (its thread's),
 * the running ledger, the fee and limit policy, and for card-to-card the
 * switch adapter and the bank's source card it sends from.  Borrowed. */
typedef struct {
    store *s;
    ledger *l;
    const payments_policy *policy;
    const payments_switch *sw;       /* NULL: card-to-card unavailable (SB_EINVAL) */
    const payments_card *c2c_source; /* the bank's card the switch debits */
    int64_t c2c_timeout_ms;          /* per switch call; 0 = 10 s */
} payops_ctx;

/* Operation kinds (stored; payments_op_kind for the first five). */
typedef enum {
    PAYOPS_TRANSFER = 0, /* pay a person by alias */
    PAYOPS_C2C = 1,
    PAYOPS_BILL = 2,
    PAYOPS_TOPUP = 3,
    PAYOPS_REQUEST = 4, /* paying a money request or a split share */
    PAYOPS_DEPOSIT = 5, /* money into a wallet from the bank's settlement account */
} payops_kind;
const char *payops_kind_name(payops_kind kind);

typedef enum {
    PAYOPS_RECEIPT_PENDING = 0,
    PAYOPS_RECEIPT_DONE,
    PAYOPS_RECEIPT_DECLINED, /* card-to-card refused by the switch: the hold was voided */
    PAYOPS_RECEIPT_MANUAL,   /* card-to-card unreachable switch: hold kept for reconciliation */
} payops_receipt_state;
const char *payops_receipt_state_name(payops_receipt_state state);
/* Digits in a receipt's tracking code. */
#define PAYOPS_TRACKING_DIGITS 12
/* The tracking code customers read on a receipt (شمارهٔ پیگیری): 12 decimal
 * digits derived from the receipt's ledger transfer id (32 hex), so every
 * receipt has one, unique in practice, not sequential, the same on every
 * read.  "" for a transfer id that is not hex. */
void payops_tracking_code(const char *transfer_id, char out[PAYOPS_TRACKING_DIGITS + 1]);

/* Why payops_pay_confirm_quote refused a quote (receipt's `quote`). */
typedef enum {
    PAYOPS_QUOTE_OK = 0,
    PAYOPS_QUOTE_EXPIRED, /* past its expiry (SB_ETIMEOUT) */
    PAYOPS_QUOTE_CHANGED, /* the alias names someone else now, or the fee changed (SB_ECONFLICT) */
    PAYOPS_QUOTE_USED,    /* already confirmed under another idempotency key (SB_EEXISTS) */
} payops_quote_verdict;
const char *payops_quote_verdict_name(payops_quote_verdict verdict);

typedef struct {
    int64_t id;
    int64_t owner_id;
    payops_kind kind;
    payops_receipt_state state;
    int64_t amount_minor;
    int64_t fee_minor;
    char counterparty[PAYOPS_NAME_BYTES];         /* display name of payee / biller / operator / card holder */
    char masked_card[PAYMENTS_CARD_MASKED_BYTES]; /* "" when none */
    char reference[PAYOPS_REFERENCE_BYTES];       /* bill id/payment id, phone, request id... */
    char transfer_id[LEDGER_ID_HEX_BYTES];        /* the main ledger transfer (c2c: the hold) */
    char fee_transfer_id[LEDGER_ID_HEX_BYTES];    /* "" without fee */
    char settle_transfer_id[LEDGER_ID_HEX_BYTES]; /* c2c: the post or void; "" otherwise */
    char rrn[PAYMENTS_SWITCH_RRN_BYTES];          /* c2c approval */
    int64_t request_id;                           /* PAYOPS_REQUEST: the request paid */
    int64_t created_at_ms;
    /* Set on success: true when an earlier call made this receipt (the
     * retry of an idempotency key, or a request already paid under another
     * key), false for the one call that made it.  Of concurrent calls with
     * one key exactly one sees false. */
    bool replayed;
    /* Why it failed (set on errors only). */
    ledger_result ledger_result;
    payments_limit_verdict limit;
    payments_reason reason;
    payments_request_verdict verdict;
    payops_quote_verdict quote; /* payops_pay_confirm_quote's refusals */
} payops_receipt;

/* ---- set-up and wallets ---------------------------------------------------- */
/* The idempotency key rules every money-moving call (and chatpay, which
 * passes its keys on) checks: 1..SB_PAYOPS_IDEM_KEY_BYTES_MAX bytes of
 * [A-Za-z0-9_.:-].  SB_EINVAL otherwise. */
int payops_idem_key_check(const char *key) SB_MUST_CHECK;

/* Create the bank's accounts in the ledger (idempotent: safe at every start).
 * SB_ECORRUPT if an account exists with other fields. */
int payops_init(const payops_ctx *ctx) SB_MUST_CHECK;
/* The stable ledger ids: a wallet, and the bank's accounts. */
ledger_id payops_wallet_id(int64_t user_id);
typedef enum {
    PAYOPS_BANK_SETTLEMENT = 1,
    PAYOPS_BANK_FEES = 2,
    PAYOPS_BANK_CARD_SWITCH = 3,
    PAYOPS_BANK_SUSPENSE = 4,
} payops_bank_account;
ledger_id payops_bank_account_id(payops_bank_account which);
ledger_id payops_biller_account_id(payments_bill_type type);
ledger_id payops_operator_account_id(payments_operator op);
/* The wallet of a customer, created in the ledger on first use.  SB_ENOTFOUND
 * if user_id is not a customer. */
int payops_wallet_ensure(const payops_ctx *ctx, int64_t user_id, int64_t now_ms, ledger_id *out) SB_MUST_CHECK;
/* Balance available to spend (credits_posted - debits_posted - debits_pending). */
int payops_wallet_balance(const payops_ctx *ctx, int64_t user_id, int64_t *available_minor_out) SB_MUST_CHECK;
/* Put money into a wallet from the settlement account (a cash-in the bank has
 * received), idempotent per (user, key), with a receipt. */
int payops_deposit(const payops_ctx *ctx, int64_t user_id, int64_t amount_minor, const char *idem_key, int64_t now_ms,
                   payops_receipt *out) SB_MUST_CHECK;

/* ---- aliases ---------------------------------------------------------------- */
/* Register an e-mail alias (ASCII, one '@', folded to lowercase, at most 254
 * bytes).  SB_EINVAL malformed, SB_EEXISTS taken by someone else (the same
 * user again is SB_OK). */
int payops_email_set(const payops_ctx *ctx, int64_t user_id, const char *email) SB_MUST_CHECK;
/* Keep a card's masked form on file (shown to payers beside the name). */
int payops_card_on_file_set(const payops_ctx *ctx, int64_t user_id, const payments_card *card) SB_MUST_CHECK;
/* The masked card on file and whether it is blocked.  SB_ENOTFOUND when the
 * user has no card on file. */
int payops_card_get(const payops_ctx *ctx, int64_t user_id, char masked_out[PAYMENTS_CARD_MASKED_BYTES],
                    bool *blocked_out) SB_MUST_CHECK;
/* Block the card on file (migration 0210): from then on card-to-card by
 * this customer is refused (SB_EPERM) and payops_card_get says blocked.
 * Idempotent: blocking a blocked card is SB_OK with *already_out true
 * (may be NULL).  reason: NULL or at most 64 bytes (SB_EINVAL).  One
 * transaction.  SB_ENOTFOUND when there is no card on file.  masked_out
 * gets the masked number of the card concerned. */
int payops_card_block(const payops_ctx *ctx, int64_t user_id, const char *reason, int64_t now_ms,
                      char masked_out[PAYMENTS_CARD_MASKED_BYTES], bool *already_out) SB_MUST_CHECK;
/* Create a payment link: token_out gets 32 random hex digits.  amount_minor
 * 0 = the payer chooses; expires_at_ms > now_ms. */
int payops_link_create(const payops_ctx *ctx, int64_t user_id, int64_t amount_minor, int64_t expires_at_ms,
                       bool multi_use, int64_t now_ms, char token_out[PAYOPS_LINK_TOKEN_CHARS + 1]) SB_MUST_CHECK;

/* What a payer sees of a payee: never an account id or a full card. */
typedef struct {
    char display_name[PAYOPS_NAME_BYTES];
    char masked_card[PAYMENTS_CARD_MASKED_BYTES]; /* "" if none on file */
    int64_t fixed_amount_minor;                   /* a link's amount, 0 = any */
} payops_payee;
/* Resolve an alias: "@username", an e-mail, a 32-hex link token, or a
 * mobile number in any form sb_phone_normalize takes.  What the payee
 * allowed, and nothing else: a phone number or @username resolves only as a
 * contact search would find the customer (discoverable, not blocking the
 * payer: messenger_findable_check), an e-mail (registered by the payee for
 * being paid) unless they blocked the payer, a link always.  SB_ENOTFOUND
 * for no such customer, a customer hidden from the payer (the same answer:
 * hidden and unknown cannot be told apart), or an expired or used-up link;
 * SB_EINVAL for the payer themself or text that is no alias at all. */
int payops_resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms,
                   payops_payee *out) SB_MUST_CHECK;

/* ---- pay a person --------------------------------------------------------- */
typedef struct {
    payops_payee payee;
    int64_t amount_minor;
    int64_t fee_minor;
    int64_t total_minor; /* amount + fee: what leaves the wallet */
} payops_quote;
/* Resolve, fee and limit check, without moving anything: what the payer must
 * confirm.  SB_ELIMIT with *limit_out when a limit would be broken. */
int payops_pay_quote(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor, int64_t now_ms,
                     payops_quote *out, payments_limit_verdict *limit_out) SB_MUST_CHECK;
/* Pay: one linked ledger batch (transfer + fee), a receipt.  idem_key:
 * 1..64 of [A-Za-z0-9_.:-], chosen by the client per payment.  The alias as
 * payops_resolve reads it. */
int payops_pay_confirm(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                       const char *idem_key, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;
/* Pay a customer named by user id (a member of a chat the payer is in),
 * otherwise as payops_pay_confirm: SB_ENOTFOUND unless messenger_reach_check
 * allows it, SB_EPERM if either has blocked the other. */
int payops_pay_user(const payops_ctx *ctx, int64_t payer_id, int64_t payee_id, int64_t amount_minor,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;

/* A quote kept so that the confirm pays exactly what the payer was shown. */
#define PAYOPS_QUOTE_ID_CHARS 32
typedef struct {
    char id[PAYOPS_QUOTE_ID_CHARS + 1]; /* 32 random hex digits */
    payops_quote quote;
    int64_t expires_at_ms;
} payops_held_quote;
/* payops_pay_quote, and the quote kept for SB_PAYOPS_QUOTE_TTL_MS under a
 * random id (the payee, amount and fee shown) for payops_pay_confirm_quote.
 * The payer's quotes expired more than SB_PAYOPS_QUOTE_KEEP_EXPIRED_MS ago
 * are deleted; SB_ELIMIT (with *limit_out PAYMENTS_LIMIT_OK) when the payer
 * already holds SB_PAYOPS_QUOTES_PER_PAYER_MAX. */
int payops_pay_quote_hold(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                          int64_t now_ms, payops_held_quote *out, payments_limit_verdict *limit_out) SB_MUST_CHECK;
/* Pay a held quote: the payee, amount and fee it showed, nothing re-read
 * from the client.  Exactly once per (payer, idem_key) as
 * payops_pay_confirm: the same key again returns the same receipt (even
 * after the quote expired), other fields under a used key are SB_ECONFLICT.
 * Refused, nothing moved, out->quote saying why: SB_ETIMEOUT expired,
 * SB_ECONFLICT changed (the alias now names another customer or none, or
 * the fee is no longer the one shown: quote again), SB_EEXISTS already
 * confirmed under another key (a quote pays once).  SB_ENOTFOUND for an
 * unknown quote or another payer's; SB_EINVAL for a malformed id or key. */
int payops_pay_confirm_quote(const payops_ctx *ctx, int64_t payer_id, const char *quote_id, const char *idem_key,
                             int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;

/* ---- money requests ---------------------------------------------------------- */
typedef struct {
    int64_t id;
    payments_request req;
    char note[PAYOPS_REFERENCE_BYTES];
    int64_t split_id; /* 0 if none */
} payops_request;
/* The requester asks the customer behind `payer_alias` for an amount.
 * SB_EINVAL bad amount/expiry/alias or asking oneself; SB_ENOTFOUND for an
 * alias nobody has, a customer the requester may not find by it
 * (payops_resolve's rules) or when either has blocked the other: the same
 * answer, so a request never tells hidden from unknown. */
int payops_request_create(const payops_ctx *ctx, int64_t requester_id, const char *payer_alias, int64_t amount_minor,
                          const char *note, int64_t expires_at_ms, int64_t now_ms,
                          int64_t *request_id_out) SB_MUST_CHECK;
/* The same for a payer named by user id (a member of a chat the requester
 * is in): SB_ENOTFOUND unless messenger_reach_check allows it, SB_EPERM if
 * either has blocked the other. */
int payops_request_create_user(const payops_ctx *ctx, int64_t requester_id, int64_t payer_id, int64_t amount_minor,
                               const char *note, int64_t expires_at_ms, int64_t now_ms,
                               int64_t *request_id_out) SB_MUST_CHECK;
/* Pay a request (the payer only, the exact amount): a ledger transfer from
 * the payer's wallet to the requester's, then the request is paid.
 * Idempotent per (payer, idem_key).  SB_EPERM with out->verdict when the
 * request rules refuse (not the payer, declined, expired...). */
int payops_request_pay(const payops_ctx *ctx, int64_t payer_id, int64_t request_id, const char *idem_key,
                       int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;
/* Decline (payer), cancel (requester).  SB_EPERM with *verdict_out;
 * repeating the same action is SB_OK (verdict exists). */
int payops_request_decline(const payops_ctx *ctx, int64_t actor_id, int64_t request_id, int64_t now_ms,
                           payments_request_verdict *verdict_out) SB_MUST_CHECK;
int payops_request_cancel(const payops_ctx *ctx, int64_t actor_id, int64_t request_id, int64_t now_ms,
                          payments_request_verdict *verdict_out) SB_MUST_CHECK;
/* Expire pending requests due at now_ms, the earliest first, at most
 * max_requests of them (a pass stays bounded; the maintenance thread passes
 * SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX and the rest wait for its next pass);
 * *count_out how many.  SB_EINVAL for max_requests < 1. */
int payops_request_expire_due(const payops_ctx *ctx, int64_t now_ms, int64_t max_requests,
                              int64_t *count_out) SB_MUST_CHECK;
/* Read a request; only its requester or payer (else SB_ENOTFOUND). */
int payops_request_get(const payops_ctx *ctx, int64_t viewer_id, int64_t request_id, payops_request *out) SB_MUST_CHECK;

/* ---- group bill splits -------------------------------------------------------- */
/* The payer paid the whole bill; spec (payments_split) says how members[i]
 * share it (spec->count == member_count).  Each member other than the payer
 * gets a money request for their share (zero shares get none); the payer's
 * own share is settled by having paid.  Checked: the shares sum to
 * subtotal + tax + tip.  SB_EINVAL bad spec, a duplicate member;
 * SB_ENOTFOUND an unknown member or one the payer may not reach
 * (messenger_reach_check: staff, a hidden customer they share no chat
 * with); SB_EPERM when either has blocked the other. */
int payops_split_create(const payops_ctx *ctx, int64_t payer_id, const int64_t *members, size_t member_count,
                        const payments_split_spec *spec, const char *title, int64_t expires_at_ms, int64_t now_ms,
                        int64_t *split_id_out) SB_MUST_CHECK;
/* The customer a split member alias names ("@username", a mobile number
 * or an e-mail, as payops_resolve reads them), for payops_split_create's
 * members; unlike paying, the payer may name themself (their own share).
 * SB_EINVAL for text that is no member alias (a payment link is not one);
 * SB_ENOTFOUND for no such customer. */
int payops_split_member_resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms,
                                int64_t *user_id_out) SB_MUST_CHECK;
typedef struct {
    int64_t member_id;
    int64_t share_minor;
    int64_t request_id;           /* 0 for the payer's own share and zero shares */
    payments_request_state state; /* PAID for the payer's own share */
} payops_split_member;
/* Who has paid: out[] gets one entry per member (out_max at least the
 * member count, else SB_ELIMIT).  Any member or the payer may look. */
int payops_split_status(const payops_ctx *ctx, int64_t viewer_id, int64_t split_id, payops_split_member *out,
                        size_t out_max, size_t *count_out, int64_t *total_minor_out) SB_MUST_CHECK;

/* ---- bills and top-up --------------------------------------------------------- */
/* Pay a bill: payments_bill_parse first (nothing moves on a bad check digit:
 * SB_EINVAL with out->reason), amount from the payment ID, to the biller
 * account of its type.  Idempotent per (payer, key); the same bill paid
 * twice under other keys is refused (SB_EEXISTS). */
int payops_bill_pay(const payops_ctx *ctx, int64_t payer_id, const char *bill_id, const char *payment_id,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;
/* Buy top-up credit for a mobile number from its operator. */
int payops_topup(const payops_ctx *ctx, int64_t payer_id, const char *mobile, int64_t amount_minor,
                 const char *idem_key, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;

/* ---- card-to-card -------------------------------------------------------------- */
/* Quote: the destination's holder (switch inquiry) and masked card, the fee. */
int payops_c2c_quote(const payops_ctx *ctx, int64_t payer_id, const char *dest_card, int64_t amount_minor,
                     int64_t now_ms, payops_quote *out, payments_limit_verdict *limit_out) SB_MUST_CHECK;
/* Send: a pending ledger transfer (the hold, linked with its fee hold) from
 * the wallet to the card-switch account, then payments_c2c_run; POST posts
 * the hold and fee (state done), VOID voids them (state declined), MANUAL
 * keeps them (state manual; see payops_c2c_reconcile).  Idempotent per
 * (payer, key): a retry of a pending one (a crash mid-way) runs the switch
 * steps again (the switch is idempotent per reference = the hold's id); a
 * manual one is returned as it is, for payops_c2c_reconcile.  SB_EPERM (for
 * the quote too) when the payer's card on file is blocked: nothing moves,
 * no receipt is written. */
int payops_c2c_send(const payops_ctx *ctx, int64_t payer_id, const char *dest_card, int64_t amount_minor,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) SB_MUST_CHECK;
/* Drive manual card-to-cards, and pending ones older than twice the longest
 * switch run (so never one payops_c2c_send is still driving), to a final
 * state by inquiry and reversal (the card number is not kept, so nothing is
 * re-sent); *settled_out how many ended posted or voided.  A pass looks at
 * most max_receipts receipts (SB_PAYOPS_C2C_RECONCILE_PASS_MAX in the
 * maintenance thread), in id order after *cursor_io; *cursor_io is left at
 * the last one looked at, or 0 once the end was reached, so that the next
 * pass goes on from there and every receipt has its turn even when more stay
 * manual than one pass can look at.  Start with *cursor_io = 0.  Run one
 * reconciler at a time (a periodic job).  SB_EINVAL without a switch or for
 * max_receipts < 1. */
int payops_c2c_reconcile(const payops_ctx *ctx, int64_t now_ms, int64_t max_receipts, int64_t *cursor_io,
                         int64_t *settled_out) SB_MUST_CHECK;

/* ---- receipts ------------------------------------------------------------------ */
/* A receipt, to its owner only (anyone else: SB_ENOTFOUND). */
int payops_receipt_get(const payops_ctx *ctx, int64_t owner_id, int64_t receipt_id, payops_receipt *out) SB_MUST_CHECK;

/* The owner's receipts with id > after_id, oldest first, at most out_max
 * into out; *count_out written (fewer than out_max means the end). */
int payops_receipt_list(const payops_ctx *ctx, int64_t owner_id, int64_t after_id, payops_receipt *out, size_t out_max,
                        size_t *count_out) SB_MUST_CHECK;

/* The owner's newest receipts, newest first, at most min(out_max,
 * SB_HTTP_RECEIPTS_PAGE_MAX); kind_mask 0 for every kind, else the bits
 * (1 << payops_kind) wanted.  *count_out written. */
int payops_receipt_recent(const payops_ctx *ctx, int64_t owner_id, int kind_mask, payops_receipt *out, size_t out_max,
                          size_t *count_out) SB_MUST_CHECK;

/* ---- payments to merchants (a bot's invoices, issue 13) ------------------------ */
/* Hold amount_minor in the payer's wallet for the merchant (a pending
 * ledger transfer from the payer's wallet to the merchant user's wallet, no
 * fee; the transfer limits of paying a person apply), exactly once per
 * (payer, idem_key) as payops_pay_confirm.  reference: shown on the receipt
 * (e.g. "invoice 7").  *out: the receipt, state pending.  Errors as
 * payops_pay_confirm (SB_ECONFLICT with exceeds_credits when the wallet is
 * short, SB_ELIMIT...). */
int payops_merchant_hold(const payops_ctx *ctx, int64_t payer_id, int64_t merchant_id, int64_t amount_minor,
                         const char *reference, const char *idem_key, int64_t now_ms,
                         payops_receipt *out) SB_MUST_CHECK;
/* Settle a hold made by payops_merchant_hold: post (money to the merchant)
 * or void (back to the payer).  Settling again the same way is SB_OK;
 * the other way round once settled is SB_ECONFLICT.  SB_ENOTFOUND. */
int payops_merchant_settle(const payops_ctx *ctx, int64_t receipt_id, bool post, payops_receipt *out) SB_MUST_CHECK;
/* Refund a settled payment to merchant_id: a transfer of the whole amount
 * from the merchant's wallet back to the payer, exactly once per receipt
 * (the idempotency key is derived from it; *out is the refund's receipt,
 * owned by the merchant).  SB_ECONFLICT unless the receipt is a posted
 * two-phase payment (or the merchant's wallet is short), SB_ENOTFOUND. */
int payops_merchant_refund(const payops_ctx *ctx, int64_t merchant_id, int64_t receipt_id, int64_t now_ms,
                           payops_receipt *out) SB_MUST_CHECK;

#endif /* SB_PAYMENTS_OPS_H */
