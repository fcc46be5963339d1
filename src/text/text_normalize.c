/*
 * text_normalize.c - normalisation and tokenisation of posts and messages.
 *
 * Two steps, no allocation for texts up to STACK_CODEPOINTS code points:
 *   1. NFKC with case folding (utf8proc_decompose + utf8proc_normalize_utf32
 *      into a code point array; ASCII-only input skips utf8proc: NFKC is the
 *      identity there and folding is tolower);
 *   2. one pass over the code points that applies the Persian/Cyrillic
 *      mappings (yeh, kaf, ё, digits, apostrophes, harakat), recognises the
 *      special tokens (URLs, mentions, hashtags, numbers, emoji, emoticons)
 *      and writes the tokens, space-separated, into the caller's buffer.
 * The contract is in text.h.  Every loop is bounded by the input length; no
 * recursion.
 */
#include <string.h>
#include <utf8proc.h>

#include "text/text.h"
#include "text/text_int.h"

/* Code points handled on the stack: a typical post is far smaller. */
#define STACK_CODEPOINTS 2048

#define CP_ZWNJ 0x200C
#define CP_ZWJ 0x200D
#define CP_DROP (-1)

typedef enum {
    CLASS_SPACE,    /* splits, dropped */
    CLASS_PUNCT,    /* splits, dropped (unless an emoticon starts here) */
    CLASS_LETTER,   /* part of a word */
    CLASS_MARK,     /* combining mark: joins the token it follows */
    CLASS_DIGIT,    /* ASCII digit (after mapping) */
    CLASS_EMOJI,    /* a symbol that is a token of its own */
    CLASS_CURRENCY, /* currency sign or '%': a token of its own */
    CLASS_DROP,     /* removed without splitting (tatweel, harakat, bidi marks) */
} cp_class;

typedef enum { TOK_NONE, TOK_WORD, TOK_NUM, TOK_HASH } tok_kind;

/* Harakat and Quranic marks removed from Arabic-script text; maddah and
 * hamza (U+0653..U+0655) stay because they distinguish letters (آ أ إ). */
static bool is_harakat(int32_t c) {
    return (c >= 0x064B && c <= 0x0652) || (c >= 0x0656 && c <= 0x065F) || c == 0x0670 ||
           (c >= 0x06D6 && c <= 0x06DC) || (c >= 0x06DF && c <= 0x06E4) || c == 0x06E7 || c == 0x06E8 ||
           (c >= 0x06EA && c <= 0x06ED);
}

/* The per-code-point mapping applied after NFKC + case folding. */
static int32_t map_cp(int32_t c) {
    if (c < 0x80) {
        if (c == '`') return '\'';
        return c;
    }
    switch (c) {
    case 0x064A: /* ARABIC LETTER YEH */
    case 0x0649: /* ARABIC LETTER ALEF MAKSURA */
        return 0x06CC;
    case 0x0643: return 0x06A9; /* ARABIC LETTER KAF -> KEHEH */
    case 0x06C1: return 0x0647; /* HEH GOAL -> HEH */
    case 0x0451: return 0x0435; /* ё -> е */
    case 0x2019: case 0x2018: case 0x02BC: case 0x2032: case 0x02B9: return '\'';
    case 0x066B: return '.';    /* ARABIC DECIMAL SEPARATOR */
    case 0x066C: return ',';    /* ARABIC THOUSANDS SEPARATOR */
    case 0x061F: case 0x00BF: return '?';
    case 0x00A1: return '!';
    case 0x0640: return CP_DROP; /* tatweel */
    case 0xFE0E: case 0xFE0F: return CP_DROP; /* variation selectors */
    default: break;
    }
    if (c >= 0x0660 && c <= 0x0669) return '0' + (c - 0x0660);
    if (c >= 0x06F0 && c <= 0x06F9) return '0' + (c - 0x06F0);
    if (is_harakat(c)) return CP_DROP;
    return c;
}

static bool is_emoji_modifier(int32_t c) { return c >= 0x1F3FB && c <= 0x1F3FF; }
static bool is_regional(int32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

/* Classify a mapped code point. */
static cp_class classify(int32_t c) {
    if (c == CP_DROP) return CLASS_DROP;
    if (c < 0x80) {
        if (c >= 'a' && c <= 'z') return CLASS_LETTER;
        if (c >= 'A' && c <= 'Z') return CLASS_LETTER; /* not reached after folding */
        if (c >= '0' && c <= '9') return CLASS_DIGIT;
        if (c <= 0x20 || c == 0x7F) return CLASS_SPACE;
        if (c == '$' || c == '%') return CLASS_CURRENCY;
        return CLASS_PUNCT;
    }
    if (is_emoji_modifier(c) || c == 0x20E3) return CLASS_DROP;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return CLASS_LETTER;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return CLASS_MARK;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
        return CLASS_SPACE;
    case UTF8PROC_CATEGORY_CF:
        return CLASS_DROP; /* ZWNJ and ZWJ are handled before classification */
    case UTF8PROC_CATEGORY_SC:
        return CLASS_CURRENCY;
    case UTF8PROC_CATEGORY_SO:
        return CLASS_EMOJI;
    default:
        return CLASS_PUNCT;
    }
}

/* ---- the writer ------------------------------------------------------- */
typedef struct {
    const int32_t *cps;
    size_t n;
    sb_buf *out;
    int result;
    tok_kind kind;
    bool cut; /* token reached SB_TEXT_TOKEN_BYTES_MAX: skip the rest */
    size_t tok_len;
    size_t tok_start; /* index in cps where the token began */
    bool tok_ascii_domain; /* token so far is [a-z0-9-]: may be a bare domain */
    char tok[SB_TEXT_TOKEN_BYTES_MAX + 8];
} norm_state;

static void emit(norm_state *s, const char *bytes, size_t len) {
    if (s->result != SB_OK || len == 0) return;
    if (s->out->len > 0) {
        s->result = sb_buf_append(s->out, " ", 1);
        if (s->result != SB_OK) return;
    }
    s->result = sb_buf_append(s->out, bytes, len);
}

static void flush(norm_state *s) {
    /* a cut can leave a word ending in an apostrophe or ZWNJ, which a second
     * pass would drop: drop them now */
    while ((s->kind == TOK_WORD || s->kind == TOK_HASH) && s->tok_len > 1) {
        if (s->tok[s->tok_len - 1] == '\'') s->tok_len--;
        else if (s->tok_len >= 3 && memcmp(s->tok + s->tok_len - 3, "\xe2\x80\x8c", 3) == 0) s->tok_len -= 3;
        else break;
    }
    if (s->kind == TOK_NUM) emit(s, "<num>", 5);
    /* "xd" cut off by a digit ("xd6") is still the emoticon: keeps a second pass identical */
    else if (s->kind == TOK_WORD && s->tok_len == 2 && memcmp(s->tok, "xd", 2) == 0) emit(s, "<emo_pos>", 9);
    else if (s->kind != TOK_NONE) emit(s, s->tok, s->tok_len);
    s->kind = TOK_NONE;
    s->tok_len = 0;
    s->cut = false;
}

static void start(norm_state *s, tok_kind kind, size_t index) {
    flush(s);
    s->kind = kind;
    s->tok_start = index;
    s->tok_ascii_domain = true;
}

static void tok_append(norm_state *s, int32_t c) {
    if (s->cut) return;
    uint8_t enc[4];
    size_t n = (size_t)utf8proc_encode_char(c, enc);
    if (s->tok_len + n > SB_TEXT_TOKEN_BYTES_MAX) {
        s->cut = true;
        return;
    }
    memcpy(s->tok + s->tok_len, enc, n);
    s->tok_len += n;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) s->tok_ascii_domain = false;
}

static int32_t mapped_at(const norm_state *s, size_t i) { return i < s->n ? map_cp(s->cps[i]) : ' '; }
static cp_class class_at(const norm_state *s, size_t i) {
    if (i >= s->n) return CLASS_SPACE;
    int32_t c = s->cps[i];
    if (c == CP_ZWNJ || c == CP_ZWJ) return CLASS_DROP;
    return classify(map_cp(c));
}

/* Does cps[i..] start with the ASCII text lit (already folded)? */
static bool match_at(const norm_state *s, size_t i, const char *lit) {
    for (size_t k = 0; lit[k]; k++)
        if (i + k >= s->n || mapped_at(s, i + k) != (unsigned char)lit[k]) return false;
    return true;
}

/* Index of the next space-class code point at or after i. */
static size_t skip_to_space(const norm_state *s, size_t i) {
    while (i < s->n && class_at(s, i) != CLASS_SPACE) i++;
    return i;
}

/* ---- emoticons -------------------------------------------------------- */
typedef struct {
    const char *text;
    bool positive;
} emoticon;

/* Longest first within a shared prefix; all folded to lowercase. */
static const emoticon emoticons[] = {
    {":-)", true},  {":-d", true},  {":-p", true},  {":-*", true},  {";-)", true}, {":)", true},
    {":]", true},   {":d", true},   {":p", true},   {":*", true},   {";)", true},  {";d", true},
    {";p", true},   {"=)", true},   {"=d", true},   {"</3", false}, {"<3", true},
    {"^_^", true},  {"^^", true},   {"xd", true},   {":'(", false}, {":-(", false}, {":-/", false},
    {":(", false},  {":[", false},  {":/", false},  {":\\", false}, {"-_-", false},
    {"=(", false},
};

/* If an emoticon starts at i, emit it and return the index after it
 * (swallowing repeats of its last character, ":)))"); else return i. */
static size_t try_emoticon(norm_state *s, size_t i) {
    int32_t c = mapped_at(s, i);
    /* ")))" and "(((" runs: the Russian-language smiley */
    if ((c == ')' || c == '(') && mapped_at(s, i + 1) == c) {
        size_t j = i;
        while (j < s->n && mapped_at(s, j) == c) j++;
        flush(s);
        if (c == ')') emit(s, "<emo_pos>", 9);
        else emit(s, "<emo_neg>", 9);
        return j;
    }
    for (size_t e = 0; e < SB_ARRAY_LEN(emoticons); e++) {
        const char *t = emoticons[e].text;
        if ((unsigned char)t[0] != c || !match_at(s, i, t)) continue;
        size_t len = strlen(t);
        char first = t[0], last = t[len - 1];
        bool first_letter = first >= 'a' && first <= 'z';
        bool last_letter = last >= 'a' && last <= 'z';
        if (first_letter && (s->kind == TOK_WORD || s->kind == TOK_HASH)) continue; /* "xd" inside a word */
        size_t j = i + len;
        if (last_letter) {
            /* a ZWNJ before a letter continues the word ("xd\u200cd") */
            size_t k = (j < s->n && s->cps[j] == CP_ZWNJ) ? j + 1 : j;
            cp_class next = class_at(s, k);
            if (next == CLASS_LETTER || next == CLASS_DIGIT) continue; /* ":do" */
        }
        while (!last_letter && j < s->n && mapped_at(s, j) == (unsigned char)last) j++;
        flush(s);
        if (emoticons[e].positive) emit(s, "<emo_pos>", 9);
        else emit(s, "<emo_neg>", 9);
        return j;
    }
    return i;
}

/* The special tokens this normaliser writes. */
static const char *const markers[] = {"<url>", "<mention>", "<num>", "<emo_pos>", "<emo_neg>"};

/* If one of the markers starts at i (and no letter follows), emit it and
 * return the index after it; else return i. */
static size_t try_marker(norm_state *s, size_t i) {
    for (size_t m = 0; m < SB_ARRAY_LEN(markers); m++) {
        if (!match_at(s, i, markers[m])) continue;
        size_t j = i + strlen(markers[m]);
        cp_class next = class_at(s, j);
        if (next == CLASS_LETTER || next == CLASS_DIGIT || next == CLASS_MARK) continue;
        flush(s);
        emit(s, markers[m], strlen(markers[m]));
        return j;
    }
    return i;
}

/* Top-level domains that make "word.tld" a link without a scheme. */
static const char *const bare_tlds[] = {"com", "ir", "ua", "ru", "org", "net", "by", "io", "me", "info", "kz", "uk"};

static bool is_bare_domain_at(const norm_state *s, size_t dot) {
    if (s->kind != TOK_WORD || !s->tok_ascii_domain || s->tok_len == 0) return false;
    for (size_t t = 0; t < SB_ARRAY_LEN(bare_tlds); t++) {
        if (!match_at(s, dot + 1, bare_tlds[t])) continue;
        size_t after = dot + 1 + strlen(bare_tlds[t]);
        cp_class next = class_at(s, after);
        if (next != CLASS_LETTER && next != CLASS_DIGIT) return true;
    }
    return false;
}

/* Emit one emoji starting at i (with its ZWJ sequence or flag pair);
 * return the index after it. */
static size_t take_emoji(norm_state *s, size_t i) {
    flush(s);
    char buf[64];
    size_t len = 0;
    size_t j = i;
    bool more = true;
    for (int parts = 0; more && parts < 8 && j < s->n; parts++) {
        int32_t c = s->cps[j++];
        uint8_t enc[4];
        size_t n = (size_t)utf8proc_encode_char(c, enc);
        if (len + n + 3 <= sizeof buf) {
            memcpy(buf + len, enc, n);
            len += n;
        }
        if (is_regional(c) && j < s->n && is_regional(s->cps[j]) && parts == 0) {
            n = (size_t)utf8proc_encode_char(s->cps[j++], enc);
            memcpy(buf + len, enc, n);
            len += n;
            break;
        }
        /* skin tones, variation selectors, keycap marks */
        while (j < s->n && (is_emoji_modifier(s->cps[j]) || s->cps[j] == 0xFE0F || s->cps[j] == 0xFE0E ||
                            s->cps[j] == 0x20E3))
            j++;
        more = false;
        if (j + 1 < s->n && s->cps[j] == CP_ZWJ && classify(map_cp(s->cps[j + 1])) == CLASS_EMOJI) {
            n = (size_t)utf8proc_encode_char(CP_ZWJ, enc);
            if (len + n + 4 <= sizeof buf) {
                memcpy(buf + len, enc, n);
                len += n;
                j++;
                more = true;
            }
        }
    }
    emit(s, buf, len);
    return j;
}

/* ---- the pass --------------------------------------------------------- */
static void tokenize(norm_state *s) {
    size_t i = 0;
    while (i < s->n && s->result == SB_OK) {
        int32_t raw = s->cps[i];
        if (raw == CP_ZWNJ) {
            /* meaningful only inside a word: stays when letters follow */
            if (((s->kind == TOK_WORD && s->tok_len > 0) || (s->kind == TOK_HASH && s->tok_len > 1)) &&
                class_at(s, i + 1) == CLASS_LETTER)
                tok_append(s, CP_ZWNJ);
            i++;
            continue;
        }
        if (raw == CP_ZWJ) {
            i++;
            continue;
        }
        int32_t c = map_cp(raw);
        cp_class cls = classify(c);
        switch (cls) {
        case CLASS_DROP:
            i++;
            break;
        case CLASS_SPACE:
            flush(s);
            i++;
            break;
        case CLASS_LETTER:
            if (s->kind == TOK_NONE || s->kind == TOK_NUM) {
                if ((c == 'h' && (match_at(s, i, "http://") || match_at(s, i, "https://"))) ||
                    (c == 'w' && match_at(s, i, "www."))) {
                    flush(s);
                    emit(s, "<url>", 5);
                    i = skip_to_space(s, i);
                    break;
                }
                if (c == 'x') {
                    size_t j = try_emoticon(s, i);
                    if (j != i) {
                        i = j;
                        break;
                    }
                }
                start(s, TOK_WORD, i);
            }
            tok_append(s, c);
            i++;
            break;
        case CLASS_MARK:
            if ((s->kind == TOK_WORD || s->kind == TOK_HASH) && s->tok_len > 0) tok_append(s, c);
            i++;
            break;
        case CLASS_DIGIT:
            if (s->kind == TOK_HASH) tok_append(s, c);
            else if (s->kind != TOK_NUM) start(s, TOK_NUM, i);
            i++;
            break;
        case CLASS_EMOJI:
            i = take_emoji(s, i);
            break;
        case CLASS_CURRENCY: {
            flush(s);
            uint8_t enc[4];
            size_t n = (size_t)utf8proc_encode_char(c, enc);
            emit(s, (const char *)enc, n);
            i++;
            break;
        }
        case CLASS_PUNCT: {
            /* inside a number: 1,000.50  10:30  1402/05/01 */
            if (s->kind == TOK_NUM && (c == '.' || c == ',' || c == '/' || c == ':') &&
                class_at(s, i + 1) == CLASS_DIGIT) {
                i++;
                break;
            }
            /* inside a word: м'ясо, don't */
            if (c == '\'' && s->kind == TOK_WORD && s->tok_len > 0 && class_at(s, i + 1) == CLASS_LETTER) {
                tok_append(s, c);
                i++;
                break;
            }
            if (c == '_' && s->kind == TOK_HASH) {
                tok_append(s, c);
                i++;
                break;
            }
            if (c == '.' && is_bare_domain_at(s, i)) {
                s->kind = TOK_NONE; /* the word so far was the domain */
                s->tok_len = 0;
                emit(s, "<url>", 5);
                i = skip_to_space(s, i);
                break;
            }
            if (c == '#' || c == '@') {
                cp_class next = class_at(s, i + 1);
                bool wordy = next == CLASS_LETTER || next == CLASS_DIGIT || mapped_at(s, i + 1) == '_';
                if (wordy && c == '#') {
                    start(s, TOK_HASH, i);
                    tok_append(s, '#');
                    i++;
                    break;
                }
                if (wordy && c == '@' && s->kind == TOK_NONE) {
                    emit(s, "<mention>", 9);
                    i++;
                    while (i < s->n) {
                        cp_class k = class_at(s, i);
                        if (k != CLASS_LETTER && k != CLASS_DIGIT && k != CLASS_MARK && mapped_at(s, i) != '_') break;
                        i++;
                    }
                    break;
                }
            }
            if (c == '?' || c == '!') {
                flush(s);
                emit(s, c == '?' ? "?" : "!", 1);
                while (i < s->n && mapped_at(s, i) == c) i++;
                break;
            }
            if (c == '<') {
                /* our own markers pass through, so normalising is idempotent */
                size_t j = try_marker(s, i);
                if (j != i) {
                    i = j;
                    break;
                }
            }
            size_t j = try_emoticon(s, i);
            if (j != i) {
                i = j;
                break;
            }
            flush(s);
            i++;
            break;
        }
        }
    }
    flush(s);
}

/* Code points whose NFKC + case folding is the identity or a fixed offset,
 * and which never compose with a neighbour: ASCII, basic Cyrillic, the
 * Arabic block without the composing marks (U+0653..U+0655), the marks whose
 * canonical order could matter (U+0610..U+061A) and the compatibility
 * letters U+0675..U+0678, the joiners and bidi marks, the quotes and dashes
 * customers type, and the emoji blocks.  A text made only of these skips
 * utf8proc (most posts); anything else takes the full path.  The fuzz target
 * checks both paths agree. */
static bool fold_simple_cp(int32_t c, int32_t *folded) {
    if (c < 0x80) {
        *folded = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        return true;
    }
    if (c >= 0x0400 && c <= 0x045F) {
        *folded = c <= 0x040F ? c + 0x50 : (c <= 0x042F ? c + 0x20 : c);
        return true;
    }
    if (c == 0x0490 || c == 0x0491) {
        *folded = 0x0491;
        return true;
    }
    if (c >= 0x0600 && c <= 0x06FF) {
        if ((c >= 0x0653 && c <= 0x0655) || (c >= 0x0610 && c <= 0x061A) || (c >= 0x0675 && c <= 0x0678)) return false;
        *folded = c;
        return true;
    }
    *folded = c;
    return (c >= 0x200C && c <= 0x200F) || c == 0x2013 || c == 0x2014 || c == 0x2018 || c == 0x2019 ||
           c == 0x201C || c == 0x201D || c == 0x00AB || c == 0x00BB || c == 0xFE0F || (c >= 0x2600 && c <= 0x27BF) ||
           (c >= 0x1F000 && c <= 0x1F0FF) || (c >= 0x1F1E6 && c <= 0x1F1FF) || (c >= 0x1F300 && c <= 0x1FAFF);
    /* Not U+1F100..U+1F1E5 nor U+1F200..U+1F2FF: enclosed letters, digits and
     * ideographs (U+1F23A squared "営") have compatibility decompositions. */
}

/* Decode validated UTF-8 into folded code points if every one is simple. */
static bool fold_simple(const char *in, size_t len, int32_t *cps, size_t *n_out) {
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned char b = p[i];
        int32_t c;
        if (b < 0x80) {
            c = b;
            i += 1;
        } else if (b < 0xE0) {
            c = ((int32_t)(b & 0x1F) << 6) | (p[i + 1] & 0x3F);
            i += 2;
        } else if (b < 0xF0) {
            c = ((int32_t)(b & 0x0F) << 12) | ((int32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
            i += 3;
        } else {
            c = ((int32_t)(b & 0x07) << 18) | ((int32_t)(p[i + 1] & 0x3F) << 12) | ((int32_t)(p[i + 2] & 0x3F) << 6) |
                (p[i + 3] & 0x3F);
            i += 4;
        }
        if (!fold_simple_cp(c, &cps[n])) return false;
        n++;
    }
    *n_out = n;
    return true;
}

/* Harakat and tatweel go before tokenising, and on the full path before
 * canonical composition: they sit inside words, so lookahead (emoticons,
 * apostrophes, URLs) must see the same neighbours in the raw text as in its
 * normalised output ("x\u064cd" is "xd" once the mark is gone), and letters
 * they separated must compose now ("\u0627\u0640\u0654" is "\u0623"), or
 * normalising twice would differ.  Returns the new count. */
static size_t drop_arabic_marks(int32_t *cps, size_t n) {
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = cps[i];
        if (c == 0x0640 || is_harakat(c)) continue;
        cps[kept++] = c;
    }
    /* Whatever the tokenizer drops (joiners, format characters such as
     * U+0600) is dropped here when a combining mark follows it, so the marks
     * and letters it separated meet canonical ordering and composition now
     * ("\u0611\u200c\u0619" and "\u0648\u0600\u0654" would otherwise
     * come out differently the next time). */
    bool dropped = kept != n;
    n = kept;
    kept = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = cps[i];
        bool tokenizer_drops = c == CP_ZWNJ || c == CP_ZWJ || classify(map_cp(c)) == CLASS_DROP;
        if (tokenizer_drops && i + 1 < n && utf8proc_get_property(cps[i + 1])->combining_class != 0) {
            dropped = true;
            continue;
        }
        cps[kept++] = c;
    }
    /* What was dropped may have separated combining marks that decomposition
     * had ordered apart: restore canonical order (stable by combining class
     * within each run of non-starters, as utf8proc's own reordering does). */
    if (dropped) {
        for (size_t i = 1; i < kept; i++) {
            int32_t c = cps[i];
            int ccc = utf8proc_get_property(c)->combining_class;
            if (ccc == 0) continue;
            size_t j = i;
            while (j > 0) {
                int prev = utf8proc_get_property(cps[j - 1])->combining_class;
                if (prev == 0 || prev <= ccc) break;
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = c;
        }
    }
    return kept;
}

static int normalize_impl(const char *in, size_t len, sb_buf *out, bool allow_fast) {
    if (!out) return SB_EINVAL;
    if (!in && len > 0) {
        sb_buf_free(out);
        return SB_EINVAL;
    }
    if (len > SB_TEXT_INPUT_BYTES_MAX) {
        sb_buf_free(out);
        return SB_ELIMIT;
    }
    sb_buf_reset(out);
    if (len == 0) return SB_OK;
    if (!sb_utf8_valid(in, len)) {
        sb_buf_free(out);
        return SB_EINVAL;
    }

    int32_t stack_cps[STACK_CODEPOINTS];
    int32_t *cps = stack_cps;
    size_t cap = STACK_CODEPOINTS;
    int32_t *heap = NULL;
    size_t n = 0;

    /* fast path: code points never outnumber bytes */
    if (allow_fast && len > STACK_CODEPOINTS) {
        heap = sb_malloc(len * sizeof *heap);
        if (!heap) {
            sb_buf_free(out);
            return SB_ENOMEM;
        }
        cps = heap;
        cap = len;
    }
    if (!allow_fast || !fold_simple(in, len, cps, &n)) {
        const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD;
        utf8proc_ssize_t need =
            utf8proc_decompose((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, cps, (utf8proc_ssize_t)cap, opts);
        if (need < 0) {
            sb_free(heap);
            sb_buf_free(out);
            return SB_EINVAL;
        }
        if ((size_t)need > cap) {
            if ((size_t)need > SB_TEXT_CODEPOINTS_MAX) {
                sb_free(heap);
                sb_buf_free(out);
                return SB_ELIMIT;
            }
            sb_free(heap);
            heap = sb_malloc((size_t)need * sizeof *heap);
            if (!heap) {
                sb_buf_free(out);
                return SB_ENOMEM;
            }
            cps = heap;
            utf8proc_ssize_t again =
                utf8proc_decompose((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, cps, need, opts);
            if (again != need) {
                sb_free(heap);
                sb_buf_free(out);
                return SB_EINTERNAL;
            }
        }
        need = (utf8proc_ssize_t)drop_arabic_marks(cps, (size_t)need);
        utf8proc_ssize_t composed = utf8proc_normalize_utf32(cps, need, opts);
        if (composed < 0) {
            sb_free(heap);
            sb_buf_free(out);
            return SB_EINVAL;
        }
        n = (size_t)composed;
    }

    /* The fast path has no composition step, so its marks go here. */
    n = drop_arabic_marks(cps, n);

    norm_state s = {.cps = cps, .n = n, .out = out, .result = SB_OK, .kind = TOK_NONE};
    tokenize(&s);
    sb_free(heap);
    return s.result; /* on error sb_buf has already freed itself */
}

int text_normalize(const char *in, size_t len, sb_buf *out) { return normalize_impl(in, len, out, true); }

int text_normalize_reference(const char *in, size_t len, sb_buf *out) { return normalize_impl(in, len, out, false); }

/* ---- token iterator --------------------------------------------------- */
void text_token_iter_init(text_token_iter *it, const char *normalised, size_t len) {
    it->pos = normalised;
    it->end = normalised ? normalised + len : NULL;
}

bool text_token_next(text_token_iter *it, const char **tok, size_t *tok_len) {
    while (it->pos && it->pos < it->end && *it->pos == ' ') it->pos++;
    if (!it->pos || it->pos >= it->end) return false;
    const char *p = it->pos;
    const char *space = memchr(p, ' ', (size_t)(it->end - p));
    const char *stop = space ? space : it->end;
    *tok = p;
    *tok_len = (size_t)(stop - p);
    it->pos = stop;
    return true;
}
