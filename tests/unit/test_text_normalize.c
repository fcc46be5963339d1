/*
 * test_text_normalize.c - the normaliser and tokenizer: hand-checked vectors
 * in Persian, Arabic, Ukrainian, Russian and English (ZWNJ, yeh/kaf,
 * harakat, digits, apostrophes, ё, emoji, emoticons, URLs, mentions,
 * hashtags), and the error paths: empty, huge, invalid UTF-8, mixed script,
 * allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text/text.h"
#include "text/text_int.h"

typedef struct {
    const char *in;
    const char *want;
} vector;

static const vector vectors[] = {
    /* Latin: case folding, punctuation, ? and ! */
    {"Hello, World!", "hello world !"},
    {"  WHY   is my card BLOCKED???  ", "why is my card blocked ?"},
    {"I don't like it... really?!", "i don't like it really ? !"},
    {"e-mail and top-up", "e mail and top up"},
    {"Straße", "strasse"},
    {"ＦＵＬＬ width", "full width"},
    /* numbers */
    {"I paid 1,000.50 on 2024/05/01 at 10:30", "i paid <num> on <num> at <num>"},
    {"fee 5% or $3", "fee <num> % or $ <num>"},
    {"iphone15 2fa", "iphone <num> <num> fa"},
    /* URLs, mentions, hashtags */
    {"see https://Bank.example.com/a?b=1 now", "see <url> now"},
    {"go to www.bank.ir, please", "go to <url> please"},
    {"site moyo.ua works", "site <url> works"},
    {"@Support_Team help", "<mention> help"},
    {"#FailBank #بانک_ملی", "#failbank #بانک_ملی"},
    {"mail me a@b", "mail me a b"},
    {"#\u200cتگ", "تگ"}, /* a hashtag starts with a letter, digit or _ */
    /* emoticons */
    {"thanks :) :-D ;)", "thanks <emo_pos> <emo_pos> <emo_pos>"},
    {"bad :( :'( :/", "bad <emo_neg> <emo_neg> <emo_neg>"},
    {"спасибо))) ужас(((", "спасибо <emo_pos> ужас <emo_neg>"},
    {"XD lol <3", "<emo_pos> lol <emo_pos>"},
    {"re:do it", "re do it"},
    {"(see above) ok", "see above ok"},
    /* emoji: one token each, skin tones and VS16 dropped, ZWJ sequences whole */
    {"great👍🏽👍", "great 👍 👍"},
    {"love ❤️ it", "love ❤ it"},
    {"😡😡bank", "😡 😡 bank"},
    {"family 👨\u200d👩\u200d👧 ok", "family 👨\u200d👩\u200d👧 ok"},
    {"flag 🇺🇦!", "flag 🇺🇦 !"},
    /* Persian: ZWNJ stays inside words, yeh/kaf, digits, tatweel, harakat */
    {"می‌خواهم کارت", "می‌خواهم کارت"},
    {"می‌ خواهم", "می خواهم"},
    {"\u200cسلام\u200c", "سلام"},
    {"بانك ملي", "بانک ملی"},
    {"علي", "علی"},
    {"مبلغ ۱۲۳۴ ریال", "مبلغ <num> ریال"},
    {"مبلغ ١٢٣ دينار", "مبلغ <num> دینار"},
    {"۱۰۰هزار تومان", "<num> هزار تومان"},
    {"خيلـــــي خوب", "خیلی خوب"},
    {"مُحَمَّد", "محمد"},
    {"آیا چرا؟", "آیا چرا ?"},
    {"ﻻ", "لا"},
    {"کتاب‌ها", "کتاب‌ها"},
    /* Cyrillic: folding, ё, apostrophes */
    {"ЁЛКА и Ёж", "елка и еж"},
    {"М’ЯСО м'ясо мʼясо м`ясо м‘ясо", "м'ясо м'ясо м'ясо м'ясо м'ясо"},
    {"Ґанок ЇЖАК Єнот", "ґанок їжак єнот"},
    {"'цитата'", "цитата"},
    {"Картку заблоковано! Чому?", "картку заблоковано ! чому ?"},
    {"Привет, как дела?", "привет как дела ?"},
    {"йод й", "йод й"},
    /* mixed script */
    {"Bank Melli بانک Приват", "bank melli بانک приват"},
    /* controls and bidi marks */
    {"a\tb\nc\r\nd", "a b c d"},
    {"ab\u200ecd", "abcd"},
    {"soft\u00adhyphen", "softhyphen"},
    /* our markers survive a second pass (idempotence) */
    {"<url> <num> <mention> <emo_pos> <emo_neg>", "<url> <num> <mention> <emo_pos> <emo_neg>"},
    {"<urlx> <3", "urlx <emo_pos>"},
    /* nothing left */
    {"...,,,", ""},
    {"   ", ""},
};

static void check_vector(const vector *v) {
    sb_buf out;
    sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
    int rc = text_normalize(v->in, strlen(v->in), &out);
    if (rc != SB_OK) print_error("input: %s\n", v->in);
    assert_int_equal(rc, SB_OK);
    const char *got = out.len ? out.data : "";
    if (strcmp(got, v->want) != 0) print_error("input: [%s]\n", v->in);
    assert_string_equal(got, v->want);
    sb_buf_free(&out);
}

static void test_vectors(void **state) {
    for (size_t i = 0; i < SB_ARRAY_LEN(vectors); i++) check_vector(&vectors[i]);
}

static void test_fast_path_matches_utf8proc(void **state) {
    /* every vector, through the fast path and through utf8proc alone */
    for (size_t i = 0; i < SB_ARRAY_LEN(vectors); i++) {
        sb_buf a, b;
        sb_buf_init(&a, SB_TEXT_NORMALIZED_BYTES_MAX);
        sb_buf_init(&b, SB_TEXT_NORMALIZED_BYTES_MAX);
        assert_int_equal(text_normalize(vectors[i].in, strlen(vectors[i].in), &a), SB_OK);
        assert_int_equal(text_normalize_reference(vectors[i].in, strlen(vectors[i].in), &b), SB_OK);
        assert_string_equal(a.len ? a.data : "", b.len ? b.data : "");
        sb_buf_free(&a);
        sb_buf_free(&b);
    }
}

/* Every code point from U+0080 to the end of the emoji blocks, alone and
 * between two words, normalises the same through the fast path and through
 * utf8proc: the fast path's "simple" ranges may hold only code points that
 * NFKC and case folding leave alone (the fuzzer found U+1F23A "🈺" once). */
static void test_fast_path_every_code_point(void **state) {
    sb_buf a, b;
    sb_buf_init(&a, SB_TEXT_NORMALIZED_BYTES_MAX);
    sb_buf_init(&b, SB_TEXT_NORMALIZED_BYTES_MAX);
    for (int32_t c = 0x80; c <= 0x1FAFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char in[16] = "ab ";
        size_t n = 3;
        if (c < 0x800) {
            in[n++] = (char)(0xC0 | (c >> 6));
        } else if (c < 0x10000) {
            in[n++] = (char)(0xE0 | (c >> 12));
            in[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        } else {
            in[n++] = (char)(0xF0 | (c >> 18));
            in[n++] = (char)(0x80 | ((c >> 12) & 0x3F));
            in[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        }
        in[n++] = (char)(0x80 | (c & 0x3F));
        memcpy(in + n, " cd", 3);
        n += 3;
        sb_buf_reset(&a);
        sb_buf_reset(&b);
        int ra = text_normalize(in, n, &a), rb = text_normalize_reference(in, n, &b);
        if (ra != rb || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
            fail_msg("U+%04X: fast rc=%d [%s], reference rc=%d [%s]", (unsigned)c, ra, a.len ? a.data : "", rb,
                     b.len ? b.data : "");
    }
    sb_buf_free(&a);
    sb_buf_free(&b);
}

/* Normalising normalised text changes nothing, also where marks that are
 * dropped sat between the letters of an emoticon (found by the fuzzer). */
static void test_idempotent_around_dropped_marks(void **state) {
    static const char *const inputs[] = {
        "1x\xd9\x8c" "d\xd9\x8c`\xd4\x82\xd1\x8c", /* 1x<dammatan>d<dammatan>`ԃь */
        "x\xd9\x80" "d",                                /* x<tatweel>d */
        "\xd9\x85\xd9\x8e\xd9\x86 :\xd9\x8e)",        /* مَن :<fatha>) */
        "\xd8\xa7\xd9\x80\xd9\x94\xd9\x80",             /* alef<tatweel><hamza above><tatweel> */
        "#D\xe2\x80\x8c\xd8\x99" "D\xe2\x80\x8c\xd8\x91\xe2\x80\x8c\xd8\x99" "D", /* marks split by ZWNJ */
        "\xd9\x88\xd8\x80\xd9\x94", /* waw, U+0600 (a format character), hamza above */
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(inputs); i++) {
        sb_buf once, twice;
        sb_buf_init(&once, SB_TEXT_NORMALIZED_BYTES_MAX);
        sb_buf_init(&twice, SB_TEXT_NORMALIZED_BYTES_MAX);
        assert_int_equal(text_normalize(inputs[i], strlen(inputs[i]), &once), SB_OK);
        assert_int_equal(text_normalize(once.len ? once.data : "", once.len, &twice), SB_OK);
        assert_string_equal(once.len ? once.data : "", twice.len ? twice.data : "");
        sb_buf_free(&once);
        sb_buf_free(&twice);
    }
}

static void test_output_shape(void **state) {
    /* never a leading, trailing or double space, for every vector */
    for (size_t i = 0; i < SB_ARRAY_LEN(vectors); i++) {
        sb_buf out;
        sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
        assert_int_equal(text_normalize(vectors[i].in, strlen(vectors[i].in), &out), SB_OK);
        if (out.len) {
            assert_true(out.data[0] != ' ');
            assert_true(out.data[out.len - 1] != ' ');
            assert_null(strstr(out.data, "  "));
            assert_true(sb_utf8_valid(out.data, out.len));
        }
        sb_buf_free(&out);
    }
}

static void test_empty_and_null(void **state) {
    sb_buf out;
    sb_buf_init(&out, 1024);
    assert_int_equal(text_normalize("", 0, &out), SB_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(text_normalize(NULL, 0, &out), SB_OK);
    assert_int_equal(text_normalize(NULL, 3, &out), SB_EINVAL);
    sb_buf_free(&out);
}

static void test_invalid_utf8(void **state) {
    static const char *bad[] = {"abc\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "ok \xe2\x82", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        sb_buf out;
        sb_buf_init(&out, 1024);
        assert_int_equal(text_normalize(bad[i], strlen(bad[i]), &out), SB_EINVAL);
        assert_null(out.data); /* freed on error */
        sb_buf_free(&out);
    }
}

static void test_huge_input(void **state) {
    size_t len = SB_TEXT_INPUT_BYTES_MAX + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'a', len);
    sb_buf out;
    sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(big, len, &out), SB_ELIMIT);
    /* exactly at the limit works; one long word is cut to the token cap */
    assert_int_equal(text_normalize(big, SB_TEXT_INPUT_BYTES_MAX, &out), SB_OK);
    assert_int_equal(out.len, SB_TEXT_TOKEN_BYTES_MAX);
    /* many short tokens of Persian (heap path for code points) */
    size_t pos = 0;
    const char *word = "سلام ";
    size_t wl = strlen(word);
    while (pos + wl <= SB_TEXT_INPUT_BYTES_MAX) {
        memcpy(big + pos, word, wl);
        pos += wl;
    }
    assert_int_equal(text_normalize(big, pos, &out), SB_OK);
    assert_int_equal(out.len, pos - 1); /* same text without the last space */
    sb_buf_free(&out);
    free(big);
}

static void test_worst_case_expansion_fits(void **state) {
    /* U+FDFA expands to 18 code points under NFKC; ":)" to "<emo_pos>" */
    size_t len = SB_TEXT_INPUT_BYTES_MAX;
    char *big = malloc(len);
    assert_non_null(big);
    const char *lig = "\xef\xb7\xba"; /* U+FDFA */
    size_t pos = 0;
    while (pos + 3 <= len) {
        memcpy(big + pos, lig, 3);
        pos += 3;
    }
    sb_buf out;
    sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(big, pos, &out), SB_OK);
    assert_true(out.len > pos);
    for (pos = 0; pos + 3 <= len; pos += 3) memcpy(big + pos, ":) ", 3);
    assert_int_equal(text_normalize(big, pos, &out), SB_OK);
    sb_buf_free(&out);
    /* a small output cap is a clean SB_ELIMIT */
    sb_buf_init(&out, 16);
    assert_int_equal(text_normalize(big, pos, &out), SB_ELIMIT);
    assert_null(out.data);
    free(big);
}

static void test_allocation_failure(void **state) {
    /* every allocation failing in turn: an error or success, never a crash or leak */
    const char *in = "Картку заблоковано 😡 https://x.y بانك ملي :)";
    for (long k = 0; k < 8; k++) {
        sb_buf out;
        sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
        sb_alloc_fail_after(k);
        int rc = text_normalize(in, strlen(in), &out);
        sb_alloc_fail_reset();
        assert_true(rc == SB_OK || rc == SB_ENOMEM);
        sb_buf_free(&out);
    }
}

static void test_token_iterator(void **state) {
    const char *in = "می‌خواهم کارت بانک ملی را ببندم 😡 :(";
    sb_buf out;
    sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(in, strlen(in), &out), SB_OK);
    text_token_iter it;
    text_token_iter_init(&it, out.data, out.len);
    const char *want[] = {"می‌خواهم", "کارت", "بانک", "ملی", "را", "ببندم", "😡", "<emo_neg>"};
    const char *tok;
    size_t tok_len;
    size_t count = 0;
    while (text_token_next(&it, &tok, &tok_len)) {
        assert_true(count < SB_ARRAY_LEN(want));
        assert_int_equal(tok_len, strlen(want[count]));
        assert_memory_equal(tok, want[count], tok_len);
        count++;
    }
    assert_int_equal(count, SB_ARRAY_LEN(want));
    /* stray spaces in foreign text are skipped; empty text has no tokens */
    text_token_iter_init(&it, "  a  b ", 7);
    assert_true(text_token_next(&it, &tok, &tok_len));
    assert_int_equal(tok_len, 1);
    assert_true(text_token_next(&it, &tok, &tok_len));
    assert_int_equal(tok[0], 'b');
    assert_false(text_token_next(&it, &tok, &tok_len));
    text_token_iter_init(&it, NULL, 0);
    assert_false(text_token_next(&it, &tok, &tok_len));
    sb_buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),          cmocka_unit_test(test_fast_path_matches_utf8proc),
        cmocka_unit_test(test_fast_path_every_code_point),
        cmocka_unit_test(test_idempotent_around_dropped_marks),
        cmocka_unit_test(test_output_shape),
        cmocka_unit_test(test_empty_and_null),   cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_huge_input),       cmocka_unit_test(test_worst_case_expansion_fits),
        cmocka_unit_test(test_allocation_failure), cmocka_unit_test(test_token_iterator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
