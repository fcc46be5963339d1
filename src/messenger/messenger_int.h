/*
 * messenger_int.h - what the files of the messenger module share, and its
 * tests may use; nothing else.  Names carry the messenger__ prefix.
 */
#ifndef SB_MESSENGER_INT_H
#define SB_MESSENGER_INT_H

#include "messenger/messenger.h"

/* Column text -> enum value (0 for unknown). */
int messenger__chat_kind_parse(const char *name);
int messenger__role_parse(const char *name);
int messenger__message_kind_parse(const char *name);
int messenger__status_parse(const char *name);
/* Payment payloads (messenger_text.c).  The status a canonical payload
 * names (0 if none); a copy with another status; and an update merged into
 * the stored payload by the rules of messenger_payment_update (*status_out
 * the resulting message status).  Results are canonical, caller frees. */
int messenger__payment_payload_status(const char *canonical);
int messenger__payment_payload_set_status(const char *canonical, int status, char **out) SB_MUST_CHECK;
int messenger__payment_payload_merge(const char *stored, const char *update, char **merged_out,
                                     int *status_out) SB_MUST_CHECK;
/* Is data one of the buttons of a canonical keyboard payload? */
int messenger__keyboard_has_data(const char *canonical, const char *data, bool *found_out) SB_MUST_CHECK;

/* Shared by messenger.c and messenger_bank.c (see messenger.c). */
int messenger__access(store *s, int64_t chat_id, int64_t user_id, int *kind_out, int *role_out) SB_MUST_CHECK;
int messenger__member_insert(store *s, int64_t chat_id, int64_t user_id, int role, int64_t now_ms) SB_MUST_CHECK;
int messenger__member_delete(store *s, int64_t chat_id, int64_t user_id) SB_MUST_CHECK;
int messenger__message_insert(store *s, messenger_message *m) SB_MUST_CHECK;
int messenger__message_load(store *s, int64_t chat_id, int64_t seq, messenger_message *out) SB_MUST_CHECK;
int messenger__message_event(store *s, messenger_events *events, int type, const messenger_message *m,
                             int64_t actor_id) SB_MUST_CHECK;
int messenger__members_event(store *s, messenger_events *events, int64_t chat_id, int64_t actor_id, int action,
                             int64_t subject_id, int subject_role) SB_MUST_CHECK;
int messenger__chat_advance(store *s, int64_t chat_id, int64_t *rev_out) SB_MUST_CHECK;
/* Commit if result is SB_OK; otherwise (or if the commit fails) roll back
 * and clear the events.  Returns the final result. */
int messenger__finish(store *s, int result, messenger_events *events) SB_MUST_CHECK;
messenger_event *messenger__event_add(messenger_events *events, int type, int64_t chat_id, int64_t actor_id);
int messenger__user_exists(store *s, int64_t user_id) SB_MUST_CHECK;

#endif /* SB_MESSENGER_INT_H */
