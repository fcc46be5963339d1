/*
 * messenger.h - the Bale side of SocialBank, as a domain module: contacts
 * and blocks, chats (1:1, groups, the bank's channel, the bank's official
 * account), messages with per-chat sequence numbers, receipts, structured
 * payment messages, bots, and the events every change produces for the api
 * layer to push over WebSocket.
 *
 * Uses store, core and identity only.  Every function takes the caller's own
 * store connection (one per thread) and does its work in ONE transaction:
 * what it reports as done is committed, and a failure leaves nothing written.
 *
 * Sequence numbers.  Each chat numbers its messages 1, 2, 3... (`seq`),
 * assigned inside the transaction that inserts the message, so readers never
 * see a gap or a reordering.  Every change to a message (new, edit, delete,
 * payment status, channel counts) also takes the chat's next `rev`, stored on
 * the message: a reconnecting client asks for messages after the last seq it
 * saw (new ones, in order, exactly once) and for changes after the last rev
 * it saw (each changed message once, in its current state).
 *
 * Who may see what.  Every read and write checks membership.  An unknown chat
 * and a chat the caller is not a member of give the SAME answer, SB_EPERM, so
 * that probing chat ids reveals nothing about which exist (SB_ENOTFOUND is
 * kept for objects inside a chat the caller may see, such as a message seq).
 * Removed members and users who left are non-members.
 *
 * Events.  Every mutating call fills a messenger_events (may be NULL) with
 * what happened and which user ids to notify; the recipient lists are read
 * inside the same transaction (one query, no per-member lookups), so they
 * match the committed membership.  messenger_event_render gives the JSON text
 * the api pushes.  Typing indicators are events only: nothing is stored.
 *
 * Schema: migrations 0400-0499 (msg_settings, msg_blocks, msg_chats,
 * msg_members, msg_messages, msg_likes, msg_bots).
 */
#ifndef SB_MESSENGER_H
#define SB_MESSENGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "identity/identity.h"
#include "store/store.h"

/* ---- chats, members, messages ------------------------------------------ */
typedef enum {
    MESSENGER_CHAT_DIRECT = 1,   /* 1:1, exactly one per pair of users */
    MESSENGER_CHAT_GROUP = 2,    /* owner, admins, members */
    MESSENGER_CHAT_CHANNEL = 3,  /* the bank's channel: staff post, customers like/comment/share */
    MESSENGER_CHAT_OFFICIAL = 4, /* the bank's official account, one per user */
} messenger_chat_kind;

typedef enum {
    MESSENGER_ROLE_MEMBER = 1,
    MESSENGER_ROLE_ADMIN = 2,
    MESSENGER_ROLE_OWNER = 3,
} messenger_member_role;

typedef enum {
    MESSENGER_MSG_TEXT = 1,     /* text, may reply */
    MESSENGER_MSG_PAYMENT = 2,  /* structured payment, JSON payload, status */
    MESSENGER_MSG_POST = 3,     /* a channel post by staff */
    MESSENGER_MSG_COMMENT = 4,  /* a comment on a channel post (reply_to_seq = the post) */
    MESSENGER_MSG_SHARE = 5,    /* a channel post shared into another chat */
    MESSENGER_MSG_NOTICE = 6,   /* from the bank's official account (sender 0) */
    MESSENGER_MSG_KEYBOARD = 7, /* a bot's answer with an inline keyboard payload */
    MESSENGER_MSG_MEDIA = 8,    /* a photo, file or voice note (payload from media), optional caption */
} messenger_message_kind;

typedef enum {
    MESSENGER_PAYMENT_NONE = 0,
    MESSENGER_PAYMENT_PENDING = 1,
    MESSENGER_PAYMENT_PAID = 2,
    MESSENGER_PAYMENT_DECLINED = 3,
    MESSENGER_PAYMENT_EXPIRED = 4,
} messenger_payment_status;

const char *messenger_chat_kind_name(int kind);        /* "direct"...; NULL if unknown */
const char *messenger_member_role_name(int role);      /* "owner"...; NULL if unknown */
const char *messenger_message_kind_name(int kind);     /* "text"...; NULL if unknown */
const char *messenger_payment_status_name(int status); /* "pending"...; NULL for NONE/unknown */
/* Parse "paid" etc.  SB_EINVAL for anything else. */
int messenger_payment_status_parse(const char *name, int *status_out) SB_MUST_CHECK;

typedef struct {
    int64_t id;
    int kind; /* messenger_chat_kind */
    char title[SB_MESSENGER_TITLE_BYTES_MAX + 1];
    int64_t last_seq;
    int64_t last_rev;
    int64_t member_count;
    int64_t created_at_ms;
    /* The caller's own membership. */
    int my_role; /* messenger_member_role */
    int64_t my_delivered_seq;
    int64_t my_read_seq;
} messenger_chat;

typedef struct {
    int64_t user_id;
    int role; /* messenger_member_role */
    int64_t delivered_seq;
    int64_t read_seq;
    int64_t joined_at_ms;
} messenger_member;

/* A message as stored.  text and payload_json are owned (sb_malloc) and
 * freed by messenger_message_clear; text is NULL once deleted. */
typedef struct {
    int64_t chat_id;
    int64_t seq;
    int64_t rev;
    int64_t sender_id; /* 0: the bank */
    int kind;          /* messenger_message_kind */
    char *text;
    char *payload_json;
    int64_t reply_to_seq; /* 0: none */
    char client_id[SB_MESSENGER_CLIENT_ID_BYTES_MAX + 1];
    int status; /* messenger_payment_status */
    int64_t created_at_ms;
    int64_t edited_at_ms;  /* 0: never */
    int64_t deleted_at_ms; /* 0: not deleted */
    int64_t like_count;
    int64_t comment_count;
    int64_t share_count;
} messenger_message;

/* Free what a message owns and zero it.  NULL is allowed. */
void messenger_message_clear(messenger_message *m);
/* Free count messages of an array filled by a list call (not the array). */
void messenger_messages_clear(messenger_message *list, size_t count);

/* ---- events ------------------------------------------------------------- */
typedef enum {
    MESSENGER_EVENT_NONE = 0,
    MESSENGER_EVENT_MESSAGE_NEW = 1,
    MESSENGER_EVENT_MESSAGE_EDITED = 2,
    MESSENGER_EVENT_MESSAGE_DELETED = 3,
    MESSENGER_EVENT_PAYMENT_STATUS = 4,
    MESSENGER_EVENT_RECEIPT = 5,
    MESSENGER_EVENT_MEMBERS = 6, /* joined, added, removed, left, role, renamed */
    MESSENGER_EVENT_POST_COUNTS = 7,
    MESSENGER_EVENT_TYPING = 8,
    MESSENGER_EVENT_BOT_CALLBACK = 9, /* a button of a bot's keyboard was pressed */
} messenger_event_type;

typedef enum {
    MESSENGER_MEMBERS_CREATED = 1,
    MESSENGER_MEMBERS_ADDED = 2,
    MESSENGER_MEMBERS_REMOVED = 3,
    MESSENGER_MEMBERS_LEFT = 4,
    MESSENGER_MEMBERS_ROLE = 5, /* subject's role changed (incl. owner hand-off) */
    MESSENGER_MEMBERS_RENAMED = 6,
    MESSENGER_MEMBERS_JOINED = 7, /* subscribed to the channel */
} messenger_members_action;

typedef struct {
    int type; /* messenger_event_type */
    int64_t chat_id;
    int64_t seq;      /* message seq concerned; for receipts the read/delivered chat seq */
    int64_t rev;      /* the chat's rev after this change (0 for receipts, typing, members) */
    int64_t actor_id; /* who did it (0: the bank or the payments module) */
    /* Users to notify (owned), and which of them are bots (owned, may be 0). */
    int64_t *recipients;
    size_t recipient_count;
    int64_t *bot_recipients;
    size_t bot_recipient_count;
    /* MESSAGE_*, PAYMENT_STATUS, POST_COUNTS: the message in its new state. */
    messenger_message message;
    /* RECEIPT */
    int64_t delivered_seq;
    int64_t read_seq;
    /* MEMBERS */
    int action;                                   /* messenger_members_action */
    int64_t subject_id;                           /* the user added/removed/whose role changed */
    int subject_role;                             /* new role (ROLE action) */
    char title[SB_MESSENGER_TITLE_BYTES_MAX + 1]; /* RENAMED, CREATED */
    /* BOT_CALLBACK: the button's data (owned). */
    char *callback_data;
    /* Notification without an alert (the recipient muted the official account). */
    bool silent;
} messenger_event;

/* What one call produced: at most MESSENGER_EVENTS_PER_CALL_MAX events
 * (a group owner leaving: "left" and the new owner's "role"; a comment: the
 * comment and the post's counts). */
#define MESSENGER_EVENTS_PER_CALL_MAX 2
typedef struct {
    messenger_event items[MESSENGER_EVENTS_PER_CALL_MAX];
    size_t count;
} messenger_events;

/* Free what the events own and set count to 0.  NULL is allowed.  Every
 * call that takes a messenger_events clears it first, so one value can be
 * reused call after call (clear it once at the end). */
void messenger_events_clear(messenger_events *events);
/* Render one event as a JSON object text, e.g.
 *   {"type":"message.new","chat_id":7,"seq":12,"rev":15,"actor_id":3,
 *    "message":{...}}
 * (recipients are not rendered: they are the addressing, not the content).
 * *json_out is NUL-terminated, owned by the caller (sb_free); *len_out may be
 * NULL.  SB_ENOMEM, SB_ELIMIT past SB_MESSENGER_EVENT_JSON_BYTES_MAX. */
int messenger_event_render(const messenger_event *event, char **json_out, size_t *len_out) SB_MUST_CHECK;
/* Render a message object alone (history routes). Same contract. */
int messenger_message_render(const messenger_message *m, char **json_out, size_t *len_out) SB_MUST_CHECK;

/* ---- validation (pure functions; fuzzed) --------------------------------- */
/* Message text: 1..SB_MESSENGER_TEXT_BYTES_MAX bytes of valid UTF-8, no
 * control characters except newline (tab and carriage return included in the
 * refusal), not only whitespace.  SB_ELIMIT when too long, SB_EINVAL else. */
int messenger_text_check(const char *text, size_t len) SB_MUST_CHECK;
/* A group title: 1..SB_MESSENGER_TITLE_BYTES_MAX bytes, same rules, no newline. */
int messenger_title_check(const char *title) SB_MUST_CHECK;
/* A client message id: 1..SB_MESSENGER_CLIENT_ID_BYTES_MAX of [A-Za-z0-9._:-]. */
int messenger_client_id_check(const char *client_id) SB_MUST_CHECK;
/* A payment payload: a JSON object (at most SB_MESSENGER_PAYLOAD_BYTES_MAX
 * bytes) with "type":"payment", "transfer_id" (1..64 of [A-Za-z0-9_-]),
 * "amount_minor" (integer > 0), "currency" (three capital letters), "status"
 * (a payment status name: the message's status, kept in step by
 * messenger_payment_status_set/_update), and optionally "note" (text rules),
 * "kind" ("send"|"request"|"split"|"bill"|"topup"), "request_id",
 * "split_id", "receipt_id", "from_user_id", "to_user_id" (integers > 0),
 * "fee_minor" (integer >= 0), "counterparty" and "reference" (title rules),
 * and "shares": who owes what and whether it is settled, 1 to
 * SB_MESSENGER_PAYMENT_SHARES_MAX objects of exactly {"user_id":>0,
 * "amount_minor":>=0,"status":name} with distinct users, whose amounts sum
 * to amount_minor.  No other keys.  On success and if canonical_out is not
 * NULL, the canonical compact JSON (keys sorted) is returned there (caller
 * frees).  SB_EINVAL / SB_ELIMIT / SB_ENOMEM. */
int messenger_payment_payload_check(const char *json, size_t len, char **canonical_out) SB_MUST_CHECK;
/* A bot keyboard payload, exactly one of:
 *   {"buttons":[[{"text":T,"data":D} or {"text":T,"url":U},...],...]}  an inline keyboard
 *   {"reply_keyboard":[[{"text":T} or {"text":T,"request_contact":true},...],...]}
 *   {"remove_keyboard":true}
 *   {"invoice":{"id":N,"title":T,"description":D,"currency":"IRR","total_amount":A}}
 *      (a bot's invoice, the Bot API's sendInvoice: D by the text rules, N and A > 0)
 * with 1..SB_MESSENGER_KEYBOARD_ROWS_MAX rows of 1..SB_MESSENGER_KEYBOARD_COLS_MAX
 * buttons, T by the title rules, D 1..SB_MESSENGER_BUTTON_DATA_BYTES_MAX
 * printable ASCII, U an http:// or https:// URL of printable ASCII (at most
 * SB_MESSENGER_BUTTON_URL_BYTES_MAX).  canonical_out as above. */
int messenger_keyboard_payload_check(const char *json, size_t len, char **canonical_out) SB_MUST_CHECK;
/* A media payload: a JSON object (at most SB_MESSENGER_PAYLOAD_BYTES_MAX
 * bytes) with a positive integer "upload_id" and a string "hash" (the media
 * module writes it; the database links the upload when the message is
 * stored, and refuses one that is not the sender's in this chat).
 * *canonical_out as for payments.  SB_EINVAL, SB_ELIMIT, SB_ENOMEM. */
int messenger_media_payload_check(const char *json, size_t len, char **canonical_out) SB_MUST_CHECK;

/* ---- contacts and blocks -------------------------------------------------- */
/* May others find user_id by phone or @username (default: no): both halves at once. */
int messenger_discoverable_set(store *s, int64_t user_id, bool discoverable) SB_MUST_CHECK;
/* The two halves separately: by_phone / by_username 1 (yes), 0 (no) or -1
 * (leave as it is).  SB_ENOTFOUND for an unknown user. */
int messenger_discoverability_set(store *s, int64_t user_id, int by_phone, int by_username) SB_MUST_CHECK;
int messenger_discoverability_get(store *s, int64_t user_id, bool *by_phone_out, bool *by_username_out) SB_MUST_CHECK;
/* A phone book lookup: the customer with this E.164 phone if the caller may
 * see them (discoverable by phone, or already in a 1:1 chat with the caller)
 * and they have not blocked the caller; SB_ENOTFOUND otherwise, the same
 * answer for hidden and unknown.  Never the caller themself. */
int messenger_contact_lookup_phone(store *s, int64_t caller_id, const char *phone_e164,
                                   int64_t *user_id_out) SB_MUST_CHECK;
/* Find a customer by phone (any form sb_phone_normalize accepts) or by
 * @username ("@name" or "name").  Only users who made themselves
 * discoverable, and who have not blocked the caller, are found; every other
 * case is SB_ENOTFOUND (the same answer, so a search reveals nothing), a
 * malformed query SB_EINVAL. */
int messenger_contact_find(store *s, int64_t caller_id, const char *query, int64_t *user_id_out) SB_MUST_CHECK;
/* Who may find and reach whom: the one place for these rules (contacts,
 * chats, groups and the payment aliases and requests all ask here).
 *
 * Findable: may viewer find target by a lookup (phone number or @username)?
 * Only a customer who made themself discoverable and has not blocked the
 * viewer.  SB_OK, else SB_ENOTFOUND in every case (the same answer as for
 * an unknown user: a lookup never tells hidden from unknown). */
int messenger_findable_check(store *s, int64_t viewer_id, int64_t target_id) SB_MUST_CHECK;
/* Reachable by id: may actor open a 1:1 chat with target, add them to a
 * group, ask them for money or put them in a split?  A bot: yes (bots are
 * public).  Staff: never.  A customer: when findable by the actor, or when
 * the two already share a 1:1 chat or a group (as in Telegram: someone you
 * already talk to, or found by an allowed lookup), or when the actor is one
 * of the bank's bots (a case's reply goes to the customer's chat with it).  SB_ENOTFOUND otherwise,
 * as for an unknown id; then SB_EPERM if either has blocked the other (a
 * hidden user is never reported as blocking). */
int messenger_reach_check(store *s, int64_t actor_id, int64_t target_id) SB_MUST_CHECK;
/* Has either of a and b blocked the other? */
int messenger_blocked_either(store *s, int64_t a, int64_t b, bool *blocked_out) SB_MUST_CHECK;
/* Block/unblock.  Blocking is idempotent (SB_OK again); SB_EINVAL for
 * oneself, SB_ENOTFOUND for an unknown user.  While either has blocked the
 * other, neither can open a 1:1 chat with or message the other there, nor
 * add the other to a group (SB_EPERM). */
int messenger_block(store *s, int64_t blocker_id, int64_t blocked_id, int64_t now_ms) SB_MUST_CHECK;
int messenger_unblock(store *s, int64_t blocker_id, int64_t blocked_id) SB_MUST_CHECK;
int messenger_is_blocked(store *s, int64_t blocker_id, int64_t blocked_id, bool *blocked_out) SB_MUST_CHECK;

/* ---- chats ---------------------------------------------------------------- */
/* The 1:1 chat of caller and peer, created on first use (*created_out may be
 * NULL).  Concurrent first uses still make exactly one.  SB_EINVAL for
 * oneself, SB_ENOTFOUND for an unknown peer or one the caller may not reach
 * (messenger_reach_check: staff, a hidden customer), SB_EPERM if either
 * blocked the other. */
int messenger_direct_open(store *s, int64_t caller_id, int64_t peer_id, int64_t now_ms, int64_t *chat_id_out,
                          bool *created_out) SB_MUST_CHECK;
/* A chat as the caller sees it.  SB_EPERM unless a member. */
int messenger_chat_get(store *s, int64_t caller_id, int64_t chat_id, messenger_chat *out) SB_MUST_CHECK;
/* The caller's chats with id > after_chat_id, by id, at most out_max. */
int messenger_chat_list(store *s, int64_t caller_id, int64_t after_chat_id, messenger_chat *out, size_t out_max,
                        size_t *count_out) SB_MUST_CHECK;
/* Members with user_id > after_user_id, by user id, at most out_max.  SB_EPERM
 * unless the caller is a member (the channel lists only to staff members). */
int messenger_member_list(store *s, int64_t caller_id, int64_t chat_id, int64_t after_user_id, messenger_member *out,
                          size_t out_max, size_t *count_out) SB_MUST_CHECK;

/* ---- groups ---- */
/* Create a group owned by owner_id.  SB_EINVAL for a bad title. */
int messenger_group_create(store *s, int64_t owner_id, const char *title, int64_t now_ms, int64_t *chat_id_out,
                           messenger_events *events) SB_MUST_CHECK;
/* Owner or admin adds user_id as a member.  SB_EPERM if the actor is not an
 * owner/admin of this group (or not a member, or the chat is not a group),
 * or either blocked the other; SB_EEXISTS if already a member; SB_ELIMIT at
 * SB_MESSENGER_GROUP_MEMBERS_MAX; SB_ENOTFOUND for an unknown user or one the
 * actor may not reach (messenger_reach_check: staff, a hidden customer). */
int messenger_group_add(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id, int64_t now_ms,
                        messenger_events *events) SB_MUST_CHECK;
/* Owner removes anyone but itself; an admin removes plain members only.
 * SB_EPERM otherwise; SB_ENOTFOUND if user_id is not a member. */
int messenger_group_remove(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id,
                           messenger_events *events) SB_MUST_CHECK;
/* Leave.  An owner leaving hands ownership to the oldest admin, or failing
 * that the oldest member (a second event says so).  SB_EPERM if not a member. */
int messenger_group_leave(store *s, int64_t user_id, int64_t chat_id, messenger_events *events) SB_MUST_CHECK;
/* The owner makes a member an admin or an admin a member (MESSENGER_ROLE_*;
 * OWNER is refused with SB_EINVAL).  SB_EPERM for anyone else. */
int messenger_group_set_role(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id, int role,
                             messenger_events *events) SB_MUST_CHECK;
/* Owner or admin renames.  SB_EINVAL for a bad title. */
int messenger_group_rename(store *s, int64_t actor_id, int64_t chat_id, const char *title,
                           messenger_events *events) SB_MUST_CHECK;

/* ---- messages ---- */
typedef struct {
    int64_t chat_id;
    int64_t sender_id;
    int kind;                 /* MESSENGER_MSG_TEXT, _PAYMENT, _MEDIA or _KEYBOARD (bots) */
    const char *text;         /* TEXT, KEYBOARD: required; PAYMENT, MEDIA: optional caption */
    const char *payload_json; /* PAYMENT, KEYBOARD, MEDIA: required; TEXT: must be NULL */
    int64_t reply_to_seq;     /* 0: none; else a message of the same chat */
    const char *client_id;    /* optional idempotency key */
} messenger_send_request;

/* Send a message.  On success *out (may be NULL; the caller clears it) is
 * the stored message.  If the same sender already sent client_id in this
 * chat, nothing is written, *out is that first message, *duplicate_out (may
 * be NULL) is true and no event is produced.  Errors: SB_EPERM (not a member,
 * blocked in a 1:1 chat, the channel or an official chat, a keyboard from a
 * non-bot), SB_ELIMIT (text or payload too long), SB_EINVAL (bad text,
 * payload or client id), SB_ENOTFOUND (reply_to_seq not in this chat). */
int messenger_send(store *s, const messenger_send_request *req, int64_t now_ms, messenger_message *out,
                   bool *duplicate_out, messenger_events *events) SB_MUST_CHECK;
/* Many sends in ONE transaction (group commit: the hot path of a server
 * that gathers the frames of many connections).  Each request is validated
 * first, then applied in order inside a savepoint, so a refused one (any
 * error messenger_send would give) leaves the others; outcomes[i] gets its
 * result, duplicate flag, stored message and events exactly as
 * messenger_send would.  Returns SB_OK when the transaction committed; on any
 * other answer (begin/commit failed) nothing is written and every outcome
 * carries that error.  count is 1..SB_MESSENGER_SEND_BATCH_MAX; the caller
 * clears the outcomes with messenger_send_outcomes_clear. */
typedef struct {
    int result;
    bool duplicate;
    messenger_message message;
    messenger_events events;
} messenger_send_outcome;
int messenger_send_batch(store *s, const messenger_send_request *reqs, size_t count, int64_t now_ms,
                         messenger_send_outcome *outcomes) SB_MUST_CHECK;
void messenger_send_outcomes_clear(messenger_send_outcome *outcomes, size_t count);
/* Edit a text message: only its sender, not once deleted.  Sets edited_at.
 * SB_EPERM, SB_ENOTFOUND (no such seq), SB_ECONFLICT (deleted, or not text). */
int messenger_edit(store *s, int64_t actor_id, int64_t chat_id, int64_t seq, const char *text, int64_t now_ms,
                   messenger_events *events) SB_MUST_CHECK;
/* Delete: its sender, or a group's owner/admin.  The row stays as a
 * tombstone (text and payload removed, deleted_at set).  Deleting again is
 * SB_OK without an event.  Payment messages cannot be deleted (SB_ECONFLICT). */
int messenger_delete(store *s, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                     messenger_events *events) SB_MUST_CHECK;
/* Receipts: raise the caller's high-water marks (0 leaves one as it is;
 * read implies delivered).  Lower values than stored are ignored (marks
 * never go back); no change means no event.  SB_EINVAL past the last seq. */
int messenger_receipt(store *s, int64_t user_id, int64_t chat_id, int64_t delivered_seq, int64_t read_seq,
                      messenger_events *events) SB_MUST_CHECK;
/* Typing: checks membership (and blocks, in a 1:1 chat), stores nothing,
 * notifies the other members. */
int messenger_typing(store *s, int64_t user_id, int64_t chat_id, messenger_events *events) SB_MUST_CHECK;
/* History page: messages with after_seq < seq < before_seq (before_seq 0 =
 * no upper bound), newest first when before_seq is given and after_seq is 0,
 * oldest first otherwise; at most min(limit, SB_MESSENGER_PAGE_MAX).  With
 * after_seq = the last seq a client saw this is "everything since": repeat
 * with the last seq returned until fewer than asked come back. */
int messenger_history(store *s, int64_t caller_id, int64_t chat_id, int64_t before_seq, int64_t after_seq, size_t limit,
                      messenger_message *out, size_t *count_out) SB_MUST_CHECK;
/* Messages changed after after_rev (new, edited, deleted, status, counts),
 * in rev order, each once in its current state; at most min(limit, PAGE_MAX). */
int messenger_changes(store *s, int64_t caller_id, int64_t chat_id, int64_t after_rev, size_t limit,
                      messenger_message *out, size_t *count_out) SB_MUST_CHECK;
/* One message.  SB_EPERM unless a member, SB_ENOTFOUND for no such seq. */
int messenger_message_get(store *s, int64_t caller_id, int64_t chat_id, int64_t seq,
                          messenger_message *out) SB_MUST_CHECK;

/* ---- payment messages (called by the payments module) ---- */
/* A PAYMENT message is sent with messenger_send: it starts with the status
 * its payload names, which must be "pending", or "paid" for a payment whose
 * money already moved (SB_EINVAL otherwise). */
/* Move a payment message's status: pending -> paid | declined | expired; the
 * same status again is SB_OK without an event (retries); anything else
 * (paid -> pending, declined -> paid...) is SB_ECONFLICT.  No membership
 * check: the payments module is trusted and names the chat and seq it got
 * back from messenger_send.  SB_ENOTFOUND, SB_EINVAL (not a payment). */
int messenger_payment_status_set(store *s, int64_t chat_id, int64_t seq, int status, int64_t now_ms,
                                 messenger_events *events) SB_MUST_CHECK;

/* Read a payment message without a membership check (for the trusted
 * payments glue, which may act after the sender left the chat).
 * SB_ENOTFOUND, SB_EINVAL (not a payment); *out cleared by the caller. */
int messenger_payment_get(store *s, int64_t chat_id, int64_t seq, messenger_message *out) SB_MUST_CHECK;
/* Update a payment message's progress: payload_json (payment payload rules)
 * replaces the stored payload, with these rules: every key but "status" and
 * "shares" must be present and equal to the stored one, and the shares the
 * same users and amounts in the same order (else SB_EINVAL); a share that is
 * already settled (not pending) keeps its stored status, so an update made
 * from an older reading never takes a settled share back; with shares, the
 * message's status is derived from them (pending while any share is, then
 * paid if all are paid, declined if any was declined, else expired), without
 * shares it is the payload's "status", moving as messenger_payment_status_set
 * allows (SB_ECONFLICT otherwise).  A change takes the chat's next rev (so
 * /changes sees it) and gives one PAYMENT_STATUS event with the message in
 * its new state; no change is SB_OK without an event.  Trusted caller, no
 * membership check.  SB_ENOTFOUND, SB_EINVAL (not a payment), SB_ELIMIT. */
int messenger_payment_update(store *s, int64_t chat_id, int64_t seq, const char *payload_json, int64_t now_ms,
                             messenger_events *events) SB_MUST_CHECK;

/* ---- the bank's channel ---- */
/* The channel's chat id (created on first use). */
int messenger_channel_id(store *s, int64_t now_ms, int64_t *chat_id_out) SB_MUST_CHECK;
/* Join (customers and staff).  Idempotent.  Staff with the marketer or admin
 * role join as admins (they may post). */
int messenger_channel_subscribe(store *s, int64_t user_id, int64_t now_ms, messenger_events *events) SB_MUST_CHECK;
int messenger_channel_unsubscribe(store *s, int64_t user_id) SB_MUST_CHECK;
/* Publish a text post.  SB_EPERM unless the author is a marketer or admin (subscribed on the fly). */
int messenger_channel_post(store *s, int64_t author_id, const char *text, int64_t now_ms, messenger_message *out,
                           messenger_events *events) SB_MUST_CHECK;
/* Like a post once: SB_EEXISTS for a second like (no change, no event). */
int messenger_channel_like(store *s, int64_t user_id, int64_t post_seq, int64_t now_ms,
                           messenger_events *events) SB_MUST_CHECK;
/* Comment on a post: a COMMENT message replying to it; the post's
 * comment_count rises (two events; none for a repeated client_id, which
 * answers the first comment). */
int messenger_channel_comment(store *s, int64_t user_id, int64_t post_seq, const char *text, const char *client_id,
                              int64_t now_ms, messenger_message *out, messenger_events *events) SB_MUST_CHECK;
/* Reply under a comment of the bank's channel (staff answering it from the
 * listening console): a COMMENT message whose reply_to_seq is the comment,
 * counted among the comment's post's comments (two events).  chat_id must be
 * the channel and user_id a member (staff subscribe first).  No comment hook.
 * SB_ENOTFOUND (not the channel, no such comment), SB_EPERM (not a member),
 * text errors as messenger_channel_comment. */
int messenger_channel_comment_reply(store *s, int64_t user_id, int64_t chat_id, int64_t comment_seq, const char *text,
                                    int64_t now_ms, messenger_message *out, messenger_events *events) SB_MUST_CHECK;
/* Share a post into a chat the user is a member of: a SHARE message there
 * (payload {"chat_id":C,"seq":S}) and the post's share_count rises (two
 * events: the share in the target chat, the counts in the channel). */
int messenger_channel_share(store *s, int64_t user_id, int64_t post_seq, int64_t target_chat_id, int64_t now_ms,
                            messenger_message *out, messenger_events *events) SB_MUST_CHECK;

/* ---- the bank's official account ---- */
/* Send a notice from the bank to user_id (its official chat is created on
 * first use).  payload_json may be NULL or a JSON object text.  The event is
 * marked silent when the user muted the official account. */
int messenger_official_notify(store *s, int64_t user_id, const char *text, const char *payload_json, int64_t now_ms,
                              messenger_message *out, messenger_events *events) SB_MUST_CHECK;
int messenger_official_mute(store *s, int64_t user_id, bool muted) SB_MUST_CHECK;

/* ---- bots ---- */
#define MESSENGER_BOT_TOKEN_CHARS (2 * SB_TOKEN_BYTES)
/* Create a bot: a user (an identity staff account with the agent role and
 * a random password nobody knows; the username follows the customer
 * @username rules and ends in "bot") plus a bot token shown once in
 * token_out; only its BLAKE2b hash is stored.  Both in one transaction.
 * SB_EEXISTS (name taken), SB_EINVAL (name). */
int messenger_bot_create(store *s, const char *username, int64_t now_ms, char token_out[MESSENGER_BOT_TOKEN_CHARS + 1],
                         int64_t *bot_id_out) SB_MUST_CHECK;
/* The bot a token belongs to: the secret alone, or the Bot API's form
 * "<bot id>:<secret>" (the id must be the secret's bot).  SB_EAUTH for any
 * unknown or malformed token. */
int messenger_bot_authenticate(store *s, const char *token, int64_t *bot_id_out) SB_MUST_CHECK;
/* The Bot API's form of a token: "<bot id>:<secret>", the id written with at
 * least three digits (libraries refuse fewer).  SB_ELIMIT if out is short. */
#define MESSENGER_BOT_TOKEN_TEXT_MAX (20 + 1 + MESSENGER_BOT_TOKEN_CHARS)
int messenger_bot_token_format(int64_t bot_id, const char *secret, char *out, size_t out_size) SB_MUST_CHECK;
/* A bot joins chats like any user: a group's owner/admin adds it
 * (messenger_group_add), or a user opens a 1:1 chat with it. */
/* A member pressed a button of a bot's KEYBOARD message: data must be one of
 * its buttons.  One BOT_CALLBACK event addressed to the bot only.
 * SB_EPERM (non-member), SB_ENOTFOUND (no such message or button). */
int messenger_bot_press(store *s, int64_t user_id, int64_t chat_id, int64_t seq, const char *data,
                        messenger_events *events) SB_MUST_CHECK;

/* In-process consumers are wired by whoever runs the server (the
 * application context, src/app/app.h), never through process-wide setters.
 * The bot hook is how the bank's service bot hears the events addressed to
 * a bot: the api layer calls messenger_dispatch_bots after pushing a call's
 * events, and each bot recipient's event reaches the hook with that bot's
 * id.  The comment hook hands a new channel comment (after its commit) to
 * the listening side: the caller of messenger_channel_comment calls it when
 * the call produced events (a repeated client id produces none). */
typedef void (*messenger_bot_hook_fn)(store *s, int64_t bot_id, const messenger_event *event, void *arg);
typedef void (*messenger_comment_hook_fn)(const messenger_message *comment, void *arg);
/* Call fn (NULL: nothing) for every bot recipient of every event. */
void messenger_dispatch_bots(store *s, const messenger_events *events, messenger_bot_hook_fn fn, void *arg);

/* ---- bot discovery and the bots' inbox (messenger_bots.c, migration 0420) ---- */
/* The bot whose @username is `username` ("@name" or "name", any case).
 * SB_ENOTFOUND when no bot has it (a user who is not a bot included),
 * SB_EINVAL for a malformed name. */
int messenger_bot_find(store *s, const char *username, int64_t *bot_id_out) SB_MUST_CHECK;
/* Is user_id a bot. */
int messenger_bot_is(store *s, int64_t user_id, bool *is_bot_out) SB_MUST_CHECK;
/* One update of a bot's inbox: the event's JSON as messenger_event_render
 * gives it (owned; freed by messenger_bot_updates_clear). */
typedef struct {
    int64_t id; /* rises; the bot's cursor */
    char *event_json;
    int64_t created_at_ms;
} messenger_bot_update;
void messenger_bot_updates_clear(messenger_bot_update *list, size_t count);
/* Record every event of `events` for each of its bot recipients (not the
 * bot that acted) in one transaction, after the change committed; each
 * bot keeps its newest SB_MESSENGER_BOT_UPDATES_KEPT.  Called by the one
 * delivery path (api_messenger_push).  Store errors; nothing half-written. */
int messenger_bot_updates_record(store *s, const messenger_events *events, int64_t now_ms) SB_MUST_CHECK;
/* The bot's updates with id > after_id, oldest first, at most
 * min(limit, SB_MESSENGER_BOT_UPDATES_PAGE_MAX) into out (the caller's
 * array); *count_out written.  The caller clears them. */
int messenger_bot_updates(store *s, int64_t bot_id, int64_t after_id, size_t limit, messenger_bot_update *out,
                          size_t *count_out) SB_MUST_CHECK;

/* ---- the Telegram-shaped Bot API's state (messenger_botapi.c, migration 0450) ---- */
typedef struct {
    int64_t confirmed_id; /* updates with a lower id are confirmed (never shown again) */
    char webhook_url[SB_BOTAPI_WEBHOOK_URL_BYTES_MAX + 1];   /* "" when none */
    char secret_token[SB_BOTAPI_SECRET_TOKEN_BYTES_MAX + 1]; /* "" when none */
    int64_t allowed_updates;                                 /* the api's bit mask; 0: every kind */
    int64_t last_error_at_ms;                                /* 0: no error since the webhook was set */
    char last_error_message[SB_BOTAPI_ERROR_MESSAGE_BYTES_MAX + 1];
} messenger_botapi_state;
/* The bot's state (defaults when it never called the API).  Store errors. */
int messenger_botapi_state_get(store *s, int64_t bot_id, messenger_botapi_state *out) SB_MUST_CHECK;
/* Confirm every update below below_id (confirmed_id only rises). */
int messenger_botapi_confirm(store *s, int64_t bot_id, int64_t below_id) SB_MUST_CHECK;
/* The kinds of update the bot asked for (getUpdates allowed_updates). */
int messenger_botapi_allowed_set(store *s, int64_t bot_id, int64_t mask) SB_MUST_CHECK;
/* Set the webhook (url "" removes it; the caller checked the URL), its
 * secret token and allowed updates; clears the last error; drop_pending
 * confirms every update there is.  One transaction.  SB_EINVAL. */
int messenger_botapi_webhook_set(store *s, int64_t bot_id, const char *url, const char *secret_token, int64_t mask,
                                 bool drop_pending) SB_MUST_CHECK;
/* Note a delivery error (message "" clears it). */
int messenger_botapi_error_set(store *s, int64_t bot_id, int64_t now_ms, const char *message) SB_MUST_CHECK;
/* Updates not yet confirmed. */
int messenger_botapi_pending(store *s, int64_t bot_id, int64_t *count_out) SB_MUST_CHECK;
/* The bot's newest update id (0 when its inbox is empty). */
int messenger_botapi_last_id(store *s, int64_t bot_id, int64_t *id_out) SB_MUST_CHECK;
/* One update of the bot's inbox by id (cleared by the caller with
 * messenger_bot_updates_clear(out, 1)).  SB_ENOTFOUND. */
int messenger_botapi_update_get(store *s, int64_t bot_id, int64_t update_id, messenger_bot_update *out) SB_MUST_CHECK;
/* Bots with a webhook and unconfirmed updates, by id, at most max. */
int messenger_botapi_webhook_bots(store *s, int64_t *ids, size_t max, size_t *count_out) SB_MUST_CHECK;
/* The bots that are members of chat_id, by id, at most max (no membership
 * check: the caller checked the asker's). */
int messenger_botapi_chat_bots(store *s, int64_t chat_id, int64_t *ids, size_t max, size_t *count_out) SB_MUST_CHECK;
/* The 1:1 chat of the bot and user_id, if the user opened it (a bot never
 * starts one).  SB_ENOTFOUND otherwise. */
int messenger_botapi_direct_find(store *s, int64_t bot_id, int64_t user_id, int64_t *chat_id_out) SB_MUST_CHECK;
/* A chat as the bot sees it.  SB_EPERM unless the bot is a member. */
typedef struct {
    int64_t chat_id;
    int kind;        /* messenger_chat_kind */
    int bot_role;    /* messenger_member_role */
    int64_t peer_id; /* a 1:1 chat: the other user */
    int64_t member_count;
    char title[SB_MESSENGER_TITLE_BYTES_MAX + 1];
} messenger_botapi_chat;
int messenger_botapi_chat_describe(store *s, int64_t bot_id, int64_t chat_id, messenger_botapi_chat *out) SB_MUST_CHECK;
/* user_id's role in a chat of the bot.  SB_EPERM (the bot is not a member),
 * SB_ENOTFOUND (the user is not). */
int messenger_botapi_member_get(store *s, int64_t bot_id, int64_t chat_id, int64_t user_id,
                                int *role_out) SB_MUST_CHECK;
/* The bot edits its own TEXT or KEYBOARD message: new text (NULL keeps it),
 * new keyboard payload (messenger_keyboard_payload_check rules; NULL keeps
 * it) or markup_remove (the message becomes plain text).  One
 * MESSAGE_EDITED event.  SB_EPERM (not a member, not its message),
 * SB_ENOTFOUND (no such seq), SB_ECONFLICT (deleted, or another kind),
 * SB_EINVAL / SB_ELIMIT (text, payload). */
int messenger_botapi_edit(store *s, int64_t bot_id, int64_t chat_id, int64_t seq, const char *text,
                          const char *payload_json, bool markup_remove, int64_t now_ms,
                          messenger_events *events) SB_MUST_CHECK;

/* ---- invoices of bots (messenger_botapi.c, migration 0451) ---- */
typedef enum {
    MESSENGER_INVOICE_OPEN = 1,
    MESSENGER_INVOICE_CHECKOUT = 2, /* held, waiting for the bot's pre-checkout answer */
    MESSENGER_INVOICE_PAID = 3,
    MESSENGER_INVOICE_REFUSED = 4,
    MESSENGER_INVOICE_EXPIRED = 5,
    MESSENGER_INVOICE_REFUNDED = 6,
} messenger_invoice_state;
const char *messenger_invoice_state_name(int state); /* "open"...; NULL if unknown */
typedef struct {
    int64_t id, bot_id, chat_id, seq;
    char title[SB_BOTAPI_INVOICE_TITLE_BYTES_MAX + 1];
    char description[SB_BOTAPI_INVOICE_DESCRIPTION_BYTES_MAX + 1];
    char payload[SB_BOTAPI_INVOICE_PAYLOAD_BYTES_MAX + 1];
    char currency[4];
    int64_t total_minor;
    char prices_json[SB_MESSENGER_PAYLOAD_BYTES_MAX + 1];
    int state; /* messenger_invoice_state */
    int64_t payer_id, receipt_id, query_update_id, deadline_ms, refund_receipt_id;
    bool settled;
    int64_t created_at_ms, updated_at_ms;
} messenger_botapi_invoice;
/* Record an open invoice of in->bot_id in in->chat_id (the caller checked
 * the fields and sends its message, then attaches the seq).  *id_out. */
int messenger_botapi_invoice_create(store *s, const messenger_botapi_invoice *in, int64_t now_ms,
                                    int64_t *id_out) SB_MUST_CHECK;
int messenger_botapi_invoice_attach(store *s, int64_t id, int64_t seq) SB_MUST_CHECK;
int messenger_botapi_invoice_delete(store *s, int64_t id) SB_MUST_CHECK;
/* One invoice.  SB_ENOTFOUND. */
int messenger_botapi_invoice_get(store *s, int64_t id, messenger_botapi_invoice *out) SB_MUST_CHECK;
/* Move from `from` to `to` (one conditional update: of two racing moves one
 * wins), setting settled = settled_after and, when not 0 / -1, the payer,
 * receipt, pre-checkout update and deadline.  SB_ECONFLICT if it is not in
 * `from`; SB_ENOTFOUND. */
int messenger_botapi_invoice_move(store *s, int64_t id, int from, int to, bool settled_after, int64_t payer_id,
                                  int64_t receipt_id, int64_t query_update_id, int64_t deadline_ms,
                                  int64_t now_ms) SB_MUST_CHECK;
/* Mark the ledger side of the current state done (refund_receipt_id when not 0). */
int messenger_botapi_invoice_settled(store *s, int64_t id, int64_t refund_receipt_id) SB_MUST_CHECK;
/* Invoices needing the sweeper: in checkout past their deadline, or moved
 * but not settled.  At most max ids. */
int messenger_botapi_invoices_due(store *s, int64_t now_ms, int64_t *ids, size_t max, size_t *count_out) SB_MUST_CHECK;
/* Add one update to a bot's inbox that no messenger event carries (a
 * pre-checkout query, a successful payment): event_json as the Bot API
 * reads it.  *id_out: its update id.  Store errors. */
int messenger_bot_update_add(store *s, int64_t bot_id, const char *event_json, int64_t now_ms,
                             int64_t *id_out) SB_MUST_CHECK;

#endif /* SB_MESSENGER_H */
