/*
 * listening_handoff.c - a conversation handed to a human.  The bank's
 * service bot (src/bankbot) cannot answer a customer and hands the
 * conversation over: it becomes a post of the messenger source (redacted
 * like every post, understood if an understander is set) and ONE case
 * routed to the departments the caller names, whatever the rules would
 * say, so the agent who opens the case reads the whole conversation.  The
 * agent's reply goes back through the context's reply hook
 * (listening_case_reply), which the service bot fills to answer in the
 * customer's chat.
 *
 * The department clock is started as listening_cases.c starts it for a
 * routed post (the priority's budget in the department's business hours).
 */
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"

static bool priority_valid(const char *p) {
    return p &&
           (strcmp(p, "urgent") == 0 || strcmp(p, "high") == 0 || strcmp(p, "normal") == 0 || strcmp(p, "low") == 0);
}

/* Start a department's clock on the case (inside the caller's transaction). */
static int handoff_department(listening *l, int64_t case_id, const char *department, const char *priority,
                              int64_t now_ms) {
    int64_t budget_minutes;
    int result = store_query_int64(l->s, &budget_minutes,
                                   "SELECT budget_minutes FROM listening_priorities WHERE priority = ?", "t", priority);
    if (result != SB_OK) return result;
    listening_calendar cal;
    result = listening_calendar_load(l, department, &cal);
    if (result == SB_ENOTFOUND) return SB_EINVAL; /* no such department */
    int64_t budget_ms = budget_minutes * 60000LL, deadline = 0;
    if (result == SB_OK) result = listening_business_add(&cal, now_ms, budget_ms, &deadline);
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_case_departments(case_id, department, budget_ms, business_ms_used, "
                            "clock_started_ms, deadline_ms) VALUES (?, ?, ?, 0, ?, ?)",
                            "itiii", case_id, department, budget_ms, now_ms, deadline);
    return result;
}

int listening_handoff_open(listening *l, const listening_handoff *h, int64_t now_ms, int64_t *case_id_out,
                           int64_t *post_id_out) {
    if (!h || !h->departments || h->department_count == 0 || h->department_count > SB_LISTENING_RULE_DEPARTMENTS_MAX ||
        !priority_valid(h->priority) || !h->actor || !*h->actor ||
        strnlen(h->actor, SB_USERNAME_BYTES_MAX + 1) > SB_USERNAME_BYTES_MAX)
        return SB_EINVAL;
    listening_post post = {.source = h->source,
                           .external_id = h->external_id,
                           .author = h->author,
                           .posted_at_ms = now_ms,
                           .text = h->text,
                           .text_len = h->text_len};
    const char *reason = NULL;
    int result = listening_post_check(&post, now_ms, &reason);
    if (result != SB_OK) return result;
    for (size_t i = 0; i < h->department_count; i++)
        if (!h->departments[i] || !*h->departments[i] ||
            strnlen(h->departments[i], LISTENING_LABEL_BYTES) >= LISTENING_LABEL_BYTES)
            return SB_EINVAL;

    sb_buf redacted;
    sb_buf_init(&redacted, 3 * h->text_len + 16);
    listening_redaction_counts counts;
    result = listening_redact(h->text, h->text_len, &redacted, &counts);
    if (result != SB_OK) {
        sb_buf_free(&redacted);
        return result;
    }
    const char *text = redacted.len ? redacted.data : "";
    int64_t redactions = (int64_t)(counts.cards + counts.phones + counts.national_ids + counts.ibans + counts.emails);
    listening_understanding u;
    memset(&u, 0, sizeof u);
    bool understood = l->cfg.understander.understand &&
                      l->cfg.understander.understand(l->cfg.understander.arg, text, strlen(text), &u) == SB_OK &&
                      listening_understanding_check(&u) == SB_OK;
    const char *topic = understood && u.topic[0] ? u.topic : "other";
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    if (l->cfg.store_raw) result = listening_seal(l->cfg.raw_key, h->text, h->text_len, &sealed, &sealed_len);

    int64_t post_id = 0, case_id = 0;
    if (result == SB_OK) result = store_begin(l->s);
    if (result != SB_OK) {
        sb_free(sealed);
        sb_buf_free(&redacted);
        return result;
    }
    int64_t existing;
    result = store_query_int64(l->s, &existing, "SELECT id FROM listening_posts WHERE source = ? AND external_id = ?",
                               "tt", h->source, h->external_id);
    if (result == SB_OK) result = SB_EEXISTS; /* one hand-off, one case */
    if (result == SB_ENOTFOUND)
        result = store_exec(l->s,
                            "INSERT INTO listening_posts(source, external_id, author, author_reach, posted_at_ms, "
                            "text, raw_sealed, redactions, likes, shares, replies, ingested_at_ms, updated_at_ms) "
                            "VALUES (?, ?, ?, 0, ?, ?, ?, ?, 0, 0, 0, ?, ?)",
                            "tttitbiii", h->source, h->external_id, h->author, now_ms, text, sealed,
                            sealed ? (int)sealed_len : 0, redactions, now_ms, now_ms);
    post_id = store_last_insert_id(l->s);
    if (result == SB_OK) result = listening_search_index(l, post_id, text, strlen(text));
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_cases(source, author, topic, priority, state, opened_at_ms, "
                            "last_post_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                            "ttttiii", h->source, h->author, topic, h->priority, now_ms, now_ms, now_ms);
    case_id = store_last_insert_id(l->s);
    for (size_t i = 0; result == SB_OK && i < h->department_count; i++) {
        bool repeated = false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(h->departments[k], h->departments[i]) == 0) repeated = true;
        if (!repeated) result = handoff_department(l, case_id, h->departments[i], h->priority, now_ms);
    }
    if (result == SB_OK)
        result = store_exec(l->s, "INSERT INTO listening_case_posts(case_id, post_id) VALUES (?, ?)", "ii", case_id,
                            post_id);
    if (result == SB_OK) {
        char detail[256];
        snprintf(detail, sizeof detail, "post %lld; priority %s; hand-off by %s", (long long)post_id, h->priority,
                 h->actor);
        result = store_exec(l->s,
                            "INSERT INTO listening_case_events(case_id, at_ms, actor, type, detail) "
                            "VALUES (?, ?, ?, 'opened', ?)",
                            "iitt", case_id, now_ms, h->actor, detail);
    }
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) store_rollback(l->s);
    sb_free(sealed);
    sb_buf_free(&redacted);
    if (result != SB_OK) return result;
    /* Statistics and signals follow the understanding (the post is already
     * in its case, so the rules do not route it again).  A failure here
     * leaves the case as it is: the hand-off has happened. */
    if (understood) {
        int set = listening_understanding_set(l, post_id, &u, now_ms);
        if (set != SB_OK)
            sb_log(SB_LOG_WARN, "listening.handoff", "case %lld: understanding not stored: %s", (long long)case_id,
                   sb_strerror(set));
    }
    if (case_id_out) *case_id_out = case_id;
    if (post_id_out) *post_id_out = post_id;
    return SB_OK;
}
