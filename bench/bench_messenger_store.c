/*
 * bench_messenger_store.c - the messenger's hot path without the network:
 * messenger_send into a group of GROUP_MEMBERS members (membership check,
 * client-id lookup, seq/rev assignment, insert, recipient list, commit) and
 * the rendering of its event to JSON, one transaction per message, on one
 * store connection with synchronous=NORMAL (WAL).  Baseline, same run, same
 * connection settings: a bare INSERT of an equivalent row in its own
 * transaction (what any store of messages must pay).  The ratio says what
 * the messenger's checks and events cost on top.  A third pass sends the
 * same number through messenger_send_batch, BATCH per transaction, and is
 * reported as batched_sends_per_s.
 *
 *   bench_messenger_store DIR MESSAGES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messenger/messenger.h"

#define GROUP_MEMBERS 50
#define BATCH 128

static void die(const char *what, int result) {
    fprintf(stderr, "bench_messenger_store: %s: %s\n", what, sb_strerror(result));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_messenger_store DIR MESSAGES\n");
        return 2;
    }
    int64_t messages = 0;
    if (sb_parse_int64(argv[2], &messages) != SB_OK || messages < 1 || messages > 10000000) die("MESSAGES", SB_EINVAL);
    sb_log_set_level(SB_LOG_ERROR);
    store *s = NULL;
    int result = store_open(argv[1], &(store_options){.durable = 0}, &s);
    if (result != SB_OK) die("open", result);
    if ((result = store_migrate(s, NULL)) != SB_OK) die("migrate", result);
    int64_t users[GROUP_MEMBERS];
    for (int i = 0; i < GROUP_MEMBERS; i++) {
        char phone[32];
        snprintf(phone, sizeof phone, "+98912%07d", i + 1);
        result = store_exec(s,
                            "INSERT INTO users(role, phone, display_name, created_at_ms, updated_at_ms) "
                            "VALUES ('customer', ?, 'b', 0, 0)",
                            "t", phone);
        if (result != SB_OK) die("user", result);
        users[i] = store_last_insert_id(s);
    }
    int64_t group = 0;
    if ((result = messenger_group_create(s, users[0], "bench", 0, &group, NULL)) != SB_OK) die("group", result);
    for (int i = 1; i < GROUP_MEMBERS; i++)
        if ((result = messenger_group_add(s, users[0], group, users[i], 0, NULL)) != SB_OK) die("add", result);
    int64_t baseline_chat = 0;
    if ((result = messenger_group_create(s, users[0], "baseline", 0, &baseline_chat, NULL)) != SB_OK)
        die("group", result);

    /* Baseline: a bare insert per transaction. */
    int64_t t0 = sb_mono_ns();
    for (int64_t i = 1; i <= messages; i++) {
        char client_id[32];
        snprintf(client_id, sizeof client_id, "b-%lld", (long long)i);
        if ((result = store_begin(s)) != SB_OK) die("begin", result);
        result = store_exec(s,
                            "INSERT INTO msg_messages(chat_id, seq, rev, sender_id, kind, body, client_id, "
                            "created_at_ms) VALUES (?, ?, ?, ?, 'text', ?, ?, ?)",
                            "iiiitti", baseline_chat, i, i, users[i % GROUP_MEMBERS], "hello from the benchmark",
                            client_id, (int64_t)0);
        if (result != SB_OK) die("insert", result);
        if ((result = store_commit(s)) != SB_OK) die("commit", result);
    }
    double baseline_s = (double)(sb_mono_ns() - t0) / 1e9;

    /* The messenger: send, render the event once, as the api would. */
    size_t json_bytes = 0;
    t0 = sb_mono_ns();
    for (int64_t i = 1; i <= messages; i++) {
        char client_id[32];
        snprintf(client_id, sizeof client_id, "m-%lld", (long long)i);
        messenger_send_request req = {.chat_id = group,
                                      .sender_id = users[i % GROUP_MEMBERS],
                                      .kind = MESSENGER_MSG_TEXT,
                                      .text = "hello from the benchmark",
                                      .client_id = client_id};
        messenger_events ev = {0};
        if ((result = messenger_send(s, &req, 0, NULL, NULL, &ev)) != SB_OK) die("send", result);
        if (ev.count != 1 || ev.items[0].recipient_count != GROUP_MEMBERS || ev.items[0].seq != i)
            die("event", SB_EINTERNAL);
        char *json = NULL;
        size_t len = 0;
        if ((result = messenger_event_render(&ev.items[0], &json, &len)) != SB_OK) die("render", result);
        json_bytes += len;
        sb_free(json);
        messenger_events_clear(&ev);
    }
    double send_s = (double)(sb_mono_ns() - t0) / 1e9;

    /* The same through messenger_send_batch, BATCH sends per transaction
     * (what a server gathering frames from many connections would do). */
    static messenger_send_request reqs[BATCH];
    static messenger_send_outcome outcomes[BATCH];
    static char client_ids[BATCH][32];
    t0 = sb_mono_ns();
    for (int64_t done = 0; done < messages;) {
        size_t n = messages - done < BATCH ? (size_t)(messages - done) : BATCH;
        for (size_t k = 0; k < n; k++) {
            snprintf(client_ids[k], sizeof client_ids[k], "g-%lld", (long long)(done + (int64_t)k));
            reqs[k] = (messenger_send_request){.chat_id = group,
                                               .sender_id = users[(done + (int64_t)k) % GROUP_MEMBERS],
                                               .kind = MESSENGER_MSG_TEXT,
                                               .text = "hello from the benchmark",
                                               .client_id = client_ids[k]};
        }
        if ((result = messenger_send_batch(s, reqs, n, 0, outcomes)) != SB_OK) die("batch", result);
        for (size_t k = 0; k < n; k++) {
            if (outcomes[k].result != SB_OK || outcomes[k].events.items[0].recipient_count != GROUP_MEMBERS)
                die("batch outcome", outcomes[k].result);
            char *json = NULL;
            if ((result = messenger_event_render(&outcomes[k].events.items[0], &json, NULL)) != SB_OK)
                die("render", result);
            sb_free(json);
        }
        messenger_send_outcomes_clear(outcomes, n);
        done += (int64_t)n;
    }
    double batch_s = (double)(sb_mono_ns() - t0) / 1e9;
    store_close(s);

    double value = (double)messages / send_s, baseline = (double)messages / baseline_s;
    printf("messages=%lld group_members=%d send_s=%.3f baseline_s=%.3f avg_event_bytes=%zu\n", (long long)messages,
           GROUP_MEMBERS, send_s, baseline_s, json_bytes / (size_t)messages);
    printf("batched: %d sends per transaction, %.0f sends/s\n", BATCH, (double)messages / batch_s);
    printf("bench: messenger_store value=%.0f unit=sends/s baseline=bare_insert baseline_value=%.0f ratio=%.3f "
           "group_members=%d deliveries_per_s=%.0f batched_sends_per_s=%.0f batch=%d\n",
           value, baseline, value / baseline, GROUP_MEMBERS, value * GROUP_MEMBERS, (double)messages / batch_s, BATCH);
    return 0;
}
