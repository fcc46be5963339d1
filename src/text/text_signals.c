/*
 * text_signals.c - signals beyond the classifier: urgent risks, life events
 * with the offer each suggests, and competitor banks, each reported with the
 * words that triggered it, in Persian, Ukrainian, Russian and English.
 *
 * The lexicons are C tables in this file (compiled in: nothing to load,
 * nothing to lose at deploy time).  A pattern is one to four tokens in
 * normalised form (what text_normalize produces: lowercase, ё -> е, Persian
 * yeh/kaf, ASCII apostrophe); a token ending in '*' matches any token that
 * starts with it (stems: Cyrillic endings, Persian suffixes).  Comparison
 * ignores the zero-width non-joiner, so "می‌بندم" and "میبندم" match alike.
 * A match whose first token follows a negation within two tokens ("not",
 * "не", "ні", "нет", "نه" ...) does not fire; Persian verbs carry their
 * negation as a prefix (نمی‌...), which a prefix pattern does not match.
 *
 * Speed: patterns are bucketed by the first two bytes of their first token
 * (built once, pthread_once), so each text token is compared with a handful
 * of patterns; the text is walked once with no allocation.
 */
#include <pthread.h>
#include <string.h>

#include "text/text.h"
#include "text/text_int.h"

#define PATTERN_TOKENS_MAX 4
#define BUCKETS 1024

typedef struct {
    const char *pattern;
    unsigned char kind; /* text_signal_kind */
    unsigned char code; /* text_risk, text_life_event, or bank index */
} lexicon_entry;

#define R(p, c) {p, TEXT_SIGNAL_RISK, TEXT_RISK_##c}
#define E(p, c) {p, TEXT_SIGNAL_LIFE_EVENT, TEXT_LIFE_##c}

static const lexicon_entry risk_life[] = {
    /* ---- card misuse and fraud ---- */
    R("fraud*", FRAUD), R("scam*", FRAUD), R("stolen", FRAUD), R("stole", FRAUD), R("steal*", FRAUD),
    R("unauthori*", FRAUD), R("hacked", FRAUD), R("hacker*", FRAUD), R("phishing", FRAUD), R("skimm*", FRAUD),
    R("cloned", FRAUD), R("identity theft", FRAUD), R("theft", FRAUD), R("compromised", FRAUD),
    R("suspicious transaction*", FRAUD), R("suspicious charge*", FRAUD), R("someone used my card", FRAUD),
    R("i did not make", FRAUD), R("i didn't make", FRAUD), R("i don't recognize", FRAUD), R("i don't recognise", FRAUD),
    R("мошенни*", FRAUD), R("мошенн*", FRAUD), R("украли", FRAUD), R("украл", FRAUD), R("кража", FRAUD),
    R("кражи", FRAUD), R("взлом*", FRAUD), R("без моего ведома", FRAUD), R("без моего согласия", FRAUD),
    R("фишинг*", FRAUD), R("скимм*", FRAUD), R("аферист*", FRAUD), R("похитил*", FRAUD), R("злоумышленник*", FRAUD),
    R("несанкционирован*", FRAUD), R("подозрительн* операци*", FRAUD), R("кто то снял", FRAUD),
    R("шахра*", FRAUD), R("вкрали", FRAUD), R("вкрав", FRAUD), R("крадіжк*", FRAUD), R("зламали", FRAUD), R("злам", FRAUD), R("хакер*", FRAUD),
    R("без мого відома", FRAUD), R("без моєї згоди", FRAUD), R("фішинг*", FRAUD), R("зловмисник*", FRAUD),
    R("несанкціонован*", FRAUD), R("підозріл* операці*", FRAUD), R("хтось зняв", FRAUD),
    R("کلاهبردار*", FRAUD), R("کلاه برداری", FRAUD), R("سرقت*", FRAUD), R("دزدید*", FRAUD), R("دزدی", FRAUD),
    R("هک", FRAUD), R("هک شد*", FRAUD), R("فیشینگ", FRAUD), R("برداشت غیرمجاز", FRAUD), R("غیرمجاز", FRAUD),
    R("بدون اطلاع من", FRAUD), R("بدون اجازه", FRAUD), R("بدون اجازه من", FRAUD), R("جعلی", FRAUD), R("خالی کردند", FRAUD),
    /* ---- threat to leave ---- */
    R("close my account", CHURN), R("closing my account", CHURN), R("cancel my account", CHURN),
    R("switch* to another bank", CHURN), R("switching banks", CHURN), R("leave this bank", CHURN),
    R("leaving this bank", CHURN), R("move my money", CHURN), R("moving my money", CHURN),
    R("take my business elsewhere", CHURN), R("going to leave", CHURN), R("move* to another bank", CHURN),
    R("закрою счет", CHURN), R("закрыть счет", CHURN), R("закрываю счет", CHURN), R("закрою карту", CHURN),
    R("уйду", CHURN), R("ухожу", CHURN), R("перейду в", CHURN), R("перехожу в", CHURN), R("уйду в другой банк", CHURN), R("перейти в другой банк", CHURN),
    R("заберу деньги", CHURN), R("забираю деньги", CHURN), R("больше не буду", CHURN), R("расторгн*", CHURN),
    R("закрию рахунок", CHURN), R("закрити рахунок", CHURN), R("закриваю рахунок", CHURN), R("закрию картку", CHURN),
    R("перейду до", CHURN), R("переходжу до", CHURN), R("піду в інший банк", CHURN), R("перейти в інший банк", CHURN),
    R("заберу гроші", CHURN), R("забираю гроші", CHURN), R("більше не буду", CHURN), R("розірвати договір", CHURN), R("розірвання договору", CHURN), R("розірву договір", CHURN),
    R("بستن حساب*", CHURN), R("حساب* را ببند*", CHURN), R("حسابمو ببند*", CHURN), R("حسابمو میبند*", CHURN), R("بانک دیگ*", CHURN),
    R("حسابم را میبندم", CHURN), R("پولم را برمیدارم", CHURN),
    /* ---- threat to sue or go to the regulator ---- */
    R("sue", LEGAL), R("suing", LEGAL), R("lawsuit", LEGAL), R("lawyer*", LEGAL), R("attorney*", LEGAL),
    R("court", LEGAL), R("legal action", LEGAL), R("ombudsman", LEGAL), R("regulator*", LEGAL), R("cfpb", LEGAL),
    R("report you to", LEGAL),
    R("суд", LEGAL), R("суда", LEGAL), R("судом", LEGAL), R("в суд", LEGAL), R("иск", LEGAL), R("иском", LEGAL),
    R("исков*", LEGAL), R("юрист*", LEGAL), R("адвокат*", LEGAL), R("прокуратур*", LEGAL), R("цб", LEGAL),
    R("центробанк*", LEGAL), R("роспотребнадзор*", LEGAL), R("пожалуюсь", LEGAL), R("омбудсмен*", LEGAL),
    R("суду", LEGAL), R("позов*", LEGAL), R("нбу", LEGAL), R("нацбанк*", LEGAL), R("поскаржусь", LEGAL),
    R("دادگاه*", LEGAL), R("وکیل*", LEGAL), R("پیگیری قانونی", LEGAL), R("شکایت میکنم", LEGAL),
    R("شکایت کنم", LEGAL), R("شکایت خواهم", LEGAL), R("بانک مرکزی", LEGAL), R("دادسرا", LEGAL),
    /* ---- rumour of insolvency, a run on the bank ---- */
    R("bankrupt*", INSOLVENCY), R("insolven*", INSOLVENCY), R("bank run", INSOLVENCY), R("collapse*", INSOLVENCY),
    R("going under", INSOLVENCY), R("withdraw everything", INSOLVENCY), R("withdraw all my money", INSOLVENCY),
    R("license revoked", INSOLVENCY), R("банкрот*", INSOLVENCY), R("обанкрот*", INSOLVENCY), R("лопнет", INSOLVENCY),
    R("лопнул", INSOLVENCY), R("отзыв лицензии", INSOLVENCY), R("отозвали лицензию", INSOLVENCY),
    R("отзовут лицензию", INSOLVENCY), R("неплатежеспособн*", INSOLVENCY), R("снять все деньги", INSOLVENCY),
    R("крах", INSOLVENCY), R("банкрут*", INSOLVENCY), R("збанкрут*", INSOLVENCY), R("лопне", INSOLVENCY),
    R("відкликання ліцензії", INSOLVENCY), R("відкликали ліцензію", INSOLVENCY), R("неплатоспроможн*", INSOLVENCY),
    R("зняти всі гроші", INSOLVENCY), R("ліквідац*", INSOLVENCY), R("ورشکست*", INSOLVENCY), R("منحل", INSOLVENCY),
    R("انحلال", INSOLVENCY), R("هجوم", INSOLVENCY), R("صف برداشت", INSOLVENCY), R("لغو مجوز", INSOLVENCY),
    /* ---- new child ---- */
    E("baby", CHILD), E("newborn", CHILD), E("pregnan*", CHILD), E("maternity", CHILD), E("paternity", CHILD),
    E("was born", CHILD), E("became a father", CHILD), E("became a mother", CHILD),
    E("родился", CHILD), E("родилась", CHILD), E("рождени* ребенка", CHILD), E("беременн*", CHILD), E("декрет*", CHILD),
    E("материнск* капитал", CHILD), E("новорожден*", CHILD), E("малыш*", CHILD),
    E("народився", CHILD), E("народилася", CHILD), E("народження дитини", CHILD), E("вагітн*", CHILD),
    E("немовля*", CHILD), E("малюк*", CHILD),
    E("نوزاد*", CHILD), E("بچهدار*", CHILD), E("باردار*", CHILD), E("زایمان", CHILD), E("به دنیا آمد*", CHILD),
    E("به دنیا اومد*", CHILD), E("تولد فرزند", CHILD),
    /* ---- travel abroad ---- */
    E("travel*", TRAVEL), E("abroad", TRAVEL), E("trip", TRAVEL), E("vacation", TRAVEL), E("holiday*", TRAVEL),
    E("visa", TRAVEL), E("overseas", TRAVEL),
    E("за границ*", TRAVEL), E("заграниц*", TRAVEL), E("за рубеж*", TRAVEL), E("путешеств*", TRAVEL),
    E("отпуск*", TRAVEL), E("поездк*", TRAVEL), E("виза", TRAVEL), E("визу", TRAVEL), E("загранпаспорт*", TRAVEL),
    E("перелет*", TRAVEL), E("командировк*", TRAVEL),
    E("за кордон*", TRAVEL), E("закордон*", TRAVEL), E("подорож", TRAVEL), E("подорожі", TRAVEL), E("подорожую", TRAVEL), E("подорожувати", TRAVEL), E("подорожей", TRAVEL), E("відпустк*", TRAVEL),
    E("поїздк*", TRAVEL), E("віза", TRAVEL), E("візу", TRAVEL), E("переліт*", TRAVEL), E("відрядження", TRAVEL),
    E("سفر", TRAVEL), E("سفرم", TRAVEL), E("سفری", TRAVEL), E("سفرها", TRAVEL), E("سفرهای", TRAVEL), E("خارج از کشور", TRAVEL), E("خارجه", TRAVEL), E("ویزا*", TRAVEL), E("مسافرت*", TRAVEL),
    E("ارز مسافرتی", TRAVEL), E("توریست*", TRAVEL),
    /* ---- wedding ---- */
    E("wedding", WEDDING), E("getting married", WEDDING), E("got married", WEDDING), E("engaged", WEDDING),
    E("fiance*", WEDDING), E("honeymoon", WEDDING),
    E("свадьб*", WEDDING), E("свадеб*", WEDDING), E("женюсь", WEDDING), E("выхожу замуж", WEDDING),
    E("выйти замуж", WEDDING), E("помолвк*", WEDDING), E("медовый месяц", WEDDING),
    E("весілл*", WEDDING), E("одружуюсь", WEDDING), E("одружуся", WEDDING), E("одружився", WEDDING),
    E("виходжу заміж", WEDDING), E("заручин*", WEDDING), E("медовий місяць", WEDDING),
    E("عروسی*", WEDDING), E("ازدواج*", WEDDING), E("نامزد*", WEDDING), E("جهیزیه", WEDDING), E("مهریه", WEDDING),
    E("ماه عسل", WEDDING),
    /* ---- new home ---- */
    E("mortgage*", HOME), E("new home", HOME), E("new house", HOME), E("new apartment", HOME), E("new flat", HOME),
    E("buy* a house", HOME), E("buy* a flat", HOME), E("buy* an apartment", HOME), E("first home", HOME),
    E("down payment", HOME), E("moving house", HOME),
    E("ипотек*", HOME), E("купить квартиру", HOME), E("купил* квартиру", HOME), E("новую квартиру", HOME),
    E("новая квартира", HOME), E("переезд*", HOME), E("новоселье", HOME), E("купить дом", HOME),
    E("первоначальный взнос", HOME),
    E("іпотек*", HOME), E("купити квартиру", HOME), E("купив* квартиру", HOME), E("нову квартиру", HOME),
    E("нова квартира", HOME), E("переїзд*", HOME), E("новосілля", HOME), E("купити будинок", HOME),
    E("وام مسکن", HOME), E("خرید مسکن", HOME), E("خانه جدید", HOME), E("خونه جدید", HOME),
    E("خرید خانه", HOME), E("خرید خونه", HOME), E("آپارتمان", HOME), E("اسباب کشی", HOME), E("اسبابکشی", HOME),
    E("رهن", HOME),
    /* ---- new job ---- */
    E("new job", JOB), E("got a job", JOB), E("got hired", JOB), E("promotion", JOB), E("promoted", JOB),
    E("first salary", JOB), E("first paycheck", JOB), E("new employer", JOB),
    E("новая работа", JOB), E("новую работу", JOB), E("нашел работу", JOB), E("нашла работу", JOB),
    E("устроился", JOB), E("устроилась", JOB), E("первая зарплата", JOB), E("трудоустр*", JOB),
    E("нова робота", JOB), E("нову роботу", JOB), E("знайшов роботу", JOB), E("знайшла роботу", JOB),
    E("влаштувався", JOB), E("влаштувалася", JOB), E("перша зарплата", JOB), E("працевлаштув*", JOB),
    E("کار جدید", JOB), E("شغل جدید", JOB), E("استخدام*", JOB), E("اولین حقوق", JOB), E("ترفیع", JOB),
    E("کار پیدا کردم", JOB),
    /* ---- studies ---- */
    E("university", STUDY), E("college", STUDY), E("tuition", STUDY), E("student*", STUDY), E("study abroad", STUDY),
    E("scholarship", STUDY), E("enrolled", STUDY), E("school fees", STUDY),
    E("университет*", STUDY), E("универ*", STUDY), E("поступил в", STUDY), E("поступила в", STUDY),
    E("учеб*", STUDY), E("студент*", STUDY), E("образовательн* кредит", STUDY), E("стипенди*", STUDY),
    E("магистратур*", STUDY),
    E("університет*", STUDY), E("універ*", STUDY), E("вступив", STUDY), E("вступила", STUDY), E("навчання", STUDY),
    E("студент*", STUDY), E("стипенді*", STUDY), E("освітн* кредит", STUDY), E("магістратур*", STUDY),
    E("دانشگاه*", STUDY), E("دانشجو*", STUDY), E("تحصیل*", STUDY), E("شهریه", STUDY), E("کنکور", STUDY),
    E("بورسیه", STUDY),
};
#undef R
#undef E

/* Competitor banks: canonical name, then its spellings (normalised form). */
typedef struct {
    const char *name;
    const char *spellings[8];
} bank_entry;

static const bank_entry banks[] = {
    /* Iran */
    {"Bank Melli", {"بانک ملی", "bank melli", "melli bank", "bmi"}},
    {"Bank Mellat", {"بانک ملت", "mellat", "ملت بانک"}},
    {"Bank Saderat", {"بانک صادرات", "saderat"}},
    {"Bank Tejarat", {"بانک تجارت", "tejarat"}},
    {"Bank Sepah", {"سپه", "sepah"}},
    {"Bank Maskan", {"بانک مسکن", "maskan bank"}},
    {"Bank Keshavarzi", {"بانک کشاورزی", "keshavarzi"}},
    {"Bank Pasargad", {"پاسارگاد", "pasargad"}},
    {"Parsian Bank", {"پارسیان", "parsian"}},
    {"Saman Bank", {"بانک سامان", "saman bank"}},
    {"Ayandeh Bank", {"بانک آینده", "ayandeh"}},
    {"Bank Resalat", {"بانک رسالت", "قرض الحسنه رسالت", "resalat"}},
    {"Refah Bank", {"بانک رفاه", "refah"}},
    {"EN Bank", {"اقتصاد نوین", "eghtesad novin"}},
    {"Shahr Bank", {"بانک شهر", "shahr bank"}},
    {"Post Bank of Iran", {"پست بانک"}},
    {"Blu Bank", {"بلوبانک", "بلو بانک", "blu bank", "blubank"}},
    {"Karafarin Bank", {"کارآفرین", "karafarin"}},
    {"Sina Bank", {"بانک سینا"}},
    {"Bank Dey", {"بانک دی"}},
    {"Mehr Iran Bank", {"مهر ایران", "قرض الحسنه مهر"}},
    /* Ukraine */
    {"PrivatBank", {"приватбанк*", "приват", "privatbank", "privat"}},
    {"Monobank", {"монобанк*", "моно", "monobank", "mono", "монобанку"}},
    {"Oschadbank", {"ощадбанк*", "ощад", "oschadbank"}},
    {"Raiffeisen", {"райффайзен*", "райфайзен*", "raiffeisen*", "райф"}},
    {"Ukrsibbank", {"укрсиббанк*", "ukrsibbank", "укрсиб"}},
    {"PUMB", {"пумб", "pumb"}},
    {"Sense Bank", {"сенс банк*", "sense bank", "сенсбанк*"}},
    {"Ukrgasbank", {"укргазбанк*", "ukrgasbank"}},
    {"Ukreximbank", {"укрексімбанк*", "укрэксимбанк*", "ukreximbank"}},
    {"A-Bank", {"абанк*", "a bank"}},
    {"OTP Bank", {"отп банк*", "otp bank", "otp"}},
    {"izibank", {"izibank", "ізібанк*"}},
    /* Russia and Belarus */
    {"Sberbank", {"сбербанк*", "сбер", "сбера", "сбере", "сбером", "сберу", "sberbank", "sber"}},
    {"T-Bank (Tinkoff)", {"тинькофф*", "тиньков*", "тинек", "тинька", "tinkoff", "т банк", "тбанк*", "tbank"}},
    {"VTB", {"втб", "vtb"}},
    {"Alfa-Bank", {"альфа банк*", "альфабанк*", "альфа", "alfa bank", "alfabank", "альфу", "альфы"}},
    {"Gazprombank", {"газпромбанк*", "гпб", "gazprombank"}},
    {"Rosselkhozbank", {"россельхозбанк*", "рсхб"}},
    {"Otkritie", {"банк открытие", "открытие банк"}},
    {"Sovcombank", {"совкомбанк*", "совком", "sovcombank"}},
    {"Pochta Bank", {"почта банк*"}},
    {"Promsvyazbank", {"псб", "промсвязьбанк*"}},
    {"Home Credit", {"хоум кредит*", "хоумкредит*", "home credit"}},
    {"Rosbank", {"росбанк*", "rosbank"}},
    {"MTS Bank", {"мтс банк*"}},
    {"Belarusbank", {"беларусбанк*", "belarusbank"}},
    {"Priorbank", {"приорбанк*", "приор", "priorbank"}},
    {"MTBank", {"мтбанк*", "mtbank"}},
    {"Belagroprombank", {"белагропромбанк*"}},
    {"Belinvestbank", {"белинвестбанк*"}},
    {"BNB-Bank", {"бнб банк*", "бнб"}},
    /* International */
    {"HSBC", {"hsbc"}},
    {"Citibank", {"citibank", "citi", "ситибанк*"}},
    {"JPMorgan Chase", {"chase", "jpmorgan", "jp morgan"}},
    {"Bank of America", {"bank of america", "bofa"}},
    {"Wells Fargo", {"wells fargo"}},
    {"Barclays", {"barclays"}},
    {"Revolut", {"revolut", "револют*"}},
    {"Wise", {"transferwise", "wise transfer"}},
    {"Monzo", {"monzo"}},
    {"Santander", {"santander"}},
    {"Deutsche Bank", {"deutsche bank"}},
    {"BNP Paribas", {"bnp", "bnp paribas"}},
    {"ING", {"ing bank"}},
    {"Capital One", {"capital one"}},
    {"PayPal", {"paypal", "пейпал*", "پی پال"}},
};

/* Tokens that cancel a match starting within the next two tokens. */
static const char *const negations[] = {"not", "no", "never", "don't", "didn't", "won't", "isn't", "wasn't",
                                        "не", "нет", "ни", "никогда", "ні", "ніколи", "نه", "هرگز", "نمی"};

/* ---- the compiled index ---------------------------------------------- */
typedef struct {
    const char *text;
    unsigned short len;
    bool prefix;
} pattern_token;

typedef struct {
    pattern_token tokens[PATTERN_TOKENS_MAX];
    unsigned char count;
    unsigned char kind;
    unsigned short code;
} pattern;

#define PATTERNS_MAX (SB_ARRAY_LEN(risk_life) + SB_ARRAY_LEN(banks) * 8)

static pattern patterns[PATTERNS_MAX];
static size_t pattern_count;
/* bucket b holds pattern indexes bucket_index[bucket_start[b] .. bucket_start[b+1]) */
static unsigned short bucket_start[BUCKETS + 1];
static unsigned short bucket_index[PATTERNS_MAX];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static unsigned bucket_of(const char *tok, size_t len) {
    unsigned b0 = (unsigned char)tok[0];
    unsigned b1 = len > 1 ? (unsigned char)tok[1] : 0;
    return (b0 * 131u + b1) % BUCKETS;
}

static void compile_one(const char *text, unsigned kind, unsigned code) {
    if (pattern_count >= PATTERNS_MAX) return;
    pattern *p = &patterns[pattern_count];
    memset(p, 0, sizeof *p);
    text_token_iter it;
    text_token_iter_init(&it, text, strlen(text));
    const char *tok;
    size_t len;
    while (p->count < PATTERN_TOKENS_MAX && text_token_next(&it, &tok, &len)) {
        pattern_token *pt = &p->tokens[p->count++];
        pt->prefix = len > 1 && tok[len - 1] == '*';
        pt->text = tok;
        pt->len = (unsigned short)(pt->prefix ? len - 1 : len);
    }
    if (p->count == 0) return;
    p->kind = (unsigned char)kind;
    p->code = (unsigned short)code;
    pattern_count++;
}

static void compile_index(void) {
    for (size_t i = 0; i < SB_ARRAY_LEN(risk_life); i++)
        compile_one(risk_life[i].pattern, risk_life[i].kind, risk_life[i].code);
    for (size_t b = 0; b < SB_ARRAY_LEN(banks); b++)
        for (size_t s = 0; s < 8 && banks[b].spellings[s]; s++)
            compile_one(banks[b].spellings[s], TEXT_SIGNAL_COMPETITOR, (unsigned)b);
    /* counting sort into buckets */
    unsigned counts[BUCKETS] = {0};
    for (size_t i = 0; i < pattern_count; i++) counts[bucket_of(patterns[i].tokens[0].text, patterns[i].tokens[0].len)]++;
    unsigned acc = 0;
    for (unsigned b = 0; b < BUCKETS; b++) {
        bucket_start[b] = (unsigned short)acc;
        acc += counts[b];
    }
    bucket_start[BUCKETS] = (unsigned short)acc;
    unsigned fill[BUCKETS];
    for (unsigned b = 0; b < BUCKETS; b++) fill[b] = bucket_start[b];
    for (size_t i = 0; i < pattern_count; i++) {
        unsigned b = bucket_of(patterns[i].tokens[0].text, patterns[i].tokens[0].len);
        bucket_index[fill[b]++] = (unsigned short)i;
    }
}

/* Compare a text token with a pattern token, ignoring ZWNJ (E2 80 8C). */
static bool token_match(const char *t, size_t tlen, const pattern_token *pt) {
    size_t i = 0, j = 0;
    const char *p = pt->text;
    while (j < pt->len) {
        if (j + 2 < pt->len && (unsigned char)p[j] == 0xE2 && (unsigned char)p[j + 1] == 0x80 &&
            (unsigned char)p[j + 2] == 0x8C) {
            j += 3;
            continue;
        }
        if (i + 2 < tlen && (unsigned char)t[i] == 0xE2 && (unsigned char)t[i + 1] == 0x80 &&
            (unsigned char)t[i + 2] == 0x8C) {
            i += 3;
            continue;
        }
        if (i >= tlen || t[i] != p[j]) return false;
        i++;
        j++;
    }
    if (pt->prefix) return true;
    while (i + 2 < tlen && (unsigned char)t[i] == 0xE2 && (unsigned char)t[i + 1] == 0x80 &&
           (unsigned char)t[i + 2] == 0x8C)
        i += 3;
    return i == tlen;
}

static bool is_negation(const char *t, size_t len) {
    if (!t || len > 14) return false; /* the longest negation is 14 bytes */
    for (size_t i = 0; i < SB_ARRAY_LEN(negations); i++)
        if (negations[i][0] == t[0] && strlen(negations[i]) == len && memcmp(negations[i], t, len) == 0) return true;
    return false;
}

/* Record a match; each (kind, code) once.  A longer phrase starting at the
 * same token replaces a shorter one ("هک شد" over "هک"). */
static void add_signal(text_signals_result *out, const char **starts, const pattern *p, const char *from,
                       const char *to) {
    text_signal *s = NULL;
    for (size_t i = 0; i < out->count; i++)
        if (out->items[i].kind == (text_signal_kind)p->kind && out->items[i].code == p->code) {
            if (starts[i] != from || strlen(out->items[i].trigger) >= (size_t)(to - from)) return;
            s = &out->items[i];
        }
    if (!s) {
        if (out->count >= SB_TEXT_SIGNALS_MAX) {
            out->truncated = true;
            return;
        }
        starts[out->count] = from;
        s = &out->items[out->count++];
    }
    s->kind = (text_signal_kind)p->kind;
    s->code = p->code;
    size_t len = (size_t)(to - from);
    if (len >= TEXT_SIGNAL_TRIGGER_BYTES) {
        len = TEXT_SIGNAL_TRIGGER_BYTES - 1;
        while (len > 0 && ((unsigned char)from[len] & 0xC0) == 0x80) len--; /* whole code points */
    }
    memcpy(s->trigger, from, len);
    s->trigger[len] = '\0';
}

int text_signals(const char *normalised, size_t len, text_signals_result *out) {
    if (!out) return SB_EINVAL;
    out->count = 0;
    out->truncated = false;
    if (!normalised && len > 0) return SB_EINVAL;
    if (len > SB_TEXT_NORMALIZED_BYTES_MAX) return SB_ELIMIT;
    if (len == 0) return SB_OK;
    pthread_once(&index_once, compile_index);

    const char *starts[SB_TEXT_SIGNALS_MAX]; /* where each item's trigger begins */
    const char *prev1 = NULL, *prev2 = NULL;
    size_t prev1_len = 0, prev2_len = 0;
    text_token_iter it;
    text_token_iter_init(&it, normalised, len);
    const char *tok;
    size_t tok_len;
    while (text_token_next(&it, &tok, &tok_len)) {
        unsigned b = bucket_of(tok, tok_len);
        int negated = -1; /* computed on the first match only */
        for (unsigned k = bucket_start[b]; k < bucket_start[b + 1]; k++) {
            const pattern *p = &patterns[bucket_index[k]];
            if (!token_match(tok, tok_len, &p->tokens[0])) continue;
            /* the following tokens of a phrase */
            text_token_iter rest = it;
            const char *end = tok + tok_len;
            bool ok = true;
            for (unsigned t = 1; t < p->count && ok; t++) {
                const char *next;
                size_t next_len;
                ok = text_token_next(&rest, &next, &next_len) && token_match(next, next_len, &p->tokens[t]);
                if (ok) end = next + next_len;
            }
            if (!ok) continue;
            if (negated < 0) negated = is_negation(prev1, prev1_len) || is_negation(prev2, prev2_len);
            if (negated) continue;
            add_signal(out, starts, p, tok, end);
        }
        prev2 = prev1;
        prev2_len = prev1_len;
        prev1 = tok;
        prev1_len = tok_len;
    }
    return SB_OK;
}

/* The project's label vocabulary (models/starter corpus, listening). */
static const char *const risk_names[TEXT_RISK_COUNT] = {"card_misuse", "threat_leave", "threat_sue",
                                                        "insolvency_rumour"};
static const char *const life_names[TEXT_LIFE_COUNT] = {"new_child", "travel_abroad",
                                                        "wedding",   "new_home", "new_job", "studies"};
static const char *const life_offers[TEXT_LIFE_COUNT] = {
    "child_savings", "travel_insurance_fx_card", "wedding_loan", "mortgage", "salary_account_credit_card",
    "student_loan_education_savings"};

const char *text_signal_name(text_signal_kind kind, int code) {
    if (code < 0) return "unknown";
    switch (kind) {
    case TEXT_SIGNAL_RISK: return code < TEXT_RISK_COUNT ? risk_names[code] : "unknown";
    case TEXT_SIGNAL_LIFE_EVENT: return code < TEXT_LIFE_COUNT ? life_names[code] : "unknown";
    case TEXT_SIGNAL_COMPETITOR: return (size_t)code < SB_ARRAY_LEN(banks) ? banks[code].name : "unknown";
    }
    return "unknown";
}

const char *text_life_event_offer(text_life_event event) {
    return ((unsigned)event < TEXT_LIFE_COUNT) ? life_offers[event] : "unknown";
}

const char *text_signal_kind_name(text_signal_kind kind) {
    switch (kind) {
    case TEXT_SIGNAL_RISK: return "risk";
    case TEXT_SIGNAL_LIFE_EVENT: return "life_event";
    case TEXT_SIGNAL_COMPETITOR: return "competitor";
    }
    return "unknown";
}

size_t text_signals_lexicon_size(void) {
    size_t n = SB_ARRAY_LEN(risk_life);
    for (size_t b = 0; b < SB_ARRAY_LEN(banks); b++)
        for (size_t s = 0; s < 8 && banks[b].spellings[s]; s++) n++;
    return n;
}
const char *text_signals_lexicon_pattern(size_t i) {
    if (i < SB_ARRAY_LEN(risk_life)) return risk_life[i].pattern;
    i -= SB_ARRAY_LEN(risk_life);
    for (size_t b = 0; b < SB_ARRAY_LEN(banks); b++)
        for (size_t s = 0; s < 8 && banks[b].spellings[s]; s++)
            if (i-- == 0) return banks[b].spellings[s];
    return NULL;
}
