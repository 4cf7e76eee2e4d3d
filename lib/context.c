/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Context fields (per thread, pushed and popped like a stack) and global
 * fields (every thread). Both are copied into a field store when set, so the
 * caller's strings need not outlive the call. Global fields are published
 * with a generation number; each thread copies them when it changes, so a
 * record reads them without a lock. */

#include <string.h>

#include "pipeline-private.h"

static int arena_reserve(struct field_store *s, size_t extra) {
        if (s->arena_cap - s->arena_len >= extra)
                return 0;
        size_t cap = s->arena_cap ? s->arena_cap : 256;
        while (cap - s->arena_len < extra) {
                if (cap > SIZE_MAX / 2)
                        return -ENOMEM;
                cap *= 2;
        }
        char *p = realloc(s->arena, cap);
        if (!p)
                return -ENOMEM;
        s->arena = p;
        s->arena_cap = cap;
        return 0;
}

static int fields_reserve(struct field_store *s, size_t extra) {
        if (s->cap - s->n >= extra)
                return 0;
        size_t cap = s->cap ? s->cap : 8;
        while (cap - s->n < extra) {
                if (cap > SIZE_MAX / 2 / sizeof(*s->f))
                        return -ENOMEM;
                cap *= 2;
        }
        struct stored_field *p = realloc(s->f, cap * sizeof(*p));
        if (!p)
                return -ENOMEM;
        s->f = p;
        s->cap = cap;
        return 0;
}

static size_t arena_put(struct field_store *s, const void *p, size_t n) {
        size_t off = s->arena_len;
        if (n)
                memcpy(s->arena + off, p, n);
        s->arena_len += n;
        return off;
}

/* All or nothing: on error the store is as it was. */
int field_store_append(struct field_store *s, trail_fields fields) {
        size_t n0 = s->n, arena0 = s->arena_len;
        int r;

        if (fields.n > 0 && !fields.fields)
                return -EINVAL;
        r = fields_reserve(s, fields.n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < fields.n; i++) {
                const trail_field *uf = &fields.fields[i];
                char name[FIELD_NAME_MAX + 2], given[REDACT_TAIL_MAX];
                const char *value = NULL;
                size_t name_len, given_len = 0, value_len = 0;
                bool renamed = false;

                if (uf->type < TRAIL_FIELD_STR || uf->type > TRAIL_FIELD_ERRNO) {
                        r = -EINVAL;
                        goto fail;
                }
                if (!field_name_is_valid(uf->name, &name_len)) {
                        name_len = field_name_normalise(uf->name, name, &renamed);
                        if (name_len == 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        atomic_inc(&trail_stat_fields_renamed);
                        /* kept for redaction, which judges the name as
                         * given too, with the list in force at each record */
                        given_len = redact_given_tail(uf->name, given);
                } else
                        memcpy(name, uf->name, name_len);

                if (uf->type == TRAIL_FIELD_STR) {
                        value = uf->value.s ? uf->value.s : "(null)";
                        value_len = strlen(value);
                } else if (uf->type == TRAIL_FIELD_BYTES && uf->value.p) {
                        value = uf->value.p;
                        value_len = uf->len;
                }

                r = arena_reserve(s, name_len + given_len + value_len);
                if (r < 0)
                        goto fail;

                struct stored_field *sf = &s->f[s->n++];
                *sf = (struct stored_field){
                        .name_off = (uint32_t) arena_put(s, name, name_len),
                        .name_len = (uint32_t) name_len,
                        .given_off = (uint32_t) arena_put(s, given, given_len),
                        .given_len = (uint32_t) given_len,
                        .type = uf->type,
                };
                if (value)
                        sf->off = arena_put(s, value, value_len), sf->len = value_len;
                else if (uf->type == TRAIL_FIELD_ERRNO)
                        sf->v.i = errno_abs(uf->value.i);
                else if (uf->type == TRAIL_FIELD_DOUBLE)
                        sf->v.d = uf->value.d;
                else if (uf->type == TRAIL_FIELD_BOOL)
                        sf->v.b = uf->value.b;
                else
                        sf->v.u = uf->value.u;
        }
        return 0;

fail:
        s->n = n0;
        s->arena_len = arena0;
        return r;
}

int field_store_copy(struct field_store *dst, const struct field_store *src) {
        dst->n = 0;
        dst->arena_len = 0;
        if (fields_reserve(dst, src->n) < 0 || arena_reserve(dst, src->arena_len) < 0)
                return -ENOMEM;
        if (src->n)
                memcpy(dst->f, src->f, src->n * sizeof(*src->f));
        if (src->arena_len)
                memcpy(dst->arena, src->arena, src->arena_len);
        dst->n = src->n;
        dst->arena_len = src->arena_len;
        return 0;
}

/* ---- Context ------------------------------------------------------------ */

static int context_push(trail_fields fields) {
        struct tls_state *t = tls_state_get();
        int r;

        if (!t)
                return -ENOMEM;
        if (t->n_frames >= INT32_MAX)
                return -E2BIG;
        if (t->n_frames == t->frames_cap) {
                size_t cap = t->frames_cap ? t->frames_cap * 2 : 8;
                struct context_frame *p = realloc(t->frames, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->frames = p;
                t->frames_cap = cap;
        }

        struct context_frame frame = {.n = t->context.n, .arena_len = t->context.arena_len};
        r = field_store_append(&t->context, fields);
        if (r < 0)
                return r;
        t->frames[t->n_frames] = frame;
        return (int) t->n_frames++;
}

_public_ int trail_context_push(trail_fields fields) {
        PROTECT_ERRNO;
        int r;

        if (fields.n > 0 && !fields.fields)
                return -EINVAL;
        /* From a handler, a filter or a signal handler that interrupted
         * trail: the record being built points into the context. */
        if (thread_busy > 0)
                return -EDEADLK;
        thread_busy_enter();
        r = context_push(fields);
        thread_busy_leave();
        return r;
}

_public_ void trail_context_pop(int token) {
        struct tls_state *t;

        /* Ignored where trail_context_push() is refused. */
        if (thread_busy > 0)
                return;
        t = tls_state_peek();
        if (!t || token < 0 || (size_t) token >= t->n_frames)
                return;
        thread_busy_enter();
        t->context.n = t->frames[token].n;
        t->context.arena_len = t->frames[token].arena_len;
        t->n_frames = (size_t) token;
        thread_busy_leave();
}

/* ---- Global fields ------------------------------------------------------ */

/* Two layers: the program's (trail_set_global_fields()) and the operator's
 * (trail.conf's "fields ="); each replaces only its own. A thread's copy is
 * the program's fields, then the configuration's, and log.c's merge lets a
 * later field replace an earlier one of the same name: on a name set in
 * both, the operator's value is the one records carry. */
static pthread_mutex_t globals_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fork_hooks globals_fork = {.mutex = &globals_lock};
__attribute__((constructor)) static void globals_fork_register(void) {
        fork_hooks_register(FORK_RANK_GLOBALS, &globals_fork);
}
static struct field_store globals[_GLOBALS_LAYER_MAX];
static uint64_t globals_gen; /* changes with every change of either layer */

int globals_prepare(trail_fields fields, struct field_store *ret) {
        struct field_store next = {};
        int r;

        r = field_store_append(&next, fields);
        if (r < 0) {
                field_store_free(&next);
                return r;
        }
        *ret = next;
        return 0;
}

void globals_publish(enum globals_layer layer, struct field_store *s) {
        /* a record logged meanwhile by a signal handler would wait for the lock */
        thread_busy_enter();
        pthread_mutex_lock(&globals_lock);
        field_store_free(&globals[layer]);
        globals[layer] = *s;
        *s = (struct field_store){};
        __atomic_add_fetch(&globals_gen, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&globals_lock);
        thread_busy_leave();
}

_public_ int trail_set_global_fields(trail_fields fields) {
        PROTECT_ERRNO;
        struct field_store next;
        int r;

        /* From a handler, a filter or a signal handler that interrupted
         * trail: the record being built may be copying the global fields,
         * holding globals_lock. */
        if (thread_busy > 0)
                return -EDEADLK;
        thread_busy_enter();
        r = globals_prepare(fields, &next);
        if (r >= 0)
                globals_publish(GLOBALS_PROGRAM, &next);
        thread_busy_leave();
        return r < 0 ? r : 0;
}

/* dst = a then b, in one store; b's offsets moved past a's arena. */
static int field_store_join(struct field_store *dst, const struct field_store *a,
                            const struct field_store *b) {
        if (field_store_copy(dst, a) < 0 || fields_reserve(dst, b->n) < 0 ||
            arena_reserve(dst, b->arena_len) < 0)
                return -ENOMEM;
        size_t base = arena_put(dst, b->arena, b->arena_len);
        for (size_t i = 0; i < b->n; i++) {
                struct stored_field *sf = &dst->f[dst->n++];
                *sf = b->f[i];
                sf->name_off += (uint32_t) base;
                sf->given_off += (uint32_t) base;
                if (sf->type == TRAIL_FIELD_STR || sf->type == TRAIL_FIELD_BYTES)
                        sf->off += base;
        }
        return 0;
}

void globals_refresh(struct tls_state *t) {
        uint64_t gen = __atomic_load_n(&globals_gen, __ATOMIC_ACQUIRE);

        if (_likely_(gen == t->globals_gen))
                return;
        pthread_mutex_lock(&globals_lock);
        /* On ENOMEM this thread logs without global fields until a copy
         * succeeds; the fields left out are counted, like any dropped field. */
        if (field_store_join(&t->globals, &globals[GLOBALS_PROGRAM], &globals[GLOBALS_CONFIG]) >= 0)
                t->globals_gen = __atomic_load_n(&globals_gen, __ATOMIC_RELAXED);
        else {
                t->globals.n = 0;
                __atomic_add_fetch(&trail_stat_fields_dropped,
                                   globals[GLOBALS_PROGRAM].n + globals[GLOBALS_CONFIG].n,
                                   __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&globals_lock);
}

void globals_free(void) {
        thread_busy_enter();
        pthread_mutex_lock(&globals_lock);
        for (size_t i = 0; i < _GLOBALS_LAYER_MAX; i++)
                field_store_free(&globals[i]);
        __atomic_add_fetch(&globals_gen, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&globals_lock);
        thread_busy_leave();
}
