/*
 * fuzz_listening_formats.c - libFuzzer target for the file formats
 * `socialbank ingest` reads (listening_formats[]: JSONL, CSV, the Telegram
 * export): the same bytes go to every format.  None may crash, leak or read
 * out of bounds; every record is either a post (with its strings inside the
 * input's life and a text of the length it claims) or a rejection with a
 * reason; lines only move forward; the end comes; each post goes through
 * the post check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listening/listening.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    for (size_t k = 0; listening_formats[k]; k++) {
        const listening_format *f = listening_formats[k];
        void *state = NULL;
        const char *reason = NULL;
        int rc = f->open(text, size, &state, &reason);
        if (rc != SB_OK) {
            if (rc == SB_EINVAL && !reason) abort();
            continue;
        }
        size_t last_line = 0;
        for (int records = 0;; records++) {
            if (records > (int)size + 2) abort(); /* no progress */
            listening_post p;
            memset(&p, 0, sizeof p);
            size_t line = 0;
            reason = NULL;
            rc = f->next(state, &p, &line, &reason);
            if (rc < 0 && rc != SB_ENOMEM) abort();
            if (rc <= 0) break;
            if (line == 0 || line < last_line) abort();
            last_line = line;
            if (f->position(state) > size) abort();
            if (reason) continue;
            /* Touch every byte a post claims (ASan checks the bounds). */
            volatile size_t sum = 0;
            for (size_t i = 0; p.text && i < p.text_len; i++)
                sum += (unsigned char)p.text[i];
            sum += p.source ? strlen(p.source) : 0;
            sum += p.author ? strlen(p.author) : 0;
            sum += p.external_id ? strlen(p.external_id) : 0;
            (void)sum;
            const char *why = NULL;
            (void)listening_post_check(&p, 1795219200000LL, &why);
        }
        f->close(state);
    }
    return 0;
}
