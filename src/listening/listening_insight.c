/*
 * listening_insight.c - what the posts add up to: alerts on bursts,
 * suggestion groups, advocates, and the consents that allow leads.
 *
 * Alerts.  Every metric ("negative": negative posts that carry no risk, and
 * "risk:NAME" for each risk seen in the last hour, so that one rumour burst
 * is one alert and not also a negative-volume alert) is a count of posts
 * in the last hour [now-1h, now),
 * compared with the mean of the previous N hours (the baseline; at least
 * SB_LISTENING_ALERT_BASELINE_FLOOR an hour).  Under "nothing changed" the
 * count is Poisson with that mean; the alert fires when the upper-tail
 * p-value P(X >= observed) is below the threshold and the count reaches the
 * minimum.  The alert row keeps baseline, observed count, p-value, threshold
 * and the smallest count that would have fired.  One burst is one alert: a
 * metric that fired within SB_LISTENING_ALERT_QUIET_MS updates its alert
 * instead of raising another.
 *
 * Suggestions.  Posts whose effective kind is suggestion or complaint are
 * grouped by (kind, topic); their words (lowercased, Arabic yeh/kaf folded
 * to Persian, stop words of fa/uk/ru/en removed) form bigrams; a bigram's
 * score in a group is the number of the group's posts using it times its
 * inverse document frequency over all posts of the period; each post joins
 * the best-scoring bigram it contains, so one complaint is counted once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "listening/listening_int.h"

#define HOUR_MS (60LL * 60 * 1000)

/* ---- Poisson ---- */
double listening_poisson_upper_tail(int64_t k, double lambda) {
    if (k <= 0) return 1.0;
    if (!(lambda > 0)) return 0.0;
    double kd = (double)k;
    if (kd > lambda) {
        /* Sum the upper terms directly: accurate for tiny p-values. */
        double term = exp(-lambda + kd * log(lambda) - lgamma(kd + 1.0)), sum = 0.0;
        for (int64_t i = k; i < k + 1000000; i++) {
            sum += term;
            term *= lambda / (double)(i + 1);
            if (term <= sum * 1e-17) break;
        }
        return sum > 1.0 ? 1.0 : sum;
    }
    /* 1 - P(X <= k-1), terms in log space (exp(-lambda) may underflow). */
    double lower = 0.0;
    for (int64_t i = 0; i < k; i++)
        lower += exp(-lambda + (double)i * log(lambda) - lgamma((double)i + 1.0));
    double p = 1.0 - lower;
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}

/* ---- alerts ---- */
static int metric_count(listening *l, const char *metric, int64_t from_ms, int64_t to_ms, int64_t *out) {
    if (strcmp(metric, "negative") == 0)
        return store_query_int64(l->s, out,
                                 "SELECT COUNT(*) FROM listening_effective e WHERE e.sentiment = 'negative' AND "
                                 "e.posted_at_ms >= ? AND e.posted_at_ms < ? AND NOT EXISTS (SELECT 1 FROM "
                                 "listening_signals s WHERE s.post_id = e.post_id AND s.kind = 'risk')",
                                 "ii", from_ms, to_ms);
    SB_ASSERT(strncmp(metric, "risk:", 5) == 0);
    return store_query_int64(l->s, out,
                             "SELECT COUNT(*) FROM listening_signals s JOIN listening_posts p ON p.id = s.post_id "
                             "WHERE s.kind = 'risk' AND s.name = ? AND p.posted_at_ms >= ? AND p.posted_at_ms < ?",
                             "tii", metric + 5, from_ms, to_ms);
}

/* Check one metric; fills *alert and sets *raised when a new alert row was made. */
static int check_metric(listening *l, const char *metric, int64_t now_ms, listening_alert *alert, bool *raised) {
    *raised = false;
    int64_t hours = l->cfg.alert_baseline_hours, observed, base_total;
    int64_t window_start = now_ms - HOUR_MS;
    int result = metric_count(l, metric, window_start, now_ms, &observed);
    if (result == SB_OK) result = metric_count(l, metric, window_start - hours * HOUR_MS, window_start, &base_total);
    if (result != SB_OK) return result;
    double baseline = (double)base_total / (double)hours;
    double lambda = baseline > SB_LISTENING_ALERT_BASELINE_FLOOR ? baseline : SB_LISTENING_ALERT_BASELINE_FLOOR;
    double p = listening_poisson_upper_tail(observed, lambda), alpha = l->cfg.alert_p_threshold;
    if (observed < l->cfg.alert_min_count || !(p < alpha)) return SB_OK;

    int64_t threshold_count = l->cfg.alert_min_count;
    while (threshold_count < observed && !(listening_poisson_upper_tail(threshold_count, lambda) < alpha))
        threshold_count++;

    int64_t existing;
    result = store_query_int64(l->s, &existing,
                               "SELECT id FROM listening_alerts WHERE metric = ? AND last_exceeded_ms >= ? ORDER BY id "
                               "DESC LIMIT 1",
                               "ti", metric, now_ms - SB_LISTENING_ALERT_QUIET_MS);
    if (result == SB_OK)
        return store_exec(l->s,
                          "UPDATE listening_alerts SET last_exceeded_ms = max(last_exceeded_ms, ?), observed = "
                          "max(observed, ?) WHERE id = ?",
                          "iii", now_ms, observed, existing);
    if (result != SB_ENOTFOUND) return result;
    memset(alert, 0, sizeof *alert);
    snprintf(alert->metric, sizeof alert->metric, "%s", metric);
    alert->raised_at_ms = now_ms;
    alert->window_start_ms = window_start;
    alert->observed = observed;
    alert->baseline_per_hour = baseline;
    alert->baseline_hours = hours;
    alert->p_value = p;
    alert->p_threshold = alpha;
    alert->min_count = l->cfg.alert_min_count;
    alert->threshold_count = threshold_count;
    /* The store binds integers, text and blobs: the p-values go in as text
     * cast to REAL; the baseline in thousandths. */
    char p_text[32], alpha_text[32];
    snprintf(p_text, sizeof p_text, "%.17g", p);
    snprintf(alpha_text, sizeof alpha_text, "%.17g", alpha);
    result =
        store_exec(l->s,
                   "INSERT INTO listening_alerts(metric, raised_at_ms, last_exceeded_ms, window_start_ms, observed, "
                   "baseline_per_hour_milli, baseline_hours, p_value, p_threshold, min_count, threshold_count) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS REAL), CAST(? AS REAL), ?, ?)",
                   "tiiiiiittii", metric, now_ms, now_ms, window_start, observed, (int64_t)llround(baseline * 1000.0),
                   hours, p_text, alpha_text, alert->min_count, threshold_count);
    if (result != SB_OK) return result;
    alert->id = store_last_insert_id(l->s);
    *raised = true;
    return SB_OK;
}

int listening_alerts_check(listening *l, int64_t now_ms, size_t *raised_out) {
    if (raised_out) *raised_out = 0;
    char metrics[SB_LISTENING_ALERT_METRICS_MAX][64];
    size_t n = 0;
    snprintf(metrics[n++], sizeof metrics[0], "negative");
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT DISTINCT s.name FROM listening_signals s JOIN listening_posts p ON p.id = "
                             "s.post_id WHERE s.kind = 'risk' AND p.posted_at_ms >= ? AND p.posted_at_ms < ? ORDER BY "
                             "s.name LIMIT 31",
                             "ii", now_ms - HOUR_MS, now_ms);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW && n < SB_LISTENING_ALERT_METRICS_MAX)
        snprintf(metrics[n++], sizeof metrics[0], "risk:%s", store_col_text(st, 0));
    store_stmt_done(st);
    if (result < 0) return result;

    listening_alert *fresh = sb_calloc(SB_LISTENING_ALERT_METRICS_MAX, sizeof *fresh);
    if (!fresh) return SB_ENOMEM;
    size_t fresh_count = 0;
    result = store_begin(l->s);
    for (size_t k = 0; k < n && result == SB_OK; k++) {
        bool raised;
        result = check_metric(l, metrics[k], now_ms, &fresh[fresh_count], &raised);
        if (result == SB_OK && raised) fresh_count++;
    }
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        sb_free(fresh);
        return result;
    }
    for (size_t k = 0; k < fresh_count; k++) {
        sb_log(SB_LOG_WARN, "listening.alert", "%s: %lld posts in the hour against %.2f an hour (p=%.3g)",
               fresh[k].metric, (long long)fresh[k].observed, fresh[k].baseline_per_hour, fresh[k].p_value);
        if (l->cfg.alert_sink.raise && l->cfg.alert_sink.raise(l->cfg.alert_sink.arg, &fresh[k]) != SB_OK)
            sb_log(SB_LOG_ERROR, "listening.alert_sink", "the alert sink failed for alert %lld",
                   (long long)fresh[k].id);
    }
    sb_free(fresh);
    if (raised_out) *raised_out = fresh_count;
    return SB_OK;
}

int listening_alerts_list(listening *l, listening_alert *out, size_t cap, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT id, metric, raised_at_ms, window_start_ms, observed, baseline_per_hour_milli, "
                             "baseline_hours, p_value, p_threshold, min_count, threshold_count FROM listening_alerts "
                             "ORDER BY id DESC LIMIT ?",
                             "i", (int64_t)cap);
    if (result != SB_OK) return result;
    size_t n = 0;
    while ((result = store_step(st)) == STORE_ROW && n < cap) {
        listening_alert *a = &out[n++];
        memset(a, 0, sizeof *a);
        a->id = store_col_int64(st, 0);
        snprintf(a->metric, sizeof a->metric, "%s", store_col_text(st, 1));
        a->raised_at_ms = store_col_int64(st, 2);
        a->window_start_ms = store_col_int64(st, 3);
        a->observed = store_col_int64(st, 4);
        a->baseline_per_hour = (double)store_col_int64(st, 5) / 1000.0;
        a->baseline_hours = store_col_int64(st, 6);
        a->p_value = strtod(store_col_text(st, 7), NULL);
        a->p_threshold = strtod(store_col_text(st, 8), NULL);
        a->min_count = store_col_int64(st, 9);
        a->threshold_count = store_col_int64(st, 10);
    }
    store_stmt_done(st);
    if (result < 0) return result;
    *count_out = n;
    return SB_OK;
}

/* ---- stop words ---- */
static const char *const stop_en[] = {
    "a",      "an",    "the",   "and",  "or",   "but",  "is",   "are",   "was",    "were",   "be",   "been",  "it",
    "its",    "this",  "that",  "to",   "of",   "in",   "on",   "for",   "with",   "at",     "by",   "from",  "as",
    "i",      "me",    "my",    "we",   "our",  "you",  "your", "they",  "he",     "she",    "so",   "very",  "too",
    "not",    "no",    "do",    "does", "did",  "have", "has",  "had",   "just",   "please", "can",  "could", "would",
    "should", "will",  "there", "here", "all",  "any",  "more", "much",  "really", "again",  "when", "why",   "how",
    "what",   "which", "who",   "if",   "then", "than", "also", "about", "into",   "out",    "up",   "am",    "bank"};
static const char *const stop_ru[] = {
    "и",     "в",    "во",  "не",     "что",    "он",   "на",   "я",    "с",          "со",     "как",    "а",
    "то",    "все",  "она", "так",    "его",    "но",   "да",   "ты",   "к",          "у",      "же",     "вы",
    "за",    "бы",   "по",  "только", "ее",     "мне",  "было", "вот",  "от",         "меня",   "еще",    "нет",
    "о",     "из",   "ему", "теперь", "когда",  "даже", "ну",   "ли",   "если",       "уже",    "или",    "ни",
    "быть",  "был",  "до",  "вас",    "нибудь", "уж",   "вам",  "там",  "потом",      "себя",   "ничего", "ей",
    "может", "они",  "тут", "где",    "есть",   "надо", "для",  "мы",   "тебя",       "их",     "чем",    "была",
    "сам",   "чтоб", "без", "будто",  "очень",  "это",  "этот", "банк", "пожалуйста", "просто", "очень"};
static const char *const stop_uk[] = {
    "і",    "й",     "та",     "в",    "у",     "на",    "не",   "що",   "з",   "із",   "зі",   "до",    "за",
    "по",   "як",    "а",      "але",  "це",    "цей",   "ця",   "ці",   "я",   "ми",   "ви",   "ти",    "він",
    "вона", "вони",  "мене",   "мені", "нам",   "вам",   "їх",   "його", "її",  "так",  "вже",  "ще",    "чи",
    "або",  "бо",    "від",    "для",  "при",   "про",   "то",   "тут",  "там", "коли", "якщо", "дуже",  "є",
    "був",  "була",  "було",   "буде", "можна", "треба", "ні",   "без",  "же",  "би",   "б",    "через", "банк",
    "будь", "ласка", "просто", "свій", "свою",  "які",   "який", "яка"};
static const char *const stop_fa[] = {"و",
                                      "در",
                                      "به",
                                      "از",
                                      "که",
                                      "این",
                                      "را",
                                      "با",
                                      "است",
                                      "برای",
                                      "آن",
                                      "یک",
                                      "تا",
                                      "بر",
                                      "هم",
                                      "نیز",
                                      "ها",
                                      "های",
                                      "شود",
                                      "شد",
                                      "بود",
                                      "کرد",
                                      "کنید",
                                      "کنم",
                                      "می",
                                      "من",
                                      "ما",
                                      "شما",
                                      "او",
                                      "آنها",
                                      "خود",
                                      "هر",
                                      "اما",
                                      "یا",
                                      "اگر",
                                      "چرا",
                                      "چه",
                                      "چون",
                                      "پس",
                                      "هست",
                                      "نیست",
                                      "بسیار",
                                      "خیلی",
                                      "خیلے",
                                      "لطفا",
                                      "لطفاً",
                                      "باید",
                                      "دیگر",
                                      "همه",
                                      "بانک",
                                      "رو",
                                      "اون",
                                      "این‌ها",
                                      "ولی",
                                      "هیچ",
                                      "کنه",
                                      "میشه",
                                      "شده",
                                      "دارم",
                                      "داره"};

static bool word_in(const char *const *list, size_t n, const char *w, size_t len) {
    for (size_t k = 0; k < n; k++)
        if (strlen(list[k]) == len && memcmp(list[k], w, len) == 0) return true;
    return false;
}

bool listening_stop_word(const char *lang, const char *w, size_t len) {
    if (!lang || !w) return false;
    if (strcmp(lang, "en") == 0) return word_in(stop_en, SB_ARRAY_LEN(stop_en), w, len);
    if (strcmp(lang, "ru") == 0) return word_in(stop_ru, SB_ARRAY_LEN(stop_ru), w, len);
    if (strcmp(lang, "uk") == 0) return word_in(stop_uk, SB_ARRAY_LEN(stop_uk), w, len);
    if (strcmp(lang, "fa") == 0) return word_in(stop_fa, SB_ARRAY_LEN(stop_fa), w, len);
    return false;
}

/* Posts mix languages (a Ukrainian post with Russian words, English terms in
 * Persian): every list applies. */
static bool any_stop_word(const char *w, size_t len) {
    static const char *const langs[] = {"en", "ru", "uk", "fa"};
    for (size_t k = 0; k < SB_ARRAY_LEN(langs); k++)
        if (listening_stop_word(langs[k], w, len)) return true;
    return false;
}

/* ---- the same idea in every language ----
 * A small multilingual lexicon of ideas customers suggest or complain
 * about: each concept lists word stems (folded as fold() folds: lowercase,
 * Persian yeh/kaf) in English, Ukrainian, Russian and Persian.  A word that
 * starts with a stem (or equals it, for a stem written "=...") puts its
 * post in the concept, whatever the language, so "dark mode", "темну тему",
 * "тёмную тему" and "تم تیره" meet in one group.  Only specific ideas go
 * here: a topic word ("card", "карта") would swallow the topic's groups. */
typedef struct {
    const char *key;   /* stable id, shown as the group's concept */
    const char *label; /* the group's phrase: English words */
    const char *stems[16];
} concept;
static const concept concepts[] = {
    {"dark_theme", "dark theme", {"dark", "темн", "тёмн", "تیره", "دارک", NULL}},
    {"fingerprint_login",
     "fingerprint login",
     {"fingerprint", "biometr", "faceid", "отпечат", "відбит", "біометр", "биометр", "انگشت", "بیومتریک", NULL}},
    {"phone_menu", "phone menu", {"menu", "ivr", "меню", "منو", NULL}},
    {"waiting_on_hold", "waiting on hold", {"=hold", "queue", "очеред", "черг", "=صف", "معطل", NULL}},
    {"opening_hours",
     "opening hours",
     {"weekend", "saturday", "sunday", "thursday", "выходн", "суббот", "воскрес", "вихідн", "субот", "неділ", "пятниц",
      "п'ятниц", "پنجشنبه", "جمعه", "تعطیل", "بعدازظهر"}},
    {"balance_widget", "balance widget", {"widget", "віджет", "виджет", "ویجت", NULL}},
    {"cashback", "cashback", {"cashback", "кешбек", "кешбэк", "кэшбэк", "کشبک", "کش‌بک", NULL}},
    {"notifications", "notifications", {"notification", "=push", "сповіщ", "уведомл", "اعلان", "نوتیفیکیشن", NULL}},
    {"sms", "sms", {"=sms", "=смс", "پیامک", NULL}},
    {"app_crash", "app crashes", {"crash", "freez", "вилітає", "вылета", "зависа", "крашит", "کرش", "=هنگ", NULL}},
    {"transfer_delay", "transfer delay", {"stuck", "delay", "застря", "застрял", "затрим", "задерж", "نرسیده", NULL}},
    {"double_charge", "double charge", {"twice", "двічі", "дважды", "دوبار", NULL}},
    {"card_blocked", "card blocked", {"blocked", "заблок", "блокув", "блокир", "مسدود", NULL}},
    {"contactless", "contactless", {"contactless", "=nfc", "безконтакт", "бесконтакт", NULL}},
    {"refund", "refund", {"refund", "повернен", "возврат", "بازگشت", "برگشت", NULL}},
    {"one_time_password", "one-time password", {"=otp", "одноразов", "پویا", NULL}},
};
_Static_assert(SB_ARRAY_LEN(concepts) <= 64, "a post's concepts fit a 64-bit mask");
/* The marker starting a concept's phrase in the arena (never in a word). */
#define CONCEPT_MARK '\x01'

static int concept_of_word(const char *w, size_t len) {
    for (size_t c = 0; c < SB_ARRAY_LEN(concepts); c++) {
        for (size_t k = 0; k < SB_ARRAY_LEN(concepts[c].stems) && concepts[c].stems[k]; k++) {
            const char *stem = concepts[c].stems[k];
            bool exact = stem[0] == '=';
            if (exact) stem++;
            size_t n = strlen(stem);
            if (exact ? n == len && memcmp(w, stem, n) == 0 : n <= len && memcmp(w, stem, n) == 0) return (int)c;
        }
    }
    return -1;
}

/* ---- suggestions ---- */
typedef struct {
    uint32_t phrase_off;
    uint16_t phrase_len;
    int32_t post;  /* index into the posts of the period */
    int32_t group; /* (kind, topic) index, -1 for posts outside the groups */
} bigram;

typedef struct {
    char kind[LISTENING_LABEL_BYTES];
    char topic[LISTENING_LABEL_BYTES];
} group_key;

typedef struct {
    char code[8];
} post_lang;

static int phrase_cmp(const char *arena, const bigram *a, const bigram *b) {
    size_t n = a->phrase_len < b->phrase_len ? a->phrase_len : b->phrase_len;
    int c = memcmp(arena + a->phrase_off, arena + b->phrase_off, n);
    if (c) return c;
    return a->phrase_len < b->phrase_len ? -1 : a->phrase_len > b->phrase_len;
}

static int bigram_compare(const void *x, const void *y, void *arena) {
    const bigram *a = x, *b = y;
    int c = phrase_cmp(arena, a, b);
    if (c) return c;
    if (a->group != b->group) return a->group < b->group ? -1 : 1;
    return a->post < b->post ? -1 : a->post > b->post;
}

typedef struct {
    size_t from, to; /* range of bigrams: one phrase, one group */
    int32_t group;
    size_t posts;
    double score;
    bool concept; /* a lexicon idea: before any word pair of its group */
} candidate;

typedef struct {
    char *arena;
    const bigram *list;
} sort_context;

static int candidate_compare(const void *x, const void *y, void *arg) {
    const candidate *a = x, *b = y;
    const sort_context *ctx = arg;
    if (a->group != b->group) return a->group < b->group ? -1 : 1;
    if (a->concept != b->concept) return a->concept ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return bigram_compare(&ctx->list[a->from], &ctx->list[b->from], ctx->arena);
}

static int result_compare(const void *x, const void *y) {
    const listening_suggestion_group *a = x, *b = y;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    int c = strcmp(a->kind, b->kind);
    if (c) return c;
    c = strcmp(a->topic, b->topic);
    return c ? c : strcmp(a->phrase, b->phrase);
}

/* Fold one code point for grouping: lowercase, Arabic yeh/kaf to Persian. */
static utf8proc_int32_t fold(utf8proc_int32_t cp) {
    if (cp == 0x064A || cp == 0x0649) return 0x06CC;
    if (cp == 0x0643) return 0x06A9;
    return utf8proc_tolower(cp);
}

static bool word_char(utf8proc_int32_t cp) {
    if (cp == 0x200C || cp == '\'') return true; /* ZWNJ inside Persian words, м'ясо */
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO || c == UTF8PROC_CATEGORY_MN ||
           c == UTF8PROC_CATEGORY_MC;
}

/* Room for one more entry in *list. */
static int list_push(bigram **list, size_t *count, size_t *cap) {
    if (*count < *cap) return SB_OK;
    size_t ncap = *cap ? *cap * 2 : 1024;
    bigram *grown = sb_realloc(*list, ncap * sizeof *grown);
    if (!grown) return SB_ENOMEM;
    *list = grown;
    *cap = ncap;
    return SB_OK;
}

/* Append the bigrams and concepts of one text to *list (arena holds the
 * phrases; a concept's is CONCEPT_MARK and its key). */
static int text_bigrams(const char *text, int32_t post, int32_t group, sb_buf *arena, bigram **list, size_t *count,
                        size_t *cap) {
    uint64_t seen = 0, *concepts_seen = &seen;
    char words[2][SB_LISTENING_WORD_BYTES_MAX + 8];
    size_t word_len[2] = {0, 0};
    int have = 0;
    size_t made = 0;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(text), i = 0;
    char cur[SB_LISTENING_WORD_BYTES_MAX + 8];
    size_t cur_len = 0;
    bool overflow = false;
    while (i <= len && made < SB_LISTENING_SUGGEST_BIGRAMS_PER_POST) {
        utf8proc_int32_t cp = -1;
        if (i < len) {
            utf8proc_ssize_t w = utf8proc_iterate(s + i, len - i, &cp);
            if (w <= 0) return SB_EINVAL;
            i += w;
        } else {
            i++;
        }
        if (cp >= 0 && word_char(cp)) {
            utf8proc_uint8_t enc[4];
            utf8proc_ssize_t n = utf8proc_encode_char(fold(cp), enc);
            if (cur_len + (size_t)n > SB_LISTENING_WORD_BYTES_MAX)
                overflow = true;
            else {
                memcpy(cur + cur_len, enc, (size_t)n);
                cur_len += (size_t)n;
            }
            continue;
        }
        if (cur_len == 0) continue;
        /* A word ended: its idea first (once per post and concept). */
        int c = overflow ? -1 : concept_of_word(cur, cur_len);
        if (c >= 0 && !(*concepts_seen & (1ULL << c))) {
            *concepts_seen |= 1ULL << c;
            int result = list_push(list, count, cap);
            if (result != SB_OK) return result;
            uint32_t off = (uint32_t)arena->len;
            char mark = CONCEPT_MARK;
            result = sb_buf_append(arena, &mark, 1);
            if (result == SB_OK) result = sb_buf_append_str(arena, concepts[c].key);
            if (result != SB_OK) return result;
            (*list)[(*count)++] = (bigram){off, (uint16_t)(1 + strlen(concepts[c].key)), post, group};
        }
        bool keep = !overflow && cur_len > 1 && !any_stop_word(cur, cur_len);
        if (keep && cur_len == 2 && (unsigned char)cur[0] < 0x80) keep = false; /* "ok", "pm" */
        if (keep) {
            if (have == 2) {
                memcpy(words[0], words[1], word_len[1]);
                word_len[0] = word_len[1];
                memcpy(words[1], cur, cur_len);
                word_len[1] = cur_len;
            } else {
                memcpy(words[have], cur, cur_len);
                word_len[have++] = cur_len;
            }
            if (have == 2) {
                int result = list_push(list, count, cap);
                if (result != SB_OK) return result;
                uint32_t off = (uint32_t)arena->len;
                result = sb_buf_append(arena, words[0], word_len[0]);
                if (result == SB_OK) result = sb_buf_append(arena, " ", 1);
                if (result == SB_OK) result = sb_buf_append(arena, words[1], word_len[1]);
                if (result != SB_OK) return result;
                (*list)[(*count)++] = (bigram){off, (uint16_t)(word_len[0] + 1 + word_len[1]), post, group};
                made++;
            }
        }
        cur_len = 0;
        overflow = false;
    }
    return SB_OK;
}

int listening_suggestions(listening *l, int64_t from_ms, int64_t to_ms, size_t min_count,
                          listening_suggestion_group *out, size_t cap, size_t *count_out) {
    *count_out = 0;
    if (min_count == 0) min_count = 1;
    int64_t *post_ids = NULL;
    post_lang *langs = NULL;
    group_key *groups = NULL;
    size_t group_count = 0, group_cap = 0, post_count = 0, post_cap = 0;
    bigram *list = NULL;
    size_t list_count = 0, list_cap = 0;
    candidate *cands = NULL;
    bool *assigned = NULL, *members = NULL;
    listening_suggestion_group *found = NULL;
    sb_buf arena;
    sb_buf_init(&arena, (size_t)SB_LISTENING_SUGGEST_POSTS_MAX * SB_LISTENING_SUGGEST_BIGRAMS_PER_POST * 24);

    store_stmt *st;
    int result =
        store_query(l->s, &st,
                    "SELECT post_id, kind, topic, text, lang FROM listening_effective WHERE posted_at_ms >= ? AND "
                    "posted_at_ms < ? ORDER BY post_id LIMIT ?",
                    "iii", from_ms, to_ms, (int64_t)SB_LISTENING_SUGGEST_POSTS_MAX + 1);
    if (result != SB_OK) goto done;
    while ((result = store_step(st)) == STORE_ROW) {
        if (post_count == SB_LISTENING_SUGGEST_POSTS_MAX) {
            result = SB_ELIMIT;
            break;
        }
        if (post_count == post_cap) {
            size_t ncap = post_cap ? post_cap * 2 : 256;
            int64_t *grown = sb_realloc(post_ids, ncap * sizeof *grown);
            if (grown) post_ids = grown;
            post_lang *grown_langs = grown ? sb_realloc(langs, ncap * sizeof *grown_langs) : NULL;
            if (!grown || !grown_langs) {
                result = SB_ENOMEM;
                break;
            }
            langs = grown_langs;
            post_cap = ncap;
        }
        const char *kind = store_col_text(st, 1), *topic = store_col_text(st, 2);
        int32_t group = -1;
        if (strcmp(kind, "suggestion") == 0 || strcmp(kind, "complaint") == 0) {
            for (size_t g = 0; g < group_count && group < 0; g++)
                if (strcmp(groups[g].kind, kind) == 0 && strcmp(groups[g].topic, topic) == 0) group = (int32_t)g;
            if (group < 0) {
                if (group_count == group_cap) {
                    size_t ncap = group_cap ? group_cap * 2 : 16;
                    group_key *grown = sb_realloc(groups, ncap * sizeof *grown);
                    if (!grown) {
                        result = SB_ENOMEM;
                        break;
                    }
                    groups = grown;
                    group_cap = ncap;
                }
                snprintf(groups[group_count].kind, LISTENING_LABEL_BYTES, "%s", kind);
                snprintf(groups[group_count].topic, LISTENING_LABEL_BYTES, "%s", topic);
                group = (int32_t)group_count++;
            }
        }
        post_ids[post_count] = store_col_int64(st, 0);
        snprintf(langs[post_count].code, sizeof langs[post_count].code, "%s",
                 store_col_text(st, 4) ? store_col_text(st, 4) : "");
        result = text_bigrams(store_col_text(st, 3), (int32_t)post_count, group, &arena, &list, &list_count, &list_cap);
        post_count++;
        if (result != SB_OK) break;
    }
    store_stmt_done(st);
    if (result < 0) goto done;
    result = SB_OK;
    if (list_count == 0 || group_count == 0) goto done;

    qsort_r(list, list_count, sizeof *list, bigram_compare, arena.data);
    /* Candidates: runs of (phrase, group) with distinct posts; df over all posts. */
    cands = sb_malloc(list_count * sizeof *cands);
    if (!cands) {
        result = SB_ENOMEM;
        goto done;
    }
    size_t cand_count = 0;
    for (size_t a = 0; a < list_count;) {
        size_t b = a, df_all = 0;
        while (b < list_count && phrase_cmp(arena.data, &list[a], &list[b]) == 0) {
            if (b == a || list[b].post != list[b - 1].post || list[b].group != list[b - 1].group) df_all++;
            b++;
        }
        double idf = log((double)(post_count + 1) / (double)df_all);
        for (size_t g = a; g < b;) {
            size_t h = g, posts = 0;
            while (h < b && list[h].group == list[g].group) {
                if (h == g || list[h].post != list[h - 1].post) posts++;
                h++;
            }
            if (list[g].group >= 0 && posts >= min_count)
                cands[cand_count++] = (candidate){g,
                                                  h,
                                                  list[g].group,
                                                  posts,
                                                  (double)posts * (idf + 1e-9),
                                                  arena.data[list[g].phrase_off] == CONCEPT_MARK};
            g = h;
        }
        a = b;
    }
    sort_context ctx = {arena.data, list};
    qsort_r(cands, cand_count, sizeof *cands, candidate_compare, &ctx);

    assigned = sb_calloc(post_count ? post_count : 1, sizeof *assigned);
    members = sb_calloc(post_count ? post_count : 1, sizeof *members);
    found = sb_malloc((cand_count ? cand_count : 1) * sizeof *found);
    const char *example_langs[LISTENING_EXAMPLES_MAX];
    if (!assigned || !members || !found) {
        result = SB_ENOMEM;
        goto done;
    }
    size_t found_count = 0;
    for (size_t c = 0; c < cand_count; c++) {
        size_t fresh = 0;
        for (size_t k = cands[c].from; k < cands[c].to; k++)
            if (!assigned[list[k].post] && (k == cands[c].from || list[k].post != list[k - 1].post)) fresh++;
        if (fresh < min_count) continue;
        listening_suggestion_group *g = &found[found_count++];
        memset(g, 0, sizeof *g);
        snprintf(g->kind, sizeof g->kind, "%s", groups[cands[c].group].kind);
        snprintf(g->topic, sizeof g->topic, "%s", groups[cands[c].group].topic);
        size_t plen = list[cands[c].from].phrase_len;
        const char *phrase = arena.data + list[cands[c].from].phrase_off;
        if (cands[c].concept) {
            for (size_t k = 0; k < SB_ARRAY_LEN(concepts); k++)
                if (strlen(concepts[k].key) == plen - 1 && memcmp(concepts[k].key, phrase + 1, plen - 1) == 0) {
                    snprintf(g->concept, sizeof g->concept, "%s", concepts[k].key);
                    snprintf(g->phrase, sizeof g->phrase, "%s", concepts[k].label);
                }
        } else {
            if (plen >= sizeof g->phrase) plen = sizeof g->phrase - 1;
            memcpy(g->phrase, phrase, plen);
            g->phrase[plen] = '\0';
        }
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = cands[c].from; k < cands[c].to; k++) {
                int32_t post = list[k].post;
                if (pass == 0) {
                    if (assigned[post]) continue;
                    assigned[post] = true;
                    members[post] = true;
                    g->count++;
                    bool known = false;
                    for (size_t q = 0; q < g->lang_count; q++)
                        if (strcmp(g->langs[q], langs[post].code) == 0) known = true;
                    if (!known && g->lang_count < LISTENING_GROUP_LANGS_MAX)
                        snprintf(g->langs[g->lang_count++], sizeof g->langs[0], "%s", langs[post].code);
                    bool lang_shown = false;
                    for (size_t q = 0; q < g->example_count; q++)
                        if (strcmp(example_langs[q], langs[post].code) == 0) lang_shown = true;
                    if (!lang_shown && g->example_count < LISTENING_EXAMPLES_MAX) {
                        example_langs[g->example_count] = langs[post].code;
                        g->examples[g->example_count++] = post_ids[post];
                        members[post] = false;
                    }
                } else if (members[post] && g->example_count < LISTENING_EXAMPLES_MAX) {
                    members[post] = false;
                    g->examples[g->example_count++] = post_ids[post];
                }
            }
        }
        for (size_t k = cands[c].from; k < cands[c].to; k++)
            members[list[k].post] = false;
    }
    qsort(found, found_count, sizeof *found, result_compare);
    size_t n = found_count < cap ? found_count : cap;
    memcpy(out, found, n * sizeof *out);
    *count_out = n;
done:
    sb_buf_free(&arena);
    sb_free(post_ids);
    sb_free(langs);
    sb_free(groups);
    sb_free(list);
    sb_free(cands);
    sb_free(assigned);
    sb_free(members);
    sb_free(found);
    return result;
}

/* ---- advocates ---- */
static bool advocate_before(const listening_advocate *a, const listening_advocate *b) {
    if (a->score != b->score) return a->score > b->score;
    int c = strcmp(a->author, b->author);
    return c ? c < 0 : strcmp(a->source, b->source) < 0;
}

int listening_advocates(listening *l, listening_advocate *out, size_t cap, size_t *count_out) {
    *count_out = 0;
    if (cap == 0) return SB_OK;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT source, author, COUNT(*), MAX(author_reach) FROM listening_effective WHERE "
                             "sentiment = 'positive' GROUP BY source, author",
                             "");
    if (result != SB_OK) return result;
    size_t n = 0;
    while ((result = store_step(st)) == STORE_ROW) {
        listening_advocate a;
        memset(&a, 0, sizeof a);
        snprintf(a.source, sizeof a.source, "%s", store_col_text(st, 0));
        snprintf(a.author, sizeof a.author, "%s", store_col_text(st, 1));
        a.positive_posts = store_col_int64(st, 2);
        a.reach = store_col_int64(st, 3);
        a.score = (double)a.positive_posts * log1p((double)a.reach);
        /* Keep the best `cap` in order: insertion into a sorted array. */
        size_t at = n < cap ? n : cap;
        while (at > 0 && advocate_before(&a, &out[at - 1]))
            at--;
        if (at >= cap) continue;
        size_t move = (n < cap ? n : cap - 1) - at;
        memmove(&out[at + 1], &out[at], move * sizeof *out);
        out[at] = a;
        if (n < cap) n++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    *count_out = n;
    return SB_OK;
}

/* ---- consent ---- */
int listening_consent_add(listening *l, int64_t customer_id, const char *source, const char *handle, int64_t now_ms,
                          int64_t *id_out) {
    if (customer_id <= 0 || !listening_source_valid(source) || !handle || !*handle ||
        strnlen(handle, SB_LISTENING_AUTHOR_BYTES_MAX + 1) > SB_LISTENING_AUTHOR_BYTES_MAX ||
        !sb_utf8_valid(handle, strlen(handle)))
        return SB_EINVAL;
    int result = store_exec(l->s,
                            "INSERT INTO listening_consents(customer_id, source, handle, consented_at_ms) VALUES (?, "
                            "?, ?, ?)",
                            "itti", customer_id, source, handle, now_ms);
    if (result == SB_OK && id_out) *id_out = store_last_insert_id(l->s);
    return result;
}

int listening__consent_customer(listening *l, const char *source, const char *handle, int64_t now_ms,
                                int64_t *customer_id_out) {
    return store_query_int64(l->s, customer_id_out,
                             "SELECT customer_id FROM listening_consents WHERE source = ? AND handle = ? AND "
                             "consented_at_ms <= ? AND withdrawn_at_ms IS NULL ORDER BY id DESC LIMIT 1",
                             "tti", source, handle, now_ms);
}

int listening_consent_withdraw(listening *l, const char *source, const char *handle, int64_t now_ms) {
    if (!source || !handle) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = store_exec(l->s,
                        "UPDATE listening_consents SET withdrawn_at_ms = ? WHERE source = ? AND handle = ? AND "
                        "withdrawn_at_ms IS NULL",
                        "itt", now_ms, source, handle);
    if (result == SB_OK && store_changes(l->s) == 0) result = SB_ENOTFOUND;
    /* What the consent allowed goes with it: leads and life-event signals. */
    if (result == SB_OK)
        result = store_exec(l->s,
                            "DELETE FROM listening_leads WHERE post_id IN (SELECT id FROM listening_posts WHERE source "
                            "= ? AND author = ?)",
                            "tt", source, handle);
    if (result == SB_OK)
        result = store_exec(l->s,
                            "DELETE FROM listening_signals WHERE kind = 'life_event' AND post_id IN (SELECT id FROM "
                            "listening_posts WHERE source = ? AND author = ?)",
                            "tt", source, handle);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}
