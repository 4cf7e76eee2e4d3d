/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memory handler, a flight recorder: records less severe than the
 * trigger are copied into a preallocated ring (record-copy.c's form) and
 * not sent; a record at or above it sends the ring's records, oldest first
 * and marked TRAIL_HELD=1, then itself, to the target handler. A ring per
 * thread (a per-thread block, record.c), or one shared under a lock. */

#include <string.h>

#include "handler-private.h"

#define CAPACITY_DEFAULT 64
#define CAPACITY_MAX     65536
/* The ring's bytes per record of its capacity: a typical record (a message
 * and a few fields) takes less; larger ones leave room for fewer. */
#define BYTES_PER_RECORD 512
#define RING_BYTES_MIN   4096
/* A record takes at most this (and at most half the ring): larger ones
 * are cut to fit, as the async handler cuts them. */
#define RECORD_BYTES_MAX 16384
/* Each record in the ring: this header, then its copy; a header of size 0
 * says the rest of the ring, to its end, is unused (records never wrap). */
#define HDR_SIZE sizeof(uint64_t)

struct ring {
        /* first: a per-thread ring is a thread block; its extra is where a
         * held record is rebuilt (struct rfield[fields_max]) */
        struct thread_block tb;
        uint64_t head, tail; /* byte positions, only ever growing */
        size_t count;        /* records held */
        unsigned char *data;
};

struct memory_handler {
        trail_handler base;
        trail_handler *target;
        size_t capacity, bytes, record_max, fields_max;
        int trigger; /* atomic */
        struct thread_block_tag *tag;
        /* per_thread = no: the one ring, made by trail_handler_set() before
         * the first record; NULL for per-thread rings */
        struct ring *shared;
        pthread_mutex_t lock; /* the shared ring, held while it is replayed */
};

static const struct handler_ops memory_ops;

static size_t align8(size_t n) {
        return (n + 7) & ~(size_t) 7;
}

/* One allocation: the header and the bytes. The room to rebuild a record
 * (tb.extra) is allocated by the ring's first trigger. */
static struct ring *ring_new(const struct memory_handler *m) {
        size_t head = align8(sizeof(struct ring));
        struct ring *g = malloc(head + m->bytes);

        if (!g)
                return NULL;
        *g = (struct ring){.data = (unsigned char *) g + head};
        return g;
}

static void ring_free(struct ring *g) {
        if (g)
                free(g->tb.extra);
        free(g);
}

static uint32_t hdr_at(const struct ring *g, size_t off) {
        uint64_t h;
        memcpy(&h, g->data + off, sizeof(h));
        return (uint32_t) h;
}

/* The oldest record's offset, past an end-of-ring marker; its size in *ret_len. */
static size_t ring_oldest(const struct memory_handler *m, struct ring *g, uint32_t *ret_len) {
        size_t off = (size_t) (g->head % m->bytes);
        uint32_t len = hdr_at(g, off);

        if (len == 0) {
                g->head += m->bytes - off;
                off = 0;
                len = hdr_at(g, 0);
        }
        *ret_len = len;
        return off;
}

/* The ring overwrites its oldest record: counted as dropped. */
static void ring_evict(struct memory_handler *m, struct ring *g) {
        uint32_t len;

        (void) ring_oldest(m, g, &len);
        g->head += len;
        g->count--;
        atomic_inc(&m->base.stats.dropped);
}

static void high_water_update(struct memory_handler *m, uint64_t used) {
        uint64_t hw = __atomic_load_n(&m->base.stats.queue_high_water, __ATOMIC_RELAXED);

        while (used > hw && !__atomic_compare_exchange_n(&m->base.stats.queue_high_water, &hw, used,
                                                         true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                ;
}

/* Copies r into the ring, over its oldest records when it is full. */
static void ring_push(struct memory_handler *m, struct ring *g, const struct trail_record *r) {
        struct record_copy_plan plan;
        size_t need = align8(HDR_SIZE + record_copy_plan(r, m->record_max - HDR_SIZE, &plan));
        size_t off = (size_t) (g->tail % m->bytes);
        size_t pad = off + need > m->bytes ? m->bytes - off : 0;
        uint64_t end = g->tail + pad + need;

        /* need <= bytes / 2 and pad < need: there is always room once the
         * ring is empty */
        while (g->count > 0 && (g->count >= m->capacity || end - g->head > m->bytes))
                ring_evict(m, g);
        if (g->count == 0)
                g->head = g->tail;
        if (pad > 0) {
                memset(g->data + off, 0, HDR_SIZE);
                off = 0;
        }
        uint64_t h = need;
        memcpy(g->data + off, &h, sizeof(h));
        struct record_copy_writer w = {
                .base = g->data + off + HDR_SIZE,
                .chunk = SIZE_MAX,
        };
        record_copy_write(&w, r, &plan);
        g->tail = end;
        g->count++;
        high_water_update(m, g->count);
}

static void deliver(struct memory_handler *m, const struct trail_record *r) {
        if (r->level > atomic_get(&m->target->level))
                return; /* the target's level changed while it was held */
        if (handler_emit(m->target, r) >= 0)
                atomic_inc(&m->base.stats.delivered);
        else
                atomic_inc(&m->base.stats.failed); /* the target counted whether it was lost */
}

/* TRAIL_HELD=1 after the record's fields, before TRUNCATED_FIELDS (which
 * stays last); not twice, for a record another memory handler held. */
static void mark_held(struct trail_record *r, struct rfield *fields) {
        static const struct rfield held = {.name = "TRAIL_HELD",
                                           .name_len = STRLEN("TRAIL_HELD"),
                                           .type = TRAIL_FIELD_UINT,
                                           .v.u = 1};
        size_t n = r->n_fields;

        if (r->held)
                return;
        if (record_truncated(r)) {
                fields[n] = fields[n - 1];
                fields[n - 1] = held;
        } else
                fields[n] = held;
        r->n_fields = n + 1;
        r->held = true;
}

/* Sends the ring's records, oldest first, and empties it. Without room
 * to rebuild them (out of memory), they are dropped and counted. */
static void ring_replay(struct memory_handler *m, struct ring *g) {
        struct rfield *fields = g->tb.extra;

        if (!fields && g->count > 0)
                fields = g->tb.extra = malloc(m->fields_max * sizeof(struct rfield));
        while (g->count > 0) {
                struct trail_record rec;
                trail_source src; /* a borrowed location, rebuilt */
                uint32_t len;
                size_t off = ring_oldest(m, g, &len);

                g->head += len;
                g->count--;
                if (!fields) {
                        atomic_inc(&m->base.stats.dropped);
                        continue;
                }
                record_copy_rebuild(g->data + off + HDR_SIZE, fields, &src, &rec);
                mark_held(&rec, fields);
                deliver(m, &rec);
        }
        g->head = g->tail;
}

/* This thread's ring, made on its first record. */
static struct ring *thread_ring(struct memory_handler *m) {
        struct tls_state *t = tls_state_get();
        struct thread_block *b;
        struct ring *g;

        if (!t)
                return NULL;
        b = thread_block_find(t, m->tag);
        if (_likely_(b))
                return (struct ring *) b;
        g = ring_new(m);
        if (g)
                thread_block_add(t, &g->tb, m->tag);
        return g;
}

static int memory_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct memory_handler *m = (struct memory_handler *) h;
        struct ring *shared = __atomic_load_n(&m->shared, __ATOMIC_ACQUIRE);
        bool trigger = r->level <= atomic_get(&m->trigger);
        struct ring *g;

        (void) fell_back;
        /* a record the target would refuse is neither held nor sent */
        if (r->level > atomic_get(&m->target->level))
                return HANDLER_COUNTS_ITSELF;
        if (shared) {
                pthread_mutex_lock(&m->lock);
                g = shared;
        } else
                g = thread_ring(m);
        if (!g) {
                /* no ring (out of memory): the record cannot be held */
                if (trigger)
                        deliver(m, r);
                else
                        atomic_inc(&m->base.stats.dropped);
                return HANDLER_COUNTS_ITSELF;
        }
        if (!trigger)
                ring_push(m, g, r);
        else
                ring_replay(m, g);
        if (shared)
                pthread_mutex_unlock(&m->lock);
        if (trigger)
                deliver(m, r);
        return HANDLER_COUNTS_ITSELF;
}

/* The held records were not asked for: a flush leaves them held, and
 * flushes the target. */
static int memory_flush(trail_handler *h) {
        struct memory_handler *m = (struct memory_handler *) h;

        return m->target->ops->flush ? m->target->ops->flush(m->target) : 0;
}

static int memory_set(trail_handler *h, const char *key, const char *value) {
        struct memory_handler *m = (struct memory_handler *) h;

        if (strcmp(key, "trigger") == 0) {
                int level = trail_level_parse(value);
                if (level < 0)
                        return -EINVAL;
                __atomic_store_n(&m->trigger, level, __ATOMIC_RELAXED);
                return 0;
        }
        if (strcmp(key, "per_thread") == 0) {
                int b = parse_bool(value);
                if (b < 0)
                        return -EINVAL;
                if (b == (__atomic_load_n(&m->shared, __ATOMIC_RELAXED) == NULL))
                        return 0;
                /* rings hold records already: they are not moved */
                if (atomic_get(&m->base.stats.records) > 0)
                        return -EBUSY;
                if (b) {
                        ring_free(m->shared);
                        m->shared = NULL;
                        return 0;
                }
                struct ring *g = ring_new(m);
                if (!g)
                        return -ENOMEM;
                __atomic_store_n(&m->shared, g, __ATOMIC_RELEASE);
                return 0;
        }
        return -ENOENT;
}

/* The child of fork(): the shared lock may have been held by a thread the
 * child does not have, in the middle of the ring: it starts empty. A
 * per-thread ring is the forking thread's own, whole. */
static void memory_fork_child(trail_handler *h) {
        struct memory_handler *m = (struct memory_handler *) h;

        pthread_mutex_init(&m->lock, NULL);
        if (m->shared) {
                m->shared->head = m->shared->tail = 0;
                m->shared->count = 0;
        }
}

/* Held records are discarded, not counted: nobody asked for them. Rings of
 * other threads go when those threads exit or next look for a ring. */
static void memory_free(trail_handler *h) {
        struct memory_handler *m = (struct memory_handler *) h;

        thread_block_tag_kill(m->tag);
        ring_free(m->shared);
        trail_handler_unref(m->target);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

static const struct handler_ops memory_ops = {
        .type = "memory",
        .emit = memory_emit,
        .flush = memory_flush,
        .set = memory_set,
        .free = memory_free,
        .fork_child = memory_fork_child,
};

_public_ trail_handler *trail_handler_memory(trail_handler *target, size_t capacity,
                                             int trigger_level) {
        struct memory_handler *m;

        if (!target || capacity > CAPACITY_MAX || trigger_level < TRAIL_EMERGENCY ||
            trigger_level > TRAIL_DEBUG) {
                errno = EINVAL;
                return NULL;
        }
        if (capacity == 0)
                capacity = CAPACITY_DEFAULT;
        m = calloc(1, sizeof(*m));
        if (!m) {
                errno = ENOMEM;
                return NULL;
        }
        m->tag = thread_block_tag_new();
        if (!m->tag) {
                free(m);
                errno = ENOMEM;
                return NULL;
        }
        (void) handler_init(&m->base, &memory_ops); /* renders no text: cannot fail */
        m->capacity = capacity;
        m->bytes = align8(capacity * BYTES_PER_RECORD);
        if (m->bytes < RING_BYTES_MIN)
                m->bytes = RING_BYTES_MIN;
        m->record_max = m->bytes / 2 < RECORD_BYTES_MAX ? m->bytes / 2 : RECORD_BYTES_MAX;
        m->fields_max = record_copy_fields_max(m->record_max) + 1; /* TRAIL_HELD */
        m->trigger = trigger_level;
        pthread_mutex_init(&m->lock, NULL);
        m->target = trail_handler_ref(target);
        handler_fork_track(&m->base);
        return &m->base;
}
