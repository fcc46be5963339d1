/*
 * chatpay.h - payments inside chats: the glue between the messenger and the
 * payment operations.  A member of a 1:1 chat or a group sends money to
 * another member, asks a member for money, splits a bill among members
 * (each share payable from the chat), or pays a bill / buys top-up and
 * shares the receipt; each appears in the chat as a PAYMENT message whose
 * status moves live (pending -> paid | declined | expired), and for a
 * request or a split the message lists every share with its own status.
 *
 * Money moves ONLY through payops (payments/ops.h): chatpay never touches
 * the ledger.  What it adds is the chat: who may pay whom (members of the
 * same chat only; a 1:1 chat with a block in either direction moves
 * nothing), the message, its live updates, and the bank's notices.
 *
 * Exactly once.  Every call that moves money or creates a request takes an
 * idempotency key (1..64 of [A-Za-z0-9_.:-]) chosen by the client.  Money
 * goes through payops with that key (payops itself is idempotent per (payer,
 * key)); the message is posted with a client id derived from the payments
 * object, so a retry finds it; the link row (chatpay_links, migration 0410,
 * unique per (actor, key)) ties key, chat message and payments object
 * together and remembers the arguments, so the same key with other
 * arguments is refused (CHATPAY_REFUSED_KEY_REUSED) and the same key again
 * returns the same message with `replayed` set and moves nothing.  A crash
 * between two steps is finished by the retry.  One window stays: a crash
 * after a request or split is created but before its id is recorded leaves
 * that request without a chat message (it moves no money and expires).
 *
 * Live updates.  Every messenger change (the new message, each status or
 * share update, each notice) is handed to ctx->push right after its commit;
 * the api layer passes api_messenger_push there, tests a recorder.
 *
 * Notices from the bank's official account (messenger_official_notify,
 * silent when the user muted it): the payee of a send gets a receipt
 * notice; the payer of a request (and each member owing a split share) gets
 * a notice asking for the money; the requester learns when a request or a
 * share was paid or declined; the payer of a bill or top-up gets its
 * receipt.  A notice that cannot be written is logged, never undoes money.
 *
 * Errors: those of payops (ops.h; out->receipt carries reason, limit,
 * ledger_result or verdict), plus chatpay's own refusals with
 * out->refusal set: SB_EPERM with CHATPAY_REFUSED_NOT_MEMBER (the caller is
 * not a member of the chat, or it does not exist: the same answer),
 * _PAYEE_NOT_MEMBER (a named user is not a member of this chat, e.g. a
 * forged member id), _CHAT_KIND (payments only in 1:1 chats and groups),
 * _BLOCKED, _NOT_THE_PAYER (the caller owes nothing on this message),
 * _NOT_THE_REQUESTER; SB_ENOTFOUND with _NO_SUCH_PAYMENT (no chat payment
 * at that seq); SB_ECONFLICT with _NOT_PAYABLE (a send, bill or top-up has
 * nothing to pay) or _KEY_REUSED; SB_EINVAL with _SELF (paying or asking
 * oneself) or _BAD_INPUT (amount, note, key); SB_ELIMIT with _TOO_MANY
 * (more than SB_CHATPAY_SPLIT_MEMBERS_MAX members in a split).
 */
#ifndef SB_CHATPAY_H
#define SB_CHATPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "store/store.h"

/* Where messenger events go after each commit (NULL: dropped). */
typedef void (*chatpay_push_fn)(store *s, const messenger_events *events, void *arg);

/* What every call needs: the payment context (its store `ops.s` is the
 * caller's connection and is used for the messenger too) and the push
 * sink.  Borrowed. */
typedef struct {
    payops_ctx ops;
    chatpay_push_fn push;
    void *push_arg;
} chatpay_ctx;

typedef enum {
    CHATPAY_REFUSED_NONE = 0,
    CHATPAY_REFUSED_NOT_MEMBER,
    CHATPAY_REFUSED_PAYEE_NOT_MEMBER,
    CHATPAY_REFUSED_CHAT_KIND,
    CHATPAY_REFUSED_BLOCKED,
    CHATPAY_REFUSED_NOT_THE_PAYER,
    CHATPAY_REFUSED_NOT_THE_REQUESTER,
    CHATPAY_REFUSED_NO_SUCH_PAYMENT,
    CHATPAY_REFUSED_NOT_PAYABLE,
    CHATPAY_REFUSED_KEY_REUSED,
    CHATPAY_REFUSED_SELF,
    CHATPAY_REFUSED_BAD_INPUT,
    CHATPAY_REFUSED_TOO_MANY,
} chatpay_refusal;
/* Stable snake_case name ("not_a_member"...; NULL for NONE or unknown). */
const char *chatpay_refusal_name(int refusal);

/* What a call gives back.  message is owned (chatpay_outcome_clear). */
typedef struct {
    messenger_message message; /* the payment message in its current state (on success) */
    payops_receipt receipt;    /* money moved by the call (send, bill, top-up, pay), or why payops refused */
    bool replayed;             /* an earlier call with this key (or payment) did it: nothing moved now */
    int refusal;               /* chatpay_refusal, on chatpay's own refusals */
} chatpay_outcome;
void chatpay_outcome_clear(chatpay_outcome *out);

/* Send amount_minor from actor to to_user_id, a member of the same chat;
 * the message starts paid.  note optional (<= SB_PAYOPS_NOTE_BYTES_MAX). */
int chatpay_send(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t to_user_id, int64_t amount_minor,
                 const char *note, const char *idem_key, int64_t now_ms, chatpay_outcome *out) SB_MUST_CHECK;
/* Ask payer_id (a member) for amount_minor until expires_at_ms: a money
 * request and a pending message with one share (the payer's). */
int chatpay_request(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t payer_id, int64_t amount_minor,
                    const char *note, int64_t expires_at_ms, const char *idem_key, int64_t now_ms,
                    chatpay_outcome *out) SB_MUST_CHECK;
/* The actor paid a bill and splits it among members (spec as for
 * payops_split_create; every member must be in the chat; the actor may be
 * one of them, its share then counts as paid).  The message lists every
 * share; it is paid once all are. */
int chatpay_split(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const int64_t *members,
                  size_t member_count, const payments_split_spec *spec, const char *title, int64_t expires_at_ms,
                  const char *idem_key, int64_t now_ms, chatpay_outcome *out) SB_MUST_CHECK;
/* Pay a bill (payops_bill_pay: nothing moves on a bad check digit) or buy
 * top-up (payops_topup), and share the receipt in the chat (message paid;
 * the mobile number is shown masked). */
int chatpay_bill(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const char *bill_id,
                 const char *payment_id, const char *idem_key, int64_t now_ms, chatpay_outcome *out) SB_MUST_CHECK;
int chatpay_topup(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const char *mobile, int64_t amount_minor,
                  const char *idem_key, int64_t now_ms, chatpay_outcome *out) SB_MUST_CHECK;

/* Pay the actor's share of the request or split shown at (chat_id, seq)
 * (payops_request_pay with idem_key; the same key again moves nothing and
 * returns the same message with replayed set). */
int chatpay_pay(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, const char *idem_key,
                int64_t now_ms, chatpay_outcome *out) SB_MUST_CHECK;
/* The payer declines its share; the requester cancels (a split: every share
 * still pending).  Repeating is SB_OK. */
int chatpay_decline(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                    chatpay_outcome *out) SB_MUST_CHECK;
int chatpay_cancel(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                   chatpay_outcome *out) SB_MUST_CHECK;
/* The payment message at (chat_id, seq) for a member, first brought up to
 * date with the payments module (a pending message whose request has
 * settled is updated and pushed). */
int chatpay_get(const chatpay_ctx *ctx, int64_t viewer_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                chatpay_outcome *out) SB_MUST_CHECK;

/* Bring pending chat payment messages whose expiry has passed up to date
 * (call after payops_request_expire_due: their requests are expired now, so
 * the messages turn expired and are pushed).  At most
 * SB_CHATPAY_EXPIRE_BATCH_MAX per call; *updated_out (may be NULL) how many
 * messages changed. */
int chatpay_expire_due(const chatpay_ctx *ctx, int64_t now_ms, int64_t *updated_out) SB_MUST_CHECK;

#endif /* SB_CHATPAY_H */
