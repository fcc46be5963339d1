/*
 * text.h - the text engine: what customers write, in Persian, Ukrainian,
 * Russian and English.
 *
 * Two owners share this one public header, each in its own section:
 *   - textcore: normalisation, tokenisation, language identification and
 *     signals (text_normalize.c, text_langid.c, text_signals.c);
 *   - classifier: the linear classifier, its model format, train/eval/classify
 *     (classifier*.c, model*.c), declared in the section at the end.
 *
 * Everything here is pure computation on caller-owned memory: no global
 * state, safe to call from any number of threads at once.  Input is UTF-8
 * and hostile: every function bounds its input (limits in core/limits.h,
 * section "text") and returns SB_EINVAL or SB_ELIMIT instead of guessing.
 */
#ifndef SB_TEXT_H
#define SB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ======================================================================
 * textcore section: normalisation, tokens, language, signals
 * ====================================================================== */

/* ---- normalisation ---------------------------------------------------- */
/* Normalise `in` (len bytes of UTF-8, need not be NUL-terminated) into
 * lowercase tokens separated by single ASCII spaces, nothing else: no
 * leading or trailing space, never two spaces in a row.
 *
 * What it does, in one pass over the code points after NFKC + case folding
 * (utf8proc):
 *   - Persian: Arabic yeh (U+064A, U+0649) -> Persian yeh U+06CC, Arabic kaf
 *     U+0643 -> Persian kaf U+06A9, heh goal U+06C1 -> heh U+0647; tatweel
 *     U+0640 and harakat (U+064B..U+0652, U+0656..U+065F, U+0670, Quranic
 *     marks U+06D6..U+06ED) removed; maddah and hamza are kept (آ أ stay).
 *     The zero-width non-joiner U+200C between two letters stays inside the
 *     token (می‌خواهم is one token); anywhere else it is dropped.
 *   - Persian (U+06F0..) and Arabic-Indic (U+0660..) digits become ASCII.
 *   - Cyrillic: case folding, ё -> е; the apostrophes ’ ʼ ' ` ‘ ′ are
 *     unified to ASCII ' and kept only between two letters (м'ясо).
 *   - Latin: case folding.
 *   - Special tokens:  <url> (http://, https://, www., and word.com/.ir/
 *     .ua/.ru/... without a scheme), <mention> (@name at the start of a
 *     token; '@' inside a word is punctuation, emails are not special),
 *     #tag (the tag text normalised, '_' kept), <num> (a run of digits with
 *     inner . , / : and Arabic separators; a number glued to letters is split
 *     from them: "100هزار" -> "<num> هزار"), emoji (each emoji its own token,
 *     skin tones and variation selectors dropped, ZWJ sequences and flags kept
 *     whole), emoticons -> <emo_pos> (:) :-) :D ;) =) xD <3 and ")))" runs)
 *     or <emo_neg> (:( :-( :'( :/ </3 and "(((" runs).
 *   - Punctuation: '?' (also ؟ ¿) and '!' (also ¡) are kept as tokens, a run
 *     of the same mark collapsed to one; currency signs ($ € ₽ ₴ ...; ﷼ is
 *     the word ریال under NFKC) and '%' are tokens of their own; all other
 *     punctuation and symbols split tokens and are dropped.  Hyphens split
 *     tokens.  The markers above typed literally stay markers, so
 *     normalising normalised text changes nothing.
 *   - A token longer than SB_TEXT_TOKEN_BYTES_MAX bytes is cut at a code point
 *     boundary; the rest of that word is skipped.
 * Errors: SB_EINVAL if `in` is not valid UTF-8 (invalid input is rejected,
 * never repaired), SB_ELIMIT if len > SB_TEXT_INPUT_BYTES_MAX or the result
 * would exceed out->max, SB_ENOMEM.  On error `out` has been freed (sb_buf
 * convention).  out is reset first, then filled; out->len == 0 means "no
 * tokens" (out->data may be NULL then).  The caller owns `out` and may reuse
 * it across calls (no allocation once it has grown).  An out->max of
 * SB_TEXT_NORMALIZED_BYTES_MAX is always enough. */
int text_normalize(const char *in, size_t len, sb_buf *out) SB_MUST_CHECK;

/* ---- tokens ----------------------------------------------------------- */
/* Iterate over the tokens of normalised text (split on single spaces).
 *   text_token_iter it; text_token_iter_init(&it, buf.data, buf.len);
 *   const char *tok; size_t tok_len;
 *   while (text_token_next(&it, &tok, &tok_len)) ...
 * Tokens point into the caller's text (no allocation, no copy). */
typedef struct {
    const char *pos;
    const char *end;
} text_token_iter;
void text_token_iter_init(text_token_iter *it, const char *normalised, size_t len);
/* The next token, or false at the end.  Empty tokens (from stray spaces in
 * text that was not produced by text_normalize) are skipped. */
bool text_token_next(text_token_iter *it, const char **tok, size_t *tok_len);

/* ---- language identification ------------------------------------------ */
typedef enum {
    TEXT_LANG_OTHER = 0,
    TEXT_LANG_FA = 1, /* Persian */
    TEXT_LANG_AR = 2, /* Arabic */
    TEXT_LANG_UK = 3, /* Ukrainian */
    TEXT_LANG_RU = 4, /* Russian */
    TEXT_LANG_EN = 5, /* English */
} text_lang;
#define TEXT_LANG_COUNT 6
/* The ISO 639-1 code ("fa", "ar", "uk", "ru", "en") or "other" (static). */
const char *text_lang_code(text_lang lang);
/* Parse a code as given by text_lang_code; SB_EINVAL otherwise. */
int text_lang_parse(const char *code, text_lang *out) SB_MUST_CHECK;

/* Identify the language of raw (not normalised) UTF-8 text: Persian,
 * Arabic, Ukrainian, Russian, English or other.  Works on a single sentence:
 * the script decides the family, then letters unique to one language
 * (پ چ ژ گ vs ة أ إ; і ї є ґ vs ы э ъ ё), frequent function words and
 * weighted word endings decide within it; links and @mentions are skipped.
 * Persian written in Latin letters ("kheili khoob") is fa.  Text without letters
 * (emoji, digits) is "other" with low confidence.  Only the first
 * SB_TEXT_LANGID_BYTES_MAX bytes are read (more adds nothing); a code point
 * cut at that boundary is ignored.
 * *confidence_permille (may be NULL) gets 0..1000.
 * Errors: SB_EINVAL if the text (the part read) is not valid UTF-8. */
int text_langid(const char *text, size_t len, text_lang *out, int *confidence_permille) SB_MUST_CHECK;
/* The naive baseline the benchmark compares against: majority Unicode block
 * of the letters (Arabic block -> fa, Cyrillic -> ru, Latin -> en, none or
 * other -> other).  Same errors as text_langid. */
int text_langid_script_only(const char *text, size_t len, text_lang *out) SB_MUST_CHECK;

/* ---- signals ---------------------------------------------------------- */
/* What a text says beyond the classifier's heads, each with the words that
 * triggered it.  Matched on normalised text (text_normalize output) against
 * lexicons compiled into the binary (C tables in src/text/text_signals.c), in Persian,
 * Ukrainian, Russian and English: words, stems/prefixes for Persian suffixes
 * and Cyrillic endings, multi-word phrases; a signal preceded by a negation
 * within two tokens ("not", "не", "нет", "نه" ...) does not fire. */
typedef enum {
    TEXT_SIGNAL_RISK = 0,       /* urgent: a person should look now */
    TEXT_SIGNAL_LIFE_EVENT = 1, /* an occasion for an offer */
    TEXT_SIGNAL_COMPETITOR = 2, /* another bank is named */
} text_signal_kind;

typedef enum {
    TEXT_RISK_FRAUD = 0,      /* card misuse, fraud, stolen money */
    TEXT_RISK_CHURN = 1,      /* threat to leave the bank */
    TEXT_RISK_LEGAL = 2,      /* threat to sue or complain to the regulator */
    TEXT_RISK_INSOLVENCY = 3, /* rumour of insolvency or a run on the bank */
} text_risk;
#define TEXT_RISK_COUNT 4

typedef enum {
    TEXT_LIFE_CHILD = 0,   /* new child   -> child savings */
    TEXT_LIFE_TRAVEL = 1,  /* abroad      -> travel insurance + FX card */
    TEXT_LIFE_WEDDING = 2, /* wedding     -> wedding loan */
    TEXT_LIFE_HOME = 3,    /* new home    -> mortgage / home loan */
    TEXT_LIFE_JOB = 4,     /* new job     -> salary account / credit card */
    TEXT_LIFE_STUDY = 5,   /* studies     -> student loan / education savings */
} text_life_event;
#define TEXT_LIFE_COUNT 6

/* One fired signal.  `code` is a text_risk, a text_life_event, or for a
 * competitor the index of the bank in the competitor table (its name via
 * text_signal_name).  `trigger` is the matched token(s) copied from the
 * normalised text (NUL-terminated, cut to fit). */
#define TEXT_SIGNAL_TRIGGER_BYTES 96
typedef struct {
    text_signal_kind kind;
    int code;
    char trigger[TEXT_SIGNAL_TRIGGER_BYTES];
} text_signal;

/* Bounded result: at most SB_TEXT_SIGNALS_MAX signals, each (kind, code)
 * reported once with its first trigger. `truncated` is set when more fired. */
typedef struct {
    size_t count;
    bool truncated;
    text_signal items[SB_TEXT_SIGNALS_MAX];
} text_signals_result;

/* Find the signals in `normalised` (len bytes, text_normalize output; other
 * text works but matches less).  Fills *out (count 0 if none).
 * Errors: SB_ELIMIT if len > SB_TEXT_NORMALIZED_BYTES_MAX, SB_EINVAL if
 * normalised is NULL with len > 0. */
int text_signals(const char *normalised, size_t len, text_signals_result *out) SB_MUST_CHECK;
/* Stable name of a signal, in the project's label vocabulary (the starter
 * corpus, listening): "card_misuse", "threat_leave", "threat_sue",
 * "insolvency_rumour"; "new_child", "travel_abroad", "wedding", "new_home",
 * "new_job", "studies"; or the competitor
 * bank's canonical name ("Tinkoff", "Bank Melli" ...).  Static string;
 * "unknown" for out-of-range codes. */
const char *text_signal_name(text_signal_kind kind, int code);
/* The offer category a life event suggests ("child_savings",
 * "travel_insurance_fx_card", "wedding_loan", "mortgage", "salary_account_credit_card",
 * "student_loan_education_savings"), "unknown" otherwise.  Static string. */
const char *text_life_event_offer(text_life_event event);
/* "risk", "life_event", "competitor". Static string. */
const char *text_signal_kind_name(text_signal_kind kind);

/* ======================================================================
 * classifier section (owned by the classifier engineer)
 * ====================================================================== */

#endif /* SB_TEXT_H */
