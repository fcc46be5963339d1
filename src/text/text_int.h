/*
 * text_int.h - internals of the text module that the tests look at: the
 * signal lexicon, so a test can check every pattern is in normalised form.
 */
#ifndef SB_TEXT_INT_H
#define SB_TEXT_INT_H

#include <stddef.h>

/* Number of patterns in the signal lexicon (risks, life events, bank spellings). */
size_t text_signals_lexicon_size(void);
/* Pattern i (0 <= i < size) as written in the table, '*' marks included; NULL past the end. */
const char *text_signals_lexicon_pattern(size_t i);

#endif /* SB_TEXT_INT_H */
