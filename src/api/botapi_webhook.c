/*
 * botapi_webhook.c - the Bot API's one background thread: it POSTs each
 * update of a bot that set a webhook (setWebhook) to its URL, and voids the
 * payment holds of pre-checkout queries a bot left unanswered past their
 * deadline (botapi_pay.c).
 *
 * A bounded queue of bot ids (SB_BOTAPI_WEBHOOK_QUEUE_MAX; a bot already
 * queued is not queued twice) is filled by api_botapi_updates_arrived when
 * updates are recorded, and by setWebhook.  For a bot the thread reads its
 * unconfirmed updates (api_botapi_collect: the same Update objects getUpdates
 * gives), POSTs them one by one in order with the secret token header
 * X-Telegram-Bot-Api-Secret-Token, and confirms each one its webhook
 * accepted (2xx).  A failed POST is retried SB_BOTAPI_WEBHOOK_ATTEMPTS_MAX
 * times with doubling pauses and jitter; then the error is noted for
 * getWebhookInfo and the bot waits for the next sweep (every
 * 10 * SB_BOTAPI_WEBHOOK_SWEEP_MS the thread looks for bots with a webhook
 * and pending updates, so a full queue or a webhook that was down loses
 * nothing).  The POST goes through core's libcurl client (http or https,
 * certificates verified against the system's CAs or serve's --ca-file), the
 * secret token as an extra header line; each POST is bounded by
 * SB_BOTAPI_WEBHOOK_TIMEOUT_MS, and stopping cuts the pauses short and
 * starts no new POST.
 */
#include <string.h>
#include <time.h>

#include "api/botapi_int.h"

void api_botapi_webhook_queue(api_server *srv, int64_t bot_id) {
    api_botapi *b = srv ? srv->botapi : NULL;
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    bool queued = false;
    for (size_t i = 0; i < b->count; i++)
        if (b->queue[(b->head + i) % SB_BOTAPI_WEBHOOK_QUEUE_MAX] == bot_id) queued = true;
    if (b->running && !queued && b->count < SB_BOTAPI_WEBHOOK_QUEUE_MAX) {
        b->queue[(b->head + b->count) % SB_BOTAPI_WEBHOOK_QUEUE_MAX] = bot_id;
        b->count++;
        pthread_cond_signal(&b->cond);
    }
    pthread_mutex_unlock(&b->lock);
}

static struct timespec after_ms(int64_t ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    return until;
}

/* Sleep ms unless stopping; false once stopping. */
static bool pause_ms(api_botapi *b, int64_t ms) {
    struct timespec until = after_ms(ms);
    pthread_mutex_lock(&b->lock);
    while (!atomic_load(&b->stopping))
        if (pthread_cond_timedwait(&b->cond, &b->lock, &until) != 0) break;
    pthread_mutex_unlock(&b->lock);
    return !atomic_load(&b->stopping);
}

/* POST one update, with retries.  SB_OK when the webhook took it. */
static int post_update(api_botapi *b, int64_t bot_id, const sb_http_options *http, const char *url, const char *body,
                       char *error, size_t error_size) {
    int result = SB_EIO;
    int64_t backoff = SB_BOTAPI_WEBHOOK_BACKOFF_MS;
    for (int attempt = 0; attempt < SB_BOTAPI_WEBHOOK_ATTEMPTS_MAX && !atomic_load(&b->stopping); attempt++) {
        int status = 0;
        result = sb_http_post_json(http, url, body, strlen(body), &status);
        if (result == SB_OK) return SB_OK;
        if (status > 0)
            snprintf(error, error_size, "Wrong response from the webhook: %d", status);
        else
            snprintf(error, error_size, "Connection failed: %s", sb_strerror(result));
        sb_log(SB_LOG_INFO, "botapi.webhook", "bot %lld: attempt %d: %s", (long long)bot_id, attempt + 1, error);
        if (result == SB_EINVAL || result == SB_ELIMIT) break; /* a final refusal: retrying would not help */
        if (!pause_ms(b, backoff + (int64_t)sb_random_uniform((uint32_t)backoff))) break;
        backoff *= 2;
    }
    return result;
}

/* Deliver what the bot has pending.  true when a full batch went (more may wait). */
static bool deliver(api_botapi *b, int64_t bot_id) {
    store *s = b->store;
    messenger_botapi_state st;
    int result = messenger_botapi_state_get(s, bot_id, &st);
    if (result != SB_OK || !st.webhook_url[0]) return false;
    if (sb_http_url_check(st.webhook_url, SB_BOTAPI_WEBHOOK_URL_BYTES_MAX + 1) != SB_OK) return false;
    char secret_header[SB_HTTP_OUT_HEADER_BYTES_MAX];
    const char *const headers[] = {secret_header};
    sb_http_options http = {.ca_file = b->ca_file,
                            .connect_timeout_ms = SB_BOTAPI_WEBHOOK_TIMEOUT_MS,
                            .total_timeout_ms = SB_BOTAPI_WEBHOOK_TIMEOUT_MS,
                            .headers = headers,
                            .header_count = st.secret_token[0] ? 1 : 0};
    if (st.secret_token[0])
        snprintf(secret_header, sizeof secret_header, "X-Telegram-Bot-Api-Secret-Token: %s", st.secret_token);
    json_t *updates = NULL;
    int64_t skipped = 0;
    result = api_botapi_collect(s, bot_id, st.confirmed_id, SB_BOTAPI_WEBHOOK_BATCH_MAX, st.allowed_updates, &updates,
                                &skipped);
    if (result == SB_OK && skipped > 0) result = messenger_botapi_confirm(s, bot_id, skipped);
    if (result != SB_OK) {
        sb_log(SB_LOG_WARN, "botapi.webhook", "bot %lld: cannot read updates: %s", (long long)bot_id,
               sb_strerror(result));
        json_decref(updates);
        return false;
    }
    size_t sent = 0, count = json_array_size(updates);
    for (size_t i = 0; i < count && !atomic_load(&b->stopping); i++) {
        json_t *u = json_array_get(updates, i);
        char *body = json_dumps(u, JSON_COMPACT);
        char error[SB_BOTAPI_ERROR_MESSAGE_BYTES_MAX + 1] = "";
        result = body ? post_update(b, bot_id, &http, st.webhook_url, body, error, sizeof error) : SB_ENOMEM;
        free(body); /* jansson's allocation */
        if (result != SB_OK) {
            if (messenger_botapi_error_set(s, bot_id, sb_now_ms(), error[0] ? error : "Internal error") != SB_OK)
                sb_log(SB_LOG_WARN, "botapi.webhook", "bot %lld: cannot note the error", (long long)bot_id);
            break;
        }
        int64_t id = json_integer_value(json_object_get(u, "update_id"));
        if (messenger_botapi_confirm(s, bot_id, id + 1) != SB_OK) {
            sb_log(SB_LOG_WARN, "botapi.webhook", "bot %lld: cannot confirm update %lld (it may be sent again)",
                   (long long)bot_id, (long long)id);
            break;
        }
        sent++;
    }
    json_decref(updates);
    return sent == SB_BOTAPI_WEBHOOK_BATCH_MAX;
}

static void sweep_webhooks(api_botapi *b) {
    int64_t ids[64];
    size_t n = 0;
    if (messenger_botapi_webhook_bots(b->store, ids, SB_ARRAY_LEN(ids), &n) != SB_OK) return;
    for (size_t i = 0; i < n; i++)
        api_botapi_webhook_queue(b->server, ids[i]);
}

static void *sender_main(void *arg) {
    api_botapi *b = arg;
    int ticks = 9; /* the first idle turn sweeps */
    while (!atomic_load(&b->stopping)) {
        int64_t bot_id = 0;
        pthread_mutex_lock(&b->lock);
        if (b->count == 0 && !atomic_load(&b->stopping)) {
            struct timespec until = after_ms(SB_BOTAPI_WEBHOOK_SWEEP_MS);
            (void)pthread_cond_timedwait(&b->cond, &b->lock, &until);
        }
        if (b->count > 0) {
            bot_id = b->queue[b->head];
            b->head = (b->head + 1) % SB_BOTAPI_WEBHOOK_QUEUE_MAX;
            b->count--;
        }
        pthread_mutex_unlock(&b->lock);
        if (atomic_load(&b->stopping)) break;
        if (bot_id > 0 && deliver(b, bot_id)) api_botapi_webhook_queue(b->server, bot_id);
        if (bot_id == 0) {
            api_botapi_invoices_expire(b->server, b->store, sb_now_ms());
            if (++ticks % 10 == 0) sweep_webhooks(b);
        }
    }
    return NULL;
}

int api_botapi_sender_start(api_botapi *b) {
    const char *location = b->server->app ? b->server->app->data_location : NULL;
    if (!location) location = b->server->cfg.data_location;
    if (!location) return SB_EINVAL;
    b->ca_file = b->server->app ? b->server->app->ca_file : NULL;
    int result = store_open(location, NULL, &b->store);
    if (result != SB_OK) return result;
    atomic_store(&b->stopping, false);
    b->head = b->count = 0;
    pthread_mutex_lock(&b->lock);
    b->running = true;
    pthread_mutex_unlock(&b->lock);
    if (pthread_create(&b->tid, NULL, sender_main, b) != 0) {
        pthread_mutex_lock(&b->lock);
        b->running = false;
        pthread_mutex_unlock(&b->lock);
        store_close(b->store);
        b->store = NULL;
        return SB_EIO;
    }
    return SB_OK;
}

void api_botapi_sender_stop(api_botapi *b) {
    pthread_mutex_lock(&b->lock);
    if (!b->running) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    atomic_store(&b->stopping, true);
    b->running = false;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->tid, NULL);
    store_close(b->store);
    b->store = NULL;
    b->count = 0;
}
