/*
 * bankbot.h - the bank's own service bot (@bankbot): a messenger bot that
 * runs inside the server and answers customers in their 1:1 chat with it,
 * in their language (Persian, Ukrainian, Russian, English):
 *   - balance (the wallet's available balance, an integer amount in rials
 *     with digit grouping, never a float);
 *   - last transactions (the newest receipts);
 *   - block my card: a Yes/No keyboard first; only Yes blocks the card on
 *     file (payops_card_block), after which card-to-card is refused;
 *   - where is my transfer: the state of the latest transfer or of a named
 *     receipt ("/transfer 12"), pending card-to-card included;
 *   - anything else: the text engine's topic and kind give a canned answer
 *     per topic, or (a complaint, fraud, an explicit "/agent") a hand-off to
 *     a human: the conversation becomes ONE listening case
 *     (listening_handoff_open), and the agent's reply comes back into the
 *     chat through the reply hook this module provides.
 * Commands ("/balance", "/transactions", "/block", "/transfer [N]",
 * "/agent", "/help") and natural language in the four languages both work:
 * keyword tables per language are tried first, the classifier next.
 *
 * Wiring: the bot hears the events addressed to it through the bot hook
 * of the application context (bankbot_on_event with the bot as its
 * argument; messenger_dispatch_bots calls it), on the caller's thread and store
 * connection, after the change committed; it answers with messenger_send
 * and hands its own events to the push callback given at open (the server
 * passes api_messenger_push: this module does not depend on the api).
 * Agents' replies arrive inside a listening transaction, so they are queued
 * and sent by a delivery thread with its own store connection
 * (bankbot_delivery_start), or by bankbot_delivery_flush in tests.
 *
 * Depends on messenger, payments, text, listening, identity, store, core.
 */
#ifndef SB_BANKBOT_H
#define SB_BANKBOT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "listening/listening.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "store/store.h"

/* Deliver events the bot produced (the server: api_messenger_push). */
typedef void (*bankbot_push_fn)(store *s, const messenger_events *events, void *arg);

typedef struct {
    const char *username;                   /* the bot's @username; NULL = "bankbot" */
    payops_ctx payments;                    /* ledger, policy, switch; its store is ignored */
    listening_config listening;             /* understander (the classifier) and the rest of
                                             * the context hand-offs open; its reply_hook is
                                             * ignored (cases answer through bankbot_reply_hook) */
    const char *const *handoff_departments; /* NULL = {"support"} */
    size_t handoff_department_count;
    bankbot_push_fn push; /* NULL: events are not pushed (tests) */
    void *push_arg;
} bankbot_config;

typedef struct bankbot bankbot;

/* Create the bot: its account (messenger_bot_create; the token is thrown
 * away, the bot runs in process) unless a bot of that name exists already.
 * cfg is copied (what it points to is borrowed and must outlive the bot).
 * SB_EINVAL bad name, SB_EEXISTS a non-bot user holds the name, SB_ENOMEM,
 * store errors. */
int bankbot_open(store *s, const bankbot_config *cfg, int64_t now_ms, bankbot **out) SB_MUST_CHECK;
/* Stop the delivery thread (after sending what is queued), free (unhook
 * it first: the caller owns the hook).  NULL allowed. */
void bankbot_close(bankbot *b);
/* The bot's user id (for opening a chat with it). */
int64_t bankbot_user_id(const bankbot *b);
/* The messenger bot hook (arg: the bankbot): handles the events addressed
 * to this bot, ignores the rest. */
void bankbot_on_event(store *s, int64_t bot_id, const messenger_event *event, void *arg);

/* The reply hook to put in the listening config of whoever answers cases:
 * an agent's reply to a case whose author is "user:<id>" is queued for that
 * customer's chat with the bot (SB_OK: delivered to the queue; SB_EINVAL
 * another kind of author; SB_ENOTFOUND once delivery has started, when the
 * id is not a customer's; SB_EBUSY the queue is full: in each refusal the
 * reply stays pending in listening). */
listening_reply_hook bankbot_reply_hook(bankbot *b);
/* Start the delivery thread over its own connection to data_location, and
 * open the connection the reply hook checks authors with.  SB_EBUSY if
 * running, SB_EINTERNAL if the thread cannot start, store errors. */
int bankbot_delivery_start(bankbot *b, const char *data_location) SB_MUST_CHECK;
/* Before the delivery thread starts (tests): send every queued reply over s
 * (the caller's thread and connection, outside a transaction); *sent_out
 * (may be NULL) how many.  SB_EBUSY once the thread runs; SB_EIO if one was
 * lost (logged). */
int bankbot_delivery_flush(bankbot *b, store *s, size_t *sent_out) SB_MUST_CHECK;

/* Format amount_minor with digit grouping for lang ("fa": Persian digits
 * and U+066C, "uk"/"ru": U+00A0 between groups, else ","), into out
 * (out_size >= 64).  Pure; exposed for tests. */
/* The delivery worker, for /metrics. */
sb_worker *bankbot_delivery_worker(bankbot *b);

void bankbot_format_amount(int64_t amount_minor, const char *lang, char *out, size_t out_size);

#endif /* SB_BANKBOT_H */
