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
/* The active consent's customer for (source, handle) at now_ms; SB_ENOTFOUND. */
int listening__consent_customer(listening *l, const char *source, const char *handle, int64_t now_ms,
                                int64_t *customer_id_out) SB_MUST_CHECK;

/* Store the understanding of a stored post, move its statistics, route it
 * and count leads and cases in r (may be NULL).  Inside the caller's
 * transaction (listening.c). */
int listening__post_understood(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms,
                               listening_ingest_result *r) SB_MUST_CHECK;

#endif /* SB_LISTENING_INT_H */
