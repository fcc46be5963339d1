/*
 * test_bankbot.c - the bank's service bot over a real store, ledger,
 * payments (with the switch simulator), messenger and listening, with the
 * shipped default model.  A customer writes in the 1:1 chat with @bankbot
 * exactly as the api would deliver it (messenger_send, then the events go
 * to messenger_dispatch_bots), and the test reads the bot's answer back
 * from the chat's history and compares it with hand-written texts:
 *   - the balance figure is the wallet's, grouped per language;
 *   - the card is blocked only after Yes, and the block refuses card-to-card;
 *   - "where is my transfer" names the latest transfer and its state
 *     (a card-to-card left on hold included);
 *   - a hand-off opens exactly one case holding the conversation, and the
 *     agent's reply reaches the customer's chat;
 *   - answers come in the asker's language.
 */
#include "payops_fixture.h"

#include "bankbot/bankbot_int.h"
#include "listening/listening.h"
#include "messenger/messenger.h"

static listening_text_engine *engine;

typedef struct {
    pfix *p;
    bankbot *bot;
    int64_t bot_id;
    size_t pushes; /* events the bot handed to its push callback */
} bfix;

static void count_push(store *s, const messenger_events *events, void *arg) {
    (void)s;
    bfix *f = arg;
    f->pushes += events->count;
}

static int group_setup(void **state) {
    (void)state;
    const char *bin = getenv("SB_BINARY");
    if (!bin) return 0;
    char path[512];
    snprintf(path, sizeof path, "%s", bin);
    char *slash = strrchr(path, '/');
    if (!slash) return 0;
    snprintf(slash, sizeof path - (size_t)(slash - path), "/models/default.sbm");
    char err[TEXT_ERROR_BYTES];
    if (listening_text_engine_open(path, &engine, err) != SB_OK) {
        fprintf(stderr, "no default model at %s (%s): classifier cases are skipped\n", path, err);
        engine = NULL;
    }
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    listening_text_engine_free(engine);
    return 0;
}

static int setup(void **state) {
    bfix *f = calloc(1, sizeof *f);
    f->p = pfix_new();
    bankbot_config cfg = {.payments = f->p->ctx, .push = count_push, .push_arg = f};
    if (engine) cfg.listening.understander = listening_text_understander(engine);
    assert_int_equal(bankbot_open(f->p->s, &cfg, NOW, &f->bot), SB_OK);
    f->bot_id = bankbot_user_id(f->bot);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    bfix *f = *state;
    bankbot_close(f->bot);
    pfix_free(f->p);
    free(f);
    return 0;
}

static int64_t chat_with_bot(bfix *f, int64_t customer) {
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->p->s, customer, f->bot_id, NOW, &chat, NULL), SB_OK);
    return chat;
}

/* What the api does for a customer's message: send, then dispatch. */
static void customer_says(bfix *f, int64_t customer, int64_t chat, const char *text) {
    messenger_send_request req = {.chat_id = chat, .sender_id = customer, .kind = MESSENGER_MSG_TEXT, .text = text};
    messenger_events events = {0};
    assert_int_equal(messenger_send(f->p->s, &req, NOW, NULL, NULL, &events), SB_OK);
    messenger_dispatch_bots(f->p->s, &events, bankbot_on_event, f->bot);
    messenger_events_clear(&events);
}

/* The newest message of the chat (as the customer sees it). */
static void last_message(bfix *f, int64_t customer, int64_t chat, messenger_message *out) {
    size_t count = 0;
    assert_int_equal(messenger_history(f->p->s, customer, chat, INT64_MAX, 0, 1, out, &count), SB_OK);
    assert_int_equal(count, 1);
}

/* The bot's answer to `text`: its text (caller frees). */
static char *ask(bfix *f, int64_t customer, int64_t chat, const char *text) {
    customer_says(f, customer, chat, text);
    messenger_message m;
    last_message(f, customer, chat, &m);
    assert_int_equal(m.sender_id, f->bot_id);
    assert_non_null(m.text);
    char *answer = strdup(m.text);
    messenger_message_clear(&m);
    return answer;
}

static void assert_answer(bfix *f, int64_t customer, int64_t chat, const char *question, const char *want) {
    char *got = ask(f, customer, chat, question);
    if (strcmp(got, want) != 0) fprintf(stderr, "asked \"%s\"\n got: %s\nwant: %s\n", question, got, want);
    assert_string_equal(got, want);
    free(got);
}

static int64_t case_count(bfix *f) {
    int64_t n = -1;
    assert_int_equal(store_query_int64(f->p->s, &n, "SELECT count(*) FROM listening_cases", ""), SB_OK);
    return n;
}

/* ---- amounts ---- */

static void test_format_amount(void **state) {
    (void)state;
    char out[64];
    bankbot_format_amount(1250000, "en", out, sizeof out);
    assert_string_equal(out, "1,250,000");
    bankbot_format_amount(1250000, "fa", out, sizeof out);
    assert_string_equal(out, "۱٬۲۵۰٬۰۰۰");
    bankbot_format_amount(1250000, "uk", out, sizeof out);
    assert_string_equal(out, "1\xc2\xa0"
                             "250\xc2\xa0"
                             "000");
    bankbot_format_amount(999, "en", out, sizeof out);
    assert_string_equal(out, "999");
    bankbot_format_amount(0, "ru", out, sizeof out);
    assert_string_equal(out, "0");
    bankbot_format_amount(-1000, "en", out, sizeof out);
    assert_string_equal(out, "-1,000");
    bankbot_format_amount(INT64_MAX, "en", out, sizeof out);
    assert_string_equal(out, "9,223,372,036,854,775,807");
}

/* ---- balance, in four languages, commands and natural language ---- */

static void test_balance_is_the_wallet(void **state) {
    bfix *f = *state;
    deposit(f->p, ALI, 1250000, "dep-1");
    assert_int_equal(balance(f->p, ALI), 1250000);
    int64_t chat = chat_with_bot(f, ALI);
    assert_answer(f, ALI, chat, "/balance", "Your available balance: 1,250,000 rials");
    assert_answer(f, ALI, chat, "what's my balance", "Your available balance: 1,250,000 rials");
    assert_answer(f, ALI, chat, "موجودی حسابم چقدره", "موجودی قابل برداشت شما: ۱٬۲۵۰٬۰۰۰ ریال");
    assert_answer(f, ALI, chat, "який мій баланс",
                  "Ваш доступний баланс: 1\xc2\xa0"
                  "250\xc2\xa0"
                  "000 ріалів");
    assert_answer(f, ALI, chat, "какой у меня баланс",
                  "Ваш доступный баланс: 1\xc2\xa0"
                  "250\xc2\xa0"
                  "000 риалов");
    /* The figure follows the wallet: pay someone, ask again. */
    payops_receipt r;
    assert_int_equal(payops_pay_confirm(&f->p->ctx, ALI, "@sara", 250000, "pay-1", NOW, &r), SB_OK);
    int64_t left = balance(f->p, ALI);
    assert_int_equal(left, 1250000 - 250000 - r.fee_minor); /* amount and fee left the wallet */
    char figure[64], want[128];
    bankbot_format_amount(left, "en", figure, sizeof figure);
    snprintf(want, sizeof want, "Your available balance: %s rials", figure);
    assert_answer(f, ALI, chat, "balance please", want);
    /* Every answer was pushed (one event each). */
    assert_int_equal(f->pushes, 6);
    /* A customer without a wallet has zero. */
    int64_t chat2 = chat_with_bot(f, REZA);
    assert_answer(f, REZA, chat2, "/balance", "Your available balance: 0 rials");
}

/* ---- last transactions and where is my transfer ---- */

static void test_transactions_and_transfer(void **state) {
    bfix *f = *state;
    int64_t chat = chat_with_bot(f, ALI);
    assert_answer(f, ALI, chat, "/transactions", "You have no transactions yet.");
    assert_answer(f, ALI, chat, "where is my transfer?", "I found no transfer.");
    deposit(f->p, ALI, 5000000, "dep-1");
    payops_receipt pay;
    assert_int_equal(payops_pay_confirm(&f->p->ctx, ALI, "@sara", 100000, "pay-1", NOW, &pay), SB_OK);
    char want[512];
    snprintf(want, sizeof want,
             "Your last transactions:\n#%lld · transfer · 100,000 rials · done · Sara Ahmadi\n#%lld · deposit · "
             "5,000,000 rials · done",
             (long long)pay.id, (long long)pay.id - 1);
    char *got = ask(f, ALI, chat, "show my last transactions");
    /* The deposit's counterparty is the bank's name: compare the lines we wrote by hand. */
    assert_true(strncmp(got, want, strlen("Your last transactions:\n#")) == 0);
    char first_line[256];
    snprintf(first_line, sizeof first_line, "#%lld · transfer · 100,000 rials · done · Sara Ahmadi\n",
             (long long)pay.id);
    if (!strstr(got, first_line)) fprintf(stderr, "got: %s\n", got);
    assert_non_null(strstr(got, first_line));
    free(got);

    /* A card-to-card the switch never answers ends on hold (manual). */
    for (int i = 0; i < 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX; i++)
        assert_int_equal(payments_switch_sim_script(f->p->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    payops_receipt c2c;
    assert_int_equal(payops_c2c_send(&f->p->ctx, ALI, DEST_CARD, 200000, "c2c-1", NOW, &c2c), SB_OK);
    assert_string_equal(payops_receipt_state_name(c2c.state), "manual");
    snprintf(want, sizeof want,
             "Your transfer: #%lld · card-to-card · 200,000 rials · being checked by our staff; the amount is on "
             "hold · Sara Ahmadi · 621986******9007",
             (long long)c2c.id);
    assert_answer(f, ALI, chat, "where is my transfer?", want);
    /* A named receipt. */
    snprintf(want, sizeof want, "Your transfer: #%lld · transfer · 100,000 rials · done · Sara Ahmadi",
             (long long)pay.id);
    char question[64];
    snprintf(question, sizeof question, "/transfer %lld", (long long)pay.id);
    assert_answer(f, ALI, chat, question, want);
    /* Someone else's receipt is not found. */
    int64_t sara_chat = chat_with_bot(f, SARA);
    assert_answer(f, SARA, sara_chat, question, "I found no transfer.");
    /* In Russian. */
    snprintf(want, sizeof want,
             "Статус перевода: #%lld · перевод · 100\xc2\xa0"
             "000 риалов · выполнен · Sara Ahmadi",
             (long long)pay.id);
    snprintf(question, sizeof question, "/transfer %lld где мой перевод", (long long)pay.id);
    assert_answer(f, ALI, chat, question, want);
}

/* ---- block my card, with confirmation ---- */

static void press(bfix *f, int64_t customer, int64_t chat, int64_t seq, const char *data, int want) {
    messenger_events events = {0};
    assert_int_equal(messenger_bot_press(f->p->s, customer, chat, seq, data, &events), want);
    messenger_dispatch_bots(f->p->s, &events, bankbot_on_event, f->bot);
    messenger_events_clear(&events);
}

static void test_block_only_after_yes(void **state) {
    bfix *f = *state;
    int64_t chat = chat_with_bot(f, ALI);
    assert_answer(f, ALI, chat, "/block", "You have no card on file.");
    payments_card card;
    assert_int_equal(payments_card_parse("6037701689095443", &card, NULL), SB_OK);
    assert_int_equal(payops_card_on_file_set(&f->p->ctx, ALI, &card), SB_OK);
    payments_card_wipe(&card);
    deposit(f->p, ALI, 5000000, "dep-1");

    /* Asking gives a keyboard; nothing is blocked yet. */
    customer_says(f, ALI, chat, "please block my card");
    messenger_message m;
    last_message(f, ALI, chat, &m);
    assert_int_equal(m.sender_id, f->bot_id);
    assert_int_equal(m.kind, MESSENGER_MSG_KEYBOARD);
    assert_string_equal(m.text, "Block card 603770******5443? This cannot be undone here.");
    assert_non_null(strstr(m.payload_json, "\"block:yes:en\""));
    assert_non_null(strstr(m.payload_json, "\"block:no:en\""));
    int64_t keyboard_seq = m.seq;
    messenger_message_clear(&m);
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    bool blocked = true;
    assert_int_equal(payops_card_get(&f->p->ctx, ALI, masked, &blocked), SB_OK);
    assert_false(blocked);

    /* No: still active, card-to-card still works. */
    press(f, ALI, chat, keyboard_seq, "block:no:en", SB_OK);
    last_message(f, ALI, chat, &m);
    assert_string_equal(m.text, "OK, your card stays active.");
    messenger_message_clear(&m);
    assert_int_equal(payops_card_get(&f->p->ctx, ALI, masked, &blocked), SB_OK);
    assert_false(blocked);
    payops_receipt r;
    assert_int_equal(payops_c2c_send(&f->p->ctx, ALI, DEST_CARD, 100000, "c2c-before", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");

    /* A forged button is refused and blocks nothing. */
    press(f, ALI, chat, keyboard_seq, "block:yes:xx", SB_ENOTFOUND);
    assert_int_equal(payops_card_get(&f->p->ctx, ALI, masked, &blocked), SB_OK);
    assert_false(blocked);

    /* Yes: blocked, and card-to-card is refused with nothing written. */
    press(f, ALI, chat, keyboard_seq, "block:yes:en", SB_OK);
    last_message(f, ALI, chat, &m);
    assert_string_equal(m.text, "Card 603770******5443 is blocked. Card-to-card transfers are now refused.");
    messenger_message_clear(&m);
    assert_int_equal(payops_card_get(&f->p->ctx, ALI, masked, &blocked), SB_OK);
    assert_true(blocked);
    assert_string_equal(masked, "603770******5443");
    int64_t receipts = receipt_count(f->p), before = balance(f->p, ALI);
    assert_int_equal(payops_c2c_send(&f->p->ctx, ALI, DEST_CARD, 100000, "c2c-after", NOW, &r), SB_EPERM);
    payops_quote q;
    payments_limit_verdict v;
    assert_int_equal(payops_c2c_quote(&f->p->ctx, ALI, DEST_CARD, 100000, NOW, &q, &v), SB_EPERM);
    assert_int_equal(receipt_count(f->p), receipts);
    assert_int_equal(balance(f->p, ALI), before);
    /* Another customer is not affected. */
    deposit(f->p, SARA, 1000000, "dep-s");
    assert_int_equal(payops_c2c_send(&f->p->ctx, SARA, DEST_CARD, 100000, "c2c-sara", NOW, &r), SB_OK);
    verify_ok(f->p);

    /* Asking again, in Persian: already blocked, no keyboard. */
    assert_answer(f, ALI, chat, "کارتم را مسدود کن", "کارت 603770******5443 از قبل مسدود است.");
    /* Pressing Yes again is harmless. */
    press(f, ALI, chat, keyboard_seq, "block:yes:en", SB_OK);
    last_message(f, ALI, chat, &m);
    assert_string_equal(m.text, "Card 603770******5443 is already blocked.");
    messenger_message_clear(&m);
}

/* ---- hand-off to a human, and the agent's reply ---- */

static void test_handoff_opens_one_case(void **state) {
    bfix *f = *state;
    int64_t chat = chat_with_bot(f, MINA);
    char *hello = ask(f, MINA, chat, "/help");
    assert_non_null(strstr(hello, "/balance"));
    free(hello);
    assert_int_equal(case_count(f), 0);
    char *got = ask(f, MINA, chat, "I want to talk to an operator about a strange payment");
    int64_t case_id = -1;
    assert_int_equal(store_query_int64(f->p->s, &case_id, "SELECT id FROM listening_cases", ""), SB_OK);
    char want[256];
    snprintf(want, sizeof want,
             "I have passed our conversation to a colleague (case #%lld). You will get the answer here.",
             (long long)case_id);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(case_count(f), 1);

    /* The case holds the conversation, belongs to the customer, is routed to support. */
    store_stmt *st;
    assert_int_equal(store_query(f->p->s, &st,
                                 "SELECT c.source, c.author, c.state, p.text, (SELECT group_concat(department) FROM "
                                 "listening_case_departments d WHERE d.case_id = c.id) FROM listening_cases c JOIN "
                                 "listening_case_posts cp ON cp.case_id = c.id JOIN listening_posts p ON p.id = "
                                 "cp.post_id WHERE c.id = ?",
                                 "i", case_id),
                     SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "messenger");
    char author[32];
    snprintf(author, sizeof author, "user:%d", MINA);
    assert_string_equal(store_col_text(st, 1), author);
    assert_string_equal(store_col_text(st, 2), "open");
    const char *conversation = store_col_text(st, 3);
    assert_non_null(strstr(conversation, "customer: /help\nbankbot: Hello! I am the bank's bot."));
    assert_non_null(strstr(conversation, "\ncustomer: I want to talk to an operator about a strange payment"));
    assert_string_equal(store_col_text(st, 4), "support");
    store_stmt_done(st);

    /* The agent answers the case: it reaches the customer's chat. */
    listening_config cfg = {.reply_hook = bankbot_reply_hook(f->bot)};
    listening *l;
    assert_int_equal(listening_open(f->p->s, &cfg, &l), SB_OK);
    assert_int_equal(
        listening_case_reply(l, case_id, "agent.ann", "We have found your payment: it is safe.", NOW, NULL), SB_OK);
    int64_t delivered = 0;
    assert_int_equal(store_query_int64(f->p->s, &delivered,
                                       "SELECT count(*) FROM listening_replies WHERE case_id = ? AND delivery = "
                                       "'delivered'",
                                       "i", case_id),
                     SB_OK);
    assert_int_equal(delivered, 1);
    listening_close(l);
    size_t sent = 0;
    assert_int_equal(bankbot_delivery_flush(f->bot, f->p->s, &sent), SB_OK);
    assert_int_equal(sent, 1);
    messenger_message m;
    last_message(f, MINA, chat, &m);
    assert_int_equal(m.sender_id, f->bot_id);
    assert_string_equal(m.text, "Our colleague answers: We have found your payment: it is safe.");
    messenger_message_clear(&m);
    /* Still one case. */
    assert_int_equal(case_count(f), 1);
}

/* With the delivery thread: only customers' replies are accepted, and the
 * thread (its own connection) puts them into the chat. */
static void test_delivery_thread(void **state) {
    bfix *f = *state;
    assert_int_equal(bankbot_delivery_start(f->bot, f->p->dir), SB_OK);
    assert_int_equal(bankbot_delivery_start(f->bot, f->p->dir), SB_EBUSY);
    listening_reply_hook hook = bankbot_reply_hook(f->bot);
    assert_int_equal(hook.deliver(hook.arg, 1, "user:999999", "to nobody"), SB_ENOTFOUND);
    char author[32];
    snprintf(author, sizeof author, "user:%lld", (long long)f->bot_id); /* a bot is no customer */
    assert_int_equal(hook.deliver(hook.arg, 1, author, "to a bot"), SB_ENOTFOUND);
    snprintf(author, sizeof author, "user:%d", SARA);
    assert_int_equal(hook.deliver(hook.arg, 7, author, "Ми знайшли ваш переказ, він уже на картці."), SB_OK);
    /* Wait (bounded) for the thread to write it: a correctness check, not a speed claim. */
    int64_t chat = 0;
    bool found = false;
    for (int i = 0; i < 500 && !found; i++) {
        int64_t n = 0;
        if (store_query_int64(f->p->s, &n,
                              "SELECT count(*) FROM msg_messages m JOIN msg_members a ON a.chat_id = m.chat_id "
                              "WHERE a.user_id = ? AND m.sender_id = ?",
                              "ii", (int64_t)SARA, f->bot_id) == SB_OK &&
            n > 0)
            found = true;
        else
            usleep(20000);
    }
    assert_true(found);
    assert_int_equal(messenger_direct_open(f->p->s, SARA, f->bot_id, NOW, &chat, NULL), SB_OK);
    messenger_message m;
    last_message(f, SARA, chat, &m);
    assert_string_equal(m.text, "Відповідь нашого колеги: Ми знайшли ваш переказ, він уже на картці.");
    messenger_message_clear(&m);
}

/* ---- the classifier: canned answers per topic, or a person ---- */

static void test_classifier_answers(void **state) {
    bfix *f = *state;
    if (!engine) skip();
    int64_t chat = chat_with_bot(f, ALI);
    /* A neutral question about loans (the default model says loans/question). */
    listening_understanding u;
    listening_understander und = listening_text_understander(engine);
    const char *question = "what are the interest rates for a car loan";
    assert_int_equal(und.understand(und.arg, question, strlen(question), &u), SB_OK);
    assert_string_equal(u.topic, "loans");
    assert_answer(f, ALI, chat, question,
                  "About loans: the terms are in the app's Loans section and at every branch.\nTo talk to a person, "
                  "send /agent.");
    assert_int_equal(case_count(f), 0);
    /* Card misuse is a risk: straight to a person (urgent), one case. */
    char *got = ask(f, ALI, chat, "someone used my card without permission");
    assert_non_null(strstr(got, "I have passed our conversation to a colleague (case #"));
    free(got);
    assert_int_equal(case_count(f), 1);
    char priority[16] = "";
    store_stmt *st;
    assert_int_equal(store_query(f->p->s, &st, "SELECT priority FROM listening_cases", ""), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    snprintf(priority, sizeof priority, "%s", store_col_text(st, 0));
    store_stmt_done(st);
    assert_string_equal(priority, "urgent");
}

/* ---- who the bot answers ---- */

static void test_bot_stays_in_its_lane(void **state) {
    bfix *f = *state;
    /* In a group the bot does not answer every message. */
    int64_t group = 0;
    assert_int_equal(messenger_group_create(f->p->s, ALI, "friends", NOW, &group, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, f->bot_id, NOW, NULL), SB_OK);
    customer_says(f, ALI, group, "/balance");
    messenger_message m;
    last_message(f, ALI, group, &m);
    assert_int_equal(m.sender_id, ALI);
    messenger_message_clear(&m);
    /* Reopening the bot finds the same account. */
    bankbot *again = NULL;
    bankbot_config cfg = {.payments = f->p->ctx};
    assert_int_equal(bankbot_open(f->p->s, &cfg, NOW, &again), SB_OK);
    assert_int_equal(bankbot_user_id(again), f->bot_id);
    bankbot_close(again);
    /* A customer holding the name makes it unusable for a bot. */
    bool is_bot = false;
    assert_int_equal(messenger_bot_is(f->p->s, f->bot_id, &is_bot), SB_OK);
    assert_true(is_bot);
    cfg.username = "sara";
    assert_int_equal(bankbot_open(f->p->s, &cfg, NOW, &again), SB_EINVAL);
    /* Replies for authors that are not messenger users are refused. */
    listening_reply_hook hook = bankbot_reply_hook(f->bot);
    assert_int_equal(hook.deliver(hook.arg, 1, "twitter_handle", "hi"), SB_EINVAL);
    assert_int_equal(hook.deliver(hook.arg, 1, "user:abc", "hi"), SB_EINVAL);
}

static void test_keyword_tables(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int intent;
    } cases[] = {
        {"what's my balance", BANKBOT_INTENT_BALANCE},
        {"موجودی حسابم چقدره", BANKBOT_INTENT_BALANCE},
        {"який мій баланс", BANKBOT_INTENT_BALANCE},
        {"какой у меня баланс", BANKBOT_INTENT_BALANCE},
        {"Заблокуйте мою картку", BANKBOT_INTENT_BLOCK},
        {"заблокируйте карту", BANKBOT_INTENT_BLOCK},
        {"where is my transfer", BANKBOT_INTENT_TRANSFER},
        {"انتقال وجه من کجاست", BANKBOT_INTENT_TRANSFER},
        {"де мій переказ", BANKBOT_INTENT_TRANSFER},
        {"последние операции", BANKBOT_INTENT_TRANSACTIONS},
        {"تراکنش های اخیر", BANKBOT_INTENT_TRANSACTIONS},
        {"connect me to an operator", BANKBOT_INTENT_AGENT},
        {"what are the interest rates for a car loan", BANKBOT_INTENT_NONE},
        {"the reagent is fine", BANKBOT_INTENT_NONE},
    };
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        assert_int_equal(text_normalize(cases[i].text, strlen(cases[i].text), &norm), SB_OK);
        int got = bankbot__keyword_intent(norm.data, norm.len);
        if (got != cases[i].intent)
            fprintf(stderr, "\"%s\": intent %d, want %d\n", cases[i].text, got, cases[i].intent);
        assert_int_equal(got, cases[i].intent);
    }
    sb_buf_free(&norm);
    int64_t n = -1;
    assert_int_equal(bankbot__command_intent("/transfer 42", &n), BANKBOT_INTENT_TRANSFER);
    assert_int_equal(n, 42);
    assert_int_equal(bankbot__command_intent("/balance@bankbot", &n), BANKBOT_INTENT_BALANCE);
    assert_int_equal(bankbot__command_intent("/nonsense", &n), BANKBOT_INTENT_HELP);
    assert_int_equal(bankbot__command_intent("balance", &n), BANKBOT_INTENT_NONE);
}

/* ---- the bots' inbox: cursor, per-bot bound, own messages not recorded ---- */

static void test_bot_inbox_bounded(void **state) {
    bfix *f = *state;
    char token[MESSENGER_BOT_TOKEN_CHARS + 1];
    int64_t one = 0, two = 0;
    assert_int_equal(messenger_bot_create(f->p->s, "onebot", NOW, token, &one), SB_OK);
    assert_int_equal(messenger_bot_create(f->p->s, "twobot", NOW, token, &two), SB_OK);
    int64_t found = 0;
    assert_int_equal(messenger_bot_find(f->p->s, "@OneBot", &found), SB_OK);
    assert_int_equal(found, one);
    assert_int_equal(messenger_bot_find(f->p->s, "sara", &found), SB_ENOTFOUND); /* a customer, not a bot */
    assert_int_equal(messenger_bot_find(f->p->s, "no such!", &found), SB_EINVAL);
    int64_t chat_one = 0, chat_two = 0;
    assert_int_equal(messenger_direct_open(f->p->s, ALI, one, NOW, &chat_one, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->p->s, ALI, two, NOW, &chat_two, NULL), SB_OK);
    const int total = SB_MESSENGER_BOT_UPDATES_KEPT + 5;
    assert_int_equal(store_exec(f->p->s, "PRAGMA synchronous = OFF", ""), SB_OK); /* speed only */
    for (int i = 0; i < total; i++) {
        char text[32];
        snprintf(text, sizeof text, "m%d", i);
        messenger_send_request req = {
            .chat_id = i % 2 ? chat_two : chat_one, .sender_id = ALI, .kind = MESSENGER_MSG_TEXT, .text = text};
        if (i >= 10) req.chat_id = chat_one; /* after ten, all to one */
        messenger_events events = {0};
        assert_int_equal(messenger_send(f->p->s, &req, NOW, NULL, NULL, &events), SB_OK);
        assert_int_equal(messenger_bot_updates_record(f->p->s, &events, NOW), SB_OK);
        messenger_events_clear(&events);
    }
    /* A bot's own message is not recorded for it. */
    messenger_send_request own = {.chat_id = chat_two, .sender_id = two, .kind = MESSENGER_MSG_TEXT, .text = "mine"};
    messenger_events events = {0};
    assert_int_equal(messenger_send(f->p->s, &own, NOW, NULL, NULL, &events), SB_OK);
    assert_int_equal(messenger_bot_updates_record(f->p->s, &events, NOW), SB_OK);
    messenger_events_clear(&events);
    /* two got 5 (m1, m3, m5, m7, m9); one got the rest, bounded to KEPT. */
    messenger_bot_update page[SB_MESSENGER_BOT_UPDATES_PAGE_MAX];
    size_t count = 0;
    assert_int_equal(messenger_bot_updates(f->p->s, two, 0, 100, page, &count), SB_OK);
    assert_int_equal(count, 5);
    assert_non_null(strstr(page[0].event_json, "\"text\":\"m1\""));
    assert_non_null(strstr(page[4].event_json, "\"text\":\"m9\""));
    messenger_bot_updates_clear(page, count);
    int64_t kept = 0;
    assert_int_equal(
        store_query_int64(f->p->s, &kept, "SELECT count(*) FROM msg_bot_updates WHERE bot_id = ?", "i", one), SB_OK);
    assert_int_equal(kept, SB_MESSENGER_BOT_UPDATES_KEPT);
    /* Paging by cursor reads them all once, oldest first. */
    int64_t after = 0, seen = 0, last_id = 0;
    bool first = true;
    for (int guard = 0; guard < 100; guard++) {
        assert_int_equal(messenger_bot_updates(f->p->s, one, after, 1000, page, &count), SB_OK);
        assert_true(count <= SB_MESSENGER_BOT_UPDATES_PAGE_MAX);
        if (count == 0) break;
        if (first) {
            /* one received m0 m2 m4 m6 m8 and m10..m1004: exactly KEPT, none dropped yet. */
            assert_non_null(strstr(page[0].event_json, "\"text\":\"m0\""));
            first = false;
        }
        for (size_t i = 0; i < count; i++) {
            assert_true(page[i].id > last_id);
            last_id = page[i].id;
        }
        seen += (int64_t)count;
        after = page[count - 1].id;
        messenger_bot_updates_clear(page, count);
    }
    assert_int_equal(seen, SB_MESSENGER_BOT_UPDATES_KEPT);
    /* Five more: the oldest five go. */
    for (int i = 0; i < 5; i++) {
        messenger_send_request req = {
            .chat_id = chat_one, .sender_id = ALI, .kind = MESSENGER_MSG_TEXT, .text = "more"};
        assert_int_equal(messenger_send(f->p->s, &req, NOW, NULL, NULL, &events), SB_OK);
        assert_int_equal(messenger_bot_updates_record(f->p->s, &events, NOW), SB_OK);
        messenger_events_clear(&events);
    }
    assert_int_equal(
        store_query_int64(f->p->s, &kept, "SELECT count(*) FROM msg_bot_updates WHERE bot_id = ?", "i", one), SB_OK);
    assert_int_equal(kept, SB_MESSENGER_BOT_UPDATES_KEPT);
    assert_int_equal(messenger_bot_updates(f->p->s, one, 0, 1, page, &count), SB_OK);
    assert_int_equal(count, 1);
    assert_non_null(strstr(page[0].event_json, "\"text\":\"m10\"")); /* m0 m2 m4 m6 m8 gone */
    messenger_bot_updates_clear(page, count);
    /* The other bot kept its five. */
    assert_int_equal(
        store_query_int64(f->p->s, &kept, "SELECT count(*) FROM msg_bot_updates WHERE bot_id = ?", "i", two), SB_OK);
    assert_int_equal(kept, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_amount),
        cmocka_unit_test(test_keyword_tables),
        cmocka_unit_test_setup_teardown(test_balance_is_the_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions_and_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_only_after_yes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_opens_one_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classifier_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_stays_in_its_lane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_inbox_bounded, setup, teardown),
    };
    return cmocka_run_group_tests_name("bankbot", tests, group_setup, group_teardown);
}
