/*
 * bankbot_lang.c - what the service bot says and understands, per language
 * (fa, uk, ru, en): the answer texts, the names of receipt kinds and
 * states, a canned answer per classifier topic, and the keyword tables that
 * recognise the banking commands in natural language before the classifier
 * is asked.  Keywords are matched on text_normalize output (so case, Arabic
 * and Persian letter variants and diacritics do not matter); they are
 * normalised the same way at lookup.
 */
#include <string.h>

#include "bankbot/bankbot_int.h"

int bankbot__lang_index(const char *code) {
    if (code && strcmp(code, "fa") == 0) return BANKBOT_FA;
    if (code && strcmp(code, "uk") == 0) return BANKBOT_UK;
    if (code && strcmp(code, "ru") == 0) return BANKBOT_RU;
    return BANKBOT_EN;
}

const char *bankbot__lang_code(int lang) {
    static const char *const codes[BANKBOT_LANGS] = {"fa", "uk", "ru", "en"};
    return (unsigned)lang < BANKBOT_LANGS ? codes[lang] : "en";
}

/* [message][language]: fa, uk, ru, en. */
static const char *const texts[BANKBOT_MSG_COUNT][BANKBOT_LANGS] = {
    [BANKBOT_MSG_HELP] =
        {"سلام! من بات بانک هستم. می‌توانم موجودی، تراکنش‌های اخیر و وضعیت انتقال شما را بگویم، کارتتان را مسدود کنم یا "
         "شما را به همکارانم وصل کنم. دستورها: /balance /transactions /transfer /block /agent",
         "Вітаю! Я бот банку. Можу показати баланс, останні операції, стан переказу, заблокувати картку або передати "
         "розмову колезі. Команди: /balance /transactions /transfer /block /agent",
         "Здравствуйте! Я бот банка. Могу показать баланс, последние операции, статус перевода, заблокировать карту или "
         "передать разговор коллеге. Команды: /balance /transactions /transfer /block /agent",
         "Hello! I am the bank's bot. I can tell you your balance, your last transactions and where your transfer is, "
         "block your card, or pass you to a colleague. Commands: /balance /transactions /transfer /block /agent"},
    [BANKBOT_MSG_BALANCE_BEFORE] = {"موجودی قابل برداشت شما: ", "Ваш доступний баланс: ", "Ваш доступный баланс: ",
                                    "Your available balance: "},
    [BANKBOT_MSG_BALANCE_AFTER] = {" ریال", " ріалів", " риалов", " rials"},
    [BANKBOT_MSG_CURRENCY] = {"ریال", "ріалів", "риалов", "rials"},
    [BANKBOT_MSG_NO_RECEIPTS] = {"هنوز تراکنشی ندارید.", "У вас ще немає операцій.", "У вас ещё нет операций.",
                                 "You have no transactions yet."},
    [BANKBOT_MSG_RECEIPTS_HEAD] = {"تراکنش‌های اخیر شما:", "Ваші останні операції:", "Ваши последние операции:",
                                   "Your last transactions:"},
    [BANKBOT_MSG_NO_CARD] = {"کارتی در پرونده شما ثبت نشده است.", "У вас немає збереженої картки.",
                             "У вас нет сохранённой карты.", "You have no card on file."},
    [BANKBOT_MSG_BLOCK_ASK] = {"کارت %s مسدود شود؟ این کار از اینجا قابل بازگشت نیست.",
                               "Заблокувати картку %s? Тут цю дію не можна скасувати.",
                               "Заблокировать карту %s? Здесь это действие нельзя отменить.",
                               "Block card %s? This cannot be undone here."},
    [BANKBOT_MSG_YES] = {"بله، مسدود کن", "Так, заблокувати", "Да, заблокировать", "Yes, block it"},
    [BANKBOT_MSG_NO] = {"نه", "Ні", "Нет", "No"},
    [BANKBOT_MSG_BLOCKED] = {"کارت %s مسدود شد. کارت به کارت با آن دیگر انجام نمی‌شود.",
                             "Картку %s заблоковано. Перекази з картки на картку тепер відхиляються.",
                             "Карта %s заблокирована. Переводы с карты на карту теперь отклоняются.",
                             "Card %s is blocked. Card-to-card transfers are now refused."},
    [BANKBOT_MSG_ALREADY_BLOCKED] = {"کارت %s از قبل مسدود است.", "Картку %s вже заблоковано.",
                                     "Карта %s уже заблокирована.", "Card %s is already blocked."},
    [BANKBOT_MSG_NOT_BLOCKED] = {"باشد، کارت شما فعال می‌ماند.", "Добре, ваша картка залишається активною.",
                                 "Хорошо, ваша карта остаётся активной.", "OK, your card stays active."},
    [BANKBOT_MSG_NO_TRANSFER] = {"انتقالی پیدا نکردم.", "Я не знайшов жодного переказу.", "Я не нашёл ни одного перевода.",
                                 "I found no transfer."},
    [BANKBOT_MSG_TRANSFER_HEAD] = {"وضعیت انتقال", "Стан переказу", "Статус перевода", "Your transfer"},
    [BANKBOT_MSG_HANDOFF] = {"گفتگوی ما را به یکی از همکارانم سپردم (پرونده #%s). پاسخ را همین‌جا دریافت می‌کنید.",
                             "Я передав нашу розмову колезі (звернення #%s). Відповідь прийде сюди.",
                             "Я передал наш разговор коллеге (обращение #%s). Ответ придёт сюда.",
                             "I have passed our conversation to a colleague (case #%s). You will get the answer here."},
    [BANKBOT_MSG_ERROR] = {"متأسفم، الان نمی‌توانم پاسخ دهم. لطفاً کمی بعد دوباره امتحان کنید.",
                           "Вибачте, зараз я не можу відповісти. Спробуйте трохи пізніше.",
                           "Извините, сейчас я не могу ответить. Попробуйте чуть позже.",
                           "Sorry, I cannot answer right now. Please try again a little later."},
    [BANKBOT_MSG_AGENT_HINT] = {"برای گفتگو با همکاران ما /agent را بفرستید.", "Щоб поговорити з людиною, надішліть /agent.",
                                "Чтобы поговорить с человеком, отправьте /agent.",
                                "To talk to a person, send /agent."},
    [BANKBOT_MSG_BLOCKED_MARK] = {"(مسدود)", "(заблоковано)", "(заблокирована)", "(blocked)"},
    [BANKBOT_MSG_AGENT_PREFIX] = {"پاسخ همکار ما: ", "Відповідь нашого колеги: ", "Ответ нашего коллеги: ",
                                  "Our colleague answers: "},
    /* Receipt kinds (payops_kind order). */
    [BANKBOT_MSG_KIND_TRANSFER] = {"انتقال", "переказ", "перевод", "transfer"},
    [BANKBOT_MSG_KIND_C2C] = {"کارت به کارت", "з картки на картку", "с карты на карту", "card-to-card"},
    [BANKBOT_MSG_KIND_BILL] = {"قبض", "рахунок", "счёт", "bill"},
    [BANKBOT_MSG_KIND_TOPUP] = {"شارژ", "поповнення", "пополнение", "top-up"},
    [BANKBOT_MSG_KIND_REQUEST] = {"درخواست پول", "запит грошей", "запрос денег", "money request"},
    [BANKBOT_MSG_KIND_DEPOSIT] = {"واریز", "зарахування", "зачисление", "deposit"},
    /* Receipt states (payops_receipt_state order). */
    [BANKBOT_MSG_STATE_PENDING] = {"در حال انجام (منتظر پاسخ شبکه کارت)", "виконується (чекаємо на відповідь картки)",
                                   "выполняется (ждём ответа карточной сети)", "in progress (waiting for the card switch)"},
    [BANKBOT_MSG_STATE_DONE] = {"انجام شد", "виконано", "выполнен", "done"},
    [BANKBOT_MSG_STATE_DECLINED] = {"رد شد؛ پول به کیف پول شما برگشت", "відхилено; гроші повернулися на ваш гаманець",
                                    "отклонён; деньги вернулись в ваш кошелёк",
                                    "declined; the money is back in your wallet"},
    [BANKBOT_MSG_STATE_MANUAL] = {"در حال بررسی توسط همکاران ما؛ مبلغ نگه داشته شده است",
                                  "перевіряється нашими працівниками; сума утримується",
                                  "проверяется нашими сотрудниками; сумма удерживается",
                                  "being checked by our staff; the amount is on hold"},
    /* A canned answer per classifier topic. */
    [BANKBOT_MSG_TOPIC_CARDS] =
        {"درباره کارت: می‌توانید با /block کارت را مسدود کنید؛ صدور کارت جدید در شعبه انجام می‌شود.",
         "Щодо картки: заблокувати її можна командою /block; нову картку видають у відділенні.",
         "По карте: заблокировать её можно командой /block; новую карту выдают в отделении.",
         "About cards: you can block your card with /block; a new card is issued at a branch."},
    [BANKBOT_MSG_TOPIC_TRANSFERS] =
        {"درباره انتقال: وضعیت آخرین انتقال را با /transfer ببینید؛ کارت به کارت معمولاً در چند ثانیه انجام می‌شود.",
         "Щодо переказів: стан останнього переказу покаже /transfer; переказ з картки на картку зазвичай триває кілька секунд.",
         "По переводам: статус последнего перевода покажет /transfer; перевод с карты на карту обычно занимает несколько секунд.",
         "About transfers: /transfer shows the state of your last one; card-to-card usually takes a few seconds."},
    [BANKBOT_MSG_TOPIC_FEES] =
        {"درباره کارمزد: کارمزد هر عملیات پیش از تأیید به شما نشان داده می‌شود و در رسید آمده است.",
         "Щодо комісій: комісію кожної операції показуємо до підтвердження, вона є і в квитанції.",
         "По комиссиям: комиссию каждой операции мы показываем до подтверждения, она есть и в квитанции.",
         "About fees: every operation shows its fee before you confirm, and the receipt lists it."},
    [BANKBOT_MSG_TOPIC_LOANS] = {"درباره وام: شرایط وام‌ها در بخش وام برنامه و در شعبه‌ها موجود است.",
                                 "Щодо кредитів: умови кредитів є в розділі «Кредити» застосунку та у відділеннях.",
                                 "По кредитам: условия кредитов есть в разделе «Кредиты» приложения и в отделениях.",
                                 "About loans: the terms are in the app's Loans section and at every branch."},
    [BANKBOT_MSG_TOPIC_CALL_CENTER] =
        {"مرکز تماس شبانه‌روزی پاسخگوست؛ همچنین همین‌جا می‌توانید با /agent با همکاران ما صحبت کنید.",
         "Контакт-центр працює цілодобово; також тут можна написати /agent, щоб поговорити з працівником.",
         "Контакт-центр работает круглосуточно; также здесь можно написать /agent, чтобы поговорить с сотрудником.",
         "The call centre answers day and night; you can also send /agent here to talk to our staff."},
    [BANKBOT_MSG_TOPIC_APP_ONLINE] =
        {"درباره برنامه: لطفاً برنامه را به‌روز کنید و دوباره وارد شوید؛ اگر مشکل ماند /agent را بفرستید.",
         "Щодо застосунку: оновіть його та увійдіть знову; якщо проблема лишилася, надішліть /agent.",
         "По приложению: обновите его и войдите снова; если проблема осталась, отправьте /agent.",
         "About the app: please update it and sign in again; if the problem stays, send /agent."},
    [BANKBOT_MSG_TOPIC_BRANCH] = {"درباره شعبه‌ها: ساعات کاری شعبه‌ها شنبه تا چهارشنبه ۸ تا ۱۴ است.",
                                  "Щодо відділень: відділення працюють з суботи по середу з 8 до 14.",
                                  "По отделениям: отделения работают с субботы по среду с 8 до 14.",
                                  "About branches: branches are open Saturday to Wednesday, 8:00 to 14:00."},
    [BANKBOT_MSG_TOPIC_FRAUD] = {"اگر مشکوک به سوءاستفاده هستید، فوراً کارت را با /block مسدود کنید.",
                                 "Якщо підозрюєте шахрайство, негайно заблокуйте картку командою /block.",
                                 "Если подозреваете мошенничество, немедленно заблокируйте карту командой /block.",
                                 "If you suspect fraud, block your card at once with /block."},
    [BANKBOT_MSG_TOPIC_STAFF] = {"از بازخورد شما درباره همکاران‌مان سپاسگزاریم؛ آن را به مدیران شعبه می‌رسانیم.",
                                 "Дякуємо за відгук про наших працівників; ми передамо його керівникам.",
                                 "Спасибо за отзыв о наших сотрудниках; мы передадим его руководителям.",
                                 "Thank you for your feedback about our staff; we pass it on to their managers."},
    [BANKBOT_MSG_TOPIC_OTHER] = {"متوجه شدم. در چه موردی می‌توانم کمک کنم؟", "Зрозумів. Чим можу допомогти?",
                                 "Понял. Чем могу помочь?", "I see. How can I help you?"},
};

const char *bankbot__text(int msg, int lang) {
    if ((unsigned)msg >= BANKBOT_MSG_COUNT) return "";
    if ((unsigned)lang >= BANKBOT_LANGS) lang = BANKBOT_EN;
    const char *t = texts[msg][lang];
    return t ? t : "";
}

int bankbot__topic_message(const char *topic) {
    static const struct {
        const char *topic;
        int msg;
    } map[] = {
        {"cards", BANKBOT_MSG_TOPIC_CARDS},
        {"transfers", BANKBOT_MSG_TOPIC_TRANSFERS},
        {"fees", BANKBOT_MSG_TOPIC_FEES},
        {"loans", BANKBOT_MSG_TOPIC_LOANS},
        {"call_center", BANKBOT_MSG_TOPIC_CALL_CENTER},
        {"app_online", BANKBOT_MSG_TOPIC_APP_ONLINE},
        {"branch", BANKBOT_MSG_TOPIC_BRANCH},
        {"fraud_security", BANKBOT_MSG_TOPIC_FRAUD},
        {"staff", BANKBOT_MSG_TOPIC_STAFF},
    };
    for (size_t i = 0; topic && i < SB_ARRAY_LEN(map); i++)
        if (strcmp(map[i].topic, topic) == 0) return map[i].msg;
    return BANKBOT_MSG_TOPIC_OTHER;
}

/* ---- keywords ---- */
typedef struct {
    int intent;
    const char *word; /* as written; normalised before matching */
} keyword;

/* Checked in this order: the first intent whose keyword occurs wins, so a
 * request for a person beats everything and blocking beats the rest. */
static const keyword keywords[] = {
    /* a human */
    {BANKBOT_INTENT_AGENT, "agent"},
    {BANKBOT_INTENT_AGENT, "human"},
    {BANKBOT_INTENT_AGENT, "operator"},
    {BANKBOT_INTENT_AGENT, "real person"},
    {BANKBOT_INTENT_AGENT, "اپراتور"},
    {BANKBOT_INTENT_AGENT, "کارشناس"},
    {BANKBOT_INTENT_AGENT, "با یک انسان"},
    {BANKBOT_INTENT_AGENT, "оператор"},
    {BANKBOT_INTENT_AGENT, "людиною"},
    {BANKBOT_INTENT_AGENT, "консультант"},
    {BANKBOT_INTENT_AGENT, "человеком"},
    /* block the card */
    {BANKBOT_INTENT_BLOCK, "block"},
    {BANKBOT_INTENT_BLOCK, "freeze my card"},
    {BANKBOT_INTENT_BLOCK, "lost my card"},
    {BANKBOT_INTENT_BLOCK, "card was stolen"},
    {BANKBOT_INTENT_BLOCK, "مسدود"},
    {BANKBOT_INTENT_BLOCK, "بلاک"},
    {BANKBOT_INTENT_BLOCK, "کارتم گم"},
    {BANKBOT_INTENT_BLOCK, "заблок"},
    {BANKBOT_INTENT_BLOCK, "блокув"},
    {BANKBOT_INTENT_BLOCK, "блокир"},
    {BANKBOT_INTENT_BLOCK, "втратив картку"},
    {BANKBOT_INTENT_BLOCK, "потерял карту"},
    /* where is my transfer */
    {BANKBOT_INTENT_TRANSFER, "transfer"},
    {BANKBOT_INTENT_TRANSFER, "where is my money"},
    {BANKBOT_INTENT_TRANSFER, "where is my payment"},
    {BANKBOT_INTENT_TRANSFER, "انتقال"},
    {BANKBOT_INTENT_TRANSFER, "حواله"},
    {BANKBOT_INTENT_TRANSFER, "کارت به کارت"},
    {BANKBOT_INTENT_TRANSFER, "پولم کجاست"},
    {BANKBOT_INTENT_TRANSFER, "переказ"},
    {BANKBOT_INTENT_TRANSFER, "де мої гроші"},
    {BANKBOT_INTENT_TRANSFER, "перевод"},
    {BANKBOT_INTENT_TRANSFER, "где мои деньги"},
    /* last transactions */
    {BANKBOT_INTENT_TRANSACTIONS, "transaction"},
    {BANKBOT_INTENT_TRANSACTIONS, "history"},
    {BANKBOT_INTENT_TRANSACTIONS, "statement"},
    {BANKBOT_INTENT_TRANSACTIONS, "last payments"},
    {BANKBOT_INTENT_TRANSACTIONS, "تراکنش"},
    {BANKBOT_INTENT_TRANSACTIONS, "گردش حساب"},
    {BANKBOT_INTENT_TRANSACTIONS, "صورتحساب"},
    {BANKBOT_INTENT_TRANSACTIONS, "транзакц"},
    {BANKBOT_INTENT_TRANSACTIONS, "операці"},
    {BANKBOT_INTENT_TRANSACTIONS, "виписк"},
    {BANKBOT_INTENT_TRANSACTIONS, "операци"},
    {BANKBOT_INTENT_TRANSACTIONS, "выписк"},
    /* balance */
    {BANKBOT_INTENT_BALANCE, "balance"},
    {BANKBOT_INTENT_BALANCE, "how much money"},
    {BANKBOT_INTENT_BALANCE, "موجودی"},
    {BANKBOT_INTENT_BALANCE, "مانده حساب"},
    {BANKBOT_INTENT_BALANCE, "баланс"},
    {BANKBOT_INTENT_BALANCE, "залишок"},
    {BANKBOT_INTENT_BALANCE, "остаток"},
    {BANKBOT_INTENT_BALANCE, "скільки грошей"},
    {BANKBOT_INTENT_BALANCE, "сколько денег"},
};

/* Does the normalised keyword occur in the normalised text as the start of
 * a token (so "заблок" finds "заблокуйте" but "agent" does not fire inside
 * "reagent")? */
static bool occurs_at_token_start(const char *text, size_t len, const char *kw, size_t kw_len) {
    if (kw_len == 0 || kw_len > len) return false;
    for (size_t i = 0; i + kw_len <= len; i++) {
        if ((i == 0 || text[i - 1] == ' ') && memcmp(text + i, kw, kw_len) == 0) return true;
    }
    return false;
}

int bankbot__keyword_intent(const char *normalised, size_t len) {
    if (!normalised || len == 0) return BANKBOT_INTENT_NONE;
    sb_buf kw;
    sb_buf_init(&kw, 1024);
    int found = BANKBOT_INTENT_NONE;
    for (size_t i = 0; i < SB_ARRAY_LEN(keywords) && found == BANKBOT_INTENT_NONE; i++) {
        if (text_normalize(keywords[i].word, strlen(keywords[i].word), &kw) != SB_OK) {
            sb_buf_init(&kw, 1024); /* freed on error: start again */
            continue;
        }
        if (kw.len && occurs_at_token_start(normalised, len, kw.data, kw.len)) found = keywords[i].intent;
    }
    sb_buf_free(&kw);
    return found;
}

/* ---- commands ---- */
int bankbot__command_intent(const char *text, int64_t *number_out) {
    *number_out = 0;
    while (*text == ' ' || *text == '\n')
        text++;
    if (*text != '/') return BANKBOT_INTENT_NONE;
    static const struct {
        const char *name;
        int intent;
    } commands[] = {
        {"start", BANKBOT_INTENT_HELP},         {"help", BANKBOT_INTENT_HELP},
        {"balance", BANKBOT_INTENT_BALANCE},    {"transactions", BANKBOT_INTENT_TRANSACTIONS},
        {"history", BANKBOT_INTENT_TRANSACTIONS}, {"block", BANKBOT_INTENT_BLOCK},
        {"transfer", BANKBOT_INTENT_TRANSFER},  {"agent", BANKBOT_INTENT_AGENT},
    };
    const char *word = text + 1;
    size_t n = 0;
    while (word[n] && word[n] != ' ' && word[n] != '\n' && word[n] != '@')
        n++;
    for (size_t i = 0; i < SB_ARRAY_LEN(commands); i++) {
        if (strlen(commands[i].name) != n || memcmp(commands[i].name, word, n) != 0) continue;
        /* An optional number after the command ("/transfer 12"). */
        const char *p = word + n;
        while (*p && (*p < '0' || *p > '9') && *p != '\n')
            p++;
        int64_t v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 18) {
            v = v * 10 + (*p - '0');
            p++;
            digits++;
        }
        *number_out = v;
        return commands[i].intent;
    }
    return BANKBOT_INTENT_HELP; /* an unknown command: say what there is */
}
