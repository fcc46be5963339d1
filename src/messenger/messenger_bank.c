/*
 * messenger_bank.c - the bank's own chats and bots: the channel (staff
 * post; customers like once, comment, share; counts kept on the post), the
 * official account (one chat per user, notices from the bank, mutable), and
 * bots (users with a token, hashed like session tokens, and keyboards).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "messenger/messenger.h"
#include "messenger/messenger_int.h"

#define TOKEN_HASH_BYTES SB_TOKEN_HASH_BYTES

/* ---- the channel ---- */

static int channel_id_in_tx(store *s, int64_t now_ms, int64_t *chat_id_out) {
    int result = store_query_int64(s, chat_id_out, "SELECT id FROM msg_chats WHERE kind = 'channel'", NULL);
    if (result != SB_ENOTFOUND) return result;
    result = store_exec(s, "INSERT INTO msg_chats(kind, title, created_at_ms) VALUES ('channel', 'SocialBank', ?)", "i",
                        now_ms);
    if (result == SB_OK) *chat_id_out = store_last_insert_id(s);
    return result;
}

int messenger_channel_id(store *s, int64_t now_ms, int64_t *chat_id_out) {
    int result = store_begin(s);
    if (result != SB_OK) return result;
    result = channel_id_in_tx(s, now_ms, chat_id_out);
    return messenger__finish(s, result, NULL);
}

static int user_role(store *s, int64_t user_id, int *role_out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT role FROM users WHERE id = ?", "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = identity_role_parse(store_col_text(st, 0), role_out);
    else if (result == STORE_DONE)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

/* Subscribe inside a transaction; *joined_out says whether a row was added. */
static int subscribe_in_tx(store *s, int64_t user_id, int64_t now_ms, int64_t *chat_id_out, int *role_out,
                           bool *joined_out) {
    int user_role_bits = 0, kind = 0, role = 0;
    *joined_out = false;
    int result = user_role(s, user_id, &user_role_bits);
    if (result == SB_OK) result = channel_id_in_tx(s, now_ms, chat_id_out);
    if (result != SB_OK) return result;
    result = messenger__access(s, *chat_id_out, user_id, &kind, &role);
    if (result == SB_EPERM) {
        role = (user_role_bits & (IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN)) ? MESSENGER_ROLE_ADMIN
                                                                                 : MESSENGER_ROLE_MEMBER;
        result = messenger__member_insert(s, *chat_id_out, user_id, role, now_ms);
        *joined_out = result == SB_OK;
    }
    *role_out = role;
    return result;
}

int messenger_channel_subscribe(store *s, int64_t user_id, int64_t now_ms, messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t chat_id = 0;
    int role = 0;
    bool joined = false;
    result = subscribe_in_tx(s, user_id, now_ms, &chat_id, &role, &joined);
    /* Only the subscriber hears it: the channel's audience is not told who joined. */
    if (result == SB_OK && joined) {
        messenger_event *ev = messenger__event_add(events, MESSENGER_EVENT_MEMBERS, chat_id, user_id);
        if (ev) {
            ev->action = MESSENGER_MEMBERS_JOINED;
            ev->subject_id = user_id;
            ev->subject_role = role;
            ev->recipients = sb_malloc(sizeof *ev->recipients);
            if (!ev->recipients)
                result = SB_ENOMEM;
            else
                ev->recipients[ev->recipient_count++] = user_id;
        }
    }
    return messenger__finish(s, result, events);
}

int messenger_channel_unsubscribe(store *s, int64_t user_id) {
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t chat_id = 0;
    result = store_query_int64(s, &chat_id, "SELECT id FROM msg_chats WHERE kind = 'channel'", NULL);
    if (result == SB_OK) result = messenger__member_delete(s, chat_id, user_id);
    if (result == SB_ENOTFOUND) result = SB_OK; /* not subscribed: nothing to do */
    return messenger__finish(s, result, NULL);
}

int messenger_channel_post(store *s, int64_t author_id, const char *text, int64_t now_ms, messenger_message *out,
                           messenger_events *events) {
    messenger_events_clear(events);
    if (!text) return SB_EINVAL;
    size_t len = strnlen(text, SB_MESSENGER_TEXT_BYTES_MAX + 1);
    int result = messenger_text_check(text, len);
    if (result != SB_OK) return result;
    messenger_message m = {.sender_id = author_id, .kind = MESSENGER_MSG_POST, .created_at_ms = now_ms};
    if (!(m.text = sb_strndup(text, len))) return SB_ENOMEM;
    result = store_begin(s);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    int role = 0, user_role_bits = 0;
    bool joined;
    result = user_role(s, author_id, &user_role_bits);
    if (result == SB_ENOTFOUND) result = SB_EPERM;
    if (result == SB_OK && !(user_role_bits & (IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN))) result = SB_EPERM;
    if (result == SB_OK) result = subscribe_in_tx(s, author_id, now_ms, &m.chat_id, &role, &joined);
    if (result == SB_OK && role == MESSENGER_ROLE_MEMBER) result = SB_EPERM;
    if (result == SB_OK) result = messenger__message_insert(s, &m);
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, &m, author_id);
    result = messenger__finish(s, result, events);
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

/* The channel post at post_seq, for a subscriber (anyone may subscribe, so a
 * non-subscriber is refused like any non-member). */
static int channel_post_for(store *s, int64_t user_id, int64_t post_seq, int64_t *chat_id_out,
                            messenger_message *post) {
    int result = store_query_int64(s, chat_id_out, "SELECT id FROM msg_chats WHERE kind = 'channel'", NULL);
    if (result == SB_ENOTFOUND) return SB_EPERM;
    int kind, role;
    if (result == SB_OK) result = messenger__access(s, *chat_id_out, user_id, &kind, &role);
    if (result == SB_OK) result = messenger__message_load(s, *chat_id_out, post_seq, post);
    if (result == SB_OK && (post->kind != MESSENGER_MSG_POST || post->deleted_at_ms)) result = SB_ENOTFOUND;
    return result;
}

/* Add one to a post's counter (column named by which), take a rev, and
 * produce the POST_COUNTS event. */
static int post_count_bump(store *s, messenger_message *post, int which, int64_t actor_id, messenger_events *events) {
    int result = messenger__chat_advance(s, post->chat_id, &post->rev);
    static const char *const sql[] = {
        "UPDATE msg_messages SET like_count = like_count + 1, rev = ? WHERE chat_id = ? AND seq = ?",
        "UPDATE msg_messages SET comment_count = comment_count + 1, rev = ? WHERE chat_id = ? AND seq = ?",
        "UPDATE msg_messages SET share_count = share_count + 1, rev = ? WHERE chat_id = ? AND seq = ?",
    };
    if (result == SB_OK) result = store_exec(s, sql[which], "iii", post->rev, post->chat_id, post->seq);
    if (result == SB_OK) {
        int64_t *counter = which == 0 ? &post->like_count : which == 1 ? &post->comment_count : &post->share_count;
        result = sb_add_int64(*counter, 1, counter);
    }
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_POST_COUNTS, post, actor_id);
    return result;
}

int messenger_channel_like(store *s, int64_t user_id, int64_t post_seq, int64_t now_ms, messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t chat_id = 0;
    messenger_message post = {0};
    result = channel_post_for(s, user_id, post_seq, &chat_id, &post);
    if (result == SB_OK)
        result = store_exec(s, "INSERT INTO msg_likes(chat_id, seq, user_id, created_at_ms) VALUES (?, ?, ?, ?)",
                            "iiii", chat_id, post_seq, user_id, now_ms);
    if (result == SB_OK) result = post_count_bump(s, &post, 0, user_id, events);
    messenger_message_clear(&post);
    return messenger__finish(s, result, events);
}

/* A COMMENT message by user_id replying to reply_to_seq (a post, or a comment
 * for the bank's answer), its text checked and copied into *m (the caller
 * clears it).  Text errors as messenger_text_check, SB_ENOMEM. */
static int comment_message(int64_t user_id, int64_t reply_to_seq, const char *text, int64_t now_ms,
                           messenger_message *m) {
    if (!text) return SB_EINVAL;
    size_t len = strnlen(text, SB_MESSENGER_TEXT_BYTES_MAX + 1);
    int result = messenger_text_check(text, len);
    if (result != SB_OK) return result;
    *m = (messenger_message){
        .sender_id = user_id, .kind = MESSENGER_MSG_COMMENT, .reply_to_seq = reply_to_seq, .created_at_ms = now_ms};
    return (m->text = sb_strndup(text, len)) ? SB_OK : SB_ENOMEM;
}

int messenger_channel_comment(store *s, int64_t user_id, int64_t post_seq, const char *text, const char *client_id,
                              int64_t now_ms, messenger_message *out, messenger_events *events) {
    messenger_events_clear(events);
    if (client_id && messenger_client_id_check(client_id) != SB_OK) return SB_EINVAL;
    messenger_message m;
    int result = comment_message(user_id, post_seq, text, now_ms, &m);
    if (result != SB_OK) return result;
    if (client_id) memcpy(m.client_id, client_id, strlen(client_id) + 1);
    result = store_begin(s);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    messenger_message post = {0};
    bool duplicate = false;
    result = channel_post_for(s, user_id, post_seq, &m.chat_id, &post);
    if (result == SB_OK && client_id) {
        int64_t seq;
        result = store_query_int64(s, &seq,
                                   "SELECT seq FROM msg_messages WHERE chat_id = ? AND sender_id = ? AND client_id = ?",
                                   "iit", m.chat_id, user_id, client_id);
        if (result == SB_OK) {
            duplicate = true;
            messenger_message_clear(&m);
            result = messenger__message_load(s, post.chat_id, seq, &m);
        } else if (result == SB_ENOTFOUND) {
            result = SB_OK;
        }
    }
    if (result == SB_OK && !duplicate) result = messenger__message_insert(s, &m);
    if (result == SB_OK && !duplicate)
        result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, &m, user_id);
    if (result == SB_OK && !duplicate) result = post_count_bump(s, &post, 1, user_id, events);
    messenger_message_clear(&post);
    result = messenger__finish(s, result, events);
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

int messenger_channel_comment_reply(store *s, int64_t user_id, int64_t chat_id, int64_t comment_seq, const char *text,
                                    int64_t now_ms, messenger_message *out, messenger_events *events) {
    messenger_events_clear(events);
    messenger_message m;
    int result = comment_message(user_id, comment_seq, text, now_ms, &m);
    if (result != SB_OK) return result;
    result = store_begin(s);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    messenger_message comment = {0}, post = {0};
    int64_t channel_id = 0;
    result = store_query_int64(s, &channel_id, "SELECT id FROM msg_chats WHERE kind = 'channel'", NULL);
    if (result == SB_OK && channel_id != chat_id) result = SB_ENOTFOUND;
    int kind, role;
    if (result == SB_OK) result = messenger__access(s, chat_id, user_id, &kind, &role);
    if (result == SB_OK) result = messenger__message_load(s, chat_id, comment_seq, &comment);
    if (result == SB_OK && (comment.kind != MESSENGER_MSG_COMMENT || comment.deleted_at_ms)) result = SB_ENOTFOUND;
    /* The comment's post: the reply counts among its comments. */
    if (result == SB_OK) result = messenger__message_load(s, chat_id, comment.reply_to_seq, &post);
    if (result == SB_OK && post.kind != MESSENGER_MSG_POST) result = SB_ENOTFOUND;
    m.chat_id = chat_id;
    if (result == SB_OK) result = messenger__message_insert(s, &m);
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, &m, user_id);
    if (result == SB_OK) result = post_count_bump(s, &post, 1, user_id, events);
    messenger_message_clear(&comment);
    messenger_message_clear(&post);
    result = messenger__finish(s, result, events);
    /* No comment hook: the bank's own answer is not a post about the bank. */
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

int messenger_channel_share(store *s, int64_t user_id, int64_t post_seq, int64_t target_chat_id, int64_t now_ms,
                            messenger_message *out, messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t channel_id = 0;
    int kind = 0, role = 0;
    messenger_message post = {0};
    messenger_message m = {
        .chat_id = target_chat_id, .sender_id = user_id, .kind = MESSENGER_MSG_SHARE, .created_at_ms = now_ms};
    result = channel_post_for(s, user_id, post_seq, &channel_id, &post);
    if (result == SB_OK) result = messenger__access(s, target_chat_id, user_id, &kind, &role);
    if (result == SB_OK && (kind == MESSENGER_CHAT_CHANNEL || kind == MESSENGER_CHAT_OFFICIAL)) result = SB_EPERM;
    if (result == SB_OK && kind == MESSENGER_CHAT_DIRECT) {
        int64_t n = 0;
        result = store_query_int64(s, &n,
                                   "SELECT COUNT(*) FROM msg_blocks b JOIN msg_chats c ON c.id = ? WHERE "
                                   "(b.blocker_id = c.pair_lo AND b.blocked_id = c.pair_hi) OR "
                                   "(b.blocker_id = c.pair_hi AND b.blocked_id = c.pair_lo)",
                                   "i", target_chat_id);
        if (result == SB_OK && n > 0) result = SB_EPERM;
    }
    if (result == SB_OK) {
        sb_buf b;
        sb_buf_init(&b, 64);
        result = sb_buf_printf(&b, "{\"chat_id\":%lld,\"seq\":%lld}", (long long)channel_id, (long long)post_seq);
        if (result == SB_OK) {
            m.payload_json = sb_buf_take(&b, NULL);
            if (!m.payload_json) result = SB_ENOMEM;
        }
    }
    if (result == SB_OK) result = messenger__message_insert(s, &m);
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, &m, user_id);
    if (result == SB_OK) result = post_count_bump(s, &post, 2, user_id, events);
    messenger_message_clear(&post);
    result = messenger__finish(s, result, events);
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

/* ---- the official account ---- */

int messenger_official_notify(store *s, int64_t user_id, const char *text, const char *payload_json, int64_t now_ms,
                              messenger_message *out, messenger_events *events) {
    messenger_events_clear(events);
    if (!text) return SB_EINVAL;
    size_t len = strnlen(text, SB_MESSENGER_TEXT_BYTES_MAX + 1);
    int result = messenger_text_check(text, len);
    if (result != SB_OK) return result;
    messenger_message m = {.kind = MESSENGER_MSG_NOTICE, .created_at_ms = now_ms};
    if (payload_json) {
        size_t plen = strnlen(payload_json, SB_MESSENGER_PAYLOAD_BYTES_MAX + 1);
        if (plen > SB_MESSENGER_PAYLOAD_BYTES_MAX) return SB_ELIMIT;
        json_error_t err;
        json_t *root = json_loadb(payload_json, plen, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(root)) {
            json_decref(root);
            return SB_EINVAL;
        }
        char *dumped = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(root);
        if (!dumped) return SB_ENOMEM;
        m.payload_json = sb_strdup(dumped);
        free(dumped);
        if (!m.payload_json) return SB_ENOMEM;
    }
    if (!(m.text = sb_strndup(text, len))) {
        messenger_message_clear(&m);
        return SB_ENOMEM;
    }
    result = store_begin(s);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    int64_t muted = 0;
    result = messenger__user_exists(s, user_id);
    if (result == SB_OK) {
        result = store_query_int64(s, &m.chat_id, "SELECT id FROM msg_chats WHERE kind = 'official' AND pair_lo = ?",
                                   "i", user_id);
        if (result == SB_ENOTFOUND) {
            result = store_exec(s,
                                "INSERT INTO msg_chats(kind, title, pair_lo, created_at_ms) "
                                "VALUES ('official', 'SocialBank', ?, ?)",
                                "ii", user_id, now_ms);
            if (result == SB_OK) m.chat_id = store_last_insert_id(s);
            if (result == SB_OK)
                result = messenger__member_insert(s, m.chat_id, user_id, MESSENGER_ROLE_MEMBER, now_ms);
        }
    }
    if (result == SB_OK) {
        result =
            store_query_int64(s, &muted, "SELECT official_muted FROM msg_settings WHERE user_id = ?", "i", user_id);
        if (result == SB_ENOTFOUND) result = SB_OK;
    }
    if (result == SB_OK) result = messenger__message_insert(s, &m);
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, &m, 0);
    if (result == SB_OK && events && events->count) events->items[0].silent = muted != 0;
    result = messenger__finish(s, result, events);
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

/* ---- bots ---- */

/* Bot tokens are accepted back exactly as issued: lowercase hex. */
static int bot_token_hash(const char *token, unsigned char out[TOKEN_HASH_BYTES]) {
    return sb_token_hash(token, true, out);
}

int messenger_bot_create(store *s, const char *username, int64_t now_ms, char token_out[MESSENGER_BOT_TOKEN_CHARS + 1],
                         int64_t *bot_id_out) {
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;
    if (!username || identity_username_check(username) != SB_OK) return SB_EINVAL;
    size_t n = strlen(username);
    if (n < 3 || strncasecmp(username + n - 3, "bot", 3) != 0) return SB_EINVAL;
    /* The account's password is random and thrown away: a bot signs in with
     * its token only. */
    char password[2 * SB_TOKEN_BYTES + 1];
    sb_random_hex(password, SB_TOKEN_BYTES);
    char token[MESSENGER_BOT_TOKEN_CHARS + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    sb_random_hex(token, SB_TOKEN_BYTES);
    int64_t bot_id = 0;
    int result = bot_token_hash(token, hash);
    SB_ASSERT(result == SB_OK); /* we made it: it has the right shape */
    /* One transaction: the account and its token exist together or not at all. */
    result = store_begin(s);
    if (result == SB_OK) {
        result = identity_staff_create(s, username, password, IDENTITY_ROLE_AGENT, &bot_id);
        if (result == SB_OK)
            result = store_exec(s, "INSERT INTO msg_bots(user_id, token_hash, created_at_ms) VALUES (?, ?, ?)", "ibi",
                                bot_id, hash, (int)sizeof hash, now_ms);
        result = messenger__finish(s, result, NULL);
    }
    sodium_memzero(password, sizeof password);
    if (result == SB_OK) {
        memcpy(token_out, token, sizeof token);
        *bot_id_out = bot_id;
    }
    sodium_memzero(token, sizeof token);
    return result;
}

int messenger_bot_authenticate(store *s, const char *token, int64_t *bot_id_out) {
    if (!token) return SB_EAUTH;
    /* "<bot id>:<secret>" (the Bot API's form) names the bot; the secret alone is the old form */
    int64_t named_id = 0;
    const char *colon = strchr(token, ':');
    if (colon) {
        char digits[21];
        size_t n = (size_t)(colon - token);
        if (n == 0 || n >= sizeof digits) return SB_EAUTH;
        memcpy(digits, token, n);
        digits[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (digits[i] < '0' || digits[i] > '9') return SB_EAUTH;
        if (sb_parse_int64(digits, &named_id) != SB_OK || named_id <= 0) return SB_EAUTH;
        token = colon + 1;
    }
    unsigned char hash[TOKEN_HASH_BYTES];
    int result = bot_token_hash(token, hash);
    if (result != SB_OK) return SB_EAUTH;
    int64_t bot_id = 0;
    result =
        store_query_int64(s, &bot_id, "SELECT user_id FROM msg_bots WHERE token_hash = ?", "b", hash, (int)sizeof hash);
    if (result == SB_ENOTFOUND || (result == SB_OK && named_id && named_id != bot_id)) return SB_EAUTH;
    if (result == SB_OK) *bot_id_out = bot_id;
    return result;
}

int messenger_bot_token_format(int64_t bot_id, const char *secret, char *out, size_t out_size) {
    /* at least three digits before the colon: python-telegram-bot refuses fewer */
    int n = snprintf(out, out_size, "%03lld:%s", (long long)bot_id, secret);
    return n < 0 || (size_t)n >= out_size ? SB_ELIMIT : SB_OK;
}

int messenger_bot_press(store *s, int64_t user_id, int64_t chat_id, int64_t seq, const char *data,
                        messenger_events *events) {
    messenger_events_clear(events);
    if (!data || strnlen(data, SB_MESSENGER_BUTTON_DATA_BYTES_MAX + 1) > SB_MESSENGER_BUTTON_DATA_BYTES_MAX)
        return SB_EINVAL;
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    int kind, role;
    bool found = false;
    messenger_message m = {0};
    result = messenger__access(s, chat_id, user_id, &kind, &role);
    if (result == SB_OK) result = messenger__message_load(s, chat_id, seq, &m);
    if (result == SB_OK && (m.kind != MESSENGER_MSG_KEYBOARD || m.deleted_at_ms)) result = SB_ENOTFOUND;
    if (result == SB_OK) result = messenger__keyboard_has_data(m.payload_json, data, &found);
    if (result == SB_OK && !found) result = SB_ENOTFOUND;
    messenger_event *ev =
        result == SB_OK ? messenger__event_add(events, MESSENGER_EVENT_BOT_CALLBACK, chat_id, user_id) : NULL;
    if (ev) {
        ev->seq = seq;
        ev->callback_data = sb_strdup(data);
        ev->recipients = sb_malloc(sizeof *ev->recipients);
        ev->bot_recipients = sb_malloc(sizeof *ev->bot_recipients);
        if (!ev->callback_data || !ev->recipients || !ev->bot_recipients) {
            result = SB_ENOMEM;
        } else {
            ev->recipients[ev->recipient_count++] = m.sender_id;
            ev->bot_recipients[ev->bot_recipient_count++] = m.sender_id;
        }
    }
    messenger_message_clear(&m);
    return messenger__finish(s, result, events);
}
