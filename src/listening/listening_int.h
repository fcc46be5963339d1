/*
 * listening_int.h - what the listening files share with each other (and
 * nothing else includes): the context and the internal steps of ingest.
 */
#ifndef SB_LISTENING_INT_H
#define SB_LISTENING_INT_H

#include "listening/listening.h"

struct listening {
    store *s;
    listening_config cfg;
};

/* Add (sign = +1) or remove (-1) a post's contribution to listening_stats,
 * from its effective labels and signals.  A post without understanding
 * contributes nothing.  Inside the caller's transaction. */
int listening__stats_apply(listening *l, int64_t post_id, int sign) SB_MUST_CHECK;
/* Run the rules for a post and open or join a case.  the counters opened and joined are
 * incremented.  Inside the caller's transaction. */
int listening__cases_route(listening *l, int64_t post_id, int64_t now_ms, size_t *opened, size_t *joined) SB_MUST_CHECK;
/* Routing for a batch: the enabled rules with their departments, the
 * priorities' budgets and the departments' calendars, read once inside the
 * batch's transaction (listening_cases.c). */
typedef struct listening__routing listening__routing;
int listening__routing_load(listening *l, listening__routing **out) SB_MUST_CHECK;
void listening__routing_free(listening__routing *r);
/* What the rules look at in a post (its effective labels and risks). */
typedef struct {
    const char *source, *author, *kind, *sentiment, *topic;
    int kind_permille, sentiment_permille, topic_permille;
    int64_t posted_at_ms;
    const listening_signal *risks;
    size_t risk_count;
} listening__route_input;
/* Route a post that is in no case yet with the batch's routing: open or
 * join a case (counted in *opened or *joined).  Inside the transaction. */
int listening__cases_route_with(listening *l, listening__routing *routing, int64_t post_id,
                                const listening__route_input *in, int64_t now_ms, size_t *opened,
                                size_t *joined) SB_MUST_CHECK;
/* Life events of a stored post: signals and leads only when (source,
 * author) has an active consent; *leads counts the new leads (listening.c). */
int listening__life_events_store(listening *l, int64_t post_id, const char *source, const char *author,
                                 const listening_understanding *u, int64_t now_ms, size_t *leads) SB_MUST_CHECK;
/* The statistics of new posts, summed in memory over a batch and written
 * once per bucket (listening.c). */
typedef struct listening__stats_batch listening__stats_batch;
int listening__stats_batch_open(listening__stats_batch **out) SB_MUST_CHECK;
/* Count a new post (never corrected, so its labels are the model's). */
int listening__stats_batch_add(listening__stats_batch *b, const char *source, int64_t posted_at_ms,
                               const listening_understanding *u) SB_MUST_CHECK;
int listening__stats_batch_flush(listening *l, listening__stats_batch *b) SB_MUST_CHECK;
void listening__stats_batch_free(listening__stats_batch *b);
/* The active consent's customer for (source, handle) at now_ms; SB_ENOTFOUND. */
int listening__consent_customer(listening *l, const char *source, const char *handle, int64_t now_ms,
                                int64_t *customer_id_out) SB_MUST_CHECK;

/* Store the understanding of a stored post, move its statistics, route it
 * and count leads and cases in r (may be NULL).  Inside the caller's
 * transaction (listening.c). */
int listening__post_understood(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms,
                               listening_ingest_result *r) SB_MUST_CHECK;

#endif /* SB_LISTENING_INT_H */
