/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building a record and dispatching it: global + context + call fields
 * merged with each name once, the message formatted once, trail's own
 * records, and the walk up the logger tree to the handlers. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "logger-private.h"

/* ---- Merging ------------------------------------------------------------ */

struct merge {
        struct tls_state *t;
        size_t n;
        size_t skip; /* fields over RECORD_FIELDS_MAX, left out from the first */
};

/* Later layers win: a field replaces an earlier one of the same name. */
static int merge_add(struct merge *m, const struct rfield *f) {
        struct tls_state *t = m->t;

        if (_unlikely_(m->skip > 0)) {
                m->skip--;
                atomic_inc(&trail_stat_fields_dropped);
                return 0;
        }

        for (size_t i = 0; i < m->n; i++)
                if (t->merged[i].name_len == f->name_len &&
                    memcmp(t->merged[i].name, f->name, f->name_len) == 0) {
                        t->merged[i] = *f;
                        return 0;
                }
        if (m->n >= t->merged_cap) {
                size_t cap = t->merged_cap ? t->merged_cap * 2 : 32;
                struct rfield *p = realloc(t->merged, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->merged = p;
                t->merged_cap = cap;
        }
        t->merged[m->n++] = *f;
        return 0;
}

static int merge_store(struct merge *m, const struct field_store *s) {
        for (size_t i = 0; i < s->n; i++) {
                const struct stored_field *sf = &s->f[i];
                struct rfield f = {
                        .name = s->arena + sf->name_off,
                        .name_len = sf->name_len,
                        .type = sf->type,
                        .len = sf->len,
                };
                if (sf->type == TRAIL_FIELD_STR || sf->type == TRAIL_FIELD_BYTES)
                        f.v.p = s->arena + sf->off;
                else
                        memcpy(&f.v, &sf->v, sizeof(sf->v));
                /* judged with the list in force now, as call fields are */
                if (sf->given_len > 0 &&
                    redact_given_is_secret(s->arena + sf->given_off, sf->given_len))
                        redact_mask(&f);
                int r = merge_add(m, &f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int merge_call_fields(struct merge *m, trail_fields fields, int *errnum) {
        struct tls_state *t = m->t;
        bool reserved = false;

        es_emptyStr(t->names);
        for (size_t i = 0; i < fields.n; i++) {
                const trail_field *uf = &fields.fields[i];
                struct rfield f = {.type = uf->type, .len = uf->len};
                bool secret = false;
                size_t len;

                if (uf->type >= TRAIL__FIELD_SAMPLE && uf->type <= TRAIL__FIELD_BACKTRACE)
                        continue; /* instructions, taken by flow_admit() */
                if (uf->type < TRAIL_FIELD_STR || uf->type > TRAIL_FIELD_ERRNO) {
                        atomic_inc(&trail_stat_fields_dropped);
                        continue;
                }
                if (field_name_is_valid(uf->name, &len)) {
                        f.name = uf->name;
                        f.name_len = (uint32_t) len;
                } else {
                        bool renamed;
                        /* Reserve once for every name of the call, so that names
                         * already stored here do not move. */
                        if (!reserved) {
                                size_t k =
                                        fields.n < RECORD_FIELDS_MAX ? fields.n : RECORD_FIELDS_MAX;
                                if (buf_reserve(&t->names, (k + 1) * (FIELD_NAME_MAX + 2)) < 0)
                                        return -ENOMEM;
                                reserved = true;
                        }
                        if (t->names->lenBuf - t->names->lenStr < FIELD_NAME_MAX + 2) {
                                atomic_inc(&trail_stat_fields_dropped);
                                continue;
                        }
                        char *out = (char *) es_getBufAddr(t->names) + t->names->lenStr;
                        len = field_name_normalise(uf->name, out, &renamed);
                        if (len == 0) {
                                atomic_inc(&trail_stat_fields_dropped);
                                continue;
                        }
                        atomic_inc(&trail_stat_fields_renamed);
                        /* the name as given: normalising may have cut the
                         * listed name at its end, or added to it */
                        char tail[REDACT_TAIL_MAX];
                        secret = redact_given_is_secret(tail, redact_given_tail(uf->name, tail));
                        t->names->lenStr += (es_size_t) len;
                        f.name = out;
                        f.name_len = (uint32_t) len;
                }

                switch (uf->type) {
                case TRAIL_FIELD_STR:
                        f.v.s = uf->value.s ? uf->value.s : "(null)";
                        f.len = strlen(f.v.s);
                        break;
                case TRAIL_FIELD_BYTES:
                        f.v.p = uf->value.p;
                        if (!f.v.p)
                                f.len = 0;
                        break;
                case TRAIL_FIELD_ERRNO:
                        f.v.i = errno_abs(uf->value.i);
                        *errnum = (int) f.v.i;
                        break;
                default:
                        f.v.u = uf->value.u;
                        if (uf->type == TRAIL_FIELD_DOUBLE)
                                f.v.d = uf->value.d;
                        else if (uf->type == TRAIL_FIELD_BOOL)
                                f.v.b = uf->value.b;
                        break;
                }
                if (_unlikely_(secret))
                        redact_mask(&f);
                int r = merge_add(m, &f);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- The message -------------------------------------------------------- */

/* "MESSAGE=" then the text, so that the journald handler sends it as is.
 * errno is set for %m first. */
TRAIL__PRINTF(3, 0)
static int format_message(struct tls_state *t, int errnum, const char *fmt, va_list ap) {
        es_str_t **b = &t->message;
        va_list aq;
        int n;

        es_emptyStr(*b);
        if (buf_reserve(b, 256) < 0)
                return -ENOMEM;
        memcpy(es_getBufAddr(*b), "MESSAGE=", STRLEN("MESSAGE="));
        (*b)->lenStr = STRLEN("MESSAGE=");

        size_t avail = (*b)->lenBuf - (*b)->lenStr;
        va_copy(aq, ap);
        errno = errnum;
        n = vsnprintf((char *) es_getBufAddr(*b) + (*b)->lenStr, avail, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= avail) {
                int r = buf_reserve(b, (size_t) n + 1);
                if (r < 0)
                        return r;
                errno = errnum;
                n = vsnprintf((char *) es_getBufAddr(*b) + (*b)->lenStr, (size_t) n + 1, fmt, ap);
                if (n < 0)
                        return -EINVAL;
        }
        (*b)->lenStr += (es_size_t) n;
        return 0;
}

/* ---- Dispatch ----------------------------------------------------------- */

static void dispatch(const struct trail_record *r) {
        bool found = false;

        /* Python: a logger's filters see what is logged to it, not what its
         * children propagate. */
        if (!filter_list_pass(__atomic_load_n(&r->logger->filters, __ATOMIC_ACQUIRE), r))
                return;

        for (const trail_logger *lg = r->logger; lg; lg = lg->parent) {
                const struct handler_set *set = __atomic_load_n(&lg->handlers, __ATOMIC_ACQUIRE);

                if (set)
                        for (size_t i = 0; i < set->n; i++) {
                                found = true;
                                if (r->level <= atomic_get(&set->h[i]->level))
                                        handler_emit(set->h[i], r);
                        }
                if (!atomic_get(&lg->propagate))
                        break;
        }

        /* Python's "last resort": nobody is listening, so the OS log is. */
        if (!found) {
                trail_handler *h = handler_last_resort();
                if (h)
                        handler_emit(h, r);
        }
}

/* The fields trail adds after the user's, within the room log_va() kept
 * for them (RECORD_EXTRA_FIELDS): SAMPLE_RATE, BACKTRACE, and
 * TRUNCATED_FIELDS when skip fields were left out. */
static int merge_extra(struct merge *m, struct tls_state *t, int level,
                       const struct flow_verdict *fv, const void *caller, size_t skip) {
        int r;

        if (fv && fv->sample_rate > 1) {
                struct rfield f = {
                        .name = "SAMPLE_RATE",
                        .name_len = STRLEN("SAMPLE_RATE"),
                        .type = TRAIL_FIELD_UINT,
                        .v.u = fv->sample_rate,
                };
                r = merge_add(m, &f);
                if (r < 0)
                        return r;
        }
        if (fv && (fv->backtrace || level <= backtrace_level())) {
                size_t len = backtrace_render(t, caller);
                struct rfield f = {
                        .name = "BACKTRACE",
                        .name_len = STRLEN("BACKTRACE"),
                        .type = TRAIL_FIELD_STR,
                        .len = len,
                };
                if (len > 0) {
                        f.v.s = (const char *) es_getBufAddr(t->backtrace);
                        r = merge_add(m, &f);
                        if (r < 0)
                                return r;
                } else
                        /* no buffer for it (ENOMEM), or no frames: a field
                         * asked for and left out */
                        atomic_inc(&trail_stat_fields_dropped);
        }
        /* Fields were left out: the record says how many, last, under a
         * name no user field can take (see record_truncated()). */
        if (_unlikely_(skip > 0)) {
                struct rfield f = {
                        .name = "TRUNCATED_FIELDS",
                        .name_len = STRLEN("TRUNCATED_FIELDS"),
                        .type = TRAIL_FIELD_UINT,
                        .v.u = skip,
                };
                r = merge_add(m, &f);
                if (r < 0)
                        return r;
        }
        return 0;
}

TRAIL__PRINTF(10, 0)
static int log_va(struct tls_state *t, const trail_logger *lg, int level, const trail_source *src,
                  trail_fields fields, int errnum, int saved_errno, const struct flow_verdict *fv,
                  const void *caller, const char *fmt, va_list ap, bool src_borrowed) {
        struct merge m = {.t = t};
        int field_errnum = 0, r;
        size_t total, skip = 0;

        errnum = errno_abs(errnum); /* trail_log_errno_with() passes it as given */
        globals_refresh(t);
        /* Past the cap, the fields of lowest precedence (global, then the
         * outermost context) are the ones left out; room is kept for the
         * fields trail adds after the user's (RECORD_EXTRA_FIELDS). */
        total = t->globals.n + t->context.n + fields.n + (errnum != 0);
        if (_unlikely_(total > RECORD_FIELDS_MAX - RECORD_EXTRA_FIELDS))
                m.skip = skip = total - (RECORD_FIELDS_MAX - RECORD_EXTRA_FIELDS);
        r = merge_store(&m, &t->globals);
        if (r < 0)
                return r;
        r = merge_store(&m, &t->context);
        if (r < 0)
                return r;
        r = merge_call_fields(&m, fields, &field_errnum);
        if (r < 0)
                return r;
        if (errnum != 0) {
                struct rfield f = {
                        .name = "ERRNO",
                        .name_len = STRLEN("ERRNO"),
                        .type = TRAIL_FIELD_ERRNO,
                        .v.i = errnum,
                };
                r = merge_add(&m, &f);
                if (r < 0)
                        return r;
        } else
                errnum = field_errnum;
        /* total counted the call's instructions (TRAIL_SAMPLE, …), which
         * are not fields: what is left of skip is no field to leave out */
        skip -= m.skip;
        m.skip = 0;
        r = merge_extra(&m, t, level, fv, caller, skip);
        if (r < 0)
                return r;
        /* Before dispatch, so that no handler ever sees a secret. */
        redact_fields(t, t->merged, m.n);

        r = format_message(t, errnum ? errnum : saved_errno, fmt, ap);
        if (r < 0)
                return r;
        redact_message(t);

        struct trail_record rec = {
                .level = level,
                .logger = lg,
                .logger_field = lg->logger_field,
                .logger_field_len = lg->field_len,
                .src = src,
                .src_borrowed = src_borrowed,
                .errnum = errnum,
                .message = (const char *) es_getBufAddr(t->message) + STRLEN("MESSAGE="),
                .message_len = t->message->lenStr - STRLEN("MESSAGE="),
                .fields = t->merged,
                .n_fields = m.n,
                .tid = t->tid,
        };
        clock_gettime(CLOCK_REALTIME, &rec.time);

        struct dispatch_slot *slot = dispatch_slot_get();
        if (!slot)
                return -ENOMEM;
        dispatch_enter(slot);
        dispatch(&rec);
        dispatch_exit(slot);
        return 0;
}

int own_record_log(struct own_record *o, const trail_logger *lg) {
        struct trail_record *r = &o->r;

        if (!lg)
                return -ENOMEM; /* logger_get() could not make it */
        if (r->level > __atomic_load_n(&lg->level_effective, __ATOMIC_RELAXED))
                return 0;
        r->logger = lg;
        r->logger_field = lg->logger_field;
        r->logger_field_len = lg->field_len;

        struct dispatch_slot *slot = dispatch_slot_get();
        if (!slot)
                return -ENOMEM;
        dispatch_enter(slot);
        dispatch(r);
        dispatch_exit(slot);
        return 0;
}

/* "Suppressed N records", on the site's logger, file and line. */
static void log_suppressed(const trail_logger *lg, int level, const trail_source *src, uint64_t n) {
        const struct rfield f = {.name = "SUPPRESSED", .type = TRAIL_FIELD_UINT, .v.u = n};
        struct own_record o;

        own_record_build(&o, level, src, TRAIL_MESSAGE_ID_SUPPRESSED, &f, 1,
                         "Suppressed %" PRIu64 " records at %s:%d (rate limit)", n, src->file,
                         src->line);
        (void) own_record_log(&o, lg);
}

/* The entry points' common part: caller is the return address into the
 * program (where a backtrace starts); src_borrowed says src and its
 * strings live only during the call (copied by the handlers that keep it). */
TRAIL__PRINTF(7, 0)
static int log_entry(const trail_logger *lg, int level, const trail_source *src, bool src_borrowed,
                     trail_fields fields, int errnum, const char *fmt, va_list ap,
                     const void *caller) {
        PROTECT_ERRNO;
        struct flow_verdict fv;
        struct tls_state *t;
        int r;

        if (!lg || !src || !fmt)
                return -EINVAL;
        if (level < TRAIL_EMERGENCY || level > TRAIL_DEBUG)
                return -EINVAL;
        if (fields.n > 0 && !fields.fields)
                return -EINVAL;

        atomic_inc(&trail_stat_records);
        /* A handler, a filter, or a signal handler that interrupted this
         * thread in trail (its first record's allocations included): going
         * on would overwrite the record being handled, or wait for a lock
         * the interrupted code holds. */
        if (thread_busy > 0)
                return -EDEADLK;
        thread_busy_enter();
        t = tls_state_get();
        if (!t) {
                thread_busy_leave();
                return -ENOMEM;
        }
        if (!flow_admit(&lg->flow, level, src, fields, &fv)) {
                thread_busy_leave();
                return 0;
        }
        if (_unlikely_(fv.suppressed > 0))
                log_suppressed(lg, level, src, fv.suppressed);
        r = log_va(t, lg, level, src, fields, errnum, protect_errno_, &fv, caller, fmt, ap,
                   src_borrowed);
        buf_trim(&t->message, 1024);
        buf_trim(&t->render, 4096);
        buf_trim(&t->names, 256);
        thread_busy_leave();
        return r;
}

_public_ int trail__log(const trail_logger *lg, int level, const trail_source *src,
                        trail_fields fields, int errnum, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_entry(lg, level, src, false, fields, errnum, fmt, ap, __builtin_return_address(0));
        va_end(ap);
        return r;
}

_public_ int trail__logv(const trail_logger *lg, int level, const trail_source *src,
                         trail_fields fields, int errnum, const char *fmt, va_list ap) {
        return log_entry(lg, level, src, false, fields, errnum, fmt, ap,
                         __builtin_return_address(0));
}

/* The caller's location, as a trail_source that lives during the call. */
static int location_source(trail_source *src, const char *file, int line, const char *func) {
        size_t file_len = file ? strnlen(file, LOCATION_MAX + 1) : 0;
        size_t func_len = func ? strnlen(func, LOCATION_MAX + 1) : 0;

        if (file_len > LOCATION_MAX || func_len > LOCATION_MAX)
                return -EINVAL;
        *src = (trail_source){
                .file = file,
                .func = func,
                .line = file ? line : 0,
                .file_len = (unsigned) file_len,
                .func_len = (unsigned) func_len,
        };
        return 0;
}

_public_ int trail_logv_with_location(const trail_logger *lg, int level, const char *file, int line,
                                      const char *func, trail_fields fields, const char *fmt,
                                      va_list ap) {
        trail_source src;
        int r;

        if (!trail__wants(lg, level))
                return 0;
        r = location_source(&src, file, line, func);
        if (r < 0)
                return r;
        return log_entry(lg, level, &src, true, fields, 0, fmt, ap, __builtin_return_address(0));
}

_public_ int trail_log_with_location(const trail_logger *lg, int level, const char *file, int line,
                                     const char *func, trail_fields fields, const char *fmt, ...) {
        trail_source src;
        va_list ap;
        int r;

        if (!trail__wants(lg, level))
                return 0;
        r = location_source(&src, file, line, func);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        r = log_entry(lg, level, &src, true, fields, 0, fmt, ap, __builtin_return_address(0));
        va_end(ap);
        return r;
}
