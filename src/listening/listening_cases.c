/*
 * listening_cases.c - rules, cases and the clocks behind their deadlines.
 *
 * Rules live in the database (an admin edits them through the API later):
 * NULL conditions match anything; every label condition that is set must be
 * met with at least min_permille (an analyst's correction counts as 1000).
 * All rules that match a post are combined: the union of their departments,
 * the highest priority.  A post joins the open case of the same author and
 * topic on the same source if that case saw a post within
 * SB_LISTENING_CASE_JOIN_WINDOW_MS; otherwise a case opens.  A joining post
 * may raise the case's priority and add departments (each new department's
 * clock starts then, with the new priority's budget); departments already
 * on the case keep their clocks.
 *
 * Each department of a case has its own clock, counted in that department's
 * business hours (several periods a day, its weekdays, its UTC offset): the
 * budget is the priority's, the deadline is where the budget runs out.
 * Resolving stops the clocks (the business time used is kept); reopening
 * restarts them with what is left.  listening_tick escalates each missed
 * deadline once, and hands a case whose agent has been silent past the
 * department's reassignment time (in business time) to the least loaded
 * other agent of its departments.  Every change is an event in the
 * append-only history.
 */
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"

#define MINUTE_MS 60000LL
#define DAY_MS (24LL * 60 * MINUTE_MS)

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int weekday_of_day(int64_t day) { return (int)(((day + 4) % 7 + 7) % 7); } /* 1970-01-01 was a Thursday */

/* ---- calendar ---- */
int listening_calendar_add(listening_calendar *cal, int weekday, int start_minute, int end_minute) {
    if (!cal || weekday < 0 || weekday > 6 || start_minute < 0 || end_minute > 1440 || start_minute >= end_minute)
        return SB_EINVAL;
    size_t n = cal->period_count[weekday];
    if (n >= SB_LISTENING_PERIODS_PER_DAY_MAX) return SB_ELIMIT;
    listening_period *p = cal->periods[weekday];
    size_t at = 0;
    while (at < n && p[at].start_minute < start_minute)
        at++;
    if (at > 0 && p[at - 1].end_minute > start_minute) return SB_EINVAL;
    if (at < n && p[at].start_minute < end_minute) return SB_EINVAL;
    memmove(&p[at + 1], &p[at], (n - at) * sizeof *p);
    p[at] = (listening_period){start_minute, end_minute};
    cal->period_count[weekday] = n + 1;
    return SB_OK;
}

static bool calendar_empty(const listening_calendar *cal) {
    for (int d = 0; d < 7; d++)
        if (cal->period_count[d] > 0) return false;
    return true;
}

int listening_business_add(const listening_calendar *cal, int64_t start_ms, int64_t business_ms, int64_t *out_ms) {
    if (!cal || business_ms < 0 || calendar_empty(cal)) return SB_EINVAL;
    if (business_ms == 0) {
        *out_ms = start_ms;
        return SB_OK;
    }
    int64_t offset = (int64_t)cal->utc_offset_minutes * MINUTE_MS;
    int64_t local = start_ms + offset, remaining = business_ms;
    int64_t day = floor_div(local, DAY_MS);
    for (int k = 0; k < SB_LISTENING_CALENDAR_DAYS_MAX; k++, day++) {
        int wd = weekday_of_day(day);
        for (size_t i = 0; i < cal->period_count[wd]; i++) {
            int64_t ps = day * DAY_MS + cal->periods[wd][i].start_minute * MINUTE_MS;
            int64_t pe = day * DAY_MS + cal->periods[wd][i].end_minute * MINUTE_MS;
            int64_t from = ps > local ? ps : local;
            if (from >= pe) continue;
            if (remaining <= pe - from) {
                *out_ms = from + remaining - offset;
                return SB_OK;
            }
            remaining -= pe - from;
        }
    }
    return SB_ELIMIT;
}

int listening_business_between(const listening_calendar *cal, int64_t from_ms, int64_t to_ms, int64_t *out_ms) {
    *out_ms = 0;
    if (!cal) return SB_EINVAL;
    if (to_ms <= from_ms) return SB_OK;
    int64_t offset = (int64_t)cal->utc_offset_minutes * MINUTE_MS;
    int64_t a = from_ms + offset, b = to_ms + offset;
    int64_t first = floor_div(a, DAY_MS), last = floor_div(b, DAY_MS);
    if (last - first > SB_LISTENING_CALENDAR_DAYS_MAX) return SB_ELIMIT;
    int64_t total = 0;
    for (int64_t day = first; day <= last; day++) {
        int wd = weekday_of_day(day);
        for (size_t i = 0; i < cal->period_count[wd]; i++) {
            int64_t ps = day * DAY_MS + cal->periods[wd][i].start_minute * MINUTE_MS;
            int64_t pe = day * DAY_MS + cal->periods[wd][i].end_minute * MINUTE_MS;
            int64_t s = ps > a ? ps : a, e = pe < b ? pe : b;
            if (e > s) total += e - s;
        }
    }
    *out_ms = total;
    return SB_OK;
}

int listening_calendar_load(listening *l, const char *department, listening_calendar *out) {
    memset(out, 0, sizeof *out);
    int64_t offset;
    int result = store_query_int64(l->s, &offset, "SELECT utc_offset_minutes FROM listening_departments WHERE name = ?",
                                   "t", department);
    if (result != SB_OK) return result;
    out->utc_offset_minutes = (int)offset;
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT weekday, start_minute, end_minute FROM listening_department_hours WHERE department "
                         "= ? ORDER BY weekday, start_minute",
                         "t", department);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        int added = listening_calendar_add(out, (int)store_col_int64(st, 0), (int)store_col_int64(st, 1),
                                           (int)store_col_int64(st, 2));
        if (added != SB_OK) {
            result = SB_ECORRUPT;
            break;
        }
    }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

static bool name_ok(const char *s, size_t max) {
    if (!s || !*s) return false;
    size_t len = strnlen(s, max + 1);
    return len <= max && sb_utf8_valid(s, len);
}

int listening_department_set(listening *l, const char *name, const listening_calendar *cal,
                             int reassign_after_minutes) {
    if (!name_ok(name, LISTENING_LABEL_BYTES - 1) || !cal || calendar_empty(cal) || reassign_after_minutes <= 0 ||
        cal->utc_offset_minutes < -840 || cal->utc_offset_minutes > 840)
        return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = store_exec(l->s,
                        "INSERT INTO listening_departments(name, utc_offset_minutes, reassign_after_minutes) VALUES "
                        "(?, ?, ?) ON CONFLICT(name) DO UPDATE SET utc_offset_minutes = excluded.utc_offset_minutes, "
                        "reassign_after_minutes = excluded.reassign_after_minutes",
                        "tii", name, (int64_t)cal->utc_offset_minutes, (int64_t)reassign_after_minutes);
    if (result == SB_OK)
        result = store_exec(l->s, "DELETE FROM listening_department_hours WHERE department = ?", "t", name);
    for (int d = 0; d < 7 && result == SB_OK; d++)
        for (size_t i = 0; i < cal->period_count[d] && result == SB_OK; i++)
            result = store_exec(l->s,
                                "INSERT INTO listening_department_hours(department, weekday, start_minute, end_minute) "
                                "VALUES (?, ?, ?, ?)",
                                "tiii", name, (int64_t)d, (int64_t)cal->periods[d][i].start_minute,
                                (int64_t)cal->periods[d][i].end_minute);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_agent_add(listening *l, const char *department, const char *agent) {
    if (!name_ok(agent, SB_USERNAME_BYTES_MAX) || !department) return SB_EINVAL;
    int64_t exists;
    int result =
        store_query_int64(l->s, &exists, "SELECT 1 FROM listening_departments WHERE name = ?", "t", department);
    if (result != SB_OK) return result == SB_ENOTFOUND ? SB_EINVAL : result;
    return store_exec(
        l->s,
        "INSERT INTO listening_agents(department, agent, active) VALUES (?, ?, 1) ON CONFLICT(department, "
        "agent) DO UPDATE SET active = 1",
        "tt", department, agent);
}

/* ---- rules ---- */
static const char *const priorities[] = {"low", "normal", "high", "urgent"}; /* index = rank */

static bool optional_label(const char *head, const char *label) { return !label || listening_label_valid(head, label); }

int listening_rule_add(listening *l, const listening_rule *rule, int64_t now_ms, int64_t *id_out) {
    if (!rule || !name_ok(rule->name, 128) || !optional_label("kind", rule->kind) ||
        !optional_label("sentiment", rule->sentiment) || !optional_label("topic", rule->topic) ||
        (rule->risk && !listening_risk_valid(rule->risk)) || (rule->source && !listening_source_valid(rule->source)) ||
        rule->min_permille < 0 || rule->min_permille > 1000 || !rule->priority || rule->department_count == 0 ||
        rule->department_count > SB_LISTENING_RULE_DEPARTMENTS_MAX)
        return SB_EINVAL;
    bool priority_ok = false;
    for (size_t k = 0; k < SB_ARRAY_LEN(priorities); k++)
        if (strcmp(priorities[k], rule->priority) == 0) priority_ok = true;
    if (!priority_ok) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result =
        store_exec(l->s,
                   "INSERT INTO listening_rules(name, enabled, kind, sentiment, topic, risk, source, min_permille, "
                   "priority, updated_at_ms) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "ttttttiti", rule->name, rule->kind, rule->sentiment, rule->topic, rule->risk, rule->source,
                   (int64_t)rule->min_permille, rule->priority, now_ms);
    int64_t id = store_last_insert_id(l->s);
    for (size_t k = 0; k < rule->department_count && result == SB_OK; k++) {
        int64_t exists;
        result = store_query_int64(l->s, &exists, "SELECT 1 FROM listening_departments WHERE name = ?", "t",
                                   rule->departments[k] ? rule->departments[k] : "");
        if (result == SB_ENOTFOUND) result = SB_EINVAL;
        if (result == SB_OK)
            result =
                store_exec(l->s, "INSERT OR IGNORE INTO listening_rule_departments(rule_id, department) VALUES (?, ?)",
                           "it", id, rule->departments[k]);
    }
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        return result;
    }
    if (id_out) *id_out = id;
    return SB_OK;
}

int listening_rule_enable(listening *l, int64_t rule_id, bool enabled, int64_t now_ms) {
    int result = store_exec(l->s, "UPDATE listening_rules SET enabled = ?, updated_at_ms = ? WHERE id = ?", "iii",
                            (int64_t)enabled, now_ms, rule_id);
    if (result == SB_OK && store_changes(l->s) == 0) return SB_ENOTFOUND;
    return result;
}

int listening_rule_delete(listening *l, int64_t rule_id) {
    int result = store_exec(l->s, "DELETE FROM listening_rules WHERE id = ?", "i", rule_id);
    if (result == SB_OK && store_changes(l->s) == 0) return SB_ENOTFOUND;
    return result;
}

static int json_text_or_null(sb_buf *out, const char *key, const char *value) {
    int result = sb_buf_printf(out, ",\"%s\":", key);
    if (result != SB_OK) return result;
    if (!value) return sb_buf_append_str(out, "null");
    result = sb_buf_append_str(out, "\"");
    if (result == SB_OK) result = sb_buf_append_json_escaped(out, value, strlen(value));
    if (result == SB_OK) result = sb_buf_append_str(out, "\"");
    return result;
}

int listening_rules_json(listening *l, sb_buf *out) {
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT r.id, r.name, r.enabled, r.kind, r.sentiment, r.topic, r.risk, r.source, "
                             "r.min_permille, r.priority, (SELECT group_concat(department, ',') FROM (SELECT "
                             "department FROM listening_rule_departments d WHERE d.rule_id = r.id ORDER BY "
                             "department)) FROM listening_rules r ORDER BY r.id LIMIT 256",
                             "");
    if (result != SB_OK) return result;
    result = sb_buf_append_str(out, "[");
    bool first = true;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        result = sb_buf_printf(out, "%s{\"id\":%lld", first ? "" : ",", (long long)store_col_int64(st, 0));
        first = false;
        if (result == SB_OK) result = json_text_or_null(out, "name", store_col_text(st, 1));
        if (result == SB_OK) result = sb_buf_printf(out, ",\"enabled\":%s", store_col_int64(st, 2) ? "true" : "false");
        static const char *const keys[] = {"kind", "sentiment", "topic", "risk", "source"};
        for (int k = 0; k < 5 && result == SB_OK; k++)
            result = json_text_or_null(out, keys[k], store_col_text(st, 3 + k));
        if (result == SB_OK) result = sb_buf_printf(out, ",\"min_permille\":%lld", (long long)store_col_int64(st, 8));
        if (result == SB_OK) result = json_text_or_null(out, "priority", store_col_text(st, 9));
        if (result == SB_OK) result = sb_buf_append_str(out, ",\"departments\":[");
        const char *deps = store_col_text(st, 10);
        for (const char *p = deps; result == SB_OK && p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            result = sb_buf_printf(out, "%s\"", p == deps ? "" : ",");
            if (result == SB_OK) result = sb_buf_append_json_escaped(out, p, len);
            if (result == SB_OK) result = sb_buf_append_str(out, "\"");
            p = comma ? comma + 1 : p + len;
        }
        if (result == SB_OK) result = sb_buf_append_str(out, "]}");
    }
    store_stmt_done(st);
    if (result == STORE_DONE) result = sb_buf_append_str(out, "]");
    return result;
}

int listening_rules_clear(listening *l) { return store_exec(l->s, "DELETE FROM listening_rules", ""); }

/* ---- events ---- */
static int case_event(listening *l, int64_t case_id, int64_t now_ms, const char *actor, const char *type,
                      const char *detail) {
    return store_exec(l->s,
                      "INSERT INTO listening_case_events(case_id, at_ms, actor, type, detail) VALUES (?, ?, ?, ?, ?)",
                      "iittt", case_id, now_ms, actor, type, detail ? detail : "");
}

/* ---- routing ---- */
/* What routing reads once per batch instead of once per post: the enabled
 * rules with their departments, the priorities' budgets, and the calendars
 * of the departments met so far.  Rules cannot change under it: the batch
 * holds the write transaction. */
#define ROUTING_CALENDARS_MAX 32
#define ROUTING_DEPARTMENTS_MAX 32
typedef struct {
    int64_t id;
    char name[LISTENING_LABEL_BYTES * 2];
    char kind[LISTENING_LABEL_BYTES], sentiment[LISTENING_LABEL_BYTES], topic[LISTENING_LABEL_BYTES];
    char risk[LISTENING_LABEL_BYTES], source[SB_LISTENING_SOURCE_BYTES_MAX + 1];
    bool has_kind, has_sentiment, has_topic, has_risk, has_source;
    int min_permille;
    int rank;
    size_t department_count;
    char departments[SB_LISTENING_RULE_DEPARTMENTS_MAX][LISTENING_LABEL_BYTES];
} routing_rule;

struct listening__routing {
    size_t rule_count;
    routing_rule rules[SB_LISTENING_RULES_MAX];
    int64_t budget_minutes[4]; /* by rank; 0 = not configured */
    size_t calendar_count;
    char calendar_names[ROUTING_CALENDARS_MAX][LISTENING_LABEL_BYTES];
    listening_calendar calendars[ROUTING_CALENDARS_MAX];
};

static void copy_optional(char *out, size_t cap, bool *has, const char *value) {
    *has = value != NULL;
    snprintf(out, cap, "%s", value ? value : "");
}

int listening__routing_load(listening *l, listening__routing **out) {
    *out = NULL;
    listening__routing *r = sb_calloc(1, sizeof *r);
    if (!r) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT r.id, r.name, r.kind, r.sentiment, r.topic, r.risk, r.source, r.min_permille, "
                             "p.rank FROM listening_rules r JOIN listening_priorities p ON p.priority = r.priority "
                             "WHERE r.enabled = 1 ORDER BY r.id LIMIT 256",
                             "");
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW && r->rule_count < SB_LISTENING_RULES_MAX) {
            routing_rule *rule = &r->rules[r->rule_count];
            int rank = (int)store_col_int64(st, 8);
            if (rank < 0 || rank >= (int)SB_ARRAY_LEN(priorities)) {
                result = SB_ECORRUPT;
                break;
            }
            rule->id = store_col_int64(st, 0);
            snprintf(rule->name, sizeof rule->name, "%s", store_col_text(st, 1));
            copy_optional(rule->kind, sizeof rule->kind, &rule->has_kind, store_col_text(st, 2));
            copy_optional(rule->sentiment, sizeof rule->sentiment, &rule->has_sentiment, store_col_text(st, 3));
            copy_optional(rule->topic, sizeof rule->topic, &rule->has_topic, store_col_text(st, 4));
            copy_optional(rule->risk, sizeof rule->risk, &rule->has_risk, store_col_text(st, 5));
            copy_optional(rule->source, sizeof rule->source, &rule->has_source, store_col_text(st, 6));
            rule->min_permille = (int)store_col_int64(st, 7);
            rule->rank = rank;
            r->rule_count++;
        }
        store_stmt_done(st);
    }
    for (size_t k = 0; result >= 0 && k < r->rule_count; k++) {
        routing_rule *rule = &r->rules[k];
        result = store_query(l->s, &st,
                             "SELECT department FROM listening_rule_departments WHERE rule_id = ? ORDER BY department",
                             "i", rule->id);
        if (result != SB_OK) break;
        while ((result = store_step(st)) == STORE_ROW && rule->department_count < SB_LISTENING_RULE_DEPARTMENTS_MAX)
            snprintf(rule->departments[rule->department_count++], LISTENING_LABEL_BYTES, "%s", store_col_text(st, 0));
        store_stmt_done(st);
    }
    if (result >= 0) result = store_query(l->s, &st, "SELECT rank, budget_minutes FROM listening_priorities", "");
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            int64_t rank = store_col_int64(st, 0);
            if (rank >= 0 && rank < 4) r->budget_minutes[rank] = store_col_int64(st, 1);
        }
        store_stmt_done(st);
    }
    if (result < 0) {
        sb_free(r);
        return result;
    }
    *out = r;
    return SB_OK;
}

void listening__routing_free(listening__routing *r) { sb_free(r); }

/* The calendar of a department, loaded once per routing (into *spare
 * when the cache is full). */
static int routing_calendar(listening *l, listening__routing *r, const char *department, listening_calendar *spare,
                            const listening_calendar **out) {
    for (size_t k = 0; k < r->calendar_count; k++)
        if (strcmp(r->calendar_names[k], department) == 0) {
            *out = &r->calendars[k];
            return SB_OK;
        }
    bool cached = r->calendar_count < ROUTING_CALENDARS_MAX;
    listening_calendar *cal = cached ? &r->calendars[r->calendar_count] : spare;
    int result = listening_calendar_load(l, department, cal);
    if (result != SB_OK) return result;
    if (cached) snprintf(r->calendar_names[r->calendar_count++], LISTENING_LABEL_BYTES, "%s", department);
    *out = cal;
    return SB_OK;
}

/* Route a case to a department: start its clock now with the priority's budget. */
static int case_add_department(listening *l, listening__routing *r, int64_t case_id, const char *department, int rank,
                               int64_t now_ms) {
    int64_t budget_minutes = r->budget_minutes[rank];
    if (budget_minutes <= 0) return SB_ENOTFOUND;
    const listening_calendar *cal;
    listening_calendar spare;
    int result = routing_calendar(l, r, department, &spare, &cal);
    int64_t budget_ms = budget_minutes * MINUTE_MS, deadline;
    if (result == SB_OK) result = listening_business_add(cal, now_ms, budget_ms, &deadline);
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_case_departments(case_id, department, budget_ms, business_ms_used, "
                            "clock_started_ms, deadline_ms) VALUES (?, ?, ?, 0, ?, ?)",
                            "itiii", case_id, department, budget_ms, now_ms, deadline);
    return result;
}

static bool label_matches(bool has, const char *want, const char *have, int have_permille, int min_permille) {
    if (!has) return true;
    return have && strcmp(want, have) == 0 && have_permille >= min_permille;
}

static bool rule_matches(const routing_rule *rule, const listening__route_input *in) {
    int min = rule->min_permille;
    if (!label_matches(rule->has_kind, rule->kind, in->kind, in->kind_permille, min) ||
        !label_matches(rule->has_sentiment, rule->sentiment, in->sentiment, in->sentiment_permille, min) ||
        !label_matches(rule->has_topic, rule->topic, in->topic, in->topic_permille, min) ||
        (rule->has_source && strcmp(rule->source, in->source) != 0))
        return false;
    if (!rule->has_risk) return true;
    for (size_t k = 0; k < in->risk_count; k++)
        if (strcmp(in->risks[k].name, rule->risk) == 0 && in->risks[k].permille >= min) return true;
    return false;
}

int listening__cases_route_with(listening *l, listening__routing *routing, int64_t post_id,
                                const listening__route_input *in, int64_t now_ms, size_t *opened, size_t *joined) {
    /* Matching rules: the highest priority and the union of departments. */
    int best_rank = -1;
    char departments[ROUTING_DEPARTMENTS_MAX][LISTENING_LABEL_BYTES];
    size_t department_count = 0;
    sb_buf names;
    sb_buf_init(&names, 4096);
    for (size_t m = 0; m < routing->rule_count; m++) {
        const routing_rule *rule = &routing->rules[m];
        if (!rule_matches(rule, in)) continue;
        if (rule->rank > best_rank) best_rank = rule->rank;
        if (sb_buf_printf(&names, "%s%s", names.len ? ", " : "", rule->name) != SB_OK) return SB_ENOMEM;
        for (size_t d = 0; d < rule->department_count; d++) {
            bool have = false;
            for (size_t k = 0; k < department_count; k++)
                if (strcmp(departments[k], rule->departments[d]) == 0) have = true;
            if (!have && department_count < ROUTING_DEPARTMENTS_MAX)
                snprintf(departments[department_count++], LISTENING_LABEL_BYTES, "%s", rule->departments[d]);
        }
    }
    if (best_rank < 0) {
        sb_buf_free(&names);
        return SB_OK;
    }
    SB_ASSERT(best_rank < (int)SB_ARRAY_LEN(priorities));
    const char *priority = priorities[best_rank];

    /* Join the author's open case on this topic, or open one. */
    int64_t case_id = 0;
    int existing_rank = -1;
    store_stmt *st;
    int result =
        store_query(l->s, &st,
                    "SELECT c.id, p.rank FROM listening_cases c JOIN listening_priorities p ON p.priority = "
                    "c.priority WHERE c.source = ? AND c.author = ? AND c.topic = ? AND c.state != "
                    "'resolved' AND c.last_post_at_ms >= ? ORDER BY c.id DESC LIMIT 1",
                    "ttti", in->source, in->author, in->topic, in->posted_at_ms - SB_LISTENING_CASE_JOIN_WINDOW_MS);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            case_id = store_col_int64(st, 0);
            existing_rank = (int)store_col_int64(st, 1);
        }
        store_stmt_done(st);
    }
    if (result < 0) {
        sb_buf_free(&names);
        return result;
    }
    result = SB_OK;
    char detail[256];
    if (case_id) {
        if (existing_rank < 0 || existing_rank >= (int)SB_ARRAY_LEN(priorities)) result = SB_ECORRUPT;
        if (result == SB_OK)
            result = store_exec(l->s,
                                "UPDATE listening_cases SET last_post_at_ms = max(last_post_at_ms, ?), priority = ?, "
                                "updated_at_ms = ? WHERE id = ?",
                                "itii", in->posted_at_ms,
                                best_rank > existing_rank ? priority : priorities[existing_rank], now_ms, case_id);
        for (size_t k = 0; k < department_count && result == SB_OK; k++) {
            int64_t has;
            result = store_query_int64(l->s, &has,
                                       "SELECT 1 FROM listening_case_departments WHERE case_id = ? AND department = ?",
                                       "it", case_id, departments[k]);
            if (result == SB_ENOTFOUND)
                result = case_add_department(l, routing, case_id, departments[k], best_rank, now_ms);
        }
        snprintf(detail, sizeof detail, "post %lld; rules: %s", (long long)post_id, names.data ? names.data : "");
        if (result == SB_OK) result = case_event(l, case_id, now_ms, "system", "post_joined", detail);
        if (result == SB_OK) (*joined)++;
    } else {
        result = store_exec(l->s,
                            "INSERT INTO listening_cases(source, author, topic, priority, state, opened_at_ms, "
                            "last_post_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                            "ttttiii", in->source, in->author, in->topic, priority, now_ms, in->posted_at_ms, now_ms);
        case_id = store_last_insert_id(l->s);
        for (size_t k = 0; k < department_count && result == SB_OK; k++)
            result = case_add_department(l, routing, case_id, departments[k], best_rank, now_ms);
        snprintf(detail, sizeof detail, "post %lld; priority %s; rules: %s", (long long)post_id, priority,
                 names.data ? names.data : "");
        if (result == SB_OK) result = case_event(l, case_id, now_ms, "system", "opened", detail);
        if (result == SB_OK) (*opened)++;
    }
    sb_buf_free(&names);
    if (result == SB_OK)
        result = store_exec(l->s, "INSERT OR IGNORE INTO listening_case_posts(case_id, post_id) VALUES (?, ?)", "ii",
                            case_id, post_id);
    return result;
}

int listening__cases_route(listening *l, int64_t post_id, int64_t now_ms, size_t *opened, size_t *joined) {
    /* A post re-understood later is already where it belongs. */
    int64_t existing_case;
    int result = listening_case_of_post(l, post_id, &existing_case);
    if (result != SB_ENOTFOUND) return result;
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT source, author, kind, kind_permille, sentiment, sentiment_permille, topic, "
                         "topic_permille, posted_at_ms FROM listening_effective WHERE post_id = ?",
                         "i", post_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result != STORE_ROW) {
        store_stmt_done(st);
        return result < 0 ? result : SB_OK;
    }
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1], author[SB_LISTENING_AUTHOR_BYTES_MAX + 1];
    char kind[LISTENING_LABEL_BYTES], sentiment[LISTENING_LABEL_BYTES], topic[LISTENING_LABEL_BYTES];
    listening__route_input in = {
        .source = source, .author = author, .kind = kind, .sentiment = sentiment, .topic = topic};
    snprintf(source, sizeof source, "%s", store_col_text(st, 0));
    snprintf(author, sizeof author, "%s", store_col_text(st, 1));
    snprintf(kind, sizeof kind, "%s", store_col_text(st, 2));
    in.kind_permille = (int)store_col_int64(st, 3);
    snprintf(sentiment, sizeof sentiment, "%s", store_col_text(st, 4));
    in.sentiment_permille = (int)store_col_int64(st, 5);
    snprintf(topic, sizeof topic, "%s", store_col_text(st, 6));
    in.topic_permille = (int)store_col_int64(st, 7);
    in.posted_at_ms = store_col_int64(st, 8);
    store_stmt_done(st);

    listening_signal risks[LISTENING_SIGNALS_MAX];
    result = store_query(l->s, &st, "SELECT name, permille FROM listening_signals WHERE post_id = ? AND kind = 'risk'",
                         "i", post_id);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW && in.risk_count < LISTENING_SIGNALS_MAX) {
        snprintf(risks[in.risk_count].name, sizeof risks[in.risk_count].name, "%s", store_col_text(st, 0));
        risks[in.risk_count].permille = (int)store_col_int64(st, 1);
        in.risk_count++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    in.risks = risks;
    listening__routing *routing;
    result = listening__routing_load(l, &routing);
    if (result != SB_OK) return result;
    result = listening__cases_route_with(l, routing, post_id, &in, now_ms, opened, joined);
    listening__routing_free(routing);
    return result;
}

/* ---- case operations ---- */
static const char *const state_names[] = {"open", "acknowledged", "waiting", "resolved"};
const char *listening_case_state_name(listening_case_state state) {
    return (unsigned)state < SB_ARRAY_LEN(state_names) ? state_names[state] : "unknown";
}

int listening_case_of_post(listening *l, int64_t post_id, int64_t *case_id_out) {
    return store_query_int64(l->s, case_id_out,
                             "SELECT case_id FROM listening_case_posts WHERE post_id = ? ORDER BY case_id DESC LIMIT 1",
                             "i", post_id);
}

/* Stop (resolve) or restart (reopen) every department clock of a case. */
static int case_clocks(listening *l, int64_t case_id, bool stop, int64_t now_ms) {
    typedef struct {
        char department[LISTENING_LABEL_BYTES];
        int64_t budget, used, started;
        bool running;
    } clock_row;
    clock_row rows[32];
    size_t n = 0;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT department, budget_ms, business_ms_used, clock_started_ms FROM "
                             "listening_case_departments WHERE case_id = ? ORDER BY department LIMIT 32",
                             "i", case_id);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        snprintf(rows[n].department, sizeof rows[n].department, "%s", store_col_text(st, 0));
        rows[n].budget = store_col_int64(st, 1);
        rows[n].used = store_col_int64(st, 2);
        rows[n].running = !store_col_is_null(st, 3);
        rows[n].started = store_col_int64(st, 3);
        n++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    result = SB_OK;
    for (size_t k = 0; k < n && result == SB_OK; k++) {
        listening_calendar cal;
        result = listening_calendar_load(l, rows[k].department, &cal);
        if (result != SB_OK) break;
        if (stop && rows[k].running) {
            int64_t spent;
            result = listening_business_between(&cal, rows[k].started, now_ms, &spent);
            if (result == SB_OK)
                result = store_exec(l->s,
                                    "UPDATE listening_case_departments SET business_ms_used = business_ms_used + ?, "
                                    "clock_started_ms = NULL, deadline_ms = NULL WHERE case_id = ? AND department = ?",
                                    "iit", spent, case_id, rows[k].department);
        } else if (!stop && !rows[k].running) {
            int64_t left = rows[k].budget - rows[k].used, deadline;
            if (left < 0) left = 0;
            result = listening_business_add(&cal, now_ms, left, &deadline);
            if (result == SB_OK)
                result = store_exec(l->s,
                                    "UPDATE listening_case_departments SET clock_started_ms = ?, deadline_ms = ? WHERE "
                                    "case_id = ? AND department = ?",
                                    "iiit", now_ms, deadline, case_id, rows[k].department);
        }
    }
    return result;
}

static bool actor_ok(const char *actor) { return name_ok(actor, SB_USERNAME_BYTES_MAX); }

int listening_case_set_state(listening *l, int64_t case_id, listening_case_state state, const char *actor,
                             int64_t now_ms) {
    if ((unsigned)state >= SB_ARRAY_LEN(state_names) || !actor_ok(actor)) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    store_stmt *st;
    char current[16] = "";
    result = store_query(l->s, &st, "SELECT state FROM listening_cases WHERE id = ?", "i", case_id);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) snprintf(current, sizeof current, "%s", store_col_text(st, 0));
        store_stmt_done(st);
        result = result == STORE_ROW ? SB_OK : result < 0 ? result : SB_ENOTFOUND;
    }
    const char *next = state_names[state];
    if (result == SB_OK && strcmp(current, next) == 0) result = SB_ECONFLICT;
    bool resolving = state == LISTENING_CASE_RESOLVED, reopening = strcmp(current, "resolved") == 0;
    if (result == SB_OK && (resolving || reopening)) result = case_clocks(l, case_id, resolving, now_ms);
    if (result == SB_OK) {
        if (resolving)
            result = store_exec(
                l->s, "UPDATE listening_cases SET state = ?, resolved_at_ms = ?, updated_at_ms = ? WHERE id = ?",
                "tiii", next, now_ms, now_ms, case_id);
        else if (reopening)
            result = store_exec(l->s,
                                "UPDATE listening_cases SET state = ?, resolved_at_ms = NULL, reopen_count = "
                                "reopen_count + 1, updated_at_ms = ? WHERE id = ?",
                                "tii", next, now_ms, case_id);
        else
            result = store_exec(l->s, "UPDATE listening_cases SET state = ?, updated_at_ms = ? WHERE id = ?", "tii",
                                next, now_ms, case_id);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%s -> %s", current, next);
    if (result == SB_OK) result = case_event(l, case_id, now_ms, actor, reopening ? "reopened" : "state", detail);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_case_assign(listening *l, int64_t case_id, const char *agent, const char *actor, int64_t now_ms) {
    if (!actor_ok(agent) || !actor_ok(actor)) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = store_exec(l->s,
                        "UPDATE listening_cases SET assignee = ?, last_agent_activity_ms = ?, updated_at_ms = ? WHERE "
                        "id = ?",
                        "tiii", agent, now_ms, now_ms, case_id);
    if (result == SB_OK && store_changes(l->s) == 0) result = SB_ENOTFOUND;
    if (result == SB_OK) result = case_event(l, case_id, now_ms, actor, "assigned", agent);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

static bool note_ok(const char *text) {
    if (!text || !*text) return false;
    size_t len = strnlen(text, SB_LISTENING_NOTE_BYTES_MAX + 1);
    return len <= SB_LISTENING_NOTE_BYTES_MAX && sb_utf8_valid(text, len);
}

int listening_case_note(listening *l, int64_t case_id, const char *actor, const char *text, int64_t now_ms) {
    if (!actor_ok(actor) || !note_ok(text)) return SB_EINVAL;
    int64_t exists;
    int result = store_query_int64(l->s, &exists, "SELECT id FROM listening_cases WHERE id = ?", "i", case_id);
    if (result != SB_OK) return result;
    return case_event(l, case_id, now_ms, actor, "note", text);
}

int listening_case_reply(listening *l, int64_t case_id, const char *agent, const char *text, int64_t now_ms,
                         int64_t *reply_id_out) {
    if (!actor_ok(agent) || !note_ok(text)) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1] = "", author[SB_LISTENING_AUTHOR_BYTES_MAX + 1] = "";
    char in_reply_to[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1] = "";
    store_stmt *st;
    /* The case's author and its newest post: the one a reply answers. */
    result = store_query(l->s, &st,
                         "SELECT c.source, c.author, COALESCE((SELECT p.external_id FROM listening_case_posts cp JOIN "
                         "listening_posts p ON p.id = cp.post_id WHERE cp.case_id = c.id ORDER BY p.posted_at_ms "
                         "DESC, p.id DESC LIMIT 1), '') FROM listening_cases c WHERE c.id = ?",
                         "i", case_id);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            snprintf(source, sizeof source, "%s", store_col_text(st, 0));
            snprintf(author, sizeof author, "%s", store_col_text(st, 1));
            snprintf(in_reply_to, sizeof in_reply_to, "%s", store_col_text(st, 2));
        }
        store_stmt_done(st);
        result = result == STORE_ROW ? SB_OK : result < 0 ? result : SB_ENOTFOUND;
    }
    bool messenger = strcmp(source, "messenger") == 0;
    bool channel = strcmp(source, "own_channel") == 0;
    const char *channel_name = messenger ? "messenger" : channel ? "channel" : "external";
    /* A channel comment is answered by the caller after the commit; an
     * external network's reply waits for the outbound connector. */
    const char *delivery = messenger || channel || l->cfg.outbound ? "pending" : "to_post";
    if (result == SB_OK && messenger && l->cfg.reply_hook.deliver &&
        l->cfg.reply_hook.deliver(l->cfg.reply_hook.arg, case_id, author, text) == SB_OK)
        delivery = "delivered";
    int64_t next_attempt_ms = !messenger && !channel && l->cfg.outbound ? now_ms : 0;
    if (result == SB_OK)
        result = store_exec(
            l->s,
            "INSERT INTO listening_replies(case_id, agent, text, channel, delivery, created_at_ms, "
            "in_reply_to, next_attempt_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?)",
            "ittttitii", case_id, agent, text, channel_name, delivery, now_ms, in_reply_to, next_attempt_ms, now_ms);
    int64_t reply_id = store_last_insert_id(l->s);
    if (result == SB_OK)
        result =
            store_exec(l->s, "UPDATE listening_cases SET last_agent_activity_ms = ?, updated_at_ms = ? WHERE id = ?",
                       "iii", now_ms, now_ms, case_id);
    if (result == SB_OK) result = case_event(l, case_id, now_ms, agent, "reply", delivery);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        return result;
    }
    if (reply_id_out) *reply_id_out = reply_id;
    return SB_OK;
}

int listening_case_deadline(listening *l, int64_t case_id, const char *department, int64_t *deadline_ms_out) {
    return store_query_int64(l->s, deadline_ms_out,
                             "SELECT deadline_ms FROM listening_case_departments WHERE case_id = ? AND department = ? "
                             "AND deadline_ms IS NOT NULL",
                             "it", case_id, department);
}

/* ---- tick ---- */
static int tick_escalate(listening *l, int64_t now_ms, size_t *escalated) {
    typedef struct {
        int64_t case_id, deadline, level;
        char department[LISTENING_LABEL_BYTES];
    } due;
    due *rows = sb_malloc(SB_LISTENING_TICK_CASES_MAX * sizeof *rows);
    if (!rows) return SB_ENOMEM;
    size_t n = 0;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT d.case_id, d.department, d.deadline_ms, d.escalation_level FROM "
                             "listening_case_departments d JOIN listening_cases c ON c.id = d.case_id WHERE c.state != "
                             "'resolved' AND d.deadline_ms IS NOT NULL AND d.deadline_ms <= ? AND "
                             "(d.escalated_deadline_ms IS NULL OR d.escalated_deadline_ms != d.deadline_ms) ORDER BY "
                             "d.deadline_ms, d.case_id, d.department LIMIT 1000",
                             "i", now_ms);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW && n < SB_LISTENING_TICK_CASES_MAX) {
            rows[n].case_id = store_col_int64(st, 0);
            snprintf(rows[n].department, sizeof rows[n].department, "%s", store_col_text(st, 1));
            rows[n].deadline = store_col_int64(st, 2);
            rows[n].level = store_col_int64(st, 3);
            n++;
        }
        store_stmt_done(st);
        if (result >= 0) result = SB_OK;
    }
    for (size_t k = 0; k < n && result == SB_OK; k++) {
        result = store_exec(l->s,
                            "UPDATE listening_case_departments SET escalation_level = escalation_level + 1, "
                            "escalated_deadline_ms = deadline_ms WHERE case_id = ? AND department = ?",
                            "it", rows[k].case_id, rows[k].department);
        char detail[96];
        snprintf(detail, sizeof detail, "%s level %lld", rows[k].department, (long long)(rows[k].level + 1));
        if (result == SB_OK) result = case_event(l, rows[k].case_id, now_ms, "system", "escalated", detail);
        if (result == SB_OK) (*escalated)++;
    }
    sb_free(rows);
    return result;
}

static int tick_reassign(listening *l, int64_t now_ms, size_t *reassigned) {
    typedef struct {
        int64_t case_id, last_activity, timeout_ms;
        char assignee[SB_USERNAME_BYTES_MAX + 1];
        char department[LISTENING_LABEL_BYTES];
    } silent;
    silent *rows = sb_malloc(SB_LISTENING_TICK_CASES_MAX * sizeof *rows);
    if (!rows) return SB_ENOMEM;
    size_t n = 0;
    store_stmt *st;
    /* Wall time bounds business time from above: a cheap first filter. */
    int result = store_query(l->s, &st,
                             "SELECT c.id, c.assignee, c.last_agent_activity_ms, MIN(dep.reassign_after_minutes) * "
                             "60000, MIN(dep.name) FROM listening_cases c JOIN listening_case_departments d ON "
                             "d.case_id = c.id JOIN listening_departments dep ON dep.name = d.department WHERE c.state "
                             "IN ('open', 'acknowledged') AND c.assignee IS NOT NULL GROUP BY c.id HAVING "
                             "c.last_agent_activity_ms + MIN(dep.reassign_after_minutes) * 60000 <= ? ORDER BY c.id "
                             "LIMIT 1000",
                             "i", now_ms);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW && n < SB_LISTENING_TICK_CASES_MAX) {
            rows[n].case_id = store_col_int64(st, 0);
            snprintf(rows[n].assignee, sizeof rows[n].assignee, "%s", store_col_text(st, 1));
            rows[n].last_activity = store_col_int64(st, 2);
            rows[n].timeout_ms = store_col_int64(st, 3);
            snprintf(rows[n].department, sizeof rows[n].department, "%s", store_col_text(st, 4));
            n++;
        }
        store_stmt_done(st);
        if (result >= 0) result = SB_OK;
    }
    for (size_t k = 0; k < n && result == SB_OK; k++) {
        listening_calendar cal;
        int64_t silent_ms;
        result = listening_calendar_load(l, rows[k].department, &cal);
        if (result == SB_OK) result = listening_business_between(&cal, rows[k].last_activity, now_ms, &silent_ms);
        if (result != SB_OK || silent_ms < rows[k].timeout_ms) continue;
        char next[SB_USERNAME_BYTES_MAX + 1] = "";
        result = store_query(l->s, &st,
                             "SELECT a.agent FROM listening_agents a WHERE a.active = 1 AND a.agent != ? AND "
                             "a.department IN (SELECT department FROM listening_case_departments WHERE case_id = ?) "
                             "GROUP BY a.agent ORDER BY (SELECT COUNT(*) FROM listening_cases c2 WHERE c2.assignee = "
                             "a.agent AND c2.state != 'resolved'), a.agent LIMIT 1",
                             "ti", rows[k].assignee, rows[k].case_id);
        if (result != SB_OK) break;
        result = store_step(st);
        if (result == STORE_ROW) snprintf(next, sizeof next, "%s", store_col_text(st, 0));
        store_stmt_done(st);
        if (result < 0) break;
        char detail[2 * SB_USERNAME_BYTES_MAX + 16];
        if (next[0]) {
            result = store_exec(l->s,
                                "UPDATE listening_cases SET assignee = ?, last_agent_activity_ms = ?, updated_at_ms = "
                                "? WHERE id = ?",
                                "tiii", next, now_ms, now_ms, rows[k].case_id);
            snprintf(detail, sizeof detail, "%s -> %s", rows[k].assignee, next);
        } else {
            result = store_exec(l->s,
                                "UPDATE listening_cases SET assignee = NULL, last_agent_activity_ms = NULL, "
                                "updated_at_ms = ? WHERE id = ?",
                                "ii", now_ms, rows[k].case_id);
            snprintf(detail, sizeof detail, "%s -> nobody", rows[k].assignee);
        }
        if (result == SB_OK) result = case_event(l, rows[k].case_id, now_ms, "system", "reassigned", detail);
        if (result == SB_OK) (*reassigned)++;
    }
    sb_free(rows);
    return result;
}

int listening_tick(listening *l, int64_t now_ms, listening_tick_result *res) {
    listening_tick_result r = {0};
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = tick_escalate(l, now_ms, &r.escalated);
    if (result == SB_OK) result = tick_reassign(l, now_ms, &r.reassigned);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        return result;
    }
    result = listening_alerts_check(l, now_ms, &r.alerts);
    if (res) *res = r;
    return result;
}
