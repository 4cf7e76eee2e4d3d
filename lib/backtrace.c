/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BACKTRACE=: the calling thread's stack, one frame per line, symbolised
 * with dladdr() into the thread's buffer. backtrace_symbols() would malloc
 * for every record; dladdr() does not, and names the same (dynamic) symbols. */

#include <dlfcn.h>
#include <execinfo.h>
#include <string.h>

#include "pipeline-private.h"

#define FRAMES_MAX 64

static int bt_level = -1; /* atomic */

_public_ int trail_set_backtrace_level(int level) {
        if (level < -1 || level > TRAIL_DEBUG)
                return -EINVAL;
        if (level >= 0) {
                /* glibc loads libgcc_s on the first backtrace(), which
                 * allocates: do it now rather than in a record. */
                void *warm[2];
                (void) backtrace(warm, 2);
        }
        __atomic_store_n(&bt_level, level, __ATOMIC_RELAXED);
        return 0;
}

int backtrace_level(void) {
        return __atomic_load_n(&bt_level, __ATOMIC_RELAXED);
}

static char *put_hex(char *p, uintptr_t v) {
        char tmp[2 * sizeof(v)];
        size_t n = 0;

        *p++ = '0';
        *p++ = 'x';
        do
                tmp[n++] = "0123456789abcdef"[v & 15];
        while ((v >>= 4) > 0);
        while (n > 0)
                *p++ = tmp[--n];
        return p;
}

/* "#0  0x55d0c1a2b3c4 handle_request+0x1f (/usr/bin/myd)" per frame. */
size_t backtrace_render(struct tls_state *t, const void *caller) {
        void *frames[FRAMES_MAX];
        size_t first = 0, bound = 0;
        int n;
        char *p, *start;

        n = backtrace(frames, FRAMES_MAX);
        if (n <= 0)
                return 0;
        /* Leave out trail's own frames: start at the caller of trail__log(). */
        for (int i = 0; i < n; i++)
                if (frames[i] == caller) {
                        first = (size_t) i;
                        break;
                }
        for (size_t i = first; i < (size_t) n; i++) {
                Dl_info info = {};
                (void) dladdr(frames[i], &info);
                bound += 64 + (info.dli_sname ? strlen(info.dli_sname) : 0) +
                         (info.dli_fname ? strlen(info.dli_fname) : 0);
        }
        if (!t->backtrace)
                t->backtrace = es_newStr(4096);
        if (!t->backtrace)
                return 0;
        es_emptyStr(t->backtrace);
        if (buf_reserve(&t->backtrace, bound) < 0)
                return 0;
        start = p = (char *) es_getBufAddr(t->backtrace);
        for (size_t i = first; i < (size_t) n; i++) {
                Dl_info info = {};
                (void) dladdr(frames[i], &info);
                if (p != start)
                        *p++ = '\n';
                *p++ = '#';
                p += format_uint(p, i - first);
                *p++ = ' ';
                p = put_hex(p, (uintptr_t) frames[i]);
                if (info.dli_sname) {
                        size_t k = strlen(info.dli_sname);
                        *p++ = ' ';
                        memcpy(p, info.dli_sname, k);
                        p += k;
                        *p++ = '+';
                        p = put_hex(p, (uintptr_t) frames[i] - (uintptr_t) info.dli_saddr);
                }
                if (info.dli_fname) {
                        size_t k = strlen(info.dli_fname);
                        *p++ = ' ';
                        *p++ = '(';
                        memcpy(p, info.dli_fname, k);
                        p += k;
                        *p++ = ')';
                }
        }
        t->backtrace->lenStr = (es_size_t) (p - start);
        return (size_t) (p - start);
}
