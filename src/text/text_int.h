/*
 * text_int.h - internals of the text module that the tests look at: the
 * signal lexicon (every pattern must be in normalised form) and the
 * normaliser without its fast path.
 */
#ifndef SB_TEXT_INT_H
#define SB_TEXT_INT_H

#include <stddef.h>

#include "core/core.h"

/* Number of patterns in the signal lexicon (risks, life events, bank spellings). */
size_t text_signals_lexicon_size(void);
/* Pattern i (0 <= i < size) as written in the table, '*' marks included; NULL past the end. */
const char *text_signals_lexicon_pattern(size_t i);

/* text_normalize without its fast path: always through utf8proc.  The fuzz
 * target and the tests check that both give the same text. */
int text_normalize_reference(const char *in, size_t len, sb_buf *out) SB_MUST_CHECK;

#endif /* SB_TEXT_INT_H */
