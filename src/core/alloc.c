/*
 * alloc.c - the one allocation wrapper.
 *
 * Every heap allocation in SocialBank goes through sb_malloc and friends so a
 * test build can fail the Nth allocation (sb_alloc_fail_after) and show that
 * nothing leaks or crashes when memory runs out.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Allocations left before injected failure; negative means never fail. */
static atomic_long alloc_budget = -1;

static bool alloc_should_fail(void) {
    long budget = atomic_load_explicit(&alloc_budget, memory_order_relaxed);
    if (budget < 0) return false;
    for (;;) {
        if (budget == 0) return true;
        if (atomic_compare_exchange_weak(&alloc_budget, &budget, budget - 1)) return false;
        if (budget < 0) return false;
    }
}

void sb_alloc_fail_after(long count) { atomic_store(&alloc_budget, count < 0 ? -1 : count); }
void sb_alloc_fail_reset(void) { atomic_store(&alloc_budget, -1); }

void *sb_malloc(size_t size) {
    if (alloc_should_fail()) return NULL;
    return malloc(size ? size : 1);
}

void *sb_calloc(size_t count, size_t size) {
    if (alloc_should_fail()) return NULL;
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

void *sb_realloc(void *ptr, size_t size) {
    if (alloc_should_fail()) return NULL;
    return realloc(ptr, size ? size : 1);
}

void sb_free(void *ptr) { free(ptr); }

char *sb_strndup(const char *s, size_t len) {
    char *copy = sb_malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *sb_strdup(const char *s) { return sb_strndup(s, strlen(s)); }
