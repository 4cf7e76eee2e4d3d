/* SPDX-License-Identifier: MIT */
/*
 * A malloc interposer for tests that makes one chosen heap allocation fail:
 * while armed, allocations on every thread are numbered from 1, and the one
 * numbered fail_at returns NULL with errno = ENOMEM. strdup(), asprintf()
 * and the like inside glibc, libestr and libsystemd reach these through
 * their malloc calls (except where ASan intercepts strdup itself).
 * It works under ASan (whose malloc it calls) and under valgrind with
 * --soname-synonyms=somalloc=nouserintercepts (so that valgrind replaces
 * the allocator underneath, not this one).
 */
#pragma once

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* ASan calls malloc while it starts, before its shadow memory exists: none
 * of this may be instrumented. */
#define AF_NOASAN __attribute__((no_sanitize_address))

static bool af_armed;
static unsigned long af_seq;     /* allocations seen while armed */
static unsigned long af_fail_at; /* the one that fails; 0: none */
static unsigned long af_injected;
static bool af_persist; /* every allocation from fail_at on fails, not just that one */
/* Under ASan, only threads that called af_thread_counts() see failures: a
 * thread trail starts (the async worker) allocates inside ASan's own thread
 * set-up, which aborts when that fails. valgrind runs cover those threads. */
#if defined(__SANITIZE_ADDRESS__)
#define AF_KNOWN_THREADS_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AF_KNOWN_THREADS_ONLY 1
#endif
#endif
#ifndef AF_KNOWN_THREADS_ONLY
#define AF_KNOWN_THREADS_ONLY 0
#endif
static __thread bool af_known_thread;

static inline void af_thread_counts(void) {
        af_known_thread = true;
}

/* The allocator underneath: glibc's, valgrind's replacement of it, or
 * ASan's, whichever comes next in the lookup order. */
static struct {
        void *(*malloc)(size_t);
        void *(*calloc)(size_t, size_t);
        void *(*realloc)(void *, size_t);
        void *(*memalign)(size_t, size_t);
        void (*free)(void *);
} af_next;

/* dlsym() may allocate before af_next is known: from here, never freed. */
static _Alignas(64) char af_boot[16384];
static size_t af_boot_used;
static __thread bool af_resolving;

AF_NOASAN static inline bool af_is_boot(const void *p) {
        return (const char *) p >= af_boot && (const char *) p < af_boot + sizeof(af_boot);
}

AF_NOASAN static void *af_boot_alloc(size_t n) {
        size_t off = __atomic_fetch_add(&af_boot_used, (n + 63) & ~(size_t) 63, __ATOMIC_RELAXED);
        if (off + n > sizeof(af_boot))
                return NULL;
        return af_boot + off; /* static: already zero */
}

AF_NOASAN static bool af_resolve(void) {
        if (__atomic_load_n(&af_next.free, __ATOMIC_ACQUIRE))
                return true;
        if (af_resolving)
                return false;
        af_resolving = true;
        af_next.malloc = (void *(*) (size_t)) dlsym(RTLD_NEXT, "malloc");
        af_next.calloc = (void *(*) (size_t, size_t)) dlsym(RTLD_NEXT, "calloc");
        af_next.realloc = (void *(*) (void *, size_t)) dlsym(RTLD_NEXT, "realloc");
        af_next.memalign = (void *(*) (size_t, size_t)) dlsym(RTLD_NEXT, "memalign");
        __atomic_store_n(&af_next.free, (void (*)(void *)) dlsym(RTLD_NEXT, "free"),
                         __ATOMIC_RELEASE);
        af_resolving = false;
        return af_next.free != NULL;
}

AF_NOASAN static inline bool af_fail_now(void) {
        if (!__atomic_load_n(&af_armed, __ATOMIC_ACQUIRE))
                return false;
        if (AF_KNOWN_THREADS_ONLY && !af_known_thread)
                return false;
        unsigned long n = __atomic_add_fetch(&af_seq, 1, __ATOMIC_RELAXED);
        unsigned long at = __atomic_load_n(&af_fail_at, __ATOMIC_RELAXED);
        if (n != at && !(n > at && __atomic_load_n(&af_persist, __ATOMIC_RELAXED)))
                return false;
        __atomic_add_fetch(&af_injected, 1, __ATOMIC_RELAXED);
        errno = ENOMEM;
        return true;
}

/* Allocation number n (from 1) fails: only that one, or (af_set_persist)
 * that one and every later one until af_disarm(). */
static inline void af_set_persist(bool persist) {
        __atomic_store_n(&af_persist, persist, __ATOMIC_RELAXED);
}

static inline void af_arm(unsigned long n) {
        __atomic_store_n(&af_seq, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&af_injected, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&af_fail_at, n, __ATOMIC_RELAXED);
        __atomic_store_n(&af_armed, true, __ATOMIC_RELEASE);
}

/* Returns whether a failure was injected since af_arm(). */
static inline bool af_disarm(void) {
        __atomic_store_n(&af_armed, false, __ATOMIC_RELEASE);
        return __atomic_load_n(&af_injected, __ATOMIC_RELAXED) > 0;
}

/* How many allocations the armed stretch made. */
static inline unsigned long af_count(void) {
        return __atomic_load_n(&af_seq, __ATOMIC_RELAXED);
}

AF_NOASAN void *malloc(size_t n) {
        if (!af_resolve())
                return af_boot_alloc(n);
        return af_fail_now() ? NULL : af_next.malloc(n);
}
AF_NOASAN void *calloc(size_t k, size_t n) {
        if (!af_resolve())
                return n && k > SIZE_MAX / n ? NULL : af_boot_alloc(k * n);
        return af_fail_now() ? NULL : af_next.calloc(k, n);
}
/* realloc(p, 0) frees: that never fails. */
AF_NOASAN void *realloc(void *p, size_t n) {
        if (!af_resolve() || af_is_boot(p))
                return NULL; /* not expected: nothing reallocates while resolving */
        return n > 0 && af_fail_now() ? NULL : af_next.realloc(p, n);
}
AF_NOASAN void *memalign(size_t align, size_t n) {
        if (!af_resolve())
                return NULL;
        return af_fail_now() ? NULL : af_next.memalign(align, n);
}
AF_NOASAN void *aligned_alloc(size_t align, size_t n) {
        return memalign(align, n);
}
AF_NOASAN int posix_memalign(void **ret, size_t align, size_t n) {
        void *p;

        if (align < sizeof(void *) || (align & (align - 1)) != 0)
                return EINVAL;
        p = memalign(align, n);
        if (!p)
                return ENOMEM;
        *ret = p;
        return 0;
}
AF_NOASAN void free(void *p) {
        if (!p || af_is_boot(p))
                return;
        if (af_resolve())
                af_next.free(p);
}
