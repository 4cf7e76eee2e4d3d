/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by every source file of the library: export markers,
 * cleanup guards and errno protection, in systemd's manner. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _public_      __attribute__((visibility("default")))
#define _cleanup_(f)  __attribute__((cleanup(f)))
#define _likely_(x)   __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)
#define _unused_      __attribute__((unused))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define STRLEN(s)     (sizeof(s) - 1)

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void errno_restore(const int *saved) {
        errno = *saved;
}
/* No trail call changes the caller's errno. */
#define PROTECT_ERRNO _cleanup_(errno_restore) _unused_ const int protect_errno_ = errno

static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = __builtin_strlen(prefix);
        return __builtin_strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

#define atomic_inc(p) __atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define atomic_get(p) __atomic_load_n((p), __ATOMIC_RELAXED)
