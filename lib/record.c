/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record model: the per-thread scratch space, numbers and values
 * rendered as text, field names checked against journald's rules, and the
 * record as filters and custom handlers see it. Records are built in log.c. */

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "record-private.h"

uint64_t trail_stat_fields_renamed, trail_stat_fields_dropped, trail_stat_records,
        trail_stat_truncated;

/* ---- Per-thread scratch ------------------------------------------------ */

__thread unsigned thread_busy __attribute__((tls_model("initial-exec")));
static __thread struct tls_state *tls;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_state_free(void *p) {
        struct tls_state *t = p;

        if (!t)
                return;
        es_deleteStr(t->message);
        es_deleteStr(t->render);
        es_deleteStr(t->names);
        es_deleteStr(t->scrub);
        es_deleteStr(t->backtrace);
        es_deleteStr(t->formatted);
        free(t->merged);
        free(t->iov);
        free(t->frames);
        field_store_free(&t->context);
        field_store_free(&t->globals);
        while (t->blocks) {
                struct thread_block *b = t->blocks;
                t->blocks = b->next;
                thread_block_free(b);
        }
        free(t);
}

void field_store_free(struct field_store *s) {
        free(s->f);
        free(s->arena);
        *s = (struct field_store){};
}

/* The child of fork() is a new process: its one thread has a new id. */
static void tls_after_fork_in_child(void) {
        if (tls)
                tls->tid = (pid_t) syscall(SYS_gettid);
}

static void tls_key_create(void) {
        (void) pthread_key_create(&tls_key, tls_state_free);
        (void) pthread_atfork(NULL, NULL, tls_after_fork_in_child);
}

struct tls_state *tls_state_get(void) {
        struct tls_state *t = tls;

        if (_likely_(t))
                return t;

        pthread_once(&tls_once, tls_key_create);
        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->message = es_newStr(1024);
        t->render = es_newStr(4096);
        t->names = es_newStr(256);
        if (!t->message || !t->render || !t->names) {
                tls_state_free(t);
                return NULL;
        }
        t->tid = (pid_t) syscall(SYS_gettid);
        (void) pthread_setspecific(tls_key, t);
        tls = t;
        return t;
}

/* ---- Per-thread blocks of handlers --------------------------------------- */

struct thread_block_tag *thread_block_tag_new(void) {
        struct thread_block_tag *tag = malloc(sizeof(*tag));

        if (tag)
                *tag = (struct thread_block_tag){.refs = 1, .alive = true};
        return tag;
}

void thread_block_tag_unref(struct thread_block_tag *tag) {
        if (tag && __atomic_sub_fetch(&tag->refs, 1, __ATOMIC_ACQ_REL) == 0)
                free(tag);
}

void thread_block_tag_kill(struct thread_block_tag *tag) {
        __atomic_store_n(&tag->alive, false, __ATOMIC_RELEASE);
        thread_block_tag_unref(tag);
}

void thread_block_free(struct thread_block *b) {
        thread_block_tag_unref(b->tag);
        free(b->extra);
        free(b);
}

struct thread_block *thread_block_find(struct tls_state *t, struct thread_block_tag *tag) {
        for (struct thread_block **p = &t->blocks, *b; (b = *p);) {
                if (b->tag == tag)
                        return b;
                if (_unlikely_(!__atomic_load_n(&b->tag->alive, __ATOMIC_ACQUIRE))) {
                        *p = b->next; /* its handler is gone */
                        thread_block_free(b);
                        continue;
                }
                p = &b->next;
        }
        return NULL;
}

void thread_block_add(struct tls_state *t, struct thread_block *b, struct thread_block_tag *tag) {
        __atomic_add_fetch(&tag->refs, 1, __ATOMIC_RELAXED);
        b->tag = tag;
        b->extra = NULL;
        b->next = t->blocks;
        t->blocks = b;
}

struct tls_state *tls_state_peek(void) {
        return tls;
}

/* For the thread that unloads or exits the program: thread-exit destructors
 * do not run for it. */
void tls_state_release(void) {
        struct tls_state *t = tls;

        tls = NULL;
        if (t) {
                (void) pthread_setspecific(tls_key, NULL);
                tls_state_free(t);
        }
}

size_t rfield_value_bound(const struct rfield *f) {
        switch (f->type) {
        case TRAIL_FIELD_STR:
        case TRAIL_FIELD_BYTES:
                return f->len;
        default:
                return 32;
        }
}

size_t rfield_render_value(const struct rfield *f, char *out) {
        switch (f->type) {
        case TRAIL_FIELD_STR:
        case TRAIL_FIELD_BYTES:
                if (f->len)
                        memcpy(out, f->v.p, f->len);
                return f->len;
        case TRAIL_FIELD_INT:
        case TRAIL_FIELD_ERRNO:
                return format_int(out, f->v.i);
        case TRAIL_FIELD_UINT:
                return format_uint(out, f->v.u);
        case TRAIL_FIELD_DOUBLE:
                return format_double(out, f->v.d);
        case TRAIL_FIELD_BOOL:
                return f->v.b ? (memcpy(out, "true", 4), 4) : (memcpy(out, "false", 5), 5);
        }
        return 0;
}

/* ---- Field names ------------------------------------------------------- */

/* trail's own journald fields: a user field of one of these names would
 * forge or duplicate them, so it is renamed with an "F_" prefix. So are the
 * names that journalctl -u/--user-unit trusts in a record from root: a root
 * program's field OBJECT_SYSTEMD_UNIT=other.service (or OBJECT_PID=, from
 * which journald adds the OBJECT_ fields of that process) would file its
 * record under another unit, and so would COREDUMP_UNIT= with a
 * MESSAGE_ID= of systemd-coredump's. The whole OBJECT_ prefix is journald's
 * (systemd.journal-fields(7)). */
static bool field_name_is_reserved(const char *name, size_t n) {
        static const struct {
                const char *s;
                size_t n;
        } reserved[] = {
#define R(x) {x, STRLEN(x)}
                R("MESSAGE"),          R("PRIORITY"),      R("SYSLOG_IDENTIFIER"),
                R("SYSLOG_FACILITY"),  R("LOGGER"),        R("CODE_FILE"),
                R("CODE_LINE"),        R("CODE_FUNC"),     R("TID"),
                R("TRUNCATED_FIELDS"), R("COREDUMP_UNIT"), R("COREDUMP_USER_UNIT"),
                R("TRAIL_HELD"),
#undef R
        };

        if (!strchr("MPSLCTO", name[0]))
                return false;
        if (n >= STRLEN("OBJECT_") && memcmp(name, "OBJECT_", STRLEN("OBJECT_")) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (reserved[i].n == n && memcmp(reserved[i].s, name, n) == 0)
                        return true;
        return false;
}

/* journald's rules: A-Z, 0-9, '_'; not starting with a digit or '_' (those
 * are journald's trusted fields); 1 to 64 characters; and not one of trail's
 * own fields. */
bool field_name_is_valid(const char *name, size_t *ret_len) {
        size_t n = 0;

        if (!name || !(name[0] >= 'A' && name[0] <= 'Z'))
                return false;
        while (name[n]) {
                if (n >= FIELD_NAME_MAX || !field_char_ok(name[n]))
                        return false;
                n++;
        }
        if (field_name_is_reserved(name, n))
                return false;
        *ret_len = n;
        return true;
}

/* The documented normalisation (trail_fields(3)): lowercase letters are
 * upper-cased, any other invalid byte becomes '_', leading '_' are removed,
 * a name that then starts with a digit or is reserved gets an "F_" prefix,
 * and the result is cut to 64 characters. Empty → 0: the field is dropped. */
size_t field_name_normalise(const char *name, char *out, bool *renamed) {
        size_t n = 0, in = 0;

        *renamed = false;
        if (!name)
                return 0;
        for (; name[in] && n < FIELD_NAME_MAX; in++) {
                char c = field_char_normalise(name[in]);
                if (c != name[in])
                        *renamed = true;
                if (n == 0 && c == '_') {
                        *renamed = true;
                        continue;
                }
                if (n == 0 && c >= '0' && c <= '9') {
                        out[n++] = 'F';
                        out[n++] = '_';
                        *renamed = true;
                }
                out[n++] = c;
        }
        if (name[in])
                *renamed = true; /* cut */
        if (n > FIELD_NAME_MAX)
                n = FIELD_NAME_MAX;
        if (n > 0 && field_name_is_reserved(out, n)) {
                memmove(out + 2, out, n);
                out[0] = 'F';
                out[1] = '_';
                n = n + 2 > FIELD_NAME_MAX ? FIELD_NAME_MAX : n + 2;
                *renamed = true;
        }
        return n;
}

/* ---- trail's own records ------------------------------------------------ */

void own_record_build(struct own_record *o, int level, const trail_source *src,
                      const char *message_id, const struct rfield *fields, size_t n,
                      const char *fmt, ...) {
        size_t k = 0;
        va_list ap;
        int len;

        o->fields[k++] =
                (struct rfield){.name = "MESSAGE_ID", .type = TRAIL_FIELD_STR, .v.s = message_id};
        for (size_t i = 0; i < n && k < ELEMENTSOF(o->fields); i++)
                o->fields[k++] = fields[i];
        for (size_t i = 0; i < k; i++) {
                o->fields[i].name_len = (uint32_t) strlen(o->fields[i].name);
                if (o->fields[i].type == TRAIL_FIELD_STR)
                        o->fields[i].len = strlen(o->fields[i].v.s);
        }

        /* preceded by "MESSAGE=", as every record's message is */
        memcpy(o->message, "MESSAGE=", STRLEN("MESSAGE="));
        va_start(ap, fmt);
        len = vsnprintf(o->message + STRLEN("MESSAGE="), sizeof(o->message) - STRLEN("MESSAGE="),
                        fmt, ap);
        va_end(ap);
        if (len < 0)
                len = 0;
        else if ((size_t) len >= sizeof(o->message) - STRLEN("MESSAGE="))
                len = (int) (sizeof(o->message) - STRLEN("MESSAGE=")) -
                      1; /* as vsnprintf() cut it */

        struct tls_state *t = tls_state_peek();
        o->r = (struct trail_record){
                .level = level,
                .logger = NULL, /* bound by own_record_log(), if it goes through one */
                .logger_field = "LOGGER=trail",
                .logger_field_len = STRLEN("LOGGER=trail"),
                .src = src,
                .message = o->message + STRLEN("MESSAGE="),
                .message_len = (size_t) len,
                .fields = o->fields,
                .n_fields = k,
                .tid = t ? t->tid : (pid_t) syscall(SYS_gettid),
        };
        clock_gettime(CLOCK_REALTIME, &o->r.time);
}

bool own_record_drops(struct own_record *o, const trail_source *src,
                      const uint64_t dropped[TRAIL_DEBUG + 1], const char *why) {
        static const char *const names[] = {
                "DROPPED_EMERGENCY", "DROPPED_ALERT",  "DROPPED_CRITICAL", "DROPPED_ERROR",
                "DROPPED_WARNING",   "DROPPED_NOTICE", "DROPPED_INFO",     "DROPPED_DEBUG",
        };
        struct rfield f[1 + TRAIL_DEBUG + 1];
        uint64_t total = 0;
        size_t n = 1; /* DROPPED=, filled in below */

        for (int l = TRAIL_EMERGENCY; l <= TRAIL_DEBUG; l++) {
                if (dropped[l] == 0)
                        continue;
                total += dropped[l];
                f[n++] = (struct rfield){
                        .name = names[l], .type = TRAIL_FIELD_UINT, .v.u = dropped[l]};
        }
        if (total == 0)
                return false;
        f[0] = (struct rfield){.name = "DROPPED", .type = TRAIL_FIELD_UINT, .v.u = total};
        own_record_build(o, TRAIL_WARNING, src, TRAIL_MESSAGE_ID_DROPPED, f, n,
                         "trail: %" PRIu64 " records dropped: %s", total, why);
        return true;
}

/* ---- The record, as filters and custom handlers see it ------------------ */

_public_ int trail_record_level(const trail_record *r) {
        return r ? r->level : -EINVAL;
}

_public_ const char *trail_record_logger(const trail_record *r) {
        return r ? r->logger_field + STRLEN("LOGGER=") : NULL;
}

_public_ const char *trail_record_message(const trail_record *r, size_t *ret_len) {
        if (!r)
                return NULL;
        if (ret_len)
                *ret_len = r->message_len;
        return r->message;
}

_public_ size_t trail_record_n_fields(const trail_record *r) {
        return r ? r->n_fields : 0;
}

static void field_view(const struct rfield *f, trail_field_view *ret) {
        *ret = (trail_field_view){
                .name = f->name,
                .name_len = f->name_len,
                .type = f->type,
                .len = f->len,
        };
        memcpy(&ret->value, &f->v, sizeof(f->v));
}

_public_ int trail_record_field(const trail_record *r, size_t i, trail_field_view *ret) {
        if (!r || !ret)
                return -EINVAL;
        if (i >= r->n_fields)
                return -ERANGE;
        field_view(&r->fields[i], ret);
        return 0;
}

_public_ int trail_record_find(const trail_record *r, const char *name, trail_field_view *ret) {
        size_t n;

        if (!r || !name || !ret)
                return -EINVAL;
        n = strlen(name);
        for (size_t i = 0; i < r->n_fields; i++)
                if (r->fields[i].name_len == n && memcmp(r->fields[i].name, name, n) == 0) {
                        field_view(&r->fields[i], ret);
                        return 0;
                }
        return -ENOENT;
}

_public_ int trail_record_source(const trail_record *r, const char **ret_file, int *ret_line,
                                 const char **ret_func) {
        if (!r)
                return -EINVAL;
        if (ret_file)
                *ret_file = r->src->file;
        if (ret_line)
                *ret_line = r->src->file ? r->src->line : 0; /* no file, no line */
        if (ret_func)
                *ret_func = r->src->func;
        return 0;
}

_public_ int64_t trail_record_time_usec(const trail_record *r) {
        if (!r)
                return -EINVAL;
        return (int64_t) r->time.tv_sec * 1000000 + r->time.tv_nsec / 1000;
}

_public_ int trail_record_tid(const trail_record *r) {
        return r ? (int) r->tid : -EINVAL;
}

/* ---- Borrowed locations ------------------------------------------------- */

#define NAME_CUT(len, max) ((len) < (max) ? (len) : (max))

size_t source_copy_size(const trail_source *s, size_t name_max) {
        return sizeof(*s) + NAME_CUT(s->file_len, name_max) + NAME_CUT(s->func_len, name_max) + 2;
}

void source_copy_put(const trail_source *s, size_t name_max,
                     void (*write)(void *w, const void *p, size_t n), void *w) {
        trail_source c = *s;

        c.file_len = (unsigned) NAME_CUT(c.file_len, name_max);
        c.func_len = (unsigned) NAME_CUT(c.func_len, name_max);
        c.site = NULL;
        write(w, &c, sizeof(c));
        if (s->file)
                write(w, s->file, c.file_len);
        write(w, "", 1);
        if (s->func)
                write(w, s->func, c.func_len);
        write(w, "", 1);
}

const void *source_copy_get(trail_source *dst, const void *p) {
        const char *b = p;

        memcpy(dst, b, sizeof(*dst));
        b += sizeof(*dst);
        /* the pointers only say whether there is a name */
        dst->file = dst->file ? b : NULL;
        b += dst->file_len + 1;
        dst->func = dst->func ? b : NULL;
        return b + dst->func_len + 1;
}
