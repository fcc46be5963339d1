/*
 * switch.c - card-to-card reconciliation rules, their driver, and the
 * in-memory card-switch simulator.
 *
 * The rules (payments_c2c_next) are a small state machine whose one job is
 * that money is never lost or doubled when the switch does not answer: a
 * hold is posted only after an APPROVED answer and voided only after the
 * switch declined or confirmed a reversal; in between it is inquired, then
 * reversed (a reversal of an unseen reference fences it so that a late
 * original is refused), and if the switch stays silent the hold is left to
 * the operator rather than guessed.  The simulator keeps cards, balances and
 * transfers by reference, answers idempotently, and follows a FIFO script of
 * what its next calls should do (approve, decline, time out with or without
 * applying, deliver late), so every path is reproducible in tests.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "payments/switch.h"

const char *payments_switch_status_name(payments_switch_status status) {
    switch (status) {
    case PAYMENTS_SWITCH_APPROVED:
        return "approved";
    case PAYMENTS_SWITCH_DECLINED:
        return "declined";
    case PAYMENTS_SWITCH_TIMEOUT:
        return "timeout";
    case PAYMENTS_SWITCH_NOT_FOUND:
        return "not_found";
    case PAYMENTS_SWITCH_REVERSED:
        return "reversed";
    default:
        return "unknown";
    }
}

/* ---- reconciliation ----------------------------------------------------- */

void payments_c2c_init(payments_c2c_state *state) { memset(state, 0, sizeof *state); }

bool payments_c2c_is_final(payments_c2c_step step) {
    return step == PAYMENTS_C2C_POST || step == PAYMENTS_C2C_VOID || step == PAYMENTS_C2C_MANUAL;
}

const char *payments_c2c_step_name(payments_c2c_step step) {
    switch (step) {
    case PAYMENTS_C2C_SEND:
        return "send";
    case PAYMENTS_C2C_INQUIRE:
        return "inquire";
    case PAYMENTS_C2C_REVERSE:
        return "reverse";
    case PAYMENTS_C2C_POST:
        return "post";
    case PAYMENTS_C2C_VOID:
        return "void";
    case PAYMENTS_C2C_MANUAL:
        return "manual";
    default:
        return "unknown";
    }
}

static payments_c2c_step after_inquiry_timeout(payments_c2c_state *state) {
    state->inquiries++;
    return state->inquiries < SB_PAYMENTS_SWITCH_INQUIRIES_MAX ? PAYMENTS_C2C_INQUIRE : PAYMENTS_C2C_REVERSE;
}

payments_c2c_step payments_c2c_next(payments_c2c_state *state, payments_switch_status status) {
    payments_c2c_step next = state->step;
    switch (state->step) {
    case PAYMENTS_C2C_SEND:
        if (status == PAYMENTS_SWITCH_APPROVED)
            next = PAYMENTS_C2C_POST;
        else if (status == PAYMENTS_SWITCH_DECLINED)
            next = PAYMENTS_C2C_VOID;
        else /* timeout, or an answer a send should not give: the outcome is unknown */
            next = PAYMENTS_C2C_INQUIRE;
        break;
    case PAYMENTS_C2C_INQUIRE:
        if (status == PAYMENTS_SWITCH_APPROVED)
            next = PAYMENTS_C2C_POST;
        else if (status == PAYMENTS_SWITCH_DECLINED || status == PAYMENTS_SWITCH_REVERSED)
            next = PAYMENTS_C2C_VOID;
        else if (status == PAYMENTS_SWITCH_NOT_FOUND)
            next = PAYMENTS_C2C_REVERSE; /* unseen so far: fence it before voiding */
        else
            next = after_inquiry_timeout(state);
        break;
    case PAYMENTS_C2C_REVERSE:
        if (status == PAYMENTS_SWITCH_REVERSED || status == PAYMENTS_SWITCH_NOT_FOUND)
            next = PAYMENTS_C2C_VOID;
        else if (status == PAYMENTS_SWITCH_APPROVED)
            next = PAYMENTS_C2C_POST; /* the switch says the original stands */
        else if (status == PAYMENTS_SWITCH_DECLINED)
            next = PAYMENTS_C2C_MANUAL; /* a refused reversal says nothing certain */
        else {
            state->reversals++;
            next = state->reversals < SB_PAYMENTS_SWITCH_REVERSALS_MAX ? PAYMENTS_C2C_REVERSE : PAYMENTS_C2C_MANUAL;
        }
        break;
    default: /* final steps stay final */
        break;
    }
    state->step = next;
    return next;
}

static bool reference_valid(const char *reference) {
    if (!reference) return false;
    size_t len = strnlen(reference, PAYMENTS_SWITCH_REF_BYTES);
    if (len == 0 || len >= PAYMENTS_SWITCH_REF_BYTES) return false;
    for (size_t i = 0; i < len; i++) {
        char c = reference[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

static bool transfer_request_valid(const payments_switch_transfer *request) {
    return request && reference_valid(request->reference) && request->source && request->destination &&
           request->amount_minor > 0 && request->timeout_ms > 0 && strlen(request->source->number) == 16 &&
           strlen(request->destination->number) == 16;
}

int payments_c2c_run(const payments_switch *sw, const payments_switch_transfer *request, payments_c2c_step *final_out,
                     payments_switch_result *result_out) {
    if (!sw || !sw->transfer || !sw->inquire || !sw->reverse || !final_out || !result_out ||
        !transfer_request_valid(request))
        return SB_EINVAL;
    payments_c2c_state state;
    payments_c2c_init(&state);
    const int calls_max = 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX + 1;
    for (int call = 0; call < calls_max && !payments_c2c_is_final(state.step); call++) {
        payments_switch_result answer;
        memset(&answer, 0, sizeof answer);
        int rc;
        switch (state.step) {
        case PAYMENTS_C2C_SEND:
            rc = sw->transfer(sw->ctx, request, &answer);
            break;
        case PAYMENTS_C2C_INQUIRE:
            rc = sw->inquire(sw->ctx, request->reference, request->timeout_ms, &answer);
            break;
        default:
            rc = sw->reverse(sw->ctx, request->reference, request->timeout_ms, &answer);
            break;
        }
        if (rc != SB_OK) return rc;
        *result_out = answer;
        payments_c2c_next(&state, answer.status);
    }
    SB_ASSERT(payments_c2c_is_final(state.step)); /* the bound above covers every path */
    *final_out = state.step;
    return SB_OK;
}

/* ---- the simulator ------------------------------------------------------ */

typedef struct {
    char number[PAYMENTS_CARD_DIGITS + 1];
    char holder[PAYMENTS_SWITCH_NAME_BYTES];
    int64_t balance_minor;
} sim_card;

typedef enum { REF_APPLIED = 1, REF_DECLINED, REF_REVERSED, REF_FENCED, REF_LATE } ref_state;

typedef struct {
    char reference[PAYMENTS_SWITCH_REF_BYTES];
    ref_state state;
    int source, destination; /* card indexes, or -1 */
    int64_t amount_minor;
    int applied; /* times money moved minus times reversed */
    char response_code[3];
    char rrn[PAYMENTS_SWITCH_RRN_BYTES];
} sim_ref;

struct payments_switch_sim {
    pthread_mutex_t lock;
    sim_card cards[SB_PAYMENTS_SWITCH_SIM_CARDS_MAX];
    int card_count;
    sim_ref refs[SB_PAYMENTS_SWITCH_SIM_REFS_MAX];
    int ref_count;
    payments_sim_action script[SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX];
    char script_codes[SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX][3];
    int script_head, script_len;
    uint64_t next_rrn;
    payments_switch_sim_stats stats;
};

int payments_switch_sim_create(payments_switch_sim **out) {
    if (!out) return SB_EINVAL;
    payments_switch_sim *sim = sb_calloc(1, sizeof *sim);
    if (!sim) return SB_ENOMEM;
    pthread_mutex_init(&sim->lock, NULL);
    sim->next_rrn = 100000000001ULL;
    *out = sim;
    return SB_OK;
}

void payments_switch_sim_free(payments_switch_sim *sim) {
    if (!sim) return;
    pthread_mutex_destroy(&sim->lock);
    sb_free(sim);
}

static int find_card(const payments_switch_sim *sim, const char *number) {
    for (int i = 0; i < sim->card_count; i++)
        if (strcmp(sim->cards[i].number, number) == 0) return i;
    return -1;
}

static sim_ref *find_ref(payments_switch_sim *sim, const char *reference) {
    for (int i = 0; i < sim->ref_count; i++)
        if (strcmp(sim->refs[i].reference, reference) == 0) return &sim->refs[i];
    return NULL;
}

static payments_sim_action script_pop(payments_switch_sim *sim, char code_out[3]) {
    if (sim->script_len == 0) {
        memcpy(code_out, "05", 3);
        return PAYMENTS_SIM_ANSWER;
    }
    payments_sim_action action = sim->script[sim->script_head];
    memcpy(code_out, sim->script_codes[sim->script_head], 3);
    sim->script_head = (sim->script_head + 1) % SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX;
    sim->script_len--;
    return action;
}

static sim_ref *new_ref(payments_switch_sim *sim, const char *reference) {
    if (sim->ref_count == SB_PAYMENTS_SWITCH_SIM_REFS_MAX) return NULL;
    sim_ref *ref = &sim->refs[sim->ref_count++];
    memset(ref, 0, sizeof *ref);
    snprintf(ref->reference, sizeof ref->reference, "%s", reference);
    ref->source = ref->destination = -1;
    return ref;
}

/* Apply a recorded transfer truthfully: decline unknown cards (14),
 * insufficient funds (51) and overflow (61), else move the money. */
static void apply_ref(payments_switch_sim *sim, sim_ref *ref) {
    int64_t source_after, destination_after;
    if (ref->source < 0 || ref->destination < 0) {
        ref->state = REF_DECLINED;
        memcpy(ref->response_code, "14", 3);
    } else if (sim->cards[ref->source].balance_minor < ref->amount_minor) {
        ref->state = REF_DECLINED;
        memcpy(ref->response_code, "51", 3);
    } else if (sb_add_int64(sim->cards[ref->destination].balance_minor, ref->amount_minor, &destination_after) !=
               SB_OK) {
        ref->state = REF_DECLINED;
        memcpy(ref->response_code, "61", 3);
    } else {
        source_after = sim->cards[ref->source].balance_minor - ref->amount_minor;
        sim->cards[ref->source].balance_minor = source_after;
        sim->cards[ref->destination].balance_minor = destination_after;
        ref->state = REF_APPLIED;
        ref->applied++;
        memcpy(ref->response_code, "00", 3);
        snprintf(ref->rrn, sizeof ref->rrn, "%012llu", (unsigned long long)(sim->next_rrn++ % 1000000000000ULL));
    }
}

/* Undo an applied transfer, or fence an unseen/late one. */
static void reverse_ref(payments_switch_sim *sim, sim_ref *ref) {
    if (ref->state == REF_APPLIED) {
        /* The simulator lets the destination go negative: the real switch
         * recovers it from the issuer; what matters here is the count. */
        sim->cards[ref->source].balance_minor += ref->amount_minor;
        sim->cards[ref->destination].balance_minor -= ref->amount_minor;
        ref->applied--;
        ref->state = REF_REVERSED;
    } else if (ref->state == REF_LATE || ref->state == 0) {
        ref->state = REF_FENCED;
    }
}

static void result_from_ref(const sim_ref *ref, payments_switch_result *out) {
    memset(out, 0, sizeof *out);
    switch (ref->state) {
    case REF_APPLIED:
        out->status = PAYMENTS_SWITCH_APPROVED;
        break;
    case REF_DECLINED:
        out->status = PAYMENTS_SWITCH_DECLINED;
        break;
    case REF_REVERSED:
    case REF_FENCED:
        out->status = PAYMENTS_SWITCH_REVERSED;
        break;
    default:
        out->status = PAYMENTS_SWITCH_NOT_FOUND;
        break;
    }
    memcpy(out->response_code, ref->response_code[0] ? ref->response_code : "00", 3);
    memcpy(out->rrn, ref->rrn, sizeof out->rrn);
}

static void result_timeout(payments_switch_result *out) {
    memset(out, 0, sizeof *out);
    out->status = PAYMENTS_SWITCH_TIMEOUT;
    memcpy(out->response_code, "68", 3); /* ISO 8583: response received too late */
}

static int sim_transfer(void *ctx, const payments_switch_transfer *request, payments_switch_result *out) {
    payments_switch_sim *sim = ctx;
    if (!out || !transfer_request_valid(request)) return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    sim->stats.transfers++;
    char code[3];
    payments_sim_action action = script_pop(sim, code);
    int rc = SB_OK;
    sim_ref *ref = find_ref(sim, request->reference);
    if (ref) {
        /* A retry of a known reference: the first outcome, never a second move
         * (a late original still in flight is delivered now, once). */
        if (action == PAYMENTS_SIM_TIMEOUT) {
            result_timeout(out);
        } else {
            if (ref->state == REF_LATE) apply_ref(sim, ref);
            result_from_ref(ref, out);
        }
    } else if (action == PAYMENTS_SIM_TIMEOUT) {
        result_timeout(out); /* lost on the way: the switch never saw it */
    } else if (!(ref = new_ref(sim, request->reference))) {
        rc = SB_ELIMIT;
    } else {
        ref->source = find_card(sim, request->source->number);
        ref->destination = find_card(sim, request->destination->number);
        ref->amount_minor = request->amount_minor;
        if (action == PAYMENTS_SIM_DECLINE) {
            ref->state = REF_DECLINED;
            memcpy(ref->response_code, code, 3);
            result_from_ref(ref, out);
        } else if (action == PAYMENTS_SIM_TIMEOUT_LATE) {
            ref->state = REF_LATE;
            result_timeout(out);
        } else {
            apply_ref(sim, ref);
            if (action == PAYMENTS_SIM_TIMEOUT_APPLIED)
                result_timeout(out);
            else
                result_from_ref(ref, out);
        }
    }
    pthread_mutex_unlock(&sim->lock);
    return rc;
}

static int sim_inquire(void *ctx, const char *reference, int64_t timeout_ms, payments_switch_result *out) {
    payments_switch_sim *sim = ctx;
    if (!out || !reference_valid(reference) || timeout_ms <= 0) return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    sim->stats.inquiries++;
    char code[3];
    payments_sim_action action = script_pop(sim, code);
    if (action == PAYMENTS_SIM_TIMEOUT || action == PAYMENTS_SIM_TIMEOUT_APPLIED ||
        action == PAYMENTS_SIM_TIMEOUT_LATE) {
        result_timeout(out);
    } else {
        sim_ref *ref = find_ref(sim, reference);
        if (!ref || ref->state == REF_LATE) {
            memset(out, 0, sizeof *out);
            out->status = PAYMENTS_SWITCH_NOT_FOUND;
            memcpy(out->response_code, "25", 3); /* unable to locate original */
        } else {
            result_from_ref(ref, out);
        }
    }
    pthread_mutex_unlock(&sim->lock);
    return SB_OK;
}

static int sim_reverse(void *ctx, const char *reference, int64_t timeout_ms, payments_switch_result *out) {
    payments_switch_sim *sim = ctx;
    if (!out || !reference_valid(reference) || timeout_ms <= 0) return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    sim->stats.reversals++;
    char code[3];
    payments_sim_action action = script_pop(sim, code);
    int rc = SB_OK;
    if (action == PAYMENTS_SIM_TIMEOUT || action == PAYMENTS_SIM_TIMEOUT_LATE) {
        result_timeout(out);
    } else {
        sim_ref *ref = find_ref(sim, reference);
        if (!ref) ref = new_ref(sim, reference);
        if (!ref) {
            rc = SB_ELIMIT;
        } else {
            if (ref->state != REF_DECLINED) reverse_ref(sim, ref);
            if (action == PAYMENTS_SIM_TIMEOUT_APPLIED) {
                result_timeout(out);
            } else {
                result_from_ref(ref, out);
                /* a declined original has nothing to undo: confirm */
                if (ref->state == REF_DECLINED) out->status = PAYMENTS_SWITCH_REVERSED;
            }
        }
    }
    pthread_mutex_unlock(&sim->lock);
    return rc;
}

static int sim_holder_inquiry(void *ctx, const payments_card *card, int64_t timeout_ms,
                              char name_out[PAYMENTS_SWITCH_NAME_BYTES]) {
    payments_switch_sim *sim = ctx;
    if (!card || !name_out || timeout_ms <= 0 || strlen(card->number) != 16) return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    sim->stats.holder_inquiries++;
    int index = find_card(sim, card->number);
    if (index >= 0) memcpy(name_out, sim->cards[index].holder, PAYMENTS_SWITCH_NAME_BYTES);
    pthread_mutex_unlock(&sim->lock);
    return index >= 0 ? SB_OK : SB_ENOTFOUND;
}

payments_switch payments_switch_sim_adapter(payments_switch_sim *sim) {
    payments_switch sw = {"simulator", sim_holder_inquiry, sim_transfer, sim_inquire, sim_reverse, sim};
    return sw;
}

int payments_switch_sim_add_card(payments_switch_sim *sim, const char *number, const char *holder,
                                 int64_t balance_minor) {
    if (!sim || !number || !holder || strlen(number) != 16 || balance_minor < 0 ||
        strlen(holder) >= PAYMENTS_SWITCH_NAME_BYTES)
        return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    int rc = SB_OK;
    if (find_card(sim, number) >= 0) {
        rc = SB_EEXISTS;
    } else if (sim->card_count == SB_PAYMENTS_SWITCH_SIM_CARDS_MAX) {
        rc = SB_ELIMIT;
    } else {
        sim_card *card = &sim->cards[sim->card_count++];
        memcpy(card->number, number, 17);
        snprintf(card->holder, sizeof card->holder, "%s", holder);
        card->balance_minor = balance_minor;
    }
    pthread_mutex_unlock(&sim->lock);
    return rc;
}

int payments_switch_sim_script(payments_switch_sim *sim, payments_sim_action action, const char *response_code) {
    if (!sim || (unsigned)action > PAYMENTS_SIM_TIMEOUT_LATE) return SB_EINVAL;
    if (response_code && strlen(response_code) != 2) return SB_EINVAL;
    pthread_mutex_lock(&sim->lock);
    int rc = SB_OK;
    if (sim->script_len == SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX) {
        rc = SB_ELIMIT;
    } else {
        int slot = (sim->script_head + sim->script_len) % SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX;
        sim->script[slot] = action;
        memcpy(sim->script_codes[slot], response_code ? response_code : "05", 3);
        sim->script_len++;
    }
    pthread_mutex_unlock(&sim->lock);
    return rc;
}

void payments_switch_sim_script_clear(payments_switch_sim *sim) {
    pthread_mutex_lock(&sim->lock);
    sim->script_head = 0;
    sim->script_len = 0;
    pthread_mutex_unlock(&sim->lock);
}

int payments_switch_sim_deliver_late(payments_switch_sim *sim) {
    pthread_mutex_lock(&sim->lock);
    int delivered = 0;
    for (int i = 0; i < sim->ref_count; i++) {
        if (sim->refs[i].state != REF_LATE) continue;
        apply_ref(sim, &sim->refs[i]);
        delivered++;
    }
    pthread_mutex_unlock(&sim->lock);
    return delivered;
}

int payments_switch_sim_balance(const payments_switch_sim *sim, const char *number, int64_t *balance_out) {
    if (!sim || !number || !balance_out) return SB_EINVAL;
    pthread_mutex_lock((pthread_mutex_t *)&sim->lock);
    int index = find_card(sim, number);
    if (index >= 0) *balance_out = sim->cards[index].balance_minor;
    pthread_mutex_unlock((pthread_mutex_t *)&sim->lock);
    return index >= 0 ? SB_OK : SB_ENOTFOUND;
}

int payments_switch_sim_applied_count(const payments_switch_sim *sim, const char *reference) {
    pthread_mutex_lock((pthread_mutex_t *)&sim->lock);
    int applied = 0;
    for (int i = 0; i < sim->ref_count; i++)
        if (strcmp(sim->refs[i].reference, reference) == 0) applied = sim->refs[i].applied;
    pthread_mutex_unlock((pthread_mutex_t *)&sim->lock);
    return applied;
}

payments_switch_sim_stats payments_switch_sim_get_stats(const payments_switch_sim *sim) {
    pthread_mutex_lock((pthread_mutex_t *)&sim->lock);
    payments_switch_sim_stats stats = sim->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&sim->lock);
    return stats;
}
