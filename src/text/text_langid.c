/*
 * text_langid.c - language identification: Persian, Arabic, Ukrainian,
 * Russian, English or other, on texts as short as one sentence.
 *
 * One pass over the code points (at most SB_TEXT_LANGID_BYTES_MAX bytes;
 * links and @mentions are skipped, their Latin letters say nothing):
 *   1. the script of every letter is counted (Arabic, Cyrillic, Latin,
 *      other); Latin letters weigh half, because brand names and "ok" are
 *      written in Latin inside Persian and Russian posts;
 *   2. letters unique to one language add to its score (پ چ ژ گ for Persian,
 *      ة أ إ for Arabic, і ї є ґ and the inner apostrophe for Ukrainian,
 *      ы э ъ ё for Russian, Urdu/Kurdish/Belarusian/Serbian/Kazakh letters
 *      and Latin diacritics for "other");
 *   3. each word (lowercased, Arabic yeh/kaf folded to Persian for lookup)
 *      is looked up in one hashed table of frequent function words, and its
 *      ending in a table of weighted suffixes (the n-grams that separate
 *      Ukrainian from Russian inflection and Persian from Arabic).
 * The script family with the most letter weight is chosen first; within it
 * the language with the higher score wins (ties: Persian, Russian, English,
 * the likelier reading of an undecided sentence for this product).
 * Tables are written for this module; the benchmark bench/langid.sh measures
 * them on the real datasets in ../shared/data.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text/text.h"

/* Scores are in tenths. */
/* L_OT: another language in Arabic or Cyrillic script (Urdu, Belarusian...);
 * L_OL: another language in Latin script (German, French...).  Kept apart so
 * a French word in a Russian post does not make the post "other". */
enum { L_FA, L_AR, L_UK, L_RU, L_EN, L_OT, L_OL, L_N };

typedef struct {
    const char *word; /* lowercased; Arabic yeh/kaf folded to Persian */
    unsigned char lang;
    unsigned char weight;
} word_entry;

/* Frequent words.  A word frequent in both languages of a pair is left out
 * (من, ما, на, не, в), and so are words whose folded Persian form is an
 * Arabic word (علی). */
static word_entry words[] = {
    /* Persian */
    {"است", L_FA, 20}, {"این", L_FA, 15}, {"که", L_FA, 15}, {"را", L_FA, 20}, {"از", L_FA, 10}, {"به", L_FA, 10},
    {"با", L_FA, 8}, {"برای", L_FA, 20}, {"خیلی", L_FA, 20}, {"بود", L_FA, 15}, {"شد", L_FA, 15}, {"هست", L_FA, 20},
    {"نیست", L_FA, 20}, {"یک", L_FA, 10}, {"اما", L_FA, 8}, {"ولی", L_FA, 20}, {"هم", L_FA, 10}, {"تا", L_FA, 8},
    {"اگر", L_FA, 20}, {"چه", L_FA, 15}, {"چرا", L_FA, 20}, {"آن", L_FA, 10}, {"او", L_FA, 10}, {"شما", L_FA, 20},
    {"ما", L_FA, 3}, {"بسیار", L_FA, 15}, {"خوب", L_FA, 20}, {"بد", L_FA, 15}, {"کرد", L_FA, 15}, {"کنم", L_FA, 20},
    {"کنید", L_FA, 20}, {"میشه", L_FA, 20}, {"نمیشه", L_FA, 20}, {"دارم", L_FA, 20}, {"دارد", L_FA, 15},
    {"ندارد", L_FA, 20}, {"بانک", L_FA, 10}, {"پول", L_FA, 20}, {"کارت", L_FA, 10}, {"حساب", L_FA, 3},
    {"عالی", L_FA, 15}, {"ممنون", L_FA, 20}, {"مرسی", L_FA, 20}, {"سلام", L_FA, 5}, {"همه", L_FA, 10},
    {"باید", L_FA, 20}, {"بعد", L_FA, 3}, {"روی", L_FA, 10}, {"می", L_FA, 15}, {"نمی", L_FA, 15}, {"شده", L_FA, 15},
    {"کنه", L_FA, 20}, {"بشه", L_FA, 20}, {"تو", L_FA, 10}, {"اون", L_FA, 20}, {"واقعا", L_FA, 10},
    {"البته", L_FA, 10}, {"در", L_FA, 15}, {"بدون", L_FA, 15}, {"رو", L_FA, 10}, {"خوبه", L_FA, 20},
    {"باشید", L_FA, 15}, {"خواهم", L_FA, 15}, {"داشتم", L_FA, 15}, {"چون", L_FA, 10}, {"فوق", L_FA, 10}, {"الان", L_FA, 10}, {"برنامه", L_FA, 10}, {"ها", L_FA, 10}, {"های", L_FA, 15},
    /* Arabic */
    {"فی", L_AR, 20}, {"الی", L_AR, 8}, {"إلی", L_AR, 20}, {"عن", L_AR, 10}, {"هذا", L_AR, 20}, {"هذه", L_AR, 20},
    {"التی", L_AR, 20}, {"الذی", L_AR, 20}, {"کان", L_AR, 10}, {"أن", L_AR, 15}, {"إن", L_AR, 15}, {"لا", L_AR, 10},
    {"مع", L_AR, 10}, {"قد", L_AR, 10}, {"لم", L_AR, 15}, {"لن", L_AR, 15}, {"کل", L_AR, 2}, {"هو", L_AR, 10},
    {"هی", L_AR, 10}, {"نحن", L_AR, 20}, {"جدا", L_AR, 15}, {"لیس", L_AR, 20}, {"کیف", L_AR, 15}, {"لماذا", L_AR, 20},
    {"ماذا", L_AR, 20}, {"شکرا", L_AR, 20}, {"البنک", L_AR, 20}, {"المال", L_AR, 15}, {"علی", L_AR, 5},
    {"أنا", L_AR, 20}, {"انا", L_AR, 15}, {"ذلک", L_AR, 20}, {"عندی", L_AR, 20}, {"لدی", L_AR, 20},
    {"الحساب", L_AR, 20}, {"البطاقة", L_AR, 20}, {"ثم", L_AR, 10}, {"أو", L_AR, 10},
    {"هل", L_AR, 15}, {"متى", L_AR, 15}, {"لقد", L_AR, 20}, {"بعض", L_AR, 5}, {"لکن", L_AR, 10}, {"أی", L_AR, 10},
    {"الله", L_AR, 5}, {"الخدمة", L_AR, 20}, {"بشکل", L_AR, 15}, {"جید", L_AR, 15}, {"یعمل", L_AR, 15}, {"شیء", L_AR, 5},
    {"أیضا", L_AR, 15}, {"ایضا", L_AR, 10}, {"حتى", L_AR, 10}, {"عندما", L_AR, 20}, {"یجب", L_AR, 15}, {"سیء", L_AR, 15}, {"ممتاز", L_AR, 10}, {"یتم", L_AR, 20},
    /* Ukrainian */
    {"і", L_UK, 20}, {"й", L_UK, 10}, {"та", L_UK, 10}, {"що", L_UK, 20}, {"це", L_UK, 20}, {"як", L_UK, 15},
    {"від", L_UK, 20}, {"для", L_UK, 2}, {"мені", L_UK, 20}, {"дуже", L_UK, 20}, {"картка", L_UK, 20},
    {"картку", L_UK, 20}, {"гроші", L_UK, 20}, {"є", L_UK, 20}, {"було", L_UK, 5}, {"який", L_UK, 20},
    {"яка", L_UK, 20}, {"але", L_UK, 15}, {"вже", L_UK, 20}, {"ще", L_UK, 20}, {"тільки", L_UK, 20},
    {"коли", L_UK, 15}, {"чи", L_UK, 15}, {"його", L_UK, 15}, {"їх", L_UK, 20}, {"ви", L_UK, 15}, {"ми", L_UK, 15},
    {"після", L_UK, 20}, {"щоб", L_UK, 20}, {"треба", L_UK, 15}, {"можна", L_UK, 15}, {"ні", L_UK, 15},
    {"немає", L_UK, 20}, {"мене", L_UK, 15}, {"мій", L_UK, 20}, {"моя", L_UK, 3}, {"дякую", L_UK, 20},
    {"будь", L_UK, 10}, {"ласка", L_UK, 15}, {"чому", L_UK, 15}, {"хто", L_UK, 10}, {"де", L_UK, 10},
    {"цей", L_UK, 20}, {"ця", L_UK, 20}, {"ці", L_UK, 20}, {"також", L_UK, 15}, {"тому", L_UK, 3},
    {"з", L_UK, 8}, {"зі", L_UK, 15}, {"із", L_UK, 15}, {"добре", L_UK, 10},
    {"сьогодні", L_UK, 20}, {"зараз", L_UK, 10}, {"був", L_UK, 15}, {"була", L_UK, 5}, {"вони", L_UK, 15},
    {"воно", L_UK, 15}, {"він", L_UK, 20}, {"вона", L_UK, 10}, {"нас", L_UK, 3}, {"нам", L_UK, 3},
    {"їм", L_UK, 20}, {"банку", L_UK, 3}, {"рахунок", L_UK, 15}, {"кошти", L_UK, 15}, {"привіт", L_UK, 20},
    {"доброго", L_UK, 5}, {"дня", L_UK, 3}, {"можу", L_UK, 3}, {"зробити", L_UK, 15},
    {"так", L_UK, 2}, {"ну", L_UK, 2}, {"теж", L_UK, 10}, {"навіть", L_UK, 20}, {"добрий", L_UK, 20}, {"погано", L_UK, 15}, {"жах", L_UK, 20},
    {"жахливо", L_UK, 20}, {"гарно", L_UK, 10}, {"чудово", L_UK, 15}, {"скільки", L_UK, 20}, {"через", L_UK, 0},
    /* Russian */
    {"и", L_RU, 20}, {"что", L_RU, 20}, {"это", L_RU, 20}, {"как", L_RU, 15}, {"с", L_RU, 8}, {"по", L_RU, 3},
    {"очень", L_RU, 20}, {"был", L_RU, 15}, {"была", L_RU, 5}, {"но", L_RU, 15}, {"уже", L_RU, 20},
    {"еще", L_RU, 20}, {"только", L_RU, 20}, {"когда", L_RU, 15}, {"или", L_RU, 15}, {"его", L_RU, 15},
    {"их", L_RU, 15}, {"вы", L_RU, 15}, {"мы", L_RU, 15}, {"после", L_RU, 20}, {"чтобы", L_RU, 20},
    {"надо", L_RU, 15}, {"нужно", L_RU, 15}, {"можно", L_RU, 15}, {"нет", L_RU, 20}, {"есть", L_RU, 20},
    {"который", L_RU, 20}, {"которые", L_RU, 20}, {"меня", L_RU, 20}, {"мне", L_RU, 15}, {"все", L_RU, 4},
    {"всё", L_RU, 15}, {"карта", L_RU, 20}, {"карту", L_RU, 10}, {"деньги", L_RU, 20}, {"спасибо", L_RU, 20},
    {"пожалуйста", L_RU, 20}, {"почему", L_RU, 20}, {"кто", L_RU, 15}, {"где", L_RU, 20}, {"этот", L_RU, 20},
    {"эта", L_RU, 20}, {"эти", L_RU, 20}, {"тоже", L_RU, 15}, {"также", L_RU, 15}, {"хорошо", L_RU, 20},
    {"сегодня", L_RU, 20}, {"сейчас", L_RU, 20}, {"они", L_RU, 20}, {"оно", L_RU, 15}, {"он", L_RU, 15},
    {"она", L_RU, 15}, {"банк", L_RU, 2}, {"счет", L_RU, 20}, {"средства", L_RU, 15}, {"привет", L_RU, 20},
    {"день", L_RU, 10}, {"сделать", L_RU, 15}, {"даже", L_RU, 20}, {"от", L_RU, 15}, {"при", L_RU, 10},
    {"если", L_RU, 20}, {"так", L_RU, 2}, {"без", L_RU, 3}, {"за", L_RU, 2}, {"из", L_RU, 10}, {"ни", L_RU, 10},
    {"я", L_RU, 2}, {"для", L_RU, 2}, {"моя", L_RU, 3}, {"мой", L_RU, 20}, {"вам", L_RU, 5}, {"вас", L_RU, 5},
    {"своей", L_RU, 20}, {"свою", L_RU, 10}, {"этого", L_RU, 20}, {"того", L_RU, 10},
    {"ничего", L_RU, 20}, {"всех", L_RU, 15}, {"сих", L_RU, 20}, {"пор", L_RU, 5}, {"время", L_RU, 20}, {"клиент", L_RU, 5}, {"клиентов", L_RU, 15}, {"добрый", L_RU, 20}, {"плохо", L_RU, 15}, {"ужас", L_RU, 15},
    {"ужасно", L_RU, 20}, {"отлично", L_RU, 15}, {"сколько", L_RU, 20}, {"да", L_RU, 5},
    /* English */
    {"the", L_EN, 20}, {"and", L_EN, 15}, {"to", L_EN, 10}, {"is", L_EN, 10}, {"my", L_EN, 15}, {"i", L_EN, 10},
    {"you", L_EN, 15}, {"it", L_EN, 10}, {"of", L_EN, 10}, {"for", L_EN, 10}, {"in", L_EN, 5}, {"on", L_EN, 5},
    {"this", L_EN, 15}, {"that", L_EN, 15}, {"was", L_EN, 15}, {"with", L_EN, 15}, {"have", L_EN, 15},
    {"not", L_EN, 10}, {"can", L_EN, 10}, {"card", L_EN, 10}, {"account", L_EN, 10}, {"bank", L_EN, 5},
    {"why", L_EN, 15}, {"what", L_EN, 15}, {"how", L_EN, 15}, {"do", L_EN, 8}, {"does", L_EN, 15},
    {"did", L_EN, 15}, {"get", L_EN, 10}, {"me", L_EN, 8}, {"your", L_EN, 15}, {"are", L_EN, 10},
    {"be", L_EN, 8}, {"been", L_EN, 15}, {"will", L_EN, 15}, {"would", L_EN, 15}, {"please", L_EN, 15},
    {"thanks", L_EN, 15}, {"thank", L_EN, 15}, {"money", L_EN, 15}, {"flight", L_EN, 10}, {"just", L_EN, 10},
    {"there", L_EN, 15}, {"when", L_EN, 15}, {"where", L_EN, 15}, {"an", L_EN, 8}, {"at", L_EN, 5},
    {"from", L_EN, 10}, {"but", L_EN, 10}, {"no", L_EN, 3}, {"yes", L_EN, 10}, {"we", L_EN, 10},
    {"they", L_EN, 15}, {"our", L_EN, 10}, {"if", L_EN, 8}, {"need", L_EN, 10}, {"still", L_EN, 10},
    /* other languages written in Latin */
    {"der", L_OL, 15}, {"die", L_OL, 8}, {"das", L_OL, 15}, {"und", L_OL, 20}, {"ist", L_OL, 15},
    {"nicht", L_OL, 20}, {"ich", L_OL, 20}, {"le", L_OL, 10}, {"la", L_OL, 10}, {"les", L_OL, 15},
    {"et", L_OL, 10}, {"est", L_OL, 10}, {"je", L_OL, 15}, {"pas", L_OL, 10}, {"une", L_OL, 15},
    {"el", L_OL, 10}, {"los", L_OL, 15}, {"que", L_OL, 15}, {"y", L_OL, 8}, {"es", L_OL, 10}, {"por", L_OL, 10},
    {"il", L_OL, 10}, {"di", L_OL, 10}, {"che", L_OL, 15}, {"non", L_OL, 8}, {"het", L_OL, 15}, {"een", L_OL, 15},
    {"van", L_OL, 5}, {"och", L_OL, 15}, {"jest", L_OL, 15}, {"nie", L_OL, 10}, {"bir", L_OL, 15},
    {"ve", L_OL, 10}, {"bu", L_OL, 10}, {"da", L_OL, 5},
    /* Belarusian */
    {"гэта", L_OT, 20}, {"гэты", L_OT, 20}, {"яшчэ", L_OT, 20}, {"калі", L_OT, 15}, {"мяне", L_OT, 20},
    {"дзень", L_OT, 20}, {"па", L_OT, 5}, {"таксама", L_OT, 20}, {"вельмі", L_OT, 20},
    /* Persian written in Latin letters ("Finglish") */
    {"salam", L_FA, 15}, {"slm", L_FA, 15}, {"kheili", L_FA, 20}, {"kheyli", L_FA, 20}, {"khob", L_FA, 15},
    {"khoob", L_FA, 15}, {"khobe", L_FA, 15}, {"bod", L_FA, 10}, {"bood", L_FA, 10}, {"bud", L_FA, 8},
    {"vali", L_FA, 15}, {"chera", L_FA, 15}, {"mamnoon", L_FA, 20}, {"mamnun", L_FA, 20}, {"tashakor", L_FA, 20},
    {"tashakkor", L_FA, 20}, {"merci", L_FA, 5}, {"ghaza", L_FA, 20}, {"nabod", L_FA, 15}, {"nabood", L_FA, 15},
    {"hamishe", L_FA, 20}, {"shode", L_FA, 20}, {"faghat", L_FA, 20}, {"asan", L_FA, 8}, {"aslan", L_FA, 15},
    {"va", L_FA, 15}, {"ke", L_FA, 10}, {"az", L_FA, 10}, {"ro", L_FA, 10}, {"mishe", L_FA, 20},
    {"nemishe", L_FA, 20}, {"dige", L_FA, 15}, {"hast", L_FA, 15}, {"nist", L_FA, 15}, {"bashe", L_FA, 15},
    {"sard", L_FA, 10}, {"tond", L_FA, 10}, {"khoshmaze", L_FA, 20}, {"ham", L_FA, 5}, {"man", L_FA, 3},
    {"baraye", L_FA, 15}, {"bara", L_FA, 10}, {"kardam", L_FA, 15}, {"shod", L_FA, 15}, {"dadam", L_FA, 15},
    };

typedef struct {
    const char *suffix;
    unsigned char lang;
    unsigned char weight;
} suffix_entry;

/* Word endings (character n-grams at the end of a word) that separate the
 * languages of a pair.  Checked in table order (a longer ending before the
 * shorter one it contains); the first match counts, weight 0 means "no
 * evidence" and stops the search. */
static const suffix_entry suffixes[] = {
    /* adjectives: -ський (uk) against -ский (ru), before the shorter -ий */
    {"ський", L_UK, 10}, {"цький", L_UK, 10}, {"ский", L_RU, 10}, {"цкий", L_RU, 10}, {"ская", L_RU, 6},
    {"ское", L_RU, 8}, {"ских", L_RU, 8}, {"ського", L_UK, 10}, {"ского", L_RU, 10},
    /* Ukrainian inflection */
    {"ння", L_UK, 8}, {"ться", L_UK, 0}, {"ати", L_UK, 8}, {"ити", L_UK, 8}, {"ути", L_UK, 6}, {"ому", L_UK, 0},
    {"ої", L_UK, 8}, {"ій", L_UK, 6}, {"ів", L_UK, 6}, {"ість", L_UK, 8}, {"ают", L_RU, 6}, {"ують", L_UK, 8},
    {"ють", L_UK, 6}, {"ає", L_UK, 8}, {"ує", L_UK, 8}, {"ий", L_UK, 0}, {"ого", L_UK, 0},
    {"ємо", L_UK, 8}, {"имо", L_UK, 6}, {"ите", L_RU, 4}, {"ете", L_RU, 4}, {"ует", L_RU, 6}, {"ет", L_RU, 2},
    /* Russian inflection */
    {"ение", L_RU, 8}, {"ание", L_RU, 8}, {"ется", L_RU, 8}, {"ается", L_RU, 8}, {"ать", L_RU, 8},
    {"ить", L_RU, 8}, {"еть", L_RU, 8}, {"ый", L_RU, 8}, {"ые", L_RU, 8}, {"ая", L_RU, 5}, {"ое", L_RU, 5},
    {"ие", L_RU, 6}, {"ой", L_RU, 3}, {"ов", L_RU, 4}, {"ого", L_RU, 2}, {"ему", L_RU, 4}, {"ия", L_RU, 5},
    {"ии", L_RU, 5},
    /* Persian */
    {"های", L_FA, 6}, {"ها", L_FA, 4}, {"ترین", L_FA, 6}, {"تر", L_FA, 3}, {"یم", L_FA, 3}, {"ید", L_FA, 3},
    {"ام", L_FA, 2}, {"ش", L_FA, 1},
    /* Arabic */
    {"شون", L_FA, 6}, {"تون", L_FA, 6}, {"مون", L_FA, 6}, {"ون", L_AR, 0}, {"ة", L_AR, 4}, {"ها", L_AR, 0},
    /* English */
    {"ing", L_EN, 6}, {"tion", L_EN, 6}, {"ed", L_EN, 3}, {"ly", L_EN, 4}, {"ght", L_EN, 6},
};

static int word_cmp(const void *a, const void *b) {
    return strcmp(((const word_entry *)a)->word, ((const word_entry *)b)->word);
}

/* The word table is sorted once, then indexed by an open-addressing hash
 * (FNV-1a) on the first entry of each distinct word. */
#define WORD_SLOTS 2048
_Static_assert(SB_ARRAY_LEN(words) < WORD_SLOTS / 2, "keep the word hash at most half full");
static short word_slot[WORD_SLOTS]; /* index into words, or -1 */

static uint32_t hash_bytes(const char *w, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

/* All entries for a word (a word may count for two languages with
 * different weights, e.g. "так"). */
static void score_word(const char *w, size_t len, int *score) {
    for (uint32_t k = hash_bytes(w, len) & (WORD_SLOTS - 1);; k = (k + 1) & (WORD_SLOTS - 1)) {
        int idx = word_slot[k];
        if (idx < 0) return;
        if (strncmp(words[idx].word, w, len) == 0 && words[idx].word[len] == '\0') {
            for (size_t i = (size_t)idx; i < SB_ARRAY_LEN(words) && strcmp(words[i].word, words[idx].word) == 0; i++)
                score[words[i].lang] += words[i].weight;
            return;
        }
    }
}

static unsigned char suffix_len[SB_ARRAY_LEN(suffixes)];
/* Suffixes by their last byte, in table order: suffix_by_last[b][0..count). */
#define SUFFIXES_PER_BYTE_MAX 24
static unsigned char suffix_by_last[256][SUFFIXES_PER_BYTE_MAX];
static unsigned char suffix_by_last_count[256];

static void score_suffix(const char *w, size_t len, int *score) {
    unsigned char last = (unsigned char)w[len - 1];
    for (size_t k = 0; k < suffix_by_last_count[last]; k++) {
        size_t i = suffix_by_last[last][k];
        size_t sl = suffix_len[i];
        if (sl + 2 > len) continue; /* the stem must be at least one more letter */
        if (memcmp(w + len - sl, suffixes[i].suffix, sl) == 0) {
            score[suffixes[i].lang] += suffixes[i].weight;
            return;
        }
    }
}

static pthread_once_t words_once = PTHREAD_ONCE_INIT;
static void words_sort(void) {
    qsort(words, SB_ARRAY_LEN(words), sizeof words[0], word_cmp);
    memset(word_slot, 0xff, sizeof word_slot); /* all -1 */
    for (size_t i = 0; i < SB_ARRAY_LEN(words); i++) {
        if (i > 0 && strcmp(words[i].word, words[i - 1].word) == 0) continue;
        uint32_t k = hash_bytes(words[i].word, strlen(words[i].word)) & (WORD_SLOTS - 1);
        while (word_slot[k] >= 0) k = (k + 1) & (WORD_SLOTS - 1);
        word_slot[k] = (short)i;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(suffixes); i++) {
        size_t sl = strlen(suffixes[i].suffix);
        unsigned char last = (unsigned char)suffixes[i].suffix[sl - 1];
        suffix_len[i] = (unsigned char)sl;
        SB_ASSERT(suffix_by_last_count[last] < SUFFIXES_PER_BYTE_MAX); /* a table invariant, not input */
        suffix_by_last[last][suffix_by_last_count[last]++] = (unsigned char)i;
    }
}

typedef enum { SCRIPT_NONE, SCRIPT_ARABIC, SCRIPT_CYRILLIC, SCRIPT_LATIN, SCRIPT_OTHER } script;

static script script_of(int32_t c) {
    if (c < 0x80) return ((c | 32) >= 'a' && (c | 32) <= 'z') ? SCRIPT_LATIN : SCRIPT_NONE;
    if (c >= 0x0400 && c <= 0x052F) return SCRIPT_CYRILLIC;
    if (c >= 0x0600 && c <= 0x06FF) { /* Arabic letters (category Lo) by range */
        bool letter = (c >= 0x0620 && c <= 0x063F) || (c >= 0x0641 && c <= 0x064A) || c == 0x066E || c == 0x066F ||
                      (c >= 0x0671 && c <= 0x06D3) || c == 0x06D5 || c == 0x06EE || c == 0x06EF ||
                      (c >= 0x06FA && c <= 0x06FC) || c == 0x06FF;
        return letter ? SCRIPT_ARABIC : SCRIPT_NONE;
    }
    if ((c >= 0x0750 && c <= 0x077F) || (c >= 0xFB50 && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF)) {
        utf8proc_category_t cat = utf8proc_category(c);
        return (cat == UTF8PROC_CATEGORY_LO) ? SCRIPT_ARABIC : SCRIPT_NONE;
    }
    if (c >= 0x0400 && c <= 0x052F) return SCRIPT_CYRILLIC;
    if (c >= 0x00C0 && c <= 0x024F && c != 0xD7 && c != 0xF7) return SCRIPT_LATIN;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LO:
        return SCRIPT_OTHER;
    default:
        return SCRIPT_NONE;
    }
}

/* Evidence from a single letter (lowercase). */
static void score_letter(int32_t c, int *score) {
    switch (c) {
    case 0x067E: case 0x0686: case 0x0698: case 0x06AF: score[L_FA] += 30; break; /* پ چ ژ گ */
    case 0x06A9: case 0x06CC: score[L_FA] += 6; break;                           /* ک ی */
    case 0x06F0: case 0x06F1: case 0x06F2: case 0x06F3: case 0x06F4:
    case 0x06F5: case 0x06F6: case 0x06F7: case 0x06F8: case 0x06F9: score[L_FA] += 5; break;
    case 0x0629: score[L_AR] += 30; break;                        /* ة */
    case 0x0649: score[L_AR] += 6; break;                         /* ى */
    case 0x0623: case 0x0625: score[L_AR] += 8; break;            /* أ إ: rare in Persian */
    /* ي ك are no evidence: Persian typed on Arabic keyboards uses them */
    case 0x064B: case 0x064C: case 0x064D: score[L_AR] += 5; break; /* tanween */
    case 0x0679: case 0x0688: case 0x0691: case 0x06BA: case 0x06D2: case 0x06BE: /* Urdu */
    case 0x06B5: case 0x06CE: case 0x06C6: case 0x0695: case 0x06A4:               /* Kurdish */
        score[L_OT] += 30;
        break;
    case 0x0456: case 0x0457: case 0x0454: case 0x0491: score[L_UK] += 30; break; /* і ї є ґ */
    case 0x044B: case 0x044D: case 0x044A: case 0x0451: score[L_RU] += 30; break; /* ы э ъ ё */
    case 0x045E: score[L_OT] += 60; break; /* ў Belarusian */
    case 0x0452: case 0x0458: case 0x0459: case 0x045A: case 0x045B: case 0x045F: /* Serbian */
    case 0x04D9: case 0x0493: case 0x049B: case 0x04A3: case 0x04E9: case 0x04B1: case 0x04AF: case 0x04BB: /* Kazakh */
        score[L_OT] += 30;
        break;
    default:
        if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) score[L_OL] += 4; /* Latin with diacritics */
        break;
    }
}

static bool is_apostrophe(int32_t c) { return c == '\'' || c == 0x2019 || c == 0x02BC || c == '`'; }

#define WORD_BYTES 48

typedef struct {
    int letters[5]; /* per script, in halves (Latin 1, others 2) */
    int score[L_N];
    char word[WORD_BYTES];
    size_t word_len;
    bool word_cut;
    int32_t prev; /* previous code point (lowercased) */
} langid_state;

static void end_word(langid_state *st) {
    if (st->word_len > 0 && !st->word_cut) {
        st->word[st->word_len] = '\0';
        score_word(st->word, st->word_len, st->score);
        /* the Arabic article: ال + a word of 3+ letters (Persian loans such
         * as البته and الان are in the word table for Persian) */
        if (st->word_len >= 10 && memcmp(st->word, "\xd8\xa7\xd9\x84", 4) == 0) st->score[L_AR] += 3;
        score_suffix(st->word, st->word_len, st->score);
    }
    st->word_len = 0;
    st->word_cut = false;
}

static void add_to_word(langid_state *st, int32_t c) {
    if (c == 0x064A || c == 0x0649) c = 0x06CC; /* fold for lookup only */
    else if (c == 0x0643) c = 0x06A9;
    uint8_t enc[4];
    size_t n;
    if (c < 0x80) {
        enc[0] = (uint8_t)c;
        n = 1;
    } else if (c < 0x800) {
        enc[0] = (uint8_t)(0xC0 | (c >> 6));
        enc[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else {
        n = (size_t)utf8proc_encode_char(c, enc);
    }
    if (st->word_len + n >= WORD_BYTES) {
        st->word_cut = true;
        return;
    }
    memcpy(st->word + st->word_len, enc, n);
    st->word_len += n;
}

/* Cut len to SB_TEXT_LANGID_BYTES_MAX at a code point boundary, validate. */
static int prepare(const char *text, size_t *len) {
    if (!text && *len > 0) return SB_EINVAL;
    if (*len > SB_TEXT_LANGID_BYTES_MAX) {
        size_t cut = SB_TEXT_LANGID_BYTES_MAX;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
        *len = cut;
    }
    return (*len == 0 || sb_utf8_valid(text, *len)) ? SB_OK : SB_EINVAL;
}

/* Decode one code point of validated UTF-8 at *pos and advance. */
static int32_t decode(const unsigned char *p, size_t *pos) {
    size_t i = *pos;
    unsigned char b = p[i];
    if (b < 0x80) {
        *pos = i + 1;
        return b;
    }
    if (b < 0xE0) {
        *pos = i + 2;
        return ((int32_t)(b & 0x1F) << 6) | (p[i + 1] & 0x3F);
    }
    if (b < 0xF0) {
        *pos = i + 3;
        return ((int32_t)(b & 0x0F) << 12) | ((int32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
    }
    *pos = i + 4;
    return ((int32_t)(b & 0x07) << 18) | ((int32_t)(p[i + 1] & 0x3F) << 12) | ((int32_t)(p[i + 2] & 0x3F) << 6) |
           (p[i + 3] & 0x3F);
}

/* Lowercase: ASCII and basic Cyrillic by offset, the rest through utf8proc. */
static int32_t lower(int32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0x0410 && c <= 0x042F) return c + 0x20;
    if (c >= 0x0400 && c <= 0x040F) return c + 0x50;
    if ((c >= 0x0430 && c <= 0x045F) || (c >= 0x0600 && c <= 0x06FF)) return c;
    return utf8proc_tolower(c);
}

static bool ascii_prefix_ci(const unsigned char *p, size_t pos, size_t n, const char *lit) {
    size_t k = 0;
    for (; lit[k]; k++)
        if (pos + k >= n || (p[pos + k] | (p[pos + k] >= 'A' && p[pos + k] <= 'Z' ? 32 : 0)) != (unsigned char)lit[k])
            return false;
    return true;
}

/* Links and @mentions say nothing about the language (and their Latin
 * letters would outvote a short Russian tweet): if one starts at pos, return
 * the position after it, else pos. */
static size_t skip_link(const unsigned char *p, size_t pos, size_t n) {
    if (ascii_prefix_ci(p, pos, n, "http://") || ascii_prefix_ci(p, pos, n, "https://") ||
        ascii_prefix_ci(p, pos, n, "www.")) {
        while (pos < n && p[pos] > ' ') pos++;
        return pos;
    }
    unsigned char next = pos + 1 < n ? p[pos + 1] : 0;
    if (p[pos] == '@' && (next == '_' || ((next | 32) >= 'a' && (next | 32) <= 'z') || (next >= '0' && next <= '9'))) {
        pos++;
        while (pos < n && (p[pos] == '_' || p[pos] == '.' || ((p[pos] | 32) >= 'a' && (p[pos] | 32) <= 'z') ||
                           (p[pos] >= '0' && p[pos] <= '9')))
            pos++;
        return pos;
    }
    return pos;
}

static void scan(const char *text, size_t len, langid_state *st, bool with_words) {
    const unsigned char *p = (const unsigned char *)text;
    size_t pos = 0, n = len;
    while (pos < n) {
        if (with_words && st->word_len == 0) {
            size_t skip = skip_link(p, pos, n);
            if (skip != pos) {
                pos = skip;
                st->prev = ' ';
                continue;
            }
        }
        int32_t c = decode(p, &pos); /* validated before */
        c = lower(c);
        script s = script_of(c);
        if (s != SCRIPT_NONE) st->letters[s] += (s == SCRIPT_LATIN) ? 1 : 2;
        if (!with_words) {
            st->prev = c;
            continue;
        }
        score_letter(c, st->score);
        if (s != SCRIPT_NONE) {
            add_to_word(st, c);
        } else if (c >= 0x064B && c <= 0x0655) {
            /* harakat: inside the word, not part of the lookup */
        } else if (c == 0x200C) {
            /* ZWNJ splits می|خواهم for lookup; Arabic hardly writes it */
            if (script_of(st->prev) == SCRIPT_ARABIC) st->score[L_FA] += 5;
            end_word(st);
        } else if (is_apostrophe(c) && script_of(st->prev) == SCRIPT_CYRILLIC && pos < n) {
            /* an apostrophe inside a Cyrillic word is Ukrainian (м'ясо) */
            size_t peek = pos;
            if (script_of(lower(decode(p, &peek))) == SCRIPT_CYRILLIC)
                st->score[L_UK] += 15;
            else
                end_word(st);
        } else if (c != 0x0640) {
            end_word(st);
        }
        st->prev = c;
    }
    if (with_words) end_word(st);
}

static script majority(const langid_state *st, int *share_permille) {
    int total = 0, best = SCRIPT_NONE;
    for (int s = SCRIPT_ARABIC; s <= SCRIPT_OTHER; s++) {
        total += st->letters[s];
        if (st->letters[s] > st->letters[best]) best = s;
    }
    *share_permille = total ? (int)((1000LL * st->letters[best]) / total) : 0;
    return total ? (script)best : SCRIPT_NONE;
}

int text_langid_script_only(const char *text, size_t len, text_lang *out) {
    int rc = prepare(text, &len);
    if (rc != SB_OK) return rc;
    langid_state st;
    memset(&st, 0, sizeof st);
    if (len) scan(text, len, &st, false);
    int share;
    switch (majority(&st, &share)) {
    case SCRIPT_ARABIC: *out = TEXT_LANG_FA; break;
    case SCRIPT_CYRILLIC: *out = TEXT_LANG_RU; break;
    case SCRIPT_LATIN: *out = TEXT_LANG_EN; break;
    default: *out = TEXT_LANG_OTHER; break;
    }
    return SB_OK;
}

/* Pick between a and b (a wins ties) with the "other" score of the family
 * as a third contender; confidence from the margin. */
static text_lang decide(const int *score, int a, int b, int other, text_lang la, text_lang lb, int *margin_out) {
    int best = score[a] >= score[b] ? a : b;
    int second = best == a ? score[b] : score[a];
    if (score[other] > score[best]) {
        *margin_out = score[other] - score[best];
        return TEXT_LANG_OTHER;
    }
    if (score[other] > second) second = score[other];
    *margin_out = score[best] - second;
    return best == a ? la : lb;
}

int text_langid(const char *text, size_t len, text_lang *out, int *confidence_permille) {
    int rc = prepare(text, &len);
    if (rc != SB_OK) return rc;
    pthread_once(&words_once, words_sort);
    langid_state st;
    memset(&st, 0, sizeof st);
    if (len) scan(text, len, &st, true);
    int share;
    script fam = majority(&st, &share);
    int margin = 0;
    text_lang lang;
    switch (fam) {
    case SCRIPT_ARABIC: lang = decide(st.score, L_FA, L_AR, L_OT, TEXT_LANG_FA, TEXT_LANG_AR, &margin); break;
    case SCRIPT_CYRILLIC: lang = decide(st.score, L_RU, L_UK, L_OT, TEXT_LANG_RU, TEXT_LANG_UK, &margin); break;
    case SCRIPT_LATIN:
        lang = decide(st.score, L_EN, L_OL, L_OL, TEXT_LANG_EN, TEXT_LANG_OTHER, &margin);
        if (st.score[L_FA] > st.score[L_EN] && st.score[L_FA] >= st.score[L_OL]) { /* Finglish */
            margin = st.score[L_FA] - (st.score[L_EN] > st.score[L_OL] ? st.score[L_EN] : st.score[L_OL]);
            lang = TEXT_LANG_FA;
        }
        break;
    case SCRIPT_OTHER: lang = TEXT_LANG_OTHER; margin = 30; break;
    default: lang = TEXT_LANG_OTHER; margin = 0; break;
    }
    if (confidence_permille) {
        /* share of the script family times how decided the choice within it is */
        int within = margin >= 40 ? 1000 : 500 + margin * 500 / 40;
        int conf = (int)((long long)share * within / 1000);
        if (fam == SCRIPT_NONE) conf = 100;
        *confidence_permille = conf < 0 ? 0 : (conf > 1000 ? 1000 : conf);
    }
    *out = lang;
    return SB_OK;
}

static const char *const lang_codes[TEXT_LANG_COUNT] = {"other", "fa", "ar", "uk", "ru", "en"};

const char *text_lang_code(text_lang lang) {
    return ((unsigned)lang < TEXT_LANG_COUNT) ? lang_codes[lang] : "other";
}

int text_lang_parse(const char *code, text_lang *out) {
    if (!code) return SB_EINVAL;
    for (int i = 0; i < TEXT_LANG_COUNT; i++)
        if (strcmp(code, lang_codes[i]) == 0) {
            *out = (text_lang)i;
            return SB_OK;
        }
    return SB_EINVAL;
}
