/*
 * banks.c - the banks of Iran's Shetab network: names, Sheba bank codes and
 * card BINs (issuer identification numbers, the first six card digits).
 *
 * Sources: the BIN and Sheba code tables published with persian-tools
 * (github.com/persian-tools/persian-tools:
 * src/modules/getBankNameFromCardNumber/banksCode.skip.ts and
 * src/modules/sheba/codes.skip.ts), cross-checked against the Central Bank's
 * Shetab member list as commonly republished.  581874 (Iran-Venezuela) is
 * not in persian-tools; it comes from the same public BIN lists.  Ansar,
 * Ghavamin, Hekmat Iranian, Kosar and Mehr Eqtesad merged into Bank Sepah
 * in 2019-2020; their cards and Sheba codes are still in circulation, so
 * they keep their own entries (names say so).
 *
 * Lookups are linear over a few dozen entries: simpler than a hash and far
 * below anything that could matter.
 */
#include <string.h>

#include "payments/payments.h"

enum {
    BANK_CENTRAL,
    BANK_SANAT_MADAN,
    BANK_MELLAT,
    BANK_REFAH,
    BANK_MASKAN,
    BANK_SEPAH,
    BANK_KESHAVARZI,
    BANK_MELLI,
    BANK_TEJARAT,
    BANK_SADERAT,
    BANK_TOSEE_SADERAT,
    BANK_POST,
    BANK_TOSEE_TAAVON,
    BANK_TOSEE,
    BANK_GHAVAMIN,
    BANK_KARAFARIN,
    BANK_PARSIAN,
    BANK_EGHTESAD_NOVIN,
    BANK_SAMAN,
    BANK_PASARGAD,
    BANK_SARMAYEH,
    BANK_SINA,
    BANK_MEHR_IRAN,
    BANK_SHAHR,
    BANK_AYANDEH,
    BANK_ANSAR,
    BANK_GARDESHGARI,
    BANK_HEKMAT,
    BANK_DEY,
    BANK_IRAN_ZAMIN,
    BANK_RESALAT,
    BANK_KOSAR,
    BANK_MELAL,
    BANK_KHAVARMIANEH,
    BANK_MEHR_EQTESAD,
    BANK_NOOR,
    BANK_IRAN_VENEZUELA,
    BANK_COUNT
};

static const payments_bank banks[BANK_COUNT] = {
    [BANK_CENTRAL] = {"central-bank", "Central Bank of Iran", "بانک مرکزی جمهوری اسلامی ایران", "010"},
    [BANK_SANAT_MADAN] = {"sanat-madan", "Bank of Industry and Mine", "بانک صنعت و معدن", "011"},
    [BANK_MELLAT] = {"mellat", "Bank Mellat", "بانک ملت", "012"},
    [BANK_REFAH] = {"refah", "Refah Kargaran Bank", "بانک رفاه کارگران", "013"},
    [BANK_MASKAN] = {"maskan", "Bank Maskan", "بانک مسکن", "014"},
    [BANK_SEPAH] = {"sepah", "Bank Sepah", "بانک سپه", "015"},
    [BANK_KESHAVARZI] = {"keshavarzi", "Bank Keshavarzi", "بانک کشاورزی", "016"},
    [BANK_MELLI] = {"melli", "Bank Melli Iran", "بانک ملی ایران", "017"},
    [BANK_TEJARAT] = {"tejarat", "Tejarat Bank", "بانک تجارت", "018"},
    [BANK_SADERAT] = {"saderat", "Bank Saderat Iran", "بانک صادرات ایران", "019"},
    [BANK_TOSEE_SADERAT] = {"tosee-saderat", "Export Development Bank of Iran", "بانک توسعه صادرات ایران", "020"},
    [BANK_POST] = {"post", "Post Bank of Iran", "پست بانک ایران", "021"},
    [BANK_TOSEE_TAAVON] = {"tosee-taavon", "Tosee Taavon Bank", "بانک توسعه تعاون", "022"},
    [BANK_TOSEE] = {"tosee", "Tosee Credit Institution", "موسسه اعتباری توسعه", "051"},
    [BANK_GHAVAMIN] = {"ghavamin", "Ghavamin Bank (merged into Sepah)", "بانک قوامین", "052"},
    [BANK_KARAFARIN] = {"karafarin", "Karafarin Bank", "بانک کارآفرین", "053"},
    [BANK_PARSIAN] = {"parsian", "Parsian Bank", "بانک پارسیان", "054"},
    [BANK_EGHTESAD_NOVIN] = {"eghtesad-novin", "EN Bank (Eghtesad Novin)", "بانک اقتصاد نوین", "055"},
    [BANK_SAMAN] = {"saman", "Saman Bank", "بانک سامان", "056"},
    [BANK_PASARGAD] = {"pasargad", "Bank Pasargad", "بانک پاسارگاد", "057"},
    [BANK_SARMAYEH] = {"sarmayeh", "Sarmayeh Bank", "بانک سرمایه", "058"},
    [BANK_SINA] = {"sina", "Sina Bank", "بانک سینا", "059"},
    [BANK_MEHR_IRAN] = {"mehr-iran", "Gharzolhasaneh Mehr Iran Bank",
                        "بانک قرض‌الحسنه مهر ایران", "060"},
    [BANK_SHAHR] = {"shahr", "Shahr Bank", "بانک شهر", "061"},
    [BANK_AYANDEH] = {"ayandeh", "Ayandeh Bank", "بانک آینده", "062"},
    [BANK_ANSAR] = {"ansar", "Ansar Bank (merged into Sepah)", "بانک انصار", "063"},
    [BANK_GARDESHGARI] = {"gardeshgari", "Tourism Bank (Gardeshgari)", "بانک گردشگری", "064"},
    [BANK_HEKMAT] = {"hekmat", "Hekmat Iranian Bank (merged into Sepah)", "بانک حکمت ایرانیان", "065"},
    [BANK_DEY] = {"dey", "Dey Bank", "بانک دی", "066"},
    [BANK_IRAN_ZAMIN] = {"iran-zamin", "Iran Zamin Bank", "بانک ایران زمین", "069"},
    [BANK_RESALAT] = {"resalat", "Resalat Gharzolhasaneh Bank", "بانک قرض‌الحسنه رسالت", "070"},
    [BANK_KOSAR] = {"kosar", "Kosar Credit Institution (merged into Sepah)", "موسسه اعتباری کوثر", "073"},
    [BANK_MELAL] = {"melal", "Melal Credit Institution", "موسسه اعتباری ملل", "075"},
    [BANK_KHAVARMIANEH] = {"khavarmianeh", "Middle East Bank", "بانک خاورمیانه", "078"},
    [BANK_MEHR_EQTESAD] = {"mehr-eqtesad", "Mehr Eqtesad Bank (merged into Sepah)", "بانک مهر اقتصاد", "079"},
    [BANK_NOOR] = {"noor", "Noor Credit Institution", "موسسه اعتباری نور", "080"},
    [BANK_IRAN_VENEZUELA] = {"iran-venezuela", "Iran-Venezuela Bi-National Bank", "بانک ایران و ونزوئلا", "095"},
};

typedef struct {
    char bin[7];
    int bank;
} bin_entry;

static const bin_entry bins[] = {
    {"636795", BANK_CENTRAL},        {"636797", BANK_CENTRAL},        {"627961", BANK_SANAT_MADAN},
    {"610433", BANK_MELLAT},         {"991975", BANK_MELLAT},         {"589463", BANK_REFAH},
    {"628023", BANK_MASKAN},         {"589210", BANK_SEPAH},          {"603770", BANK_KESHAVARZI},
    {"639217", BANK_KESHAVARZI},     {"603799", BANK_MELLI},          {"170019", BANK_MELLI},
    {"627353", BANK_TEJARAT},        {"585983", BANK_TEJARAT},        {"603769", BANK_SADERAT},
    {"903769", BANK_SADERAT},        {"627648", BANK_TOSEE_SADERAT},  {"207177", BANK_TOSEE_SADERAT},
    {"627760", BANK_POST},           {"502908", BANK_TOSEE_TAAVON},   {"628157", BANK_TOSEE},
    {"639599", BANK_GHAVAMIN},       {"627488", BANK_KARAFARIN},      {"502910", BANK_KARAFARIN},
    {"622106", BANK_PARSIAN},        {"627884", BANK_PARSIAN},        {"639194", BANK_PARSIAN},
    {"627412", BANK_EGHTESAD_NOVIN}, {"621986", BANK_SAMAN},          {"502229", BANK_PASARGAD},
    {"639347", BANK_PASARGAD},       {"639607", BANK_SARMAYEH},       {"639346", BANK_SINA},
    {"606373", BANK_MEHR_IRAN},      {"502806", BANK_SHAHR},          {"504706", BANK_SHAHR},
    {"636214", BANK_AYANDEH},        {"627381", BANK_ANSAR},          {"505416", BANK_GARDESHGARI},
    {"505426", BANK_GARDESHGARI},    {"636949", BANK_HEKMAT},         {"502938", BANK_DEY},
    {"505785", BANK_IRAN_ZAMIN},     {"504172", BANK_RESALAT},        {"505801", BANK_KOSAR},
    {"606256", BANK_MELAL},          {"585947", BANK_KHAVARMIANEH},   {"639370", BANK_MEHR_EQTESAD},
    {"507677", BANK_NOOR},           {"581874", BANK_IRAN_VENEZUELA},
};

/* Sheba bank codes; 090 is a second code of Mehr Iran (persian-tools). */
typedef struct {
    char code[4];
    int bank;
} sheba_entry;

static const sheba_entry extra_sheba_codes[] = {
    {"090", BANK_MEHR_IRAN},
};

const payments_bank *payments_bank_by_bin(const char bin[6]) {
    if (!bin) return NULL;
    for (size_t i = 0; i < SB_ARRAY_LEN(bins); i++)
        if (memcmp(bins[i].bin, bin, 6) == 0) return &banks[bins[i].bank];
    return NULL;
}

const payments_bank *payments_bank_by_sheba_code(const char code[3]) {
    if (!code) return NULL;
    for (size_t i = 0; i < BANK_COUNT; i++)
        if (banks[i].sheba_code && memcmp(banks[i].sheba_code, code, 3) == 0) return &banks[i];
    for (size_t i = 0; i < SB_ARRAY_LEN(extra_sheba_codes); i++)
        if (memcmp(extra_sheba_codes[i].code, code, 3) == 0) return &banks[extra_sheba_codes[i].bank];
    return NULL;
}

const payments_bank *payments_banks(size_t *count_out) {
    if (count_out) *count_out = BANK_COUNT;
    return banks;
}

bool payments_bin_at(size_t index, const char **bin_out, const payments_bank **bank_out) {
    if (index >= SB_ARRAY_LEN(bins)) return false;
    if (bin_out) *bin_out = bins[index].bin;
    if (bank_out) *bank_out = &banks[bins[index].bank];
    return true;
}
