/*
 * cli_demo.c - `socialbank demo`: load the demo data that `make run` shows.
 *
 * Staff of every role, four customers (Iranian and Ukrainian numbers) signed
 * up through the real one-time-code path, IRR wallets funded through the
 * ledger with a payment between two of them, a group chat and a post on the
 * bank's channel.  Everything goes through the domain modules, never around
 * them, and the whole load happens once: a settings row marks it done, so
 * running it again changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "payments/payments.h"
#include "store/store.h"

#define DEMO_STAFF_PASSWORD "socialbank-demo"
#define DEMO_DEPOSIT_MINOR 50000000 /* 50,000,000 rials each */

static const struct {
    const char *username;
    int role;
} demo_staff[] = {
    {"admin", IDENTITY_ROLE_ADMIN},
    {"agent", IDENTITY_ROLE_AGENT},
    {"analyst", IDENTITY_ROLE_ANALYST},
    {"marketer", IDENTITY_ROLE_MARKETER},
};

/* Each demo customer chose a language and time zone and to be found by
 * @username (not by phone) when signing up, as the app asks. */
static const struct {
    const char *phone;
    const char *username;
    const char *display_name;
    const char *language;
    const char *time_zone;
} demo_customers[] = {
    {"+989121234567", "ali", "Ali Rezaei", "fa", "Asia/Tehran"},
    {"+989351234567", "sara", "Sara Ahmadi", "fa", "Asia/Tehran"},
    {"+989191112233", "reza", "Reza Karimi", "fa", "Asia/Tehran"},
    {"+380501234567", "olena", "Olena Kovalenko", "uk", "Europe/Kyiv"},
};
#define DEMO_CUSTOMERS SB_ARRAY_LEN(demo_customers)

static int demo_fail(const char *what, int result) {
    fprintf(stderr, "socialbank demo: %s: %s\n", what, sb_strerror(result));
    return 1;
}

/* Sign a customer up the way the app does: request a code, then verify it. */
static int demo_customer(store *s, size_t i, int64_t now_ms, int64_t *user_id_out) {
    char code[SB_OTP_DIGITS + 1];
    bool created = false;
    int result = identity_otp_request(s, demo_customers[i].phone, NULL, now_ms, code);
    if (result == SB_OK) result = identity_otp_verify(s, demo_customers[i].phone, code, now_ms, user_id_out, &created);
    if (result == SB_OK)
        result = identity_profile_update(s, *user_id_out, demo_customers[i].display_name, demo_customers[i].username);
    /* The demo's friends find each other by @username (and may be added to its group). */
    if (result == SB_OK)
        result = identity_prefs_set(s, *user_id_out, demo_customers[i].language, demo_customers[i].time_zone);
    if (result == SB_OK) result = messenger_discoverability_set(s, *user_id_out, 0, 1);
    return result;
}

static int demo_messages(store *s, const int64_t *customers, int64_t admin_id, int64_t now_ms) {
    messenger_events events = {0};
    messenger_message message = {0};
    int64_t group_id = 0;
    int result = messenger_group_create(s, customers[0], "Friday lunch", now_ms, &group_id, &events);
    for (size_t i = 1; result == SB_OK && i < 3; i++)
        result = messenger_group_add(s, customers[0], group_id, customers[i], now_ms, &events);
    static const char *const lines[] = {
        "Salam! Lunch at the usual place on Friday?", "Yes, 13:00. I'll pay and split the bill here afterwards.",
        "\xd8\xb9\xd8\xa7\xd9\x84\xdb\x8c\xd9\x87\x20\xf0\x9f\x91\x8d", /* عالیه 👍 */
    };
    for (size_t i = 0; result == SB_OK && i < SB_ARRAY_LEN(lines); i++) {
        messenger_send_request req = {
            .chat_id = group_id, .sender_id = customers[i], .kind = MESSENGER_MSG_TEXT, .text = lines[i]};
        bool duplicate = false;
        result = messenger_send(s, &req, now_ms + (int64_t)i, &message, &duplicate, &events);
        messenger_message_clear(&message);
    }
    if (result == SB_OK)
        result = messenger_channel_post(s, admin_id,
                                        "Card-to-card transfers now show the receiver's name before you confirm. "
                                        "Never share your one-time code with anyone, not even us.",
                                        now_ms, &message, &events);
    messenger_message_clear(&message);
    for (size_t i = 0; result == SB_OK && i < DEMO_CUSTOMERS; i++)
        result = messenger_channel_subscribe(s, customers[i], now_ms, &events);
    messenger_events_clear(&events);
    return result;
}

static int demo_money(store *s, const char *data, const int64_t *customers, int64_t now_ms) {
    ledger *l = NULL;
    ledger_options options = {.location = data};
    int result = ledger_open(&options, &l);
    if (result != SB_OK) return result;
    payments_policy policy;
    payments_policy_default(&policy);
    payops_ctx ctx = {.s = s, .l = l, .policy = &policy};
    result = payops_init(&ctx);
    payops_receipt receipt;
    for (size_t i = 0; result == SB_OK && i < DEMO_CUSTOMERS - 1; i++) { /* Olena's wallet would be UAH: left empty */
        char key[48];
        snprintf(key, sizeof key, "demo-deposit-%lld", (long long)customers[i]);
        result = payops_deposit(&ctx, customers[i], DEMO_DEPOSIT_MINOR, key, now_ms, &receipt);
    }
    if (result == SB_OK)
        result = payops_pay_confirm(&ctx, customers[0], "@sara", 1200000, "demo-pay-1", now_ms, &receipt);
    ledger_close(l);
    return result;
}

int cli_demo(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION, {NULL}};
    int rc;
    if (cli_begin(argc, argv, "demo [--data DIR]",
                  "Load the demo data once: staff of every role (password " DEMO_STAFF_PASSWORD
                  "), four customers\nwith funded wallets, a payment, a group chat and a channel post. "
                  "For trying SocialBank, never for\na bank's real data.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    const char *data = cli_value(opts, "data");
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) return demo_fail("cannot open the store", result);
    result = store_migrate(s, NULL);
    int64_t seeded = 0;
    if (result == SB_OK) {
        result = store_query_int64(s, &seeded, "SELECT COUNT(*) FROM settings WHERE key = 'demo.loaded'", NULL);
    }
    if (result != SB_OK) {
        store_close(s);
        return demo_fail("cannot read the store", result);
    }
    if (seeded) {
        store_close(s);
        printf("demo data already loaded\n");
        return 0;
    }
    int64_t now_ms = sb_now_ms();
    int64_t admin_id = 0, customers[DEMO_CUSTOMERS] = {0};
    for (size_t i = 0; result == SB_OK && i < SB_ARRAY_LEN(demo_staff); i++) {
        int64_t id = 0;
        result = identity_staff_create(s, demo_staff[i].username, DEMO_STAFF_PASSWORD, demo_staff[i].role, &id);
        if (demo_staff[i].role == IDENTITY_ROLE_ADMIN) admin_id = id;
    }
    if (result != SB_OK) {
        store_close(s);
        return demo_fail("staff (is the database already in use for real data?)", result);
    }
    for (size_t i = 0; result == SB_OK && i < DEMO_CUSTOMERS; i++)
        result = demo_customer(s, i, now_ms, &customers[i]);
    if (result != SB_OK) {
        store_close(s);
        return demo_fail("customers", result);
    }
    result = demo_money(s, data, customers, now_ms);
    if (result != SB_OK) {
        store_close(s);
        return demo_fail("wallets and payments", result);
    }
    result = demo_messages(s, customers, admin_id, now_ms);
    if (result == SB_OK)
        result = store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES ('demo.loaded', '1', ?)", "i",
                            now_ms);
    store_close(s);
    if (result != SB_OK) return demo_fail("chats", result);
    printf("demo data loaded: staff admin, agent, analyst, marketer (password %s); customers", DEMO_STAFF_PASSWORD);
    for (size_t i = 0; i < DEMO_CUSTOMERS; i++)
        printf(" @%s", demo_customers[i].username);
    printf("\n");
    return 0;
}
