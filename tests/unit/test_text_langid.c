/*
 * test_text_langid.c - language identification on single sentences written
 * for this test: Ukrainian against Russian and Persian against Arabic (the
 * hard pairs, 24 sentences each side), English and other languages, text
 * without letters, mixed script, empty, huge and invalid input, and the
 * script-only baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "text/text.h"

typedef struct {
    const char *text;
    text_lang want;
} sample;

static const sample samples[] = {
    /* Ukrainian */
    {"Моя картка заблокована, що робити?", TEXT_LANG_UK},
    {"Дякую за швидку відповідь", TEXT_LANG_UK},
    {"Чому з мене зняли комісію?", TEXT_LANG_UK},
    {"Не можу увійти в додаток", TEXT_LANG_UK},
    {"Гроші так і не прийшли на рахунок", TEXT_LANG_UK},
    {"Як змінити пін-код?", TEXT_LANG_UK},
    {"Оператор був дуже ввічливий", TEXT_LANG_UK},
    {"Де найближчий банкомат?", TEXT_LANG_UK},
    {"Хочу закрити рахунок", TEXT_LANG_UK},
    {"Переказ на картку іншого банку не проходить", TEXT_LANG_UK},
    {"Коли буде готова моя картка", TEXT_LANG_UK},
    {"Я вже третій день чекаю", TEXT_LANG_UK},
    {"Це жахливе обслуговування", TEXT_LANG_UK},
    {"М'ясо й хліб куплю завтра", TEXT_LANG_UK},
    {"Підкажіть, будь ласка, графік роботи відділення", TEXT_LANG_UK},
    {"Кредитний ліміт збільшили без мого відома", TEXT_LANG_UK},
    {"Все працює, дякую", TEXT_LANG_UK},
    {"Чи можна оформити кредит онлайн?", TEXT_LANG_UK},
    {"Нічого не зрозуміло", TEXT_LANG_UK},
    {"Додаток постійно вилітає", TEXT_LANG_UK},
    {"Ви найкращий банк", TEXT_LANG_UK},
    {"Скільки коштує обслуговування?", TEXT_LANG_UK},
    {"Мені потрібна довідка", TEXT_LANG_UK},
    {"Працівниця у відділенні була грубою", TEXT_LANG_UK},
    /* Russian */
    {"Моя карта заблокирована, что делать?", TEXT_LANG_RU},
    {"Спасибо за быстрый ответ", TEXT_LANG_RU},
    {"Почему с меня сняли комиссию?", TEXT_LANG_RU},
    {"Не могу войти в приложение", TEXT_LANG_RU},
    {"Деньги так и не пришли на счет", TEXT_LANG_RU},
    {"Как поменять пин-код?", TEXT_LANG_RU},
    {"Оператор был очень вежлив", TEXT_LANG_RU},
    {"Где ближайший банкомат?", TEXT_LANG_RU},
    {"Хочу закрыть счет", TEXT_LANG_RU},
    {"Перевод на карту другого банка не проходит", TEXT_LANG_RU},
    {"Когда будет готова моя карта", TEXT_LANG_RU},
    {"Я уже третий день жду", TEXT_LANG_RU},
    {"Это ужасное обслуживание", TEXT_LANG_RU},
    {"Ещё раз спасибо", TEXT_LANG_RU},
    {"Подскажите, пожалуйста, график работы отделения", TEXT_LANG_RU},
    {"Кредитный лимит увеличили без моего ведома", TEXT_LANG_RU},
    {"Все работает, спасибо", TEXT_LANG_RU},
    {"Можно ли оформить кредит онлайн?", TEXT_LANG_RU},
    {"Ничего не понятно", TEXT_LANG_RU},
    {"Приложение постоянно вылетает", TEXT_LANG_RU},
    {"Вы лучший банк", TEXT_LANG_RU},
    {"Сколько стоит обслуживание?", TEXT_LANG_RU},
    {"Мне нужна справка", TEXT_LANG_RU},
    {"Сотрудница в отделении была грубой", TEXT_LANG_RU},
    /* Persian */
    {"کارت من مسدود شده است", TEXT_LANG_FA},
    {"چرا از حسابم کارمزد کم شد؟", TEXT_LANG_FA},
    {"برنامه همراه بانک باز نمی‌شود", TEXT_LANG_FA},
    {"پول هنوز به حسابم نرسیده", TEXT_LANG_FA},
    {"رمز دوم را چطور عوض کنم؟", TEXT_LANG_FA},
    {"کارمند شعبه خیلی مودب بود", TEXT_LANG_FA},
    {"نزدیک‌ترین خودپرداز کجاست؟", TEXT_LANG_FA},
    {"می‌خواهم حسابم را ببندم", TEXT_LANG_FA},
    {"انتقال کارت به کارت انجام نشد", TEXT_LANG_FA},
    {"سه روز است منتظرم", TEXT_LANG_FA},
    {"این خدمات افتضاح است", TEXT_LANG_FA},
    {"ممنون از پاسخ سریع شما", TEXT_LANG_FA},
    {"ساعت کاری شعبه را بفرمایید", TEXT_LANG_FA},
    {"وام ازدواج چقدر طول می‌کشد؟", TEXT_LANG_FA},
    {"همه چیز درست کار می‌کند", TEXT_LANG_FA},
    {"اپلیکیشن مدام بسته می‌شود", TEXT_LANG_FA},
    {"بهترین بانک هستید", TEXT_LANG_FA},
    {"هزینه صدور کارت چقدر است؟", TEXT_LANG_FA},
    {"به گواهی حساب نیاز دارم", TEXT_LANG_FA},
    {"ديروز خريدم", TEXT_LANG_FA}, /* Persian typed with Arabic yeh */
    {"اين كارت خوب نيست", TEXT_LANG_FA},
    {"سلام وقت بخیر", TEXT_LANG_FA},
    {"دستتون درد نکنه", TEXT_LANG_FA},
    {"چه خبر؟", TEXT_LANG_FA},
    /* Arabic */
    {"بطاقتي محظورة، ماذا أفعل؟", TEXT_LANG_AR},
    {"لماذا تم خصم رسوم من حسابي؟", TEXT_LANG_AR},
    {"تطبيق البنك لا يفتح", TEXT_LANG_AR},
    {"لم تصل الأموال إلى حسابي بعد", TEXT_LANG_AR},
    {"كيف أغير الرقم السري؟", TEXT_LANG_AR},
    {"كان الموظف في الفرع مهذبا جدا", TEXT_LANG_AR},
    {"أين أقرب صراف آلي؟", TEXT_LANG_AR},
    {"أريد إغلاق حسابي", TEXT_LANG_AR},
    {"لم يتم التحويل إلى البطاقة", TEXT_LANG_AR},
    {"أنتظر منذ ثلاثة أيام", TEXT_LANG_AR},
    {"هذه الخدمة سيئة للغاية", TEXT_LANG_AR},
    {"شكرا على الرد السريع", TEXT_LANG_AR},
    {"ما هي ساعات عمل الفرع؟", TEXT_LANG_AR},
    {"كم يستغرق قرض الزواج؟", TEXT_LANG_AR},
    {"كل شيء يعمل بشكل جيد", TEXT_LANG_AR},
    {"التطبيق يغلق باستمرار", TEXT_LANG_AR},
    {"أنتم أفضل بنك", TEXT_LANG_AR},
    {"كم تكلفة إصدار البطاقة؟", TEXT_LANG_AR},
    {"أحتاج إلى شهادة حساب", TEXT_LANG_AR},
    {"مرحبا، كيف حالك؟", TEXT_LANG_AR},
    {"السلام عليكم ورحمة الله", TEXT_LANG_AR},
    {"هل يمكنني فتح حساب جديد؟", TEXT_LANG_AR},
    {"الموظفة كانت لطيفة", TEXT_LANG_AR},
    {"نحن في انتظار الرد", TEXT_LANG_AR},
    /* English */
    {"My card was declined at the store", TEXT_LANG_EN},
    {"Why was I charged a fee?", TEXT_LANG_EN},
    {"Great service, thank you!", TEXT_LANG_EN},
    {"How do I top up my account", TEXT_LANG_EN},
    {"The app keeps crashing", TEXT_LANG_EN},
    /* other */
    {"Meine Karte ist nicht angekommen und ich warte", TEXT_LANG_OTHER},
    {"Je ne peux pas utiliser ma carte", TEXT_LANG_OTHER},
    {"¿Por qué mi tarjeta está bloqueada? Es que no funciona", TEXT_LANG_OTHER},
    {"私のカードがブロックされました", TEXT_LANG_OTHER},
    {"Η κάρτα μου δεν λειτουργεί", TEXT_LANG_OTHER},
    {"כרטיס האשראי שלי נחסם", TEXT_LANG_OTHER},
    {"Дзякуй, вельмі добра, гэта ўсё", TEXT_LANG_OTHER}, /* Belarusian */
    {"😀😀👍", TEXT_LANG_OTHER},
    {"12345 !!!", TEXT_LANG_OTHER},
    /* mixed script: the script carrying most of the text decides */
    {"کارت Visa من کار نمی‌کند", TEXT_LANG_FA},
    {"Приложение Monobank не работает", TEXT_LANG_RU},
    {"Додаток Privat24 не працює", TEXT_LANG_UK},
    {"I love Приватбанк, it is the best bank in the world", TEXT_LANG_EN},
    /* very short */
    {"Добрий день", TEXT_LANG_UK},
    {"Добрый день", TEXT_LANG_RU},
    {"Все погано", TEXT_LANG_UK},
    {"Все плохо", TEXT_LANG_RU},
    {"Жах", TEXT_LANG_UK},
    {"Ужас", TEXT_LANG_RU},
    {"Картка", TEXT_LANG_UK},
    {"Карта", TEXT_LANG_RU},
    {"شكرا جزيلا", TEXT_LANG_AR},
    {"خیلی ممنون", TEXT_LANG_FA},
    {"ما هذا", TEXT_LANG_AR},
    {"این چیه", TEXT_LANG_FA},
    /* Persian in Latin letters */
    {"salam, kheili khoob bood, merci", TEXT_LANG_FA},
    {"ghaza sard bod vali peyk khoob bood", TEXT_LANG_FA},
    /* links and mentions do not vote */
    {"RT @sberbank_ru: https://t.co/9KIa4FErblB кредит", TEXT_LANG_RU},
    {"@ladyanneta @sberbank @aeroflot ждем ответа от @alfa_bank", TEXT_LANG_RU},
    {"درخواست وام https://www.example.com/il/la/di/gi", TEXT_LANG_FA},
};

static void test_samples(void **state) {
    size_t wrong = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(samples); i++) {
        text_lang got = TEXT_LANG_OTHER;
        int conf = -1;
        assert_int_equal(text_langid(samples[i].text, strlen(samples[i].text), &got, &conf), SB_OK);
        assert_true(conf >= 0 && conf <= 1000);
        if (got != samples[i].want) {
            print_error("%s: want %s got %s (confidence %d)\n", samples[i].text, text_lang_code(samples[i].want),
                        text_lang_code(got), conf);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

/* The pairs are really told apart: a script-only classifier gets half of
 * each pair wrong on the same sentences. */
static void test_baseline_cannot(void **state) {
    size_t base_ok = 0, n = 0;
    for (size_t i = 0; i < 96; i++) { /* the four blocks of 24 at the start */
        text_lang want = samples[i].want;
        if (want != TEXT_LANG_UK && want != TEXT_LANG_RU && want != TEXT_LANG_FA && want != TEXT_LANG_AR) continue;
        text_lang got;
        assert_int_equal(text_langid_script_only(samples[i].text, strlen(samples[i].text), &got), SB_OK);
        n++;
        if (got == want) base_ok++;
    }
    assert_int_equal(n, 96);
    assert_int_equal(base_ok, 48); /* exactly the ru and fa halves */
}

static void test_confidence_orders(void **state) {
    text_lang lang;
    int strong, weak;
    const char *a = "Це дуже погано, я вже третій день чекаю на гроші від банку";
    assert_int_equal(text_langid(a, strlen(a), &lang, &strong), SB_OK);
    assert_int_equal(lang, TEXT_LANG_UK);
    assert_int_equal(text_langid("банк", 8, &lang, &weak), SB_OK);
    assert_true(strong > weak);
    assert_int_equal(text_langid("", 0, &lang, &weak), SB_OK);
    assert_int_equal(lang, TEXT_LANG_OTHER);
    assert_true(weak <= 100);
    assert_int_equal(text_langid("x", 1, &lang, NULL), SB_OK); /* confidence is optional */
}

static void test_errors_and_limits(void **state) {
    text_lang lang;
    assert_int_equal(text_langid("ok \xff", 4, &lang, NULL), SB_EINVAL);
    assert_int_equal(text_langid(NULL, 5, &lang, NULL), SB_EINVAL);
    assert_int_equal(text_langid_script_only("\xc3", 1, &lang), SB_EINVAL);
    /* huge: only the first SB_TEXT_LANGID_BYTES_MAX bytes count, and a code
     * point cut at that boundary is not an error */
    size_t len = SB_TEXT_LANGID_BYTES_MAX * 4 + 1;
    char *big = malloc(len);
    assert_non_null(big);
    const char *word = "гроші "; /* 11 bytes: the boundary falls inside a letter */
    size_t wl = strlen(word), pos = 0;
    while (pos + wl <= len) {
        memcpy(big + pos, word, wl);
        pos += wl;
    }
    assert_true(SB_TEXT_LANGID_BYTES_MAX % wl != 0);
    assert_int_equal(text_langid(big, pos, &lang, NULL), SB_OK);
    assert_int_equal(lang, TEXT_LANG_UK);
    /* invalid bytes past the part read are not looked at */
    big[pos - 1] = (char)0xff;
    assert_int_equal(text_langid(big, pos, &lang, NULL), SB_OK);
    free(big);
}

static void test_codes(void **state) {
    for (int i = 0; i < TEXT_LANG_COUNT; i++) {
        text_lang back;
        assert_int_equal(text_lang_parse(text_lang_code((text_lang)i), &back), SB_OK);
        assert_int_equal(back, i);
    }
    text_lang x;
    assert_int_equal(text_lang_parse("xx", &x), SB_EINVAL);
    assert_string_equal(text_lang_code((text_lang)99), "other");
    assert_string_equal(text_lang_code(TEXT_LANG_UK), "uk");
}

/* `socialbank langid` answers line N with line N: a code, or "error NAME"
 * for a line that is too long or not UTF-8, and goes on after it. */
static void test_command_filter(void **state) {
    const char *bin = getenv("SB_BINARY");
    if (!bin) skip();
    char in_path[] = "/tmp/sb-langid-XXXXXX";
    int fd = mkstemp(in_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("Привіт, як справи?\r\n", f);
    for (size_t i = 0; i < SB_TEXT_INPUT_BYTES_MAX + 10; i++) fputc('a', f);
    fputs("\nbad \xff line\n\nسلام، حال شما چطور است؟", f); /* last line without newline */
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' langid < '%s' 2>/dev/null", bin, in_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(in_path);
    assert_string_equal(out, "uk\nerror limit\nerror invalid\nother\nfa\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),           cmocka_unit_test(test_baseline_cannot),
        cmocka_unit_test(test_confidence_orders), cmocka_unit_test(test_errors_and_limits),
        cmocka_unit_test(test_codes),             cmocka_unit_test(test_command_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
