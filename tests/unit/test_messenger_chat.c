/*
 * test_messenger_chat.c - contacts, blocks, 1:1 chats, groups and plain
 * messages against a real SQLite store: membership enforced on every
 * operation (non-member, removed member, blocked user, unknown chat), 1:1
 * uniqueness, group management rules and the owner hand-off, text limits,
 * replies, edit/delete traces, idempotent client ids, history pages and
 * "since seq", receipts, typing, and the recipients of every event.
 */
#include "messenger_fixture.h"

/* ---- contacts and blocks ---- */

static void test_contact_find_only_discoverable(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = hidden_customer(f, "bahar");
    int64_t found = 0;
    /* Not discoverable yet: not found by phone or by name. */
    assert_int_equal(messenger_contact_find(f->s, a, "+989120000002", &found), SB_ENOTFOUND);
    assert_int_equal(messenger_contact_find(f->s, a, "@bahar", &found), SB_ENOTFOUND);
    assert_int_equal(messenger_discoverable_set(f->s, b, true), SB_OK);
    /* Any typed shape of the number, Persian digits included. */
    assert_int_equal(messenger_contact_find(f->s, a, "0912 000 0002", &found), SB_OK);
    assert_int_equal(found, b);
    found = 0;
    assert_int_equal(messenger_contact_find(f->s, a, "۰۹۱۲۰۰۰۰۰۰۲", &found), SB_OK);
    assert_int_equal(found, b);
    found = 0;
    assert_int_equal(messenger_contact_find(f->s, a, "@Bahar", &found), SB_OK);
    assert_int_equal(found, b);
    assert_int_equal(messenger_contact_find(f->s, a, "bahar", &found), SB_OK);
    /* Blocked the caller: the same answer as unknown. */
    assert_int_equal(messenger_block(f->s, b, a, T0), SB_OK);
    assert_int_equal(messenger_contact_find(f->s, a, "@bahar", &found), SB_ENOTFOUND);
    assert_int_equal(messenger_contact_find(f->s, a, "+989129999999", &found), SB_ENOTFOUND);
    assert_int_equal(messenger_contact_find(f->s, a, "", &found), SB_EINVAL);
    assert_int_equal(messenger_contact_find(f->s, a, "@a b", &found), SB_EINVAL);
    assert_int_equal(messenger_contact_find(f->s, a, NULL, &found), SB_EINVAL);
    /* Turning it off hides again. */
    assert_int_equal(messenger_unblock(f->s, b, a), SB_OK);
    assert_int_equal(messenger_discoverable_set(f->s, b, false), SB_OK);
    assert_int_equal(messenger_contact_find(f->s, a, "@bahar", &found), SB_ENOTFOUND);
}

static void test_block_rules(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    send_text(f, chat, a, "hello");
    assert_int_equal(messenger_block(f->s, b, a, T0), SB_OK);
    assert_int_equal(messenger_block(f->s, b, a, T0), SB_OK); /* idempotent */
    bool blocked = false;
    assert_int_equal(messenger_is_blocked(f->s, b, a, &blocked), SB_OK);
    assert_true(blocked);
    assert_int_equal(messenger_is_blocked(f->s, a, b, &blocked), SB_OK);
    assert_false(blocked);
    /* The blocked cannot message the blocker, nor the blocker the blocked. */
    assert_int_equal(send_result(f, chat, a, "hi?"), SB_EPERM);
    assert_int_equal(send_result(f, chat, b, "go away"), SB_EPERM);
    int64_t again = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &again, NULL), SB_EPERM);
    assert_int_equal(messenger_edit(f->s, a, chat, 1, "edited", T0, NULL), SB_EPERM);
    assert_int_equal(messenger_typing(f->s, a, chat, NULL), SB_EPERM);
    assert_int_equal(messenger_typing(f->s, b, chat, NULL), SB_EPERM);
    /* History stays readable to both (it is their own past). */
    messenger_message page[2];
    size_t n = 0;
    assert_int_equal(messenger_history(f->s, a, chat, 0, 0, 2, page, &n), SB_OK);
    assert_int_equal(n, 1);
    messenger_messages_clear(page, n);
    /* Nor add to a group. */
    int64_t group = 0;
    assert_int_equal(messenger_group_create(f->s, b, "g", T0, &group, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, b, group, a, T0, NULL), SB_EPERM);
    assert_int_equal(messenger_block(f->s, a, a, T0), SB_EINVAL);
    assert_int_equal(messenger_block(f->s, a, 9999, T0), SB_ENOTFOUND);
    /* Unblocked: talking again. */
    assert_int_equal(messenger_unblock(f->s, b, a), SB_OK);
    assert_int_equal(send_result(f, chat, a, "sorry"), SB_OK);
}

/* Who may be reached by id: a hidden customer only through a shared chat,
 * staff never (the answer is that of an unknown id), bots always; a block
 * by a hidden customer is never reported as a block. */
static void test_reach_by_id(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), hidden = hidden_customer(f, NULL);
    int64_t admin = staff(f, "admin", "root"), agent = staff(f, "agent", "agent.one");
    int64_t chat = 0, group = 0;
    assert_int_equal(messenger_group_create(f->s, a, "g", T0, &group, NULL), SB_OK);
    /* Hidden: no 1:1 chat, no group, the same answer as for nobody. */
    assert_int_equal(messenger_direct_open(f->s, a, hidden, T0, &chat, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_direct_open(f->s, a, 9999, T0, &chat, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_group_add(f->s, a, group, hidden, T0, NULL), SB_ENOTFOUND);
    /* Staff, the admin (often id 1) included: never, by a customer. */
    assert_int_equal(messenger_direct_open(f->s, a, admin, T0, &chat, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_direct_open(f->s, a, agent, T0, &chat, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_group_add(f->s, a, group, admin, T0, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_group_add(f->s, a, group, agent, T0, NULL), SB_ENOTFOUND);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_chats WHERE kind = 'direct'"), 0);
    /* A bot is public. */
    char token[MESSENGER_BOT_TOKEN_CHARS + 1];
    int64_t bot = 0;
    assert_int_equal(messenger_bot_create(f->s, "helpbot", T0, token, &bot), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, group, bot, T0, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, a, bot, T0, &chat, NULL), SB_OK);
    /* The hidden customer adds a (discoverable) to a group of theirs: now
     * they share a chat and a reaches them by id. */
    int64_t theirs = 0;
    assert_int_equal(messenger_group_create(f->s, hidden, "h", T0, &theirs, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, hidden, theirs, a, T0, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, a, hidden, T0, &chat, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, group, hidden, T0, NULL), SB_OK);
    /* A discoverable customer who blocked the caller is hidden from them... */
    int64_t blocker = customer(f, NULL);
    assert_int_equal(messenger_block(f->s, blocker, a, T0), SB_OK);
    assert_int_equal(messenger_reach_check(f->s, a, blocker), SB_ENOTFOUND);
    assert_int_equal(messenger_direct_open(f->s, a, blocker, T0, &chat, NULL), SB_ENOTFOUND);
    /* ...while one the caller blocked is reported as blocked. */
    int64_t pest = customer(f, NULL);
    assert_int_equal(messenger_block(f->s, a, pest, T0), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, a, pest, T0, &chat, NULL), SB_EPERM);
}

/* ---- 1:1 ---- */

static void test_direct_unique_per_pair(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL);
    int64_t ab = 0, ba = 0, ac = 0;
    bool created = false;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &ab, &created), SB_OK);
    assert_true(created);
    assert_int_equal(messenger_direct_open(f->s, b, a, T0, &ba, &created), SB_OK);
    assert_false(created);
    assert_int_equal(ab, ba);
    assert_int_equal(messenger_direct_open(f->s, a, c, T0, &ac, NULL), SB_OK);
    assert_true(ac != ab);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_chats WHERE kind = 'direct'"), 2);
    assert_int_equal(messenger_direct_open(f->s, a, a, T0, &ab, NULL), SB_EINVAL);
    assert_int_equal(messenger_direct_open(f->s, a, 9999, T0, &ab, NULL), SB_ENOTFOUND);
    /* The database refuses a second row for the pair whatever the code does. */
    assert_int_equal(
        store_exec(f->s, "INSERT INTO msg_chats(kind, pair_lo, pair_hi, created_at_ms) VALUES ('direct', ?, ?, 0)",
                   "ii", a < b ? a : b, a < b ? b : a),
        SB_EEXISTS);
    messenger_chat chat;
    assert_int_equal(messenger_chat_get(f->s, a, ab, &chat), SB_OK);
    assert_int_equal(chat.kind, MESSENGER_CHAT_DIRECT);
    assert_int_equal(chat.member_count, 2);
    assert_int_equal(messenger_chat_get(f->s, c, ab, &chat), SB_EPERM);
}

/* ---- membership on every operation ---- */

static void check_all_refused(fixture *f, int64_t who, int64_t chat, int expected) {
    messenger_events ev = {0};
    messenger_send_request req = {.chat_id = chat, .sender_id = who, .kind = MESSENGER_MSG_TEXT, .text = "x"};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, &ev), expected);
    assert_int_equal(ev.count, 0);
    assert_int_equal(messenger_edit(f->s, who, chat, 1, "y", T0, &ev), expected);
    assert_int_equal(messenger_delete(f->s, who, chat, 1, T0, &ev), expected);
    assert_int_equal(messenger_receipt(f->s, who, chat, 1, 1, &ev), expected);
    assert_int_equal(messenger_typing(f->s, who, chat, &ev), expected);
    messenger_message page[4];
    size_t n = 9;
    assert_int_equal(messenger_history(f->s, who, chat, 0, 0, 4, page, &n), expected);
    assert_int_equal(n, 0);
    assert_int_equal(messenger_changes(f->s, who, chat, 0, 4, page, &n), expected);
    messenger_message one;
    assert_int_equal(messenger_message_get(f->s, who, chat, 1, &one), expected);
    messenger_chat c;
    assert_int_equal(messenger_chat_get(f->s, who, chat, &c), expected);
    messenger_member members[4];
    assert_int_equal(messenger_member_list(f->s, who, chat, 0, members, 4, &n), expected);
    assert_int_equal(messenger_group_rename(f->s, who, chat, "t", &ev), expected);
    assert_int_equal(messenger_group_leave(f->s, who, chat, &ev), expected);
    assert_int_equal(messenger_bot_press(f->s, who, chat, 1, "d", &ev), expected);
    assert_int_equal(ev.count, 0);
}

static void test_membership_enforced_everywhere(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), outsider = customer(f, NULL), removed = customer(f, NULL);
    int64_t direct = 0, group = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &direct, NULL), SB_OK);
    send_text(f, direct, a, "private");
    assert_int_equal(messenger_group_create(f->s, a, "team", T0, &group, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, group, removed, T0, NULL), SB_OK);
    send_text(f, group, removed, "I was here");
    assert_int_equal(messenger_group_remove(f->s, a, group, removed, NULL), SB_OK);
    check_all_refused(f, outsider, direct, SB_EPERM);
    check_all_refused(f, outsider, group, SB_EPERM);
    check_all_refused(f, removed, group, SB_EPERM);
    /* An unknown chat answers exactly like a chat one is not in. */
    check_all_refused(f, a, 987654, SB_EPERM);
    /* Nothing was written by the refused calls. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 2);
    /* A removed member's own message stays, with its text. */
    messenger_message m;
    assert_int_equal(messenger_message_get(f->s, a, group, 1, &m), SB_OK);
    assert_string_equal(m.text, "I was here");
    messenger_message_clear(&m);
}

/* ---- groups ---- */

static void test_group_management(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL), admin = customer(f, NULL), m1 = customer(f, NULL), m2 = customer(f, NULL);
    int64_t g = 0;
    messenger_events ev = {0};
    assert_int_equal(messenger_group_create(f->s, owner, "", T0, &g, NULL), SB_EINVAL);
    assert_int_equal(messenger_group_create(f->s, owner, "line\nbreak", T0, &g, NULL), SB_EINVAL);
    assert_int_equal(messenger_group_create(f->s, owner, "Family", T0, &g, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].action, MESSENGER_MEMBERS_CREATED);
    assert_int_equal(messenger_group_add(f->s, owner, g, admin, T0, &ev), SB_OK);
    int64_t after_add[] = {owner, admin};
    assert_recipients(&ev.items[0], after_add, 2);
    assert_int_equal(messenger_group_add(f->s, owner, g, admin, T0, NULL), SB_EEXISTS);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, admin, MESSENGER_ROLE_ADMIN, &ev), SB_OK);
    assert_int_equal(ev.items[0].subject_role, MESSENGER_ROLE_ADMIN);
    /* An admin adds; a plain member may not add, remove, rename or promote. */
    assert_int_equal(messenger_group_add(f->s, admin, g, m1, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, m1, g, m2, T0, NULL), SB_EPERM);
    assert_int_equal(messenger_group_rename(f->s, m1, g, "mine", NULL), SB_EPERM);
    assert_int_equal(messenger_group_remove(f->s, m1, g, admin, NULL), SB_EPERM);
    assert_int_equal(messenger_group_set_role(f->s, m1, g, m1, MESSENGER_ROLE_ADMIN, NULL), SB_EPERM);
    /* Only the owner promotes; nobody can make a second owner. */
    assert_int_equal(messenger_group_set_role(f->s, admin, g, m1, MESSENGER_ROLE_ADMIN, NULL), SB_EPERM);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, m1, MESSENGER_ROLE_OWNER, NULL), SB_EINVAL);
    /* An admin cannot remove the owner or another admin. */
    assert_int_equal(messenger_group_remove(f->s, admin, g, owner, NULL), SB_EPERM);
    assert_int_equal(messenger_group_add(f->s, admin, g, m2, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_remove(f->s, admin, g, m2, &ev), SB_OK);
    /* The removed one hears it too. */
    int64_t after_remove[] = {owner, admin, m1, m2};
    assert_recipients(&ev.items[0], after_remove, 4);
    assert_int_equal(messenger_group_remove(f->s, admin, g, m2, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_group_rename(f->s, admin, g, "Family 2", &ev), SB_OK);
    assert_string_equal(ev.items[0].title, "Family 2");
    messenger_chat c;
    assert_int_equal(messenger_chat_get(f->s, m1, g, &c), SB_OK);
    assert_string_equal(c.title, "Family 2");
    assert_int_equal(c.member_count, 3);
    assert_int_equal(c.my_role, MESSENGER_ROLE_MEMBER);
    /* Owner leaves: the oldest admin (not the older plain member) becomes owner. */
    assert_int_equal(messenger_group_leave(f->s, owner, g, &ev), SB_OK);
    assert_int_equal(ev.count, 2);
    assert_int_equal(ev.items[0].action, MESSENGER_MEMBERS_LEFT);
    assert_int_equal(ev.items[1].action, MESSENGER_MEMBERS_ROLE);
    assert_int_equal(ev.items[1].subject_id, admin);
    assert_int_equal(ev.items[1].subject_role, MESSENGER_ROLE_OWNER);
    assert_int_equal(messenger_chat_get(f->s, admin, g, &c), SB_OK);
    assert_int_equal(c.my_role, MESSENGER_ROLE_OWNER);
    /* The new owner leaves: no admin left, so the oldest member. */
    assert_int_equal(messenger_group_leave(f->s, admin, g, &ev), SB_OK);
    assert_int_equal(messenger_chat_get(f->s, m1, g, &c), SB_OK);
    assert_int_equal(c.my_role, MESSENGER_ROLE_OWNER);
    assert_int_equal(messenger_group_leave(f->s, m1, g, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(count_rows(f->s, "SELECT member_count FROM msg_chats WHERE kind = 'group'"), 0);
    messenger_events_clear(&ev);
}

static void test_group_owner_leaving_prefers_oldest_member_without_admins(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL), first = customer(f, NULL), second = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, owner, "g", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, first, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, second, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, second, MESSENGER_ROLE_ADMIN, NULL), SB_OK);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, second, MESSENGER_ROLE_MEMBER, NULL), SB_OK);
    assert_int_equal(messenger_group_remove(f->s, owner, g, owner, NULL), SB_OK); /* removing oneself = leaving */
    messenger_chat c;
    assert_int_equal(messenger_chat_get(f->s, first, g, &c), SB_OK);
    assert_int_equal(c.my_role, MESSENGER_ROLE_OWNER);
    assert_int_equal(messenger_chat_get(f->s, second, g, &c), SB_OK);
    assert_int_equal(c.my_role, MESSENGER_ROLE_MEMBER);
}

static void test_group_member_cap(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, owner, "big", T0, &g, NULL), SB_OK);
    assert_int_equal(store_begin(f->s), SB_OK);
    for (int i = 1; i < SB_MESSENGER_GROUP_MEMBERS_MAX; i++) {
        int64_t u = customer(f, NULL);
        assert_int_equal(store_exec(f->s,
                                    "INSERT INTO msg_members(chat_id, user_id, role, joined_order, joined_at_ms) "
                                    "VALUES (?, ?, 'member', ?, 0)",
                                    "iii", g, u, (int64_t)(1000000 + i)),
                         SB_OK);
    }
    assert_int_equal(store_exec(f->s, "UPDATE msg_chats SET member_count = ? WHERE id = ?", "ii",
                                (int64_t)SB_MESSENGER_GROUP_MEMBERS_MAX, g),
                     SB_OK);
    assert_int_equal(store_commit(f->s), SB_OK);
    int64_t one_more = customer(f, NULL);
    assert_int_equal(messenger_group_add(f->s, owner, g, one_more, T0, NULL), SB_ELIMIT);
    /* A send reaches every member in one event. */
    messenger_events ev = {0};
    messenger_send_request req = {.chat_id = g, .sender_id = owner, .kind = MESSENGER_MSG_TEXT, .text = "all"};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, &ev), SB_OK);
    assert_int_equal(ev.items[0].recipient_count, SB_MESSENGER_GROUP_MEMBERS_MAX);
    messenger_events_clear(&ev);
}

/* ---- message rules ---- */

static void test_text_limits(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    char *big = malloc(SB_MESSENGER_TEXT_BYTES_MAX + 2);
    memset(big, 'a', SB_MESSENGER_TEXT_BYTES_MAX + 1);
    big[SB_MESSENGER_TEXT_BYTES_MAX + 1] = '\0';
    assert_int_equal(send_result(f, chat, a, big), SB_ELIMIT);
    big[SB_MESSENGER_TEXT_BYTES_MAX] = '\0'; /* exactly the limit */
    assert_int_equal(send_result(f, chat, a, big), SB_OK);
    free(big);
    assert_int_equal(send_result(f, chat, a, "bad \xC3\x28 utf8"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "overlong \xC0\xAF"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "surrogate \xED\xA0\x80"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "tab\there"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "bell\a"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "cr\r\n"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "c1 \xC2\x85"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "bidi \xE2\x80\xAE"), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "   \n "), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, ""), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, NULL), SB_EINVAL);
    assert_int_equal(send_result(f, chat, a, "two\nlines and سلام"), SB_OK);
    /* Only the limit-sized and the good message were stored. */
    assert_int_equal(count_rows(f->s, "SELECT last_seq FROM msg_chats"), 2);
    messenger_send_request req = {
        .chat_id = chat, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "x", .payload_json = "{}"};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
    req.payload_json = NULL;
    req.kind = MESSENGER_MSG_POST; /* posts have their own call */
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
    req.kind = MESSENGER_MSG_TEXT;
    req.client_id = "has space";
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
}

static void test_reply_same_chat_only(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL);
    int64_t ab = 0, ac = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &ab, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, a, c, T0, &ac, NULL), SB_OK);
    for (int i = 0; i < 5; i++)
        send_text(f, ac, a, "in ac");
    send_text(f, ab, a, "first in ab");
    /* seq 4 exists in ac only: a reply to it from ab is refused. */
    messenger_send_request req = {
        .chat_id = ab, .sender_id = b, .kind = MESSENGER_MSG_TEXT, .text = "re", .reply_to_seq = 4};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_ENOTFOUND);
    req.reply_to_seq = -1;
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
    req.reply_to_seq = 1;
    messenger_message m;
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    assert_int_equal(m.reply_to_seq, 1);
    assert_int_equal(m.seq, 2);
    messenger_message_clear(&m);
}

static void test_edit_delete_traces_and_permissions(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL), admin = customer(f, NULL), member = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, owner, "g", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, admin, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, member, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, admin, MESSENGER_ROLE_ADMIN, NULL), SB_OK);
    int64_t s1 = send_text(f, g, member, "original");
    int64_t s2 = send_text(f, g, member, "second");
    int64_t s3 = send_text(f, g, owner, "owner's");
    messenger_events ev = {0};
    /* Only the sender edits. */
    assert_int_equal(messenger_edit(f->s, admin, g, s1, "hacked", T0 + 5, &ev), SB_EPERM);
    assert_int_equal(messenger_edit(f->s, member, g, s1, "corrected", T0 + 5, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_MESSAGE_EDITED);
    assert_int_equal(ev.items[0].seq, s1);
    assert_int_equal(ev.items[0].rev, 4); /* three sends took revs 1..3 */
    assert_string_equal(ev.items[0].message.text, "corrected");
    assert_int_equal(messenger_edit(f->s, member, g, 99, "none", T0, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_edit(f->s, member, g, s1, "bad\t", T0, NULL), SB_EINVAL);
    messenger_message m;
    assert_int_equal(messenger_message_get(f->s, owner, g, s1, &m), SB_OK);
    assert_string_equal(m.text, "corrected");
    assert_int_equal(m.edited_at_ms, T0 + 5);
    assert_int_equal(m.deleted_at_ms, 0);
    messenger_message_clear(&m);
    /* A member cannot delete others' messages; an admin can delete a
     * member's; the sender its own. */
    assert_int_equal(messenger_delete(f->s, member, g, s3, T0, NULL), SB_EPERM);
    assert_int_equal(messenger_delete(f->s, admin, g, s2, T0 + 6, &ev), SB_OK);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_MESSAGE_DELETED);
    assert_null(ev.items[0].message.text);
    assert_int_equal(messenger_delete(f->s, member, g, s1, T0 + 7, NULL), SB_OK);
    /* Deleting again: fine, no event. */
    assert_int_equal(messenger_delete(f->s, member, g, s1, T0 + 8, &ev), SB_OK);
    assert_int_equal(ev.count, 0);
    /* The tombstone: the row is there, the text is gone, the time is kept. */
    assert_int_equal(messenger_message_get(f->s, owner, g, s1, &m), SB_OK);
    assert_null(m.text);
    assert_int_equal(m.deleted_at_ms, T0 + 7);
    assert_int_equal(m.edited_at_ms, T0 + 5);
    messenger_message_clear(&m);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages WHERE body LIKE '%original%' "
                                      "OR body LIKE '%corrected%' OR body LIKE '%second%'"),
                     0);
    /* A deleted message cannot be edited. */
    assert_int_equal(messenger_edit(f->s, member, g, s1, "back", T0, NULL), SB_ECONFLICT);
    /* History still shows three messages, in order, with the tombstones. */
    messenger_message page[8];
    size_t n = 0;
    assert_int_equal(messenger_history(f->s, owner, g, 0, 0, 8, page, &n), SB_OK);
    assert_int_equal(n, 3);
    assert_null(page[0].text);
    assert_null(page[1].text);
    assert_string_equal(page[2].text, "owner's");
    messenger_messages_clear(page, n);
    messenger_events_clear(&ev);
}

static void test_idempotent_client_ids(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL);
    int64_t chat = 0, other = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, a, c, T0, &other, NULL), SB_OK);
    messenger_send_request req = {
        .chat_id = chat, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "pay me back", .client_id = "c-1"};
    messenger_message first, again;
    bool duplicate = true;
    messenger_events ev = {0};
    assert_int_equal(messenger_send(f->s, &req, T0, &first, &duplicate, &ev), SB_OK);
    assert_false(duplicate);
    assert_int_equal(ev.count, 1);
    /* The retry, even with other text, returns the first message and no event. */
    req.text = "different";
    assert_int_equal(messenger_send(f->s, &req, T0 + 1, &again, &duplicate, &ev), SB_OK);
    assert_true(duplicate);
    assert_int_equal(ev.count, 0);
    assert_int_equal(again.seq, first.seq);
    assert_string_equal(again.text, "pay me back");
    assert_string_equal(again.client_id, "c-1");
    messenger_message_clear(&again);
    messenger_message_clear(&first);
    /* Same id from the other sender, or in another chat: new messages. */
    req.sender_id = b;
    assert_int_equal(messenger_send(f->s, &req, T0, &again, &duplicate, NULL), SB_OK);
    assert_false(duplicate);
    assert_int_equal(again.seq, 2);
    messenger_message_clear(&again);
    req.sender_id = a;
    req.chat_id = other;
    assert_int_equal(messenger_send(f->s, &req, T0, &again, &duplicate, NULL), SB_OK);
    assert_false(duplicate);
    assert_int_equal(again.seq, 1);
    messenger_message_clear(&again);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 3);
}

/* ---- sequence numbers under concurrency ---- */

#define WRITERS 4
#define PER_WRITER 60

typedef struct {
    const char *dir;
    int64_t chat_id;
    int64_t sender_id;
    int64_t seqs[PER_WRITER];
    int failures;
} writer_arg;

static void *writer_main(void *p) {
    writer_arg *w = p;
    store *s = NULL;
    if (store_open(w->dir, &(store_options){.durable = 0}, &s) != SB_OK) {
        w->failures = PER_WRITER;
        return NULL;
    }
    for (int i = 0; i < PER_WRITER; i++) {
        char client_id[32];
        snprintf(client_id, sizeof client_id, "w%lld-%d", (long long)w->sender_id, i);
        messenger_send_request req = {.chat_id = w->chat_id,
                                      .sender_id = w->sender_id,
                                      .kind = MESSENGER_MSG_TEXT,
                                      .text = "concurrent",
                                      .client_id = client_id};
        messenger_message m = {0};
        int result;
        do {
            result = messenger_send(s, &req, T0, &m, NULL, NULL);
        } while (result == SB_EBUSY);
        if (result != SB_OK) {
            w->failures++;
            continue;
        }
        w->seqs[i] = m.seq;
        messenger_message_clear(&m);
    }
    store_close(s);
    return NULL;
}

static void test_seq_strictly_increasing_under_threads(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, owner, "busy", T0, &g, NULL), SB_OK);
    writer_arg args[WRITERS];
    pthread_t threads[WRITERS];
    for (int t = 0; t < WRITERS; t++) {
        int64_t u = customer(f, NULL);
        assert_int_equal(messenger_group_add(f->s, owner, g, u, T0, NULL), SB_OK);
        args[t] = (writer_arg){.dir = f->dir, .chat_id = g, .sender_id = u};
    }
    for (int t = 0; t < WRITERS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, writer_main, &args[t]), 0);
    for (int t = 0; t < WRITERS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    /* Each writer saw its own seqs strictly rise; together they are 1..N once each. */
    static bool seen[WRITERS * PER_WRITER + 1];
    memset(seen, 0, sizeof seen);
    for (int t = 0; t < WRITERS; t++) {
        assert_int_equal(args[t].failures, 0);
        for (int i = 0; i < PER_WRITER; i++) {
            int64_t seq = args[t].seqs[i];
            assert_true(seq >= 1 && seq <= WRITERS * PER_WRITER);
            assert_false(seen[seq]);
            seen[seq] = true;
            if (i > 0) assert_true(seq > args[t].seqs[i - 1]);
        }
    }
    assert_int_equal(count_rows(f->s, "SELECT last_seq FROM msg_chats WHERE kind = 'group'"), WRITERS * PER_WRITER);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), WRITERS * PER_WRITER);
    assert_int_equal(count_rows(f->s, "SELECT MAX(seq) - MIN(seq) + 1 FROM msg_messages"), WRITERS * PER_WRITER);
}

/* ---- history, since, pagination ---- */

static void test_since_seq_exactly_once(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    for (int i = 1; i <= 10; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        send_text(f, chat, i % 2 ? a : b, text);
    }
    /* b saw up to 4, then went away; 11..25 arrive meanwhile. */
    for (int i = 11; i <= 25; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        send_text(f, chat, a, text);
    }
    /* Reconnect with last seen 4, pages of 7: 5..25 once each, in order. */
    int64_t last = 4, expected = 5;
    int pages = 0;
    for (;;) {
        messenger_message page[7];
        size_t n = 0;
        assert_int_equal(messenger_history(f->s, b, chat, 0, last, 7, page, &n), SB_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(page[i].seq, expected);
            char text[32];
            snprintf(text, sizeof text, "m%lld", (long long)expected);
            assert_string_equal(page[i].text, text);
            expected++;
        }
        if (n) last = page[n - 1].seq;
        messenger_messages_clear(page, n);
        pages++;
        if (n < 7) break;
    }
    assert_int_equal(expected, 26);
    assert_int_equal(pages, 4); /* 7 + 7 + 7, then an empty page says the end */
}

static void test_pagination_boundaries(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    messenger_message page[SB_MESSENGER_PAGE_MAX];
    size_t n = 9;
    /* Empty chat. */
    assert_int_equal(messenger_history(f->s, a, chat, 0, 0, 10, page, &n), SB_OK);
    assert_int_equal(n, 0);
    for (int i = 0; i < 12; i++)
        send_text(f, chat, a, "x");
    /* Newest first before a seq: before 6 with limit 3 gives 5, 4, 3. */
    assert_int_equal(messenger_history(f->s, a, chat, 6, 0, 3, page, &n), SB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(page[0].seq, 5);
    assert_int_equal(page[2].seq, 3);
    messenger_messages_clear(page, n);
    /* Before 3: only 2 and 1 exist. */
    assert_int_equal(messenger_history(f->s, a, chat, 3, 0, 10, page, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(page[0].seq, 2);
    assert_int_equal(page[1].seq, 1);
    messenger_messages_clear(page, n);
    /* A window: after 3, before 7 -> 4, 5, 6 oldest first. */
    assert_int_equal(messenger_history(f->s, a, chat, 7, 3, 10, page, &n), SB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(page[0].seq, 4);
    assert_int_equal(page[2].seq, 6);
    messenger_messages_clear(page, n);
    /* After the last: nothing; after 11: exactly 12. */
    assert_int_equal(messenger_history(f->s, a, chat, 0, 12, 10, page, &n), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(messenger_history(f->s, a, chat, 0, 11, 10, page, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(page[0].seq, 12);
    messenger_messages_clear(page, n);
    /* Latest page: before "infinity" is before_seq = last_seq + 1. */
    assert_int_equal(messenger_history(f->s, a, chat, 13, 0, 2, page, &n), SB_OK);
    assert_int_equal(page[0].seq, 12);
    messenger_messages_clear(page, n);
    /* Limits: 0 refused, negative refused, a huge limit capped. */
    assert_int_equal(messenger_history(f->s, a, chat, 0, 0, 0, page, &n), SB_EINVAL);
    assert_int_equal(messenger_history(f->s, a, chat, -1, 0, 5, page, &n), SB_EINVAL);
    assert_int_equal(messenger_history(f->s, a, chat, 0, -1, 5, page, &n), SB_EINVAL);
    assert_int_equal(messenger_history(f->s, a, chat, 0, 0, (size_t)1 << 40, page, &n), SB_OK);
    assert_int_equal(n, 12);
    messenger_messages_clear(page, n);
}

static void test_changes_since_rev(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    send_text(f, chat, a, "one");
    send_text(f, chat, a, "two");
    send_text(f, chat, b, "three");                                              /* b has seen rev 3 */
    assert_int_equal(messenger_edit(f->s, a, chat, 1, "ONE", T0, NULL), SB_OK);  /* rev 4 */
    send_text(f, chat, a, "four");                                               /* rev 5 */
    assert_int_equal(messenger_delete(f->s, a, chat, 2, T0, NULL), SB_OK);       /* rev 6 */
    assert_int_equal(messenger_edit(f->s, a, chat, 1, "One!", T0, NULL), SB_OK); /* rev 7 */
    messenger_message page[10];
    size_t n = 0;
    assert_int_equal(messenger_changes(f->s, b, chat, 3, 10, page, &n), SB_OK);
    /* Each changed message once, in its current state, in rev order. */
    assert_int_equal(n, 3);
    assert_int_equal(page[0].seq, 4);
    assert_int_equal(page[0].rev, 5);
    assert_int_equal(page[1].seq, 2);
    assert_null(page[1].text);
    assert_int_equal(page[2].seq, 1);
    assert_string_equal(page[2].text, "One!");
    assert_int_equal(page[2].rev, 7);
    messenger_messages_clear(page, n);
}

/* ---- receipts, typing ---- */

static void test_receipts_monotonic(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    for (int i = 0; i < 5; i++)
        send_text(f, chat, a, "x");
    messenger_events ev = {0};
    assert_int_equal(messenger_receipt(f->s, b, chat, 3, 0, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_RECEIPT);
    assert_int_equal(ev.items[0].delivered_seq, 3);
    assert_int_equal(ev.items[0].read_seq, 0);
    int64_t both[] = {a, b};
    assert_recipients(&ev.items[0], both, 2);
    /* Going back changes nothing and says nothing. */
    assert_int_equal(messenger_receipt(f->s, b, chat, 2, 0, &ev), SB_OK);
    assert_int_equal(ev.count, 0);
    /* Read implies delivered. */
    assert_int_equal(messenger_receipt(f->s, b, chat, 0, 4, &ev), SB_OK);
    assert_int_equal(ev.items[0].delivered_seq, 4);
    assert_int_equal(ev.items[0].read_seq, 4);
    assert_int_equal(messenger_receipt(f->s, b, chat, 5, 1, &ev), SB_OK);
    assert_int_equal(ev.items[0].delivered_seq, 5);
    assert_int_equal(ev.items[0].read_seq, 4);
    /* Past the last seq: refused. */
    assert_int_equal(messenger_receipt(f->s, b, chat, 6, 0, &ev), SB_EINVAL);
    assert_int_equal(messenger_receipt(f->s, b, chat, -1, 0, &ev), SB_EINVAL);
    messenger_chat c;
    assert_int_equal(messenger_chat_get(f->s, b, chat, &c), SB_OK);
    assert_int_equal(c.my_delivered_seq, 5);
    assert_int_equal(c.my_read_seq, 4);
    messenger_member members[4];
    size_t n = 0;
    assert_int_equal(messenger_member_list(f->s, a, chat, 0, members, 4, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(members[1].user_id, b);
    assert_int_equal(members[1].read_seq, 4);
    messenger_events_clear(&ev);
}

static void test_typing_and_event_recipients(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL), d = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, a, "g", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, b, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, c, T0, NULL), SB_OK);
    messenger_events ev = {0};
    assert_int_equal(messenger_typing(f->s, b, g, &ev), SB_OK);
    int64_t others[] = {a, c};
    assert_recipients(&ev.items[0], others, 2);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 0);
    /* A new message goes to every member, the sender's other devices included. */
    messenger_send_request req = {.chat_id = g, .sender_id = b, .kind = MESSENGER_MSG_TEXT, .text = "hi all"};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, &ev), SB_OK);
    int64_t all[] = {a, b, c};
    assert_recipients(&ev.items[0], all, 3);
    assert_int_equal(ev.items[0].seq, 1);
    assert_int_equal(ev.items[0].bot_recipient_count, 0);
    char *json = NULL;
    assert_int_equal(messenger_event_render(&ev.items[0], &json, NULL), SB_OK);
    char want[512];
    snprintf(want, sizeof want,
             "{\"type\":\"message.new\",\"chat_id\":%lld,\"seq\":1,\"rev\":1,\"actor_id\":%lld,\"message\":{\"chat_"
             "id\":%lld,"
             "\"seq\":1,\"rev\":1,\"sender_id\":%lld,\"kind\":\"text\",\"text\":\"hi all\",\"payload\":null,"
             "\"reply_to_seq\":null,\"client_id\":null,\"status\":null,\"created_at_ms\":%lld,\"edited_at_ms\":null,"
             "\"deleted\":false,\"deleted_at_ms\":null}}",
             (long long)g, (long long)b, (long long)g, (long long)b, (long long)T0);
    assert_string_equal(json, want);
    sb_free(json);
    /* After c is removed, c is not a recipient of the next message. */
    assert_int_equal(messenger_group_remove(f->s, a, g, c, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, d, T0, NULL), SB_OK);
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, &ev), SB_OK);
    int64_t now_all[] = {a, b, d};
    assert_recipients(&ev.items[0], now_all, 3);
    messenger_events_clear(&ev);
}

static void test_chat_list(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL);
    int64_t x = 0, y = 0, z = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &x, NULL), SB_OK);
    assert_int_equal(messenger_group_create(f->s, a, "g", T0, &y, NULL), SB_OK);
    assert_int_equal(messenger_direct_open(f->s, b, c, T0, &z, NULL), SB_OK);
    messenger_chat list[4];
    size_t n = 0;
    assert_int_equal(messenger_chat_list(f->s, a, 0, list, 4, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, x);
    assert_int_equal(list[1].id, y);
    assert_int_equal(messenger_chat_list(f->s, a, x, list, 4, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].kind, MESSENGER_CHAT_GROUP);
}

static void test_send_batch_savepoints(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), outsider = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, a, "batch", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, b, T0, NULL), SB_OK);
    messenger_send_request reqs[] = {
        {.chat_id = g, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "one", .client_id = "x"},
        {.chat_id = g, .sender_id = outsider, .kind = MESSENGER_MSG_TEXT, .text = "let me in"},
        {.chat_id = g, .sender_id = b, .kind = MESSENGER_MSG_TEXT, .text = "bad\t"},
        {.chat_id = g, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "one again", .client_id = "x"},
        {.chat_id = g, .sender_id = b, .kind = MESSENGER_MSG_TEXT, .text = "two", .reply_to_seq = 1},
        {.chat_id = g, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "three", .reply_to_seq = 99},
        {.chat_id = g, .sender_id = 0, .kind = MESSENGER_MSG_TEXT, .text = "nobody"},
    };
    enum { N = SB_ARRAY_LEN(reqs) };
    messenger_send_outcome out[N];
    assert_int_equal(messenger_send_batch(f->s, reqs, N, T0, out), SB_OK);
    static const int want[N] = {SB_OK, SB_EPERM, SB_EINVAL, SB_OK, SB_OK, SB_ENOTFOUND, SB_EINVAL};
    for (size_t i = 0; i < N; i++)
        if (out[i].result != want[i]) fail_msg("request %zu: result %d, want %d", i, out[i].result, want[i]);
    assert_int_equal(out[0].message.seq, 1);
    assert_int_equal(out[0].events.count, 1);
    assert_true(out[3].duplicate);
    assert_int_equal(out[3].message.seq, 1);
    assert_string_equal(out[3].message.text, "one");
    assert_int_equal(out[3].events.count, 0);
    assert_int_equal(out[4].message.seq, 2);
    assert_int_equal(out[4].events.items[0].seq, 2);
    assert_int_equal(out[1].events.count, 0);
    assert_int_equal(out[5].events.count, 0);
    /* Dense seqs: the refused ones took none. */
    assert_int_equal(count_rows(f->s, "SELECT last_seq FROM msg_chats WHERE id > 0 AND kind = 'group'"), 2);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 2);
    messenger_send_outcomes_clear(out, N);
    assert_int_equal(messenger_send_batch(f->s, reqs, 0, T0, out), SB_EINVAL);
    assert_int_equal(messenger_send_batch(f->s, reqs, SB_MESSENGER_SEND_BATCH_MAX + 1, T0, out), SB_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contact_find_only_discoverable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reach_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_unique_per_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_membership_enforced_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_management, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_owner_leaving_prefers_oldest_member_without_admins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_member_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_same_chat_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_delete_traces_and_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_client_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_strictly_increasing_under_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since_seq_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_since_rev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipts_monotonic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typing_and_event_recipients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_batch_savepoints, setup, teardown),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
