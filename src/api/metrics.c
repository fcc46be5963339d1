/*
 * metrics.c - request counters, latency histograms and the WebSocket gauge,
 * rendered as Prometheus text (exposition format 0.0.4).
 *
 * Each server thread owns one api_metrics and is its only writer: a relaxed
 * atomic load and store per counter, no lock and no read-modify-write on the
 * hot path.  A scrape sums every thread's counters (a scrape may see a
 * request counted but its latency not yet: Prometheus tolerates that).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

const char *const api_latency_bounds_text[API_LATENCY_BUCKETS - 1] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1", "5"};
const uint64_t api_latency_bounds_ns[API_LATENCY_BUCKETS - 1] = {100000,    250000,     500000,    1000000,  2500000,
                                                                 5000000,   10000000,   25000000,  50000000, 100000000,
                                                                 250000000, 1000000000, 5000000000};

/* Statuses counted one by one; others fall into the last slot by class. */
static const int status_codes[API_STATUS_SLOTS] = {101, 200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404,
                                                   405, 408, 409, 413, 414, 415, 422, 429, 431, 500, 503, 0};

static int status_slot(int status) {
    switch (status) {
    case 101:
        return 0;
    case 200:
        return 1;
    case 201:
        return 2;
    case 202:
        return 3;
    case 204:
        return 4;
    case 206:
        return 5;
    case 301:
        return 6;
    case 304:
        return 7;
    case 400:
        return 8;
    case 401:
        return 9;
    case 403:
        return 10;
    case 404:
        return 11;
    case 405:
        return 12;
    case 408:
        return 13;
    case 409:
        return 14;
    case 413:
        return 15;
    case 414:
        return 16;
    case 415:
        return 17;
    case 422:
        return 18;
    case 429:
        return 19;
    case 431:
        return 20;
    case 500:
        return 21;
    case 503:
        return 22;
    default:
        return 23;
    }
}

static const char *const method_groups[API_METHOD_GROUPS] = {"GET",   "HEAD",   "POST",    "PUT",
                                                             "PATCH", "DELETE", "OPTIONS", "OTHER"};

int api_method_group(const char *method, size_t len) {
    for (int i = 0; i < API_METHOD_GROUPS - 1; i++)
        if (strlen(method_groups[i]) == len && memcmp(method_groups[i], method, len) == 0) return i;
    return API_METHOD_GROUPS - 1;
}

const char *api_method_group_name(int group) {
    return group >= 0 && group < API_METHOD_GROUPS ? method_groups[group] : "OTHER";
}

static inline void bump(_Atomic uint64_t *counter, uint64_t by) {
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + by, memory_order_relaxed);
}

void api_metrics_record(api_metrics *m, int slot, int status, uint64_t duration_ns) {
    if (slot < 0 || slot >= API_SLOTS) slot = API_SLOT_UNMATCHED + API_METHOD_GROUPS - 1;
    bump(&m->requests[slot][status_slot(status)], 1);
    int bucket = 0;
    while (bucket < API_LATENCY_BUCKETS - 1 && duration_ns > api_latency_bounds_ns[bucket])
        bucket++;
    bump(&m->latency[slot][bucket], 1);
    bump(&m->latency_sum_ns[slot], duration_ns);
}

void api_metrics_ws_add(api_metrics *m, int delta) {
    atomic_store_explicit(&m->websockets_open, atomic_load_explicit(&m->websockets_open, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

static uint64_t sum_requests(api_metrics *const *threads, int nthreads, int slot, int s) {
    uint64_t total = 0;
    for (int t = 0; t < nthreads; t++)
        total += atomic_load_explicit(&threads[t]->requests[slot][s], memory_order_relaxed);
    return total;
}

/* Route label and method label of a slot; false for an unused slot. */
static bool slot_labels(const api_router *r, int slot, const char **route, const char **method) {
    if (slot < SB_HTTP_ROUTES_MAX) {
        if (slot >= r->count) return false;
        *route = r->routes[slot].pattern;
        *method = r->routes[slot].method;
        return true;
    }
    if (slot < API_SLOT_STATIC) {
        *route = "unmatched";
        *method = api_method_group_name(slot - API_SLOT_UNMATCHED);
        return true;
    }
    *route = "/*";
    *method = slot == API_SLOT_STATIC ? "GET" : "HEAD";
    return true;
}

/* Routes share a histogram when they share a pattern (GET and PATCH /api/me):
 * the first slot with the pattern renders it for all. */
static bool first_with_pattern(const api_router *r, int slot, const char *route) {
    for (int i = 0; i < slot && i < r->count; i++)
        if (strcmp(r->routes[i].pattern, route) == 0) return false;
    if (slot >= API_SLOT_UNMATCHED && slot < API_SLOT_STATIC) return slot == API_SLOT_UNMATCHED;
    if (slot >= API_SLOT_STATIC) return slot == API_SLOT_STATIC;
    return true;
}

/* The slots [*first, *end) that may share slot's histogram. */
static void histogram_range(const api_router *r, int slot, int *first, int *end) {
    *first = slot;
    if (slot < SB_HTTP_ROUTES_MAX)
        *end = r->count;
    else if (slot < API_SLOT_STATIC)
        *end = API_SLOT_STATIC;
    else
        *end = API_SLOTS;
}

static bool same_histogram(const api_router *r, int a, int b) {
    if (a >= SB_HTTP_ROUTES_MAX) return true; /* pseudo slots group by range */
    return strcmp(r->routes[a].pattern, r->routes[b].pattern) == 0;
}

int api_metrics_render(const api_router *r, api_metrics *const *threads, int nthreads, sb_buf *out) {
    sb_buf_reset(out);
    int result =
        sb_buf_append_str(out, "# HELP sb_http_requests_total HTTP requests by route pattern, method and status.\n"
                               "# TYPE sb_http_requests_total counter\n");
    for (int slot = 0; slot < API_SLOTS && result == SB_OK; slot++) {
        const char *route, *method;
        if (!slot_labels(r, slot, &route, &method)) continue;
        for (int s = 0; s < API_STATUS_SLOTS && result == SB_OK; s++) {
            uint64_t n = sum_requests(threads, nthreads, slot, s);
            if (n == 0) continue;
            if (status_codes[s] != 0)
                result = sb_buf_printf(out, "sb_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                                       route, method, status_codes[s], (unsigned long long)n);
            else
                result =
                    sb_buf_printf(out, "sb_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %llu\n",
                                  route, method, (unsigned long long)n);
        }
    }
    if (result == SB_OK)
        result = sb_buf_append_str(
            out, "# HELP sb_http_request_duration_seconds Time from routing to answer, by route pattern.\n"
                 "# TYPE sb_http_request_duration_seconds histogram\n");
    for (int slot = 0; slot < API_SLOTS && result == SB_OK; slot++) {
        const char *route, *method;
        if (!slot_labels(r, slot, &route, &method) || !first_with_pattern(r, slot, route)) continue;
        uint64_t buckets[API_LATENCY_BUCKETS] = {0}, sum_ns = 0, count = 0;
        int first, end;
        histogram_range(r, slot, &first, &end);
        for (int other = first; other < end; other++) {
            if (other != slot && !same_histogram(r, slot, other)) continue;
            for (int t = 0; t < nthreads; t++) {
                for (int b = 0; b < API_LATENCY_BUCKETS; b++)
                    buckets[b] += atomic_load_explicit(&threads[t]->latency[other][b], memory_order_relaxed);
                sum_ns += atomic_load_explicit(&threads[t]->latency_sum_ns[other], memory_order_relaxed);
            }
        }
        for (int b = 0; b < API_LATENCY_BUCKETS; b++)
            count += buckets[b];
        if (count == 0) continue;
        uint64_t cumulative = 0;
        for (int b = 0; b < API_LATENCY_BUCKETS && result == SB_OK; b++) {
            cumulative += buckets[b];
            result = sb_buf_printf(out, "sb_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n", route,
                                   b < API_LATENCY_BUCKETS - 1 ? api_latency_bounds_text[b] : "+Inf",
                                   (unsigned long long)cumulative);
        }
        if (result == SB_OK)
            result = sb_buf_printf(out,
                                   "sb_http_request_duration_seconds_sum{route=\"%s\"} %llu.%09llu\n"
                                   "sb_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                                   route, (unsigned long long)(sum_ns / 1000000000u),
                                   (unsigned long long)(sum_ns % 1000000000u), route, (unsigned long long)count);
    }
    int64_t open = 0;
    for (int t = 0; t < nthreads; t++)
        open += atomic_load_explicit(&threads[t]->websockets_open, memory_order_relaxed);
    if (result == SB_OK)
        result = sb_buf_printf(out,
                               "# HELP sb_websocket_connections Open WebSocket connections.\n"
                               "# TYPE sb_websocket_connections gauge\n"
                               "sb_websocket_connections %lld\n",
                               (long long)(open < 0 ? 0 : open));
    return result;
}

/* ---- beyond HTTP: the run-time parts of the server ---- */

static int render_histogram(sb_buf *out, const char *name, const char *help, const int64_t *bounds, int buckets,
                            const int64_t *counts, int64_t sum, bool sum_is_ns) {
    int result = sb_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    int64_t cumulative = 0;
    for (int b = 0; b < buckets && result == SB_OK; b++) {
        cumulative += counts[b];
        if (b == buckets - 1)
            result = sb_buf_printf(out, "%s_bucket{le=\"+Inf\"} %lld\n", name, (long long)cumulative);
        else if (sum_is_ns)
            result =
                sb_buf_printf(out, "%s_bucket{le=\"%lld.%09lld\"} %lld\n", name, (long long)(bounds[b] / 1000000000),
                              (long long)(bounds[b] % 1000000000), (long long)cumulative);
        else
            result =
                sb_buf_printf(out, "%s_bucket{le=\"%lld\"} %lld\n", name, (long long)bounds[b], (long long)cumulative);
    }
    if (result != SB_OK) return result;
    if (sum_is_ns)
        return sb_buf_printf(out, "%s_sum %lld.%09lld\n%s_count %lld\n", name, (long long)(sum / 1000000000),
                             (long long)(sum % 1000000000), name, (long long)cumulative);
    return sb_buf_printf(out, "%s_sum %lld\n%s_count %lld\n", name, (long long)sum, name, (long long)cumulative);
}

static int render_ledger(ledger *l, sb_buf *out) {
    ledger_stats st;
    ledger_get_stats(l, &st);
    int result = sb_buf_printf(out,
                               "# HELP sb_ledger_queue_transfers Transfers waiting for the ledger writer.\n"
                               "# TYPE sb_ledger_queue_transfers gauge\n"
                               "sb_ledger_queue_transfers %lld\n"
                               "# HELP sb_ledger_batches_total Ledger batches committed.\n"
                               "# TYPE sb_ledger_batches_total counter\n"
                               "sb_ledger_batches_total %lld\n"
                               "# HELP sb_ledger_batches_failed_total Ledger batches rolled back (callers got the "
                               "error).\n"
                               "# TYPE sb_ledger_batches_failed_total counter\n"
                               "sb_ledger_batches_failed_total %lld\n"
                               "# HELP sb_ledger_halted 1 once a money invariant failed: the writer commits nothing "
                               "more.\n"
                               "# TYPE sb_ledger_halted gauge\n"
                               "sb_ledger_halted %d\n"
                               "# HELP sb_ledger_expired_total Pending transfers expired by the writer.\n"
                               "# TYPE sb_ledger_expired_total counter\n"
                               "sb_ledger_expired_total %lld\n",
                               (long long)st.queued, (long long)st.batches, (long long)st.batches_failed,
                               st.halted ? 1 : 0, (long long)st.expired);
    if (result == SB_OK)
        result = render_histogram(out, "sb_ledger_batch_size", "Accounts and transfers per committed ledger batch.",
                                  ledger_batch_size_bounds, LEDGER_BATCH_SIZE_BUCKETS, st.batch_size_buckets,
                                  st.batch_size_sum, false);
    if (result == SB_OK)
        result =
            render_histogram(out, "sb_ledger_commit_duration_seconds", "Ledger batch from BEGIN to durable COMMIT.",
                             ledger_commit_latency_bounds_ns, LEDGER_COMMIT_LATENCY_BUCKETS, st.commit_latency_buckets,
                             st.commit_latency_sum_ns, true);
    if (result == SB_OK)
        result = sb_buf_append_str(out, "# HELP sb_ledger_transfers_total Committed transfers by result.\n"
                                        "# TYPE sb_ledger_transfers_total counter\n");
    for (int r = 0; r < LEDGER_RESULT_COUNT && result == SB_OK; r++)
        if (st.results[r] || r == LEDGER_OK)
            result = sb_buf_printf(out, "sb_ledger_transfers_total{result=\"%s\"} %lld\n", ledger_result_name(r),
                                   (long long)st.results[r]);
    return result;
}

static int render_feed(listening_feed *feed, sb_buf *out) {
    listening_feed_stats st;
    listening_feed_stats_get(feed, &st);
    return sb_buf_printf(out,
                         "# HELP sb_listening_feed_posts_total Channel comments through the listening feed, by "
                         "outcome (rate() gives the ingest rate).\n"
                         "# TYPE sb_listening_feed_posts_total counter\n"
                         "sb_listening_feed_posts_total{outcome=\"queued\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"accepted\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"duplicate\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"rejected\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"not_understood\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"dropped\"} %llu\n"
                         "sb_listening_feed_posts_total{outcome=\"failed\"} %llu\n",
                         (unsigned long long)st.queued, (unsigned long long)st.accepted,
                         (unsigned long long)st.duplicates, (unsigned long long)st.rejected,
                         (unsigned long long)st.not_understood, (unsigned long long)st.dropped,
                         (unsigned long long)st.failed);
}

int api_metrics_render_runtime(api_server *srv, api_metrics *const *threads, int nthreads, sb_buf *out) {
    uint64_t dropped = 0;
    for (int t = 0; t < nthreads; t++)
        dropped += atomic_load_explicit(&threads[t]->websockets_dropped_slow, memory_order_relaxed);
    api_push_counters *push = api_server_push_counters(srv);
    int result = sb_buf_printf(
        out,
        "# HELP sb_websocket_dropped_total WebSockets dropped because their send queue was full.\n"
        "# TYPE sb_websocket_dropped_total counter\n"
        "sb_websocket_dropped_total %llu\n"
        "# HELP sb_messenger_pushes_total Messenger events pushed to recipients' sockets, by outcome.\n"
        "# TYPE sb_messenger_pushes_total counter\n"
        "sb_messenger_pushes_total{outcome=\"pushed\"} %llu\n"
        "sb_messenger_pushes_total{outcome=\"no_listener\"} %llu\n"
        "sb_messenger_pushes_total{outcome=\"failed\"} %llu\n",
        (unsigned long long)dropped, (unsigned long long)atomic_load_explicit(&push->pushed, memory_order_relaxed),
        (unsigned long long)atomic_load_explicit(&push->no_listener, memory_order_relaxed),
        (unsigned long long)atomic_load_explicit(&push->failed, memory_order_relaxed));
    const sb_app *app = srv->app;
    if (result == SB_OK && app->payments_ready && app->payments.l) result = render_ledger(app->payments.l, out);
    listening_feed *feed = sb_app_feed(app);
    if (result == SB_OK && feed) result = render_feed(feed, out);
    /* The background workers (jobs by result, queue depth) follow
     * (sb_worker_metrics_render in routes_system.c). */
    return result;
}
