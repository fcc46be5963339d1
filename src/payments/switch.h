/*
 * switch.h - the card-switch adapter (Shetab in Iran) for card-to-card
 * transfers, the reconciliation rules that make a timed-out transfer end
 * either posted or voided (never hanging, never doubled), and a simulator
 * that approves, declines or times out on command.
 *
 * How card-to-card will run on the ledger (the ledger part comes next):
 *   1. place a pending (two-phase) ledger transfer from the payer's wallet to
 *      the card-switch account: the hold; its id is the switch reference;
 *   2. drive payments_c2c_run (below) against the adapter;
 *   3. on PAYMENTS_C2C_POST post the hold, on PAYMENTS_C2C_VOID void it; on
 *      PAYMENTS_C2C_MANUAL leave it pending for the operator's reconciliation
 *      with the switch's settlement file (the hold's timeout must outlast the
 *      retries, so nothing expires while the switch may still move money).
 *
 * The adapter is a table of operations (like the store's backends): a real
 * ISO 8583 connector and the simulator implement the same four calls.  Every
 * call is idempotent per reference: repeating a transfer returns the first
 * answer and moves nothing twice.  Full card numbers travel only inside
 * payments_switch_transfer; adapters must not log them (payments_card has
 * the masked form for that).
 */
#ifndef SB_PAYMENTS_SWITCH_H
#define SB_PAYMENTS_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "payments/payments.h"

#define PAYMENTS_SWITCH_REF_BYTES 33 /* 32 hex digits (a ledger transfer id) and a NUL */
#define PAYMENTS_SWITCH_RRN_BYTES 13 /* ISO 8583 field 37: 12 characters */
#define PAYMENTS_SWITCH_NAME_BYTES (SB_DISPLAY_NAME_BYTES_MAX + 1)

typedef enum {
    PAYMENTS_SWITCH_APPROVED = 0, /* money moved (transfer), or the original stands (reverse refused) */
    PAYMENTS_SWITCH_DECLINED,     /* refused; nothing moved; see response_code */
    PAYMENTS_SWITCH_TIMEOUT,      /* no answer in time: the outcome is unknown */
    PAYMENTS_SWITCH_NOT_FOUND,    /* inquiry/reverse: the switch has no such reference */
    PAYMENTS_SWITCH_REVERSED,     /* the transfer was undone (or fenced before it arrived) */
    PAYMENTS_SWITCH_STATUS_COUNT
} payments_switch_status;

typedef struct {
    char reference[PAYMENTS_SWITCH_REF_BYTES]; /* our idempotency key */
    const payments_card *source;               /* parsed and checked (payments_card_parse) */
    const payments_card *destination;
    int64_t amount_minor; /* rials, > 0 */
    int64_t timeout_ms;   /* > 0 */
} payments_switch_transfer;

typedef struct {
    payments_switch_status status;
    char response_code[3];               /* ISO 8583 field 39: "00" ok, "51" insufficient funds, "14" no such card... */
    char rrn[PAYMENTS_SWITCH_RRN_BYTES]; /* on approval */
} payments_switch_result;

/* The operations an adapter implements.  Each returns SB_OK with *out set
 * (a timeout is a status, not an error), or SB_EINVAL for a malformed
 * request, or SB_ECLOSED if the adapter is shut down. */
typedef struct {
    const char *name; /* "simulator", "shetab-iso8583"... */
    /* The holder's name of a card, for the payer to confirm before paying.
     * SB_ENOTFOUND if the switch does not know the card, SB_ETIMEOUT. */
    int (*holder_inquiry)(void *ctx, const payments_card *card, int64_t timeout_ms,
                          char name_out[PAYMENTS_SWITCH_NAME_BYTES]);
    int (*transfer)(void *ctx, const payments_switch_transfer *request, payments_switch_result *out);
    int (*inquire)(void *ctx, const char *reference, int64_t timeout_ms, payments_switch_result *out);
    /* Undo (ISO 8583 reversal).  For a reference the switch has not seen it
     * answers REVERSED and fences it: a late original is then refused. */
    int (*reverse)(void *ctx, const char *reference, int64_t timeout_ms, payments_switch_result *out);
    void *ctx;
} payments_switch;

const char *payments_switch_status_name(payments_switch_status status);

/* ---- reconciliation ----------------------------------------------------- */
typedef enum {
    PAYMENTS_C2C_SEND = 0, /* send the transfer */
    PAYMENTS_C2C_INQUIRE,  /* the outcome is unknown: ask */
    PAYMENTS_C2C_REVERSE,  /* still unknown, or the switch never saw it: undo and fence */
    PAYMENTS_C2C_POST,     /* final: money moved at the switch; post the hold */
    PAYMENTS_C2C_VOID,     /* final: nothing moved; void the hold */
    PAYMENTS_C2C_MANUAL,   /* final for now: the switch cannot be reached; keep the hold for the operator */
} payments_c2c_step;
typedef struct {
    payments_c2c_step step;
    int inquiries; /* inquiries that timed out */
    int reversals; /* reversals that timed out */
} payments_c2c_state;

/* A fresh state: step SEND. */
void payments_c2c_init(payments_c2c_state *state);
/* Advance after the current step's call answered `status`; returns the new
 * step.  The rules: money is considered moved only on an APPROVED answer,
 * and a hold is voided only after the switch said DECLINED, or confirmed a
 * reversal (REVERSED / NOT_FOUND to a reversal, which fences the
 * reference).  A timed-out send is inquired up to
 * SB_PAYMENTS_SWITCH_INQUIRIES_MAX times, then reversed up to
 * SB_PAYMENTS_SWITCH_REVERSALS_MAX times, then MANUAL.  Final steps stay
 * final. */
payments_c2c_step payments_c2c_next(payments_c2c_state *state, payments_switch_status status);
bool payments_c2c_is_final(payments_c2c_step step);
const char *payments_c2c_step_name(payments_c2c_step step);

/* Drive the steps against an adapter until a final step: the whole switch
 * side of a card-to-card transfer.  *result_out holds the last answer (the
 * RRN on POST).  SB_EINVAL for a bad request, or an adapter error.  Bounded:
 * at most 1 + inquiries + reversals calls. */
int payments_c2c_run(const payments_switch *sw, const payments_switch_transfer *request, payments_c2c_step *final_out,
                     payments_switch_result *result_out) SB_MUST_CHECK;

/* ---- the simulator ------------------------------------------------------ */
/* A switch in memory: cards with holders and balances, transfers by
 * reference, and a script of what the next calls should do. */
typedef struct payments_switch_sim payments_switch_sim;

typedef enum {
    PAYMENTS_SIM_ANSWER = 0,      /* behave: apply or decline truthfully (the default when the script is empty) */
    PAYMENTS_SIM_DECLINE,         /* transfer: decline with the scripted response code */
    PAYMENTS_SIM_TIMEOUT,         /* answer TIMEOUT; nothing happens at the switch */
    PAYMENTS_SIM_TIMEOUT_APPLIED, /* answer TIMEOUT, but the transfer / reversal did happen */
    PAYMENTS_SIM_TIMEOUT_LATE,    /* transfer: answer TIMEOUT; the message arrives at the next
                                   * payments_switch_sim_deliver_late unless fenced by a reversal */
} payments_sim_action;

/* Create a simulator; *out belongs to the caller (payments_switch_sim_free). */
int payments_switch_sim_create(payments_switch_sim **out) SB_MUST_CHECK;
void payments_switch_sim_free(payments_switch_sim *sim);
/* The adapter table for this simulator (valid until it is freed). */
payments_switch payments_switch_sim_adapter(payments_switch_sim *sim);
/* Add a card (16 ASCII digits) with its holder and balance.  SB_ELIMIT past
 * SB_PAYMENTS_SWITCH_SIM_CARDS_MAX, SB_EEXISTS for a known number. */
int payments_switch_sim_add_card(payments_switch_sim *sim, const char *number, const char *holder,
                                 int64_t balance_minor) SB_MUST_CHECK;
/* Script the next call (transfer, inquire or reverse, whichever comes):
 * FIFO, SB_ELIMIT past SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX.  response_code
 * is used by DECLINE (NULL = "05", do not honour). */
int payments_switch_sim_script(payments_switch_sim *sim, payments_sim_action action,
                               const char *response_code) SB_MUST_CHECK;
/* Drop every scripted action not yet used. */
void payments_switch_sim_script_clear(payments_switch_sim *sim);
/* Apply the late transfers that were not fenced; returns how many. */
int payments_switch_sim_deliver_late(payments_switch_sim *sim);
/* Balance of a card (SB_ENOTFOUND if unknown). */
int payments_switch_sim_balance(const payments_switch_sim *sim, const char *number, int64_t *balance_out) SB_MUST_CHECK;
/* Times money moved and was not reversed, for a reference (0 or 1 if all is well). */
int payments_switch_sim_applied_count(const payments_switch_sim *sim, const char *reference);
/* Calls the simulator answered, by operation, for tests. */
typedef struct {
    int transfers, inquiries, reversals, holder_inquiries;
} payments_switch_sim_stats;
payments_switch_sim_stats payments_switch_sim_get_stats(const payments_switch_sim *sim);

#endif /* SB_PAYMENTS_SWITCH_H */
