/*
 * listening_text.c - the text engine as the listening understander: the
 * redacted text is normalised once, its language identified, every head of
 * the classifier predicted (sentiment, kind, topic: labels outside the
 * listening vocabulary count as absent) and the signals found (risks, life
 * events, competitor banks).  The model is read-only, so any number of
 * ingesting threads share one engine.
 */
#include <string.h>

#include "listening/listening.h"
#include "text/text.h"

struct listening_text_engine {
    text_model *model;
    bool owned;
    int head_of[3]; /* sentiment, kind, topic: model head index or -1 */
    char name[64];
};

static const char *const heads[3] = {"sentiment", "kind", "topic"};

static void engine_bind(listening_text_engine *e) {
    for (int h = 0; h < 3; h++) e->head_of[h] = e->model ? text_model_head_find(e->model, heads[h]) : -1;
}

int listening_text_engine_open(const char *model_path, listening_text_engine **out, char err[TEXT_ERROR_BYTES]) {
    *out = NULL;
    listening_text_engine *e = sb_calloc(1, sizeof *e);
    if (!e) return SB_ENOMEM;
    int result = text_model_load(model_path, &e->model, err);
    if (result != SB_OK) {
        sb_free(e);
        return result;
    }
    e->owned = true;
    const char *base = strrchr(model_path, '/');
    snprintf(e->name, sizeof e->name, "%s", base ? base + 1 : model_path);
    engine_bind(e);
    *out = e;
    return SB_OK;
}

int listening_text_engine_wrap(const text_model *model, const char *name, listening_text_engine **out) {
    *out = NULL;
    listening_text_engine *e = sb_calloc(1, sizeof *e);
    if (!e) return SB_ENOMEM;
    e->model = (text_model *)model;
    e->owned = false;
    snprintf(e->name, sizeof e->name, "%s", name ? name : "model");
    engine_bind(e);
    *out = e;
    return SB_OK;
}

void listening_text_engine_free(listening_text_engine *e) {
    if (!e) return;
    if (e->owned) text_model_free(e->model);
    sb_free(e);
}

/* Copy a signal into the understanding's list if there is room. */
static void signal_add(listening_signal *list, size_t *count, const char *name, int permille, const char *trigger) {
    if (*count >= LISTENING_SIGNALS_MAX) return;
    listening_signal *s = &list[(*count)++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->permille = permille;
    snprintf(s->trigger, sizeof s->trigger, "%s", trigger);
    /* snprintf may cut a multi-byte character: back up to a boundary. */
    size_t n = strlen(s->trigger);
    if (n == sizeof s->trigger - 1) {
        while (n > 0 && ((unsigned char)s->trigger[n - 1] & 0xC0) == 0x80) n--;
        if (n > 0 && ((unsigned char)s->trigger[n - 1] & 0x80)) n--;
        s->trigger[n] = '\0';
    }
    size_t m = strlen(s->name);
    while (m > 0 && !sb_utf8_valid(s->name, m)) s->name[--m] = '\0';
}

/* A signal fires on words, not on a probability; its weight is fixed. */
#define SIGNAL_PERMILLE 900

static int understand(void *arg, const char *text, size_t len, listening_understanding *out) {
    listening_text_engine *e = arg;
    memset(out, 0, sizeof *out);
    snprintf(out->model, sizeof out->model, "%s", e->name);
    text_lang lang;
    int result = text_langid(text, len, &lang, NULL);
    if (result != SB_OK) return result;
    snprintf(out->lang, sizeof out->lang, "%s", text_lang_code(lang));
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    result = text_normalize(text, len, &norm);
    if (result != SB_OK) return result; /* norm freed by the convention */
    const char *n = norm.data ? norm.data : "";
    text_prediction pred[SB_TEXT_MODEL_HEADS_MAX];
    if (e->model) result = text_model_predict(e->model, n, norm.len, pred);
    char *labels[3] = {out->sentiment, out->kind, out->topic};
    int *permilles[3] = {&out->sentiment_permille, &out->kind_permille, &out->topic_permille};
    for (int h = 0; result == SB_OK && h < 3; h++) {
        if (e->head_of[h] < 0) continue;
        const char *label = text_model_label_name(e->model, (size_t)e->head_of[h], pred[e->head_of[h]].label);
        if (!label || !listening_label_valid(heads[h], label)) continue;
        snprintf(labels[h], LISTENING_LABEL_BYTES, "%s", label);
        float p = pred[e->head_of[h]].p;
        *permilles[h] = p <= 0 ? 0 : p >= 1 ? 1000 : (int)(p * 1000.0f + 0.5f);
    }
    text_signals_result sig;
    if (result == SB_OK) result = text_signals(n, norm.len, &sig);
    for (size_t i = 0; result == SB_OK && i < sig.count; i++) {
        const text_signal *s = &sig.items[i];
        const char *name = text_signal_name(s->kind, s->code);
        if (s->kind == TEXT_SIGNAL_RISK && listening_risk_valid(name))
            signal_add(out->risks, &out->risk_count, name, SIGNAL_PERMILLE, s->trigger);
        else if (s->kind == TEXT_SIGNAL_LIFE_EVENT && listening_life_event_valid(name))
            signal_add(out->life_events, &out->life_event_count, name, SIGNAL_PERMILLE, s->trigger);
        else if (s->kind == TEXT_SIGNAL_COMPETITOR)
            signal_add(out->competitors, &out->competitor_count, name, SIGNAL_PERMILLE, s->trigger);
    }
    sb_buf_free(&norm);
    return result;
}

listening_understander listening_text_understander(listening_text_engine *e) {
    listening_understander u = {.understand = understand, .arg = e};
    return u;
}
