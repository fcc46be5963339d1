/*
 * bankbot_int.h - what the service bot's files share (and its unit test
 * may use): languages, message ids, intents and the language tables of
 * bankbot_lang.c.
 */
#ifndef SB_BANKBOT_INT_H
#define SB_BANKBOT_INT_H

#include "bankbot/bankbot.h"
#include "text/text.h"

enum { BANKBOT_FA = 0, BANKBOT_UK = 1, BANKBOT_RU = 2, BANKBOT_EN = 3, BANKBOT_LANGS = 4 };

enum {
    BANKBOT_INTENT_NONE = 0,
    BANKBOT_INTENT_HELP,
    BANKBOT_INTENT_BALANCE,
    BANKBOT_INTENT_TRANSACTIONS,
    BANKBOT_INTENT_BLOCK,
    BANKBOT_INTENT_TRANSFER,
    BANKBOT_INTENT_AGENT,
};

enum {
    BANKBOT_MSG_HELP,
    BANKBOT_MSG_BALANCE_BEFORE,
    BANKBOT_MSG_BALANCE_AFTER,
    BANKBOT_MSG_CURRENCY,
    BANKBOT_MSG_NO_RECEIPTS,
    BANKBOT_MSG_RECEIPTS_HEAD,
    BANKBOT_MSG_NO_CARD,
    BANKBOT_MSG_BLOCK_ASK, /* %s: the masked card */
    BANKBOT_MSG_YES,
    BANKBOT_MSG_NO,
    BANKBOT_MSG_BLOCKED,         /* %s: the masked card */
    BANKBOT_MSG_ALREADY_BLOCKED, /* %s */
    BANKBOT_MSG_NOT_BLOCKED,
    BANKBOT_MSG_NO_TRANSFER,
    BANKBOT_MSG_TRANSFER_HEAD,
    BANKBOT_MSG_HANDOFF, /* %s: the case number */
    BANKBOT_MSG_ERROR,
    BANKBOT_MSG_AGENT_HINT,
    BANKBOT_MSG_BLOCKED_MARK,
    BANKBOT_MSG_AGENT_PREFIX,
    BANKBOT_MSG_KIND_TRANSFER, /* + payops_kind */
    BANKBOT_MSG_KIND_C2C,
    BANKBOT_MSG_KIND_BILL,
    BANKBOT_MSG_KIND_TOPUP,
    BANKBOT_MSG_KIND_REQUEST,
    BANKBOT_MSG_KIND_DEPOSIT,
    BANKBOT_MSG_STATE_PENDING, /* + payops_receipt_state */
    BANKBOT_MSG_STATE_DONE,
    BANKBOT_MSG_STATE_DECLINED,
    BANKBOT_MSG_STATE_MANUAL,
    BANKBOT_MSG_TOPIC_CARDS,
    BANKBOT_MSG_TOPIC_TRANSFERS,
    BANKBOT_MSG_TOPIC_FEES,
    BANKBOT_MSG_TOPIC_LOANS,
    BANKBOT_MSG_TOPIC_CALL_CENTER,
    BANKBOT_MSG_TOPIC_APP_ONLINE,
    BANKBOT_MSG_TOPIC_BRANCH,
    BANKBOT_MSG_TOPIC_FRAUD,
    BANKBOT_MSG_TOPIC_STAFF,
    BANKBOT_MSG_TOPIC_OTHER,
    BANKBOT_MSG_COUNT
};

/* "fa"/"uk"/"ru" -> their index, anything else English. */
int bankbot__lang_index(const char *code);
const char *bankbot__lang_code(int lang);
/* The text of a message in a language (static; "" if unknown). */
const char *bankbot__text(int msg, int lang);
/* The canned-answer message for a classifier topic. */
int bankbot__topic_message(const char *topic);
/* The banking intent the keyword tables find in normalised text, or NONE. */
int bankbot__keyword_intent(const char *normalised, size_t len);
/* A "/command [N]": its intent (HELP for an unknown command) and N (0 if
 * none); NONE if the text is not a command. */
int bankbot__command_intent(const char *text, int64_t *number_out);

#endif /* SB_BANKBOT_INT_H */
