/*
 * test_text_signals.c - signals on sentences written for this test, in
 * Persian, Ukrainian, Russian and English: each risk, each life event with
 * its offer, competitor banks by several spellings, phrases, stems, ZWNJ,
 * negation; texts that must not fire; the result bound; every lexicon
 * pattern in normalised form; empty, huge and foreign input.
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

/* Normalise raw text and find its signals. */
static text_signals_result signals_of(const char *raw) {
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(raw, strlen(raw), &norm), SB_OK);
    text_signals_result r;
    assert_int_equal(text_signals(norm.len ? norm.data : "", norm.len, &r), SB_OK);
    sb_buf_free(&norm);
    return r;
}

static const text_signal *find(const text_signals_result *r, text_signal_kind kind, const char *name) {
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].kind == kind && strcmp(text_signal_name(kind, r->items[i].code), name) == 0)
            return &r->items[i];
    return NULL;
}

typedef struct {
    const char *text;
    text_signal_kind kind;
    const char *name;
    const char *trigger;
} expect;

static const expect expects[] = {
    /* fraud */
    {"Someone used my card, this is fraud!", TEXT_SIGNAL_RISK, "fraud", "someone used my card"},
    {"There are unauthorized charges on my account", TEXT_SIGNAL_RISK, "fraud", "unauthorized"},
    {"Мошенники списали деньги с карты", TEXT_SIGNAL_RISK, "fraud", "мошенники"},
    {"У меня украли деньги без моего ведома", TEXT_SIGNAL_RISK, "fraud", "украли"},
    {"Шахраї зняли гроші з картки", TEXT_SIGNAL_RISK, "fraud", "шахраї"},
    {"Гроші списали без мого відома", TEXT_SIGNAL_RISK, "fraud", "без мого відома"},
    {"حسابم هک شد و کلاهبرداری کردند", TEXT_SIGNAL_RISK, "fraud", "هک شد"},
    {"برداشت غیرمجاز از کارت من", TEXT_SIGNAL_RISK, "fraud", "برداشت غیرمجاز"},
    /* threat to leave */
    {"I will close my account tomorrow", TEXT_SIGNAL_RISK, "churn", "close my account"},
    {"Закрою счет и уйду в другой банк", TEXT_SIGNAL_RISK, "churn", "закрою счет"},
    {"Закрию рахунок, бо набридло", TEXT_SIGNAL_RISK, "churn", "закрию рахунок"},
    {"حسابم را می‌بندم", TEXT_SIGNAL_RISK, "churn", "حسابم را می‌بندم"},
    {"حسابم را میبندم", TEXT_SIGNAL_RISK, "churn", "حسابم را میبندم"}, /* without ZWNJ */
    /* threat to sue */
    {"My lawyer will hear about this", TEXT_SIGNAL_RISK, "legal", "lawyer"},
    {"Подам на вас в суд", TEXT_SIGNAL_RISK, "legal", "в суд"},
    {"Звернуся до НБУ та подам позов", TEXT_SIGNAL_RISK, "legal", "нбу"},
    {"از شما شکایت می‌کنم و به دادگاه می‌روم", TEXT_SIGNAL_RISK, "legal", "شکایت می‌کنم"},
    /* insolvency rumours */
    {"Is the bank going bankrupt? Everyone says so", TEXT_SIGNAL_RISK, "insolvency", "bankrupt"},
    {"Говорят, банк скоро обанкротится", TEXT_SIGNAL_RISK, "insolvency", "обанкротится"},
    {"Кажуть, у банку відкликали ліцензію", TEXT_SIGNAL_RISK, "insolvency", "відкликали ліцензію"},
    {"شایعه ورشکستگی بانک درست است؟", TEXT_SIGNAL_RISK, "insolvency", "ورشکستگی"},
    /* life events */
    {"We just had a baby!", TEXT_SIGNAL_LIFE_EVENT, "child", "baby"},
    {"У нас родился сын", TEXT_SIGNAL_LIFE_EVENT, "child", "родился"},
    {"Дружина вагітна", TEXT_SIGNAL_LIFE_EVENT, "child", "вагітна"},
    {"خدا به ما یک نوزاد داد", TEXT_SIGNAL_LIFE_EVENT, "child", "نوزاد"},
    {"Going abroad next week, will my card work?", TEXT_SIGNAL_LIFE_EVENT, "travel", "abroad"},
    {"Еду за границу в отпуск", TEXT_SIGNAL_LIFE_EVENT, "travel", "за границу"},
    {"Їду за кордон", TEXT_SIGNAL_LIFE_EVENT, "travel", "за кордон"},
    {"برای سفر خارج از کشور ارز می‌خواهم", TEXT_SIGNAL_LIFE_EVENT, "travel", "سفر"},
    {"Our wedding is in June", TEXT_SIGNAL_LIFE_EVENT, "wedding", "wedding"},
    {"Скоро свадьба, нужен кредит", TEXT_SIGNAL_LIFE_EVENT, "wedding", "свадьба"},
    {"Готуємося до весілля", TEXT_SIGNAL_LIFE_EVENT, "wedding", "весілля"},
    {"وام ازدواج می‌خواهم", TEXT_SIGNAL_LIFE_EVENT, "wedding", "ازدواج"},
    {"Looking for a mortgage for our first home", TEXT_SIGNAL_LIFE_EVENT, "home", "mortgage"},
    {"Хотим купить квартиру в ипотеку", TEXT_SIGNAL_LIFE_EVENT, "home", "купить квартиру"},
    {"Плануємо купити квартиру", TEXT_SIGNAL_LIFE_EVENT, "home", "купити квартиру"},
    {"شرایط وام مسکن چیست؟", TEXT_SIGNAL_LIFE_EVENT, "home", "وام مسکن"},
    {"I got a new job last week", TEXT_SIGNAL_LIFE_EVENT, "job", "new job"},
    {"Наконец нашел работу", TEXT_SIGNAL_LIFE_EVENT, "job", "нашел работу"},
    {"Я знайшла роботу мрії", TEXT_SIGNAL_LIFE_EVENT, "job", "знайшла роботу"},
    {"در شغل جدید استخدام شدم", TEXT_SIGNAL_LIFE_EVENT, "job", "شغل جدید"},
    {"My son starts university in September", TEXT_SIGNAL_LIFE_EVENT, "study", "university"},
    {"Дочь поступила в университет", TEXT_SIGNAL_LIFE_EVENT, "study", "поступила в"},
    {"Син вступив до університету", TEXT_SIGNAL_LIFE_EVENT, "study", "вступив"},
    {"شهریه دانشگاه خیلی گران است", TEXT_SIGNAL_LIFE_EVENT, "study", "شهریه"},
    /* competitors */
    {"В Тинькофф такого нет", TEXT_SIGNAL_COMPETITOR, "T-Bank (Tinkoff)", "тинькофф"},
    {"В Сбере лучше", TEXT_SIGNAL_COMPETITOR, "Sberbank", "сбере"},
    {"У монобанку все швидше", TEXT_SIGNAL_COMPETITOR, "Monobank", "монобанку"},
    {"Приватбанк працює краще", TEXT_SIGNAL_COMPETITOR, "PrivatBank", "приватбанк"},
    {"بانک ملت بهتر است", TEXT_SIGNAL_COMPETITOR, "Bank Mellat", "بانک ملت"},
    {"بلو بانک سریع‌تر است", TEXT_SIGNAL_COMPETITOR, "Blu Bank", "بلو بانک"},
    {"Revolut has no such fees", TEXT_SIGNAL_COMPETITOR, "Revolut", "revolut"},
    {"Even Bank of America does it better", TEXT_SIGNAL_COMPETITOR, "Bank of America", "bank of america"},
};

static void test_expected_signals(void **state) {
    size_t wrong = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(expects); i++) {
        const expect *e = &expects[i];
        text_signals_result r = signals_of(e->text);
        const text_signal *s = find(&r, e->kind, e->name);
        if (!s) {
            print_error("%s: no %s/%s (%zu signals)\n", e->text, text_signal_kind_name(e->kind), e->name, r.count);
            wrong++;
        } else if (strcmp(s->trigger, e->trigger) != 0) {
            print_error("%s: trigger want [%s] got [%s]\n", e->text, e->trigger, s->trigger);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

static void test_quiet_texts(void **state) {
    /* ordinary complaints and praise, negated triggers, look-alike words */
    static const char *quiet[] = {
        "The app is slow today",
        "Спасибо, всё отлично работает",
        "Дякую, все чудово",
        "برنامه کند است",
        "This is not fraud, I made the payment myself",
        "Я не мошенник",
        "Я не уйду, всё нормально",
        "Судя по отзывам, банк хороший", /* судя is not суд */
        "Деньги поступили на счет",       /* поступили is not поступил в */
        "Перевод в другой банк не прошел", /* a transfer, not a threat to leave */
        "Телефон зламався через тиждень", /* broken, not hacked */
        "Товар подорожчав",               /* dearer, not a journey */
        "سفره رنگین بود",                /* a spread table, not a trip */
        "Сбережения на депозите",         /* not Sber */
        "",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(quiet); i++) {
        text_signals_result r = signals_of(quiet[i]);
        if (r.count != 0) print_error("%s: fired %s (%s)\n", quiet[i], text_signal_name(r.items[0].kind, r.items[0].code), r.items[0].trigger);
        assert_int_equal(r.count, 0);
    }
}

static void test_several_and_offer(void **state) {
    text_signals_result r = signals_of("Мошенники украли деньги, закрою счет и пойду в суд. В Сбере такого не было");
    assert_int_equal(r.count, 4);
    assert_non_null(find(&r, TEXT_SIGNAL_RISK, "fraud"));
    assert_non_null(find(&r, TEXT_SIGNAL_RISK, "churn"));
    assert_non_null(find(&r, TEXT_SIGNAL_RISK, "legal"));
    assert_non_null(find(&r, TEXT_SIGNAL_COMPETITOR, "Sberbank"));
    /* each (kind, code) once, with its first trigger */
    assert_string_equal(find(&r, TEXT_SIGNAL_RISK, "fraud")->trigger, "мошенники");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_CHILD), "child_savings");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_TRAVEL), "travel_insurance_fx_card");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_WEDDING), "wedding_loan");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_HOME), "mortgage");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_JOB), "salary_account_credit_card");
    assert_string_equal(text_life_event_offer(TEXT_LIFE_STUDY), "student_loan_education_savings");
    assert_string_equal(text_life_event_offer((text_life_event)42), "unknown");
    assert_string_equal(text_signal_name(TEXT_SIGNAL_COMPETITOR, 100000), "unknown");
    assert_string_equal(text_signal_name(TEXT_SIGNAL_RISK, -1), "unknown");
}

static void test_bounded(void **state) {
    /* more distinct signals than fit: truncated, never more than the cap */
    sb_buf text;
    sb_buf_init(&text, SB_TEXT_NORMALIZED_BYTES_MAX);
    static const char *banks[] = {"сбер", "втб", "альфа", "тинькофф", "приватбанк", "монобанк", "ощадбанк", "пумб",
                                  "revolut", "monzo", "hsbc", "barclays", "santander", "paypal", "citibank", "chase",
                                  "bofa", "n26", "otp", "райф", "укрсиббанк", "совкомбанк", "росбанк", "беларусбанк",
                                  "приорбанк", "мтбанк", "псб", "гпб", "рсхб", "бнб", "سپه", "پاسارگاد", "پارسیان",
                                  "رسالت", "کارآفرین"};
    for (size_t i = 0; i < SB_ARRAY_LEN(banks); i++) {
        assert_int_equal(sb_buf_append_str(&text, banks[i]), SB_OK);
        assert_int_equal(sb_buf_append_str(&text, i + 1 < SB_ARRAY_LEN(banks) ? " " : ""), SB_OK);
    }
    text_signals_result r;
    assert_int_equal(text_signals(text.data, text.len, &r), SB_OK);
    assert_int_equal(r.count, SB_TEXT_SIGNALS_MAX);
    assert_true(r.truncated);
    sb_buf_free(&text);
}

static void test_lexicon_is_normalised(void **state) {
    /* every pattern (without its '*' marks) must survive text_normalize
     * unchanged, or it could never match */
    size_t n = text_signals_lexicon_size();
    assert_true(n > 300);
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    char plain[256];
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = text_signals_lexicon_pattern(i);
        assert_non_null(p);
        size_t k = 0;
        for (size_t j = 0; p[j] && k + 1 < sizeof plain; j++)
            if (p[j] != '*') plain[k++] = p[j];
        plain[k] = '\0';
        assert_int_equal(text_normalize(plain, k, &norm), SB_OK);
        if (norm.len != k || memcmp(norm.data, plain, k) != 0) {
            print_error("pattern [%s] normalises to [%s]\n", plain, norm.len ? norm.data : "");
            bad++;
        }
    }
    assert_null(text_signals_lexicon_pattern(n));
    assert_int_equal(bad, 0);
    sb_buf_free(&norm);
}

static void test_errors_and_edges(void **state) {
    text_signals_result r;
    assert_int_equal(text_signals(NULL, 0, &r), SB_OK);
    assert_int_equal(r.count, 0);
    assert_int_equal(text_signals(NULL, 4, &r), SB_EINVAL);
    assert_int_equal(text_signals("x", SB_TEXT_NORMALIZED_BYTES_MAX + 1, &r), SB_ELIMIT);
    /* text not produced by the normaliser: stray spaces, raw bytes */
    const char *odd = "  fraud   \xff\xfe  ";
    assert_int_equal(text_signals(odd, strlen(odd), &r), SB_OK);
    assert_int_equal(r.count, 1);
    /* a trigger longer than the field is cut at a code point boundary:
     * the stem "мошенни*" matches a 211-byte token */
    char longer[400];
    size_t pos = 0;
    memcpy(longer, "мошенни", strlen("мошенни"));
    pos = strlen("мошенни");
    while (pos + 2 < 211) {
        memcpy(longer + pos, "и", 2);
        pos += 2;
    }
    longer[pos++] = 'x'; /* 211 bytes: odd, so a cut at 95 would split a letter */
    assert_int_equal(text_signals(longer, pos, &r), SB_OK);
    assert_int_equal(r.count, 1);
    assert_true(strlen(r.items[0].trigger) < TEXT_SIGNAL_TRIGGER_BYTES);
    assert_true(strlen(r.items[0].trigger) >= TEXT_SIGNAL_TRIGGER_BYTES - 2);
    assert_true(sb_utf8_valid(r.items[0].trigger, strlen(r.items[0].trigger)));
    /* huge normalised input within the limit */
    size_t len = SB_TEXT_NORMALIZED_BYTES_MAX;
    char *big = malloc(len);
    assert_non_null(big);
    for (size_t i = 0; i + 4 <= len; i += 4) memcpy(big + i, "aaa ", 4);
    memcpy(big + len - 6, " fraud", 6);
    assert_int_equal(text_signals(big, len, &r), SB_OK);
    assert_int_equal(r.count, 1);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_signals),    cmocka_unit_test(test_quiet_texts),
        cmocka_unit_test(test_several_and_offer),   cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_lexicon_is_normalised), cmocka_unit_test(test_errors_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
