/* SPDX-License-Identifier: MIT */
/*
 * A malloc interposer for tests: counts the heap allocations made while
 * `counting` is set. Include it in exactly one file of a test program.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static unsigned long allocations;
static bool counting;

void *malloc(size_t n) {
        if (counting)
                allocations++;
        return __libc_malloc(n);
}
void *calloc(size_t k, size_t n) {
        if (counting)
                allocations++;
        return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n) {
        if (counting)
                allocations++;
        return __libc_realloc(p, n);
}
void free(void *p) {
        __libc_free(p);
}
