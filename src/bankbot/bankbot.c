/*
 * bankbot.c - the bank's service bot: hears a customer's message (or a
 * button press) through the messenger bot hook, works out what is asked
 * (command, keyword table, classifier), answers in the same chat in the
 * customer's language, and pushes its own events through the callback the
 * server gave.  Agents' replies to hand-off cases are queued by the reply
 * hook and sent by the delivery thread (see bankbot.h for why).
 *
 * Every answer is read from the real modules at the moment of asking: the
 * balance from the ledger (payops_wallet_balance), receipts from payments,
 * the card and its block from payments, the case from listening.  Nothing
 * is cached, so the bot never contradicts the rest of the app.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bankbot/bankbot_int.h"
#include "identity/identity.h"

#define BANKBOT_DEFAULT_USERNAME "bankbot"

typedef struct {
    int64_t user_id;
    int64_t case_id;
    char *text; /* owned */
} outbox_item;

struct bankbot {
    int64_t user_id;
    bankbot_config cfg;
    const char *default_departments[1];
    /* Agents' replies waiting for delivery: a worker (core's sb_worker)
     * whose jobs are outbox_items; its thread is started by
     * bankbot_delivery_start, tests drain it with bankbot_delivery_flush. */
    sb_worker *delivery;
    bool thread_started;
    char *data_location; /* owned; the delivery thread's store */
    /* A connection of its own to check, inside the caller's listening
     * transaction, that a reply's author is a customer (a WAL reader is not
     * blocked by that transaction's writer).  NULL before delivery starts. */
    store *check;
    pthread_mutex_t check_lock;
};

/* ---- amounts ---- */

void bankbot_format_amount(int64_t amount_minor, const char *lang, char *out, size_t out_size) {
    SB_ASSERT(out_size >= 64);
    char digits[24];
    bool negative = amount_minor < 0;
    /* Work on the magnitude as unsigned so INT64_MIN is fine. */
    uint64_t v = negative ? (uint64_t)0 - (uint64_t)amount_minor : (uint64_t)amount_minor;
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof digits);
    int li = bankbot__lang_index(lang);
    const char *sep = li == BANKBOT_FA ? "\xd9\xac" : (li == BANKBOT_UK || li == BANKBOT_RU) ? "\xc2\xa0" : ",";
    size_t o = 0;
    if (negative) out[o++] = '-';
    for (int i = n - 1; i >= 0; i--) {
        if (li == BANKBOT_FA) { /* U+06F0.. EXTENDED ARABIC-INDIC DIGIT */
            out[o++] = '\xdb';
            out[o++] = (char)(0xb0 + (digits[i] - '0'));
        } else {
            out[o++] = digits[i];
        }
        if (i > 0 && i % 3 == 0)
            for (const char *p = sep; *p; p++)
                out[o++] = *p;
    }
    out[o] = '\0';
}

/* ---- composing answers ---- */

/* Append template with its one "%s" replaced by value. */
static int append_filled(sb_buf *b, const char *template_text, const char *value) {
    const char *at = strstr(template_text, "%s");
    if (!at) return sb_buf_append_str(b, template_text);
    int result = sb_buf_append(b, template_text, (size_t)(at - template_text));
    if (result == SB_OK) result = sb_buf_append_str(b, value);
    if (result == SB_OK) result = sb_buf_append_str(b, at + 2);
    return result;
}

/* Send text (and optionally a keyboard payload) into the chat as the bot,
 * and push what happened. */
static int bot_say(bankbot *b, store *s, int64_t chat_id, int64_t reply_to_seq, const char *text,
                   const char *keyboard_json, int64_t now_ms) {
    messenger_send_request req = {.chat_id = chat_id,
                                  .sender_id = b->user_id,
                                  .kind = keyboard_json ? MESSENGER_MSG_KEYBOARD : MESSENGER_MSG_TEXT,
                                  .text = text,
                                  .payload_json = keyboard_json,
                                  .reply_to_seq = reply_to_seq};
    messenger_events events = {0};
    int result = messenger_send(s, &req, now_ms, NULL, NULL, &events);
    if (result == SB_OK && b->cfg.push) b->cfg.push(s, &events, b->cfg.push_arg);
    messenger_events_clear(&events);
    if (result != SB_OK)
        sb_log(SB_LOG_WARN, "bankbot.say", "cannot answer in chat %lld: %s", (long long)chat_id, sb_strerror(result));
    return result;
}

static payops_ctx payments_of(const bankbot *b, store *s) {
    payops_ctx ctx = b->cfg.payments;
    ctx.s = s;
    return ctx;
}

/* ---- the banking answers ---- */

static int answer_balance(bankbot *b, store *s, int64_t customer, int lang, sb_buf *out) {
    payops_ctx ctx = payments_of(b, s);
    int64_t available = 0;
    int result = payops_wallet_balance(&ctx, customer, &available);
    if (result != SB_OK) return result;
    char amount[64];
    bankbot_format_amount(available, bankbot__lang_code(lang), amount, sizeof amount);
    return sb_buf_printf(out, "%s%s%s", bankbot__text(BANKBOT_MSG_BALANCE_BEFORE, lang), amount,
                         bankbot__text(BANKBOT_MSG_BALANCE_AFTER, lang));
}

/* One receipt as a line: "#12 · card-to-card · 50,000 rials · done · 603799******1234". */
static int receipt_line(const payops_receipt *r, int lang, sb_buf *out) {
    char amount[64];
    bankbot_format_amount(r->amount_minor, bankbot__lang_code(lang), amount, sizeof amount);
    int kind_msg = (unsigned)r->kind <= PAYOPS_DEPOSIT ? BANKBOT_MSG_KIND_TRANSFER + (int)r->kind : -1;
    int state_msg = (unsigned)r->state <= PAYOPS_RECEIPT_MANUAL ? BANKBOT_MSG_STATE_PENDING + (int)r->state : -1;
    int result = sb_buf_printf(out, "#%lld · %s · %s %s · %s", (long long)r->id, bankbot__text(kind_msg, lang), amount,
                               bankbot__text(BANKBOT_MSG_CURRENCY, lang), bankbot__text(state_msg, lang));
    if (result == SB_OK && r->counterparty[0]) result = sb_buf_printf(out, " · %s", r->counterparty);
    if (result == SB_OK && r->masked_card[0]) result = sb_buf_printf(out, " · %s", r->masked_card);
    return result;
}

static int answer_transactions(bankbot *b, store *s, int64_t customer, int lang, sb_buf *out) {
    payops_ctx ctx = payments_of(b, s);
    payops_receipt list[SB_BANKBOT_RECEIPTS_SHOWN];
    size_t count = 0;
    int result = payops_receipt_recent(&ctx, customer, 0, list, SB_ARRAY_LEN(list), &count);
    if (result != SB_OK) return result;
    if (count == 0) return sb_buf_append_str(out, bankbot__text(BANKBOT_MSG_NO_RECEIPTS, lang));
    result = sb_buf_append_str(out, bankbot__text(BANKBOT_MSG_RECEIPTS_HEAD, lang));
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        result = sb_buf_append_str(out, "\n");
        if (result == SB_OK) result = receipt_line(&list[i], lang, out);
    }
    return result;
}

static int answer_transfer(bankbot *b, store *s, int64_t customer, int64_t receipt_id, int lang, sb_buf *out) {
    payops_ctx ctx = payments_of(b, s);
    payops_receipt r;
    int result;
    if (receipt_id > 0) {
        result = payops_receipt_get(&ctx, customer, receipt_id, &r);
    } else {
        size_t count = 0;
        int kinds = (1 << PAYOPS_TRANSFER) | (1 << PAYOPS_C2C) | (1 << PAYOPS_REQUEST);
        result = payops_receipt_recent(&ctx, customer, kinds, &r, 1, &count);
        if (result == SB_OK && count == 0) result = SB_ENOTFOUND;
    }
    if (result == SB_ENOTFOUND) return sb_buf_append_str(out, bankbot__text(BANKBOT_MSG_NO_TRANSFER, lang));
    if (result != SB_OK) return result;
    result = sb_buf_printf(out, "%s: ", bankbot__text(BANKBOT_MSG_TRANSFER_HEAD, lang));
    if (result == SB_OK) result = receipt_line(&r, lang, out);
    return result;
}

/* The Yes/No keyboard that asks before blocking; the button data carries
 * the language so the answer to the press is in it too. */
static int ask_block(bankbot *b, store *s, int64_t customer, int64_t chat_id, int64_t reply_to, int lang,
                     int64_t now_ms) {
    payops_ctx ctx = payments_of(b, s);
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    bool blocked = false;
    int result = payops_card_get(&ctx, customer, masked, &blocked);
    sb_buf text;
    sb_buf_init(&text, SB_BANKBOT_ANSWER_BYTES_MAX);
    if (result == SB_ENOTFOUND) {
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_NO_CARD, lang));
        if (result == SB_OK) result = bot_say(b, s, chat_id, reply_to, text.data, NULL, now_ms);
        sb_buf_free(&text);
        return result;
    }
    if (result == SB_OK && blocked) {
        result = append_filled(&text, bankbot__text(BANKBOT_MSG_ALREADY_BLOCKED, lang), masked);
        if (result == SB_OK) result = bot_say(b, s, chat_id, reply_to, text.data, NULL, now_ms);
        sb_buf_free(&text);
        return result;
    }
    if (result == SB_OK) result = append_filled(&text, bankbot__text(BANKBOT_MSG_BLOCK_ASK, lang), masked);
    char yes[32], no[32];
    snprintf(yes, sizeof yes, "block:yes:%s", bankbot__lang_code(lang));
    snprintf(no, sizeof no, "block:no:%s", bankbot__lang_code(lang));
    char *keyboard = NULL;
    if (result == SB_OK) {
        json_t *k = json_pack("{s:[[{s:s, s:s}, {s:s, s:s}]]}", "buttons", "text", bankbot__text(BANKBOT_MSG_YES, lang),
                              "data", yes, "text", bankbot__text(BANKBOT_MSG_NO, lang), "data", no);
        keyboard = k ? json_dumps(k, JSON_COMPACT) : NULL;
        json_decref(k);
        if (!keyboard) result = SB_ENOMEM;
    }
    if (result == SB_OK) result = bot_say(b, s, chat_id, reply_to, text.data, keyboard, now_ms);
    free(keyboard); /* jansson's allocation */
    sb_buf_free(&text);
    return result;
}

/* The answer to a press of the block keyboard: only "yes" blocks. */
static int on_block_press(bankbot *b, store *s, int64_t customer, int64_t chat_id, int64_t seq, const char *data,
                          int64_t now_ms) {
    bool yes = strncmp(data, "block:yes", 9) == 0;
    const char *lang_code = strrchr(data, ':');
    int lang = bankbot__lang_index(lang_code ? lang_code + 1 : "en");
    sb_buf text;
    sb_buf_init(&text, SB_BANKBOT_ANSWER_BYTES_MAX);
    int result = SB_OK;
    if (!yes) {
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_NOT_BLOCKED, lang));
    } else {
        payops_ctx ctx = payments_of(b, s);
        char masked[PAYMENTS_CARD_MASKED_BYTES];
        bool already = false;
        result = payops_card_block(&ctx, customer, "service bot, confirmed by the customer", now_ms, masked, &already);
        if (result == SB_OK) {
            sb_log(SB_LOG_INFO, "bankbot.block", "customer %lld blocked card %s", (long long)customer, masked);
            result = append_filled(
                &text, bankbot__text(already ? BANKBOT_MSG_ALREADY_BLOCKED : BANKBOT_MSG_BLOCKED, lang), masked);
        } else if (result == SB_ENOTFOUND) {
            result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_NO_CARD, lang));
        }
    }
    if (result != SB_OK) {
        sb_log(SB_LOG_WARN, "bankbot.block", "customer %lld: %s", (long long)customer, sb_strerror(result));
        sb_buf_reset(&text);
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_ERROR, lang));
    }
    if (result == SB_OK) result = bot_say(b, s, chat_id, seq, text.data, NULL, now_ms);
    sb_buf_free(&text);
    return result;
}

/* ---- hand-off ---- */

/* The last messages of the chat as the agent should read them. */
static int conversation_text(bankbot *b, store *s, int64_t chat_id, int64_t up_to_seq, sb_buf *out) {
    messenger_message list[SB_BANKBOT_HANDOFF_MESSAGES];
    size_t count = 0;
    int result = messenger_history(s, b->user_id, chat_id, up_to_seq + 1, 0, SB_ARRAY_LEN(list), list, &count);
    if (result != SB_OK) return result;
    /* Newest first: write them oldest first. */
    for (size_t i = count; result == SB_OK && i-- > 0;) {
        const messenger_message *m = &list[i];
        if (!m->text) continue;
        result = sb_buf_printf(out, "%s%s: %s", out->len ? "\n" : "",
                               m->sender_id == b->user_id ? b->cfg.username : "customer", m->text);
    }
    messenger_messages_clear(list, count);
    return result;
}

static int hand_off(bankbot *b, store *s, int64_t customer, int64_t chat_id, int64_t seq, const char *priority,
                    int lang, int64_t now_ms) {
    sb_buf conv;
    sb_buf_init(&conv, SB_LISTENING_TEXT_BYTES_MAX);
    int result = conversation_text(b, s, chat_id, seq, &conv);
    if (result == SB_ELIMIT) result = SB_OK; /* as much as fits */
    listening *l = NULL;
    listening_config cfg = b->cfg.listening;
    if (result == SB_OK) result = listening_open(s, &cfg, &l);
    char external_id[64], author[40];
    snprintf(external_id, sizeof external_id, "%s:%lld:%lld", b->cfg.username, (long long)chat_id, (long long)seq);
    snprintf(author, sizeof author, "user:%lld", (long long)customer);
    int64_t case_id = 0;
    if (result == SB_OK) {
        listening_handoff h = {.source = "messenger",
                               .external_id = external_id,
                               .author = author,
                               .text = conv.data ? conv.data : "",
                               .text_len = conv.len,
                               .priority = priority,
                               .departments = b->cfg.handoff_departments,
                               .department_count = b->cfg.handoff_department_count,
                               .actor = b->cfg.username};
        result = listening_handoff_open(l, &h, now_ms, &case_id, NULL);
    }
    listening_close(l);
    sb_buf_free(&conv);
    sb_buf text;
    sb_buf_init(&text, SB_BANKBOT_ANSWER_BYTES_MAX);
    if (result == SB_OK) {
        char number[24];
        snprintf(number, sizeof number, "%lld", (long long)case_id);
        sb_log(SB_LOG_INFO, "bankbot.handoff", "chat %lld handed to case %lld", (long long)chat_id, (long long)case_id);
        result = append_filled(&text, bankbot__text(BANKBOT_MSG_HANDOFF, lang), number);
    } else {
        sb_log(SB_LOG_WARN, "bankbot.handoff", "chat %lld: %s", (long long)chat_id, sb_strerror(result));
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_ERROR, lang));
    }
    if (result == SB_OK) result = bot_say(b, s, chat_id, seq, text.data, NULL, now_ms);
    sb_buf_free(&text);
    return result;
}

/* ---- a customer's message ---- */

static bool understanding_needs_human(const listening_understanding *u) {
    if (u->risk_count > 0) return true;
    if (strcmp(u->topic, "fraud_security") == 0 && u->topic_permille >= 500) return true;
    if (strcmp(u->kind, "complaint") == 0 && u->kind_permille >= 600) return true;
    return strcmp(u->sentiment, "negative") == 0 && u->sentiment_permille >= 850;
}

static void on_message(bankbot *b, store *s, const messenger_event *ev) {
    const messenger_message *m = &ev->message;
    if (m->kind != MESSENGER_MSG_TEXT || !m->text || m->sender_id == b->user_id) return;
    messenger_chat chat;
    if (messenger_chat_get(s, b->user_id, ev->chat_id, &chat) != SB_OK || chat.kind != MESSENGER_CHAT_DIRECT) return;
    int64_t customer = m->sender_id, now_ms = sb_now_ms();
    size_t len = strlen(m->text);

    text_lang detected = TEXT_LANG_OTHER;
    if (text_langid(m->text, len, &detected, NULL) != SB_OK) detected = TEXT_LANG_OTHER;
    int lang = bankbot__lang_index(text_lang_code(detected));

    int64_t number = 0;
    int intent = bankbot__command_intent(m->text, &number);
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    if (intent == BANKBOT_INTENT_NONE && text_normalize(m->text, len, &norm) == SB_OK)
        intent = bankbot__keyword_intent(norm.data, norm.len);
    sb_buf_free(&norm);

    sb_buf text;
    sb_buf_init(&text, SB_BANKBOT_ANSWER_BYTES_MAX);
    int result = SB_OK;
    switch (intent) {
    case BANKBOT_INTENT_HELP:
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_HELP, lang));
        break;
    case BANKBOT_INTENT_BALANCE:
        result = answer_balance(b, s, customer, lang, &text);
        break;
    case BANKBOT_INTENT_TRANSACTIONS:
        result = answer_transactions(b, s, customer, lang, &text);
        break;
    case BANKBOT_INTENT_TRANSFER:
        result = answer_transfer(b, s, customer, number, lang, &text);
        break;
    case BANKBOT_INTENT_BLOCK:
        sb_buf_free(&text);
        (void)ask_block(b, s, customer, ev->chat_id, m->seq, lang, now_ms);
        return;
    case BANKBOT_INTENT_AGENT:
        sb_buf_free(&text);
        (void)hand_off(b, s, customer, ev->chat_id, m->seq, "normal", lang, now_ms);
        return;
    default: {
        /* The classifier: a canned answer per topic, or a person. */
        listening_understanding u;
        memset(&u, 0, sizeof u);
        const listening_understander *und = &b->cfg.listening.understander;
        bool understood = und->understand && und->understand(und->arg, m->text, len, &u) == SB_OK;
        if (understood && understanding_needs_human(&u)) {
            sb_buf_free(&text);
            const char *priority = u.risk_count > 0 || strcmp(u.topic, "fraud_security") == 0 ? "urgent" : "normal";
            (void)hand_off(b, s, customer, ev->chat_id, m->seq, priority, lang, now_ms);
            return;
        }
        int msg = understood ? bankbot__topic_message(u.topic) : BANKBOT_MSG_HELP;
        result = sb_buf_printf(&text, "%s\n%s", bankbot__text(msg, lang), bankbot__text(BANKBOT_MSG_AGENT_HINT, lang));
        break;
    }
    }
    if (result != SB_OK) {
        sb_log(SB_LOG_WARN, "bankbot.answer", "customer %lld, intent %d: %s", (long long)customer, intent,
               sb_strerror(result));
        sb_buf_reset(&text);
        result = sb_buf_append_str(&text, bankbot__text(BANKBOT_MSG_ERROR, lang));
    }
    if (result == SB_OK) (void)bot_say(b, s, ev->chat_id, m->seq, text.data, NULL, now_ms);
    sb_buf_free(&text);
}

void bankbot_on_event(store *s, int64_t bot_id, const messenger_event *event, void *arg) {
    bankbot *b = arg;
    if (!b || !s || !event || bot_id != b->user_id) return;
    if (event->type == MESSENGER_EVENT_MESSAGE_NEW) {
        on_message(b, s, event);
    } else if (event->type == MESSENGER_EVENT_BOT_CALLBACK && event->callback_data &&
               strncmp(event->callback_data, "block:", 6) == 0) {
        (void)on_block_press(b, s, event->actor_id, event->chat_id, event->seq, event->callback_data, sb_now_ms());
    }
}

/* ---- agents' replies ---- */

static int reply_deliver(void *arg, int64_t case_id, const char *author, const char *text) {
    bankbot *b = arg;
    if (!author || strncmp(author, "user:", 5) != 0 || !text) return SB_EINVAL;
    int64_t user_id = 0;
    if (sb_parse_int64(author + 5, &user_id) != SB_OK || user_id <= 0) return SB_EINVAL;
    identity_principal p;
    int found = SB_OK;
    pthread_mutex_lock(&b->check_lock);
    if (b->check) {
        found = identity_user_get(b->check, user_id, &p);
        if (found == SB_OK && p.role != IDENTITY_ROLE_CUSTOMER) found = SB_ENOTFOUND;
    }
    pthread_mutex_unlock(&b->check_lock);
    /* Not a customer we can reach: the reply stays pending in listening. */
    if (found != SB_OK) return found;
    size_t len = strlen(text);
    char *copy = sb_malloc(len + 1);
    if (!copy) return SB_ENOMEM;
    memcpy(copy, text, len + 1);
    outbox_item item = {.user_id = user_id, .case_id = case_id, .text = copy};
    int result = sb_worker_submit(b->delivery, &item);
    if (result != SB_OK) sb_free(copy);
    return result == SB_ECLOSED ? SB_EBUSY : result;
}

listening_reply_hook bankbot_reply_hook(bankbot *b) {
    return (listening_reply_hook){.deliver = reply_deliver, .arg = b};
}

/* Send one agent's reply into the customer's chat with the bot. */
static int deliver_one(bankbot *b, store *s, const outbox_item *item) {
    int64_t chat_id = 0, now_ms = sb_now_ms();
    int result = messenger_direct_open(s, b->user_id, item->user_id, now_ms, &chat_id, NULL);
    sb_buf text;
    sb_buf_init(&text, SB_MESSENGER_TEXT_BYTES_MAX);
    /* The customer's language: that of the reply itself. */
    text_lang detected = TEXT_LANG_OTHER;
    if (text_langid(item->text, strlen(item->text), &detected, NULL) != SB_OK) detected = TEXT_LANG_OTHER;
    int lang = bankbot__lang_index(text_lang_code(detected));
    if (result == SB_OK)
        result = sb_buf_printf(&text, "%s%s", bankbot__text(BANKBOT_MSG_AGENT_PREFIX, lang), item->text);
    if (result == SB_OK) result = bot_say(b, s, chat_id, 0, text.data, NULL, now_ms);
    sb_buf_free(&text);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "bankbot.deliver", "reply of case %lld to user %lld lost: %s", (long long)item->case_id,
               (long long)item->user_id, sb_strerror(result));
    return result;
}

static sb_worker_outcome delivery_run(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt) {
    (void)w;
    (void)attempt;
    bankbot *b = arg;
    SB_ASSERT(count == 1);
    const outbox_item *item = jobs;
    if (!local) {
        sb_log(SB_LOG_ERROR, "bankbot.deliver", "reply of case %lld to user %lld lost: no store",
               (long long)item->case_id, (long long)item->user_id);
        return SB_WORKER_FAILED;
    }
    return deliver_one(b, local, item) == SB_OK ? SB_WORKER_DONE : SB_WORKER_FAILED; /* a loss is logged there */
}

static void delivery_finish(void *arg, void *job, sb_worker_outcome outcome, int attempts) {
    (void)arg;
    outbox_item *item = job;
    if (outcome != SB_WORKER_DONE && attempts == 0)
        sb_log(SB_LOG_WARN, "bankbot.close", "reply of case %lld to user %lld not delivered", (long long)item->case_id,
               (long long)item->user_id);
    sb_free(item->text);
}

/* The thread's store: the location bankbot_delivery_start was given. */
static int delivery_thread_start(void *arg, void **local_out) {
    bankbot *b = arg;
    return store_open_local(b->data_location, local_out);
}

int bankbot_delivery_flush(bankbot *b, store *s, size_t *sent_out) {
    sb_worker_stats before, after;
    sb_worker_stats_get(b->delivery, &before);
    size_t ran = 0;
    int result = sb_worker_drain(b->delivery, s, &ran);
    sb_worker_stats_get(b->delivery, &after);
    size_t sent = (size_t)(after.done - before.done);
    if (sent_out) *sent_out = sent;
    if (result == SB_OK && sent < ran) result = SB_EIO; /* each loss is logged by deliver_one */
    return result;
}

sb_worker *bankbot_delivery_worker(bankbot *b) { return b ? b->delivery : NULL; }

int bankbot_delivery_start(bankbot *b, const char *data_location) {
    if (b->thread_started) return SB_EBUSY;
    size_t len = strlen(data_location);
    b->data_location = sb_malloc(len + 1);
    if (!b->data_location) return SB_ENOMEM;
    memcpy(b->data_location, data_location, len + 1);
    store *check = NULL;
    int result = store_open(data_location, NULL, &check);
    if (result == SB_OK) result = sb_worker_start(b->delivery);
    if (result != SB_OK) {
        store_close(check);
        sb_free(b->data_location);
        b->data_location = NULL;
        return result;
    }
    pthread_mutex_lock(&b->check_lock);
    b->check = check;
    pthread_mutex_unlock(&b->check_lock);
    b->thread_started = true;
    return SB_OK;
}

/* ---- life cycle ---- */

int bankbot_open(store *s, const bankbot_config *cfg, int64_t now_ms, bankbot **out) {
    *out = NULL;
    bankbot *b = sb_malloc(sizeof *b);
    if (!b) return SB_ENOMEM;
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    if (!b->cfg.username) b->cfg.username = BANKBOT_DEFAULT_USERNAME;
    if (!b->cfg.handoff_departments || b->cfg.handoff_department_count == 0) {
        b->default_departments[0] = "support";
        b->cfg.handoff_departments = b->default_departments;
        b->cfg.handoff_department_count = 1;
    }
    b->cfg.listening.reply_hook = (listening_reply_hook){.deliver = reply_deliver, .arg = b};
    int result = messenger_bot_find(s, b->cfg.username, &b->user_id);
    if (result == SB_ENOTFOUND) {
        char token[MESSENGER_BOT_TOKEN_CHARS + 1];
        result = messenger_bot_create(s, b->cfg.username, now_ms, token, &b->user_id);
        sodium_memzero(token, sizeof token); /* in process: nobody needs it */
        if (result == SB_OK)
            sb_log(SB_LOG_INFO, "bankbot.open", "created the service bot @%s (user %lld)", b->cfg.username,
                   (long long)b->user_id);
    }
    sb_worker_config wc = {.name = "bankbot_delivery",
                           .job_bytes = sizeof(outbox_item),
                           .queue_max = SB_BANKBOT_OUTBOX_MAX,
                           .stop_wait_ms = SB_BANKBOT_STOP_WAIT_MS,
                           .arg = b,
                           .thread_start = delivery_thread_start,
                           .thread_end = store_close_local,
                           .run = delivery_run,
                           .finish = delivery_finish};
    if (result == SB_OK) result = sb_worker_create(&wc, &b->delivery);
    if (result != SB_OK) {
        sb_free(b);
        return result;
    }
    pthread_mutex_init(&b->check_lock, NULL);
    *out = b;
    return SB_OK;
}

int64_t bankbot_user_id(const bankbot *b) { return b->user_id; }

void bankbot_close(bankbot *b) {
    if (!b) return;
    /* sends what is queued (bounded); without a thread, drops it (logged); a
     * stuck delivery keeps the bot */
    if (!sb_worker_stop(b->delivery)) return;
    store_close(b->check);
    pthread_mutex_destroy(&b->check_lock);
    sb_free(b->data_location);
    sb_free(b);
}
