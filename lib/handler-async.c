/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The async handler: a caller copies its record into a bounded ring of
 * fixed-size slots (D. Vyukov's bounded queue: one CAS to claim, a release
 * store to publish; no lock, no allocation) and returns; one worker thread
 * per handler rebuilds each record and hands it to the inner handler, in
 * order. Overflow drops are counted per level and reported in one record. */

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "handler-private.h"
#include "shared/futex.h"

/* A slot is one cache-line multiple; a typical record (a message and a few
 * fields) fits in one, a larger one takes several consecutive slots. */
#define SLOT_SIZE 512
struct slot {
        uint64_t seq;  /* Vyukov: == pos when free for pos, pos + 1 when published */
        uint64_t meta; /* of a record's first slot: n_slots << 32 | level */
        unsigned char data[SLOT_SIZE - 2 * sizeof(uint64_t)];
};
#define SLOT_DATA sizeof(((struct slot *) 0)->data)

#define CAPACITY_DEFAULT 4096
#define CAPACITY_MIN     16
#define CAPACITY_MAX     (1u << 20)
#define RECORD_SLOTS_MAX 128 /* about 62 KiB: bigger records are cut (see the man page) */
#define EVICT_TRIES      1000
/* The worker hands the inner handler up to this many records at once when
 * they are waiting (see handler_emit_batch()), taking no more than
 * BATCH_SLOTS slots' worth, and no more fields than one record may have,
 * after the first record: so its copy and its fields are allocated once. */
#define BATCH_DEFAULT HANDLER_BATCH_MAX
#define BATCH_SLOTS   128
#define POS_IDLE      UINT64_MAX
/* An idle worker naps before it sleeps: while records keep coming, it finds
 * them at the end of a nap, and the loggers never pay for waking it (a
 * futex syscall, microseconds on a VM). A record waits at most a nap (plus
 * timer slack) for the worker; the worker sleeps for good after IDLE_NAPS
 * naps without one, so an idle program is not woken. */
#define NAP_USEC  200
#define IDLE_NAPS 10
/* work_waiters: what the worker is doing when it is not delivering */
enum { WORKER_AWAKE, WORKER_ASLEEP, WORKER_NAPPING };

struct async_handler {
        trail_handler base;
        trail_handler *inner;
        struct slot *ring;
        uint64_t mask;
        uint32_t record_slots_max;
        uint32_t batch; /* atomic: records per batch, 1 for none */
        int overflow;
        int keep_level;
        uint64_t timeout_usec, flush_timeout_usec;

        uint64_t enqueue_pos __attribute__((aligned(64)));
        uint64_t dequeue_pos __attribute__((aligned(64)));
        uint64_t busy_pos; /* the first slot of the record being delivered, or POS_IDLE */
        /* Event counts for futex waits: a waiter registers, reads the event,
         * checks its condition, and sleeps only while the event is unchanged. */
        uint32_t work_event, work_waiters; /* WORKER_* */
        uint32_t space_event, space_waiters;
        uint32_t done_event, done_waiters;
        uint64_t pending_dropped[TRAIL_DEBUG + 1]; /* since the last report */

        pthread_mutex_t start_lock;
        bool running, stop, handoff;
        pthread_t worker;

        /* The worker's own: the records copied out of the ring and rebuilt,
         * each with its fields and its borrowed location, if any. */
        unsigned char *copy;   /* (BATCH_SLOTS + record_slots_max) slots' data */
        struct rfield *fields; /* 2 * RECORD_FIELDS_MAX */
        trail_source src[HANDLER_BATCH_MAX];
        /* The worker's per-thread buffers, also reachable from here: in the
         * child of fork() the thread is gone but its buffers are not lost. */
        struct tls_state *worker_tls, *parent_worker_tls;
};

static const struct handler_ops async_ops;

/* A logger's half after it queued a record ending at slot position end:
 * a sleeping worker is woken; a napping one only once the queue is more
 * than half full, so that a burst does not overflow while it naps. Either
 * way, the seq_cst store that published the record comes before this load
 * (see event_signal()). */
static void worker_notify(struct async_handler *a, uint64_t end) {
        uint32_t w = __atomic_load_n(&a->work_waiters, __ATOMIC_SEQ_CST);

        if (w == WORKER_AWAKE)
                return;
        if (w == WORKER_NAPPING &&
            end - __atomic_load_n(&a->dequeue_pos, __ATOMIC_RELAXED) <= (a->mask + 1) / 2)
                return;
        __atomic_add_fetch(&a->work_event, 1, __ATOMIC_SEQ_CST);
        futex_wake_all(&a->work_event);
}

static struct timespec usec_to_timespec(uint64_t usec) {
        return (struct timespec){(time_t) (usec / 1000000), (long) (usec % 1000000) * 1000};
}

/* ---- The ring --------------------------------------------------------------- */

static struct slot *slot_at(struct async_handler *a, uint64_t pos) {
        return &a->ring[pos & a->mask];
}

/* Claims n consecutive slots; -EAGAIN when the ring has no room. */
static int ring_reserve(struct async_handler *a, uint32_t n, uint64_t *ret_pos) {
        uint64_t pos = __atomic_load_n(&a->enqueue_pos, __ATOMIC_RELAXED);

        for (;;) {
                bool stale = false, full = false;

                for (uint32_t k = 0; k < n; k++) {
                        uint64_t seq = __atomic_load_n(&slot_at(a, pos + k)->seq, __ATOMIC_SEQ_CST);
                        int64_t diff = (int64_t) (seq - (pos + k));
                        if (diff < 0) {
                                full = true;
                                break;
                        }
                        if (diff > 0) {
                                stale = true;
                                break;
                        }
                }
                if (stale || full) {
                        uint64_t now = __atomic_load_n(&a->enqueue_pos, __ATOMIC_RELAXED);
                        if (now == pos && full)
                                return -EAGAIN;
                        pos = now;
                        continue;
                }
                if (__atomic_compare_exchange_n(&a->enqueue_pos, &pos, pos + n, true,
                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
                        *ret_pos = pos;
                        return 0;
                }
        }
}

static bool ring_empty(struct async_handler *a) {
        uint64_t pos = __atomic_load_n(&a->dequeue_pos, __ATOMIC_SEQ_CST);
        return __atomic_load_n(&slot_at(a, pos)->seq, __ATOMIC_SEQ_CST) != pos + 1;
}

/* Claims the oldest record, for the worker or for an eviction. Returns its
 * slot count (its level in *ret_level), 0 when the ring is empty, or -EBUSY
 * when the oldest is of a level that must not be evicted. */
static int ring_take(struct async_handler *a, bool worker, int keep_level, uint64_t *ret_pos,
                     int *ret_level) {
        uint64_t pos = __atomic_load_n(&a->dequeue_pos, __ATOMIC_RELAXED);

        for (;;) {
                struct slot *s = slot_at(a, pos);
                uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
                int64_t diff = (int64_t) (seq - (pos + 1));

                if (diff < 0)
                        return 0;
                if (diff > 0) {
                        pos = __atomic_load_n(&a->dequeue_pos, __ATOMIC_RELAXED);
                        continue;
                }
                uint64_t meta = __atomic_load_n(&s->meta, __ATOMIC_RELAXED);
                uint32_t n = (uint32_t) (meta >> 32);
                int level = (int) (meta & 0xff);
                if (!worker && level <= keep_level)
                        return -EBUSY;
                /* Announced before the claim, so that a flush that sees the
                 * claim also sees that this record is still under way; in a
                 * batch, the first record's position stays announced until
                 * the whole batch is delivered (only the worker writes it). */
                if (worker && __atomic_load_n(&a->busy_pos, __ATOMIC_RELAXED) == POS_IDLE)
                        __atomic_store_n(&a->busy_pos, pos, __ATOMIC_SEQ_CST);
                if (__atomic_compare_exchange_n(&a->dequeue_pos, &pos, pos + n, false,
                                                __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
                        *ret_pos = pos;
                        *ret_level = level;
                        return (int) n;
                }
        }
}

static void ring_free_slots(struct async_handler *a, uint64_t pos, uint32_t n) {
        for (uint32_t k = 0; k < n; k++)
                __atomic_store_n(&slot_at(a, pos + k)->seq, pos + k + a->mask + 1,
                                 __ATOMIC_SEQ_CST);
}

static void ring_release(struct async_handler *a, uint64_t pos, uint32_t n) {
        ring_free_slots(a, pos, n);
        event_signal(&a->space_event, &a->space_waiters);
}

/* ---- Drops ------------------------------------------------------------------ */

static void count_drop(struct async_handler *a, int level) {
        atomic_inc(&a->base.stats.dropped);
        atomic_inc(&a->pending_dropped[level]);
}

/* DROP_OLD: make room by dropping the oldest record, unless it is one that
 * must be kept. */
static bool evict_oldest(struct async_handler *a) {
        uint64_t pos;
        int level, n;

        n = ring_take(a, false, atomic_get(&a->keep_level), &pos, &level);
        if (n <= 0)
                return false;
        ring_release(a, pos, (uint32_t) n);
        count_drop(a, level);
        return true;
}

/* Waits for the worker to free slots: 1 with the slots claimed, 0 to try
 * again, -ETIMEDOUT when the deadline passed. */
static int wait_for_space(struct async_handler *a, uint32_t n, uint64_t deadline,
                          uint64_t *ret_pos) {
        uint64_t now = now_usec();
        int r = 0;

        if (now >= deadline)
                return -ETIMEDOUT;
        __atomic_add_fetch(&a->space_waiters, 1, __ATOMIC_SEQ_CST);
        uint32_t e = __atomic_load_n(&a->space_event, __ATOMIC_SEQ_CST);
        if (ring_reserve(a, n, ret_pos) == 0)
                r = 1;
        else {
                struct timespec rel = usec_to_timespec(deadline - now);
                futex_wait(&a->space_event, e, &rel);
        }
        __atomic_sub_fetch(&a->space_waiters, 1, __ATOMIC_SEQ_CST);
        return r;
}

/* ---- The worker --------------------------------------------------------------- */

static int worker_start(struct async_handler *a);

static void count_result(struct async_handler *a, int k) {
        if (k >= 0)
                atomic_inc(&a->base.stats.delivered);
        else {
                atomic_inc(&a->base.stats.failed);
                /* the inner handler counted whether it fell back */
        }
}

static void deliver(struct async_handler *a, const struct trail_record *r) {
        count_result(a, handler_emit(a->inner, r));
}

/* Takes the records waiting, up to the batch size (one for an inner handler
 * that cannot take a batch), copies them out of the ring and hands them to
 * the inner handler together; their slots are freed once they are
 * delivered, so that the queue holds no more than its capacity. Returns how
 * many it delivered (0: the ring was empty). */
static size_t deliver_batch(struct async_handler *a) {
        const struct trail_record *rp[HANDLER_BATCH_MAX];
        struct trail_record r[HANDLER_BATCH_MAX];
        uint64_t at[HANDLER_BATCH_MAX]; /* not consecutive: a DROP_OLD caller evicts too */
        int ret[HANDLER_BATCH_MAX], slots[HANDLER_BATCH_MAX];
        uint32_t batch = a->inner->ops->emit_batch ? atomic_get(&a->batch) : 1;
        size_t n = 0, used = 0, n_fields = 0;

        while (n < batch && used < BATCH_SLOTS && n_fields <= RECORD_FIELDS_MAX) {
                uint64_t pos;
                int level, k = ring_take(a, true, 0, &pos, &level);
                if (k <= 0)
                        break;
                unsigned char *copy = a->copy + used * SLOT_DATA;
                for (int i = 0; i < k; i++)
                        memcpy(copy + (size_t) i * SLOT_DATA, slot_at(a, pos + i)->data, SLOT_DATA);
                at[n] = pos;
                slots[n] = k;
                used += (size_t) k;
                /* the fields point into the copy */
                record_copy_rebuild(copy, a->fields + n_fields, &a->src[n], &r[n]);
                r[n].deferred = true;
                n_fields += r[n].n_fields;
                rp[n] = &r[n];
                n++;
        }
        if (n == 1)
                deliver(a, &r[0]);
        else if (n > 1) {
                handler_emit_batch(a->inner, rp, n, ret);
                for (size_t i = 0; i < n; i++)
                        count_result(a, ret[i]);
        }
        for (size_t i = 0; i < n; i++)
                ring_free_slots(a, at[i], (uint32_t) slots[i]);
        if (n > 0) /* one wake-up for the batch */
                event_signal(&a->space_event, &a->space_waiters);
        return n;
}

/* One record that says how many were dropped since the last one. */
static void report_drops(struct async_handler *a) {
        static const trail_source src = {__FILE__, "report_drops", __LINE__, STRLEN(__FILE__),
                                         STRLEN("report_drops")};
        uint64_t dropped[TRAIL_DEBUG + 1];
        struct own_record o;

        for (int l = TRAIL_EMERGENCY; l <= TRAIL_DEBUG; l++)
                dropped[l] = __atomic_exchange_n(&a->pending_dropped[l], 0, __ATOMIC_RELAXED);
        if (own_record_drops(&o, &src, dropped, "the log queue was full") &&
            o.r.level <= atomic_get(&a->inner->level))
                (void) handler_emit(a->inner, &o.r);
}

static bool pending_drops(struct async_handler *a) {
        for (int l = TRAIL_EMERGENCY; l <= TRAIL_DEBUG; l++)
                if (atomic_get(&a->pending_dropped[l]))
                        return true;
        return false;
}

static void worker_idle(struct async_handler *a) {
        __atomic_store_n(&a->busy_pos, POS_IDLE, __ATOMIC_SEQ_CST);
        event_signal(&a->done_event, &a->done_waiters);
}

static void async_destroy(struct async_handler *a);

static void *worker_main(void *userdata) {
        struct async_handler *a = userdata;
        struct tls_state *t = tls_state_get();

        /* Anything the inner handler logs would recurse: trail__log() refuses. */
        thread_busy_enter();
        __atomic_store_n(&a->worker_tls, t, __ATOMIC_RELAXED);
        (void) pthread_setname_np(pthread_self(), "trail-async");

        for (unsigned naps = 0;;) {
                if (deliver_batch(a) > 0) {
                        naps = 0;
                        if (ring_empty(a) && pending_drops(a))
                                report_drops(a);
                        worker_idle(a);
                        continue;
                }
                worker_idle(a);
                if (pending_drops(a))
                        report_drops(a);
                if (__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE))
                        break;

                bool nap = naps++ < IDLE_NAPS;
                __atomic_store_n(&a->work_waiters, nap ? WORKER_NAPPING : WORKER_ASLEEP,
                                 __ATOMIC_SEQ_CST);
                uint32_t e = __atomic_load_n(&a->work_event, __ATOMIC_SEQ_CST);
                if (ring_empty(a) && !__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE))
                        futex_wait(&a->work_event, e,
                                   nap ? &(struct timespec){.tv_nsec = NAP_USEC * 1000} : NULL);
                __atomic_store_n(&a->work_waiters, WORKER_AWAKE, __ATOMIC_RELAXED);
        }

        thread_busy_leave();
        /* The handler was freed while this thread was still delivering. */
        if (__atomic_exchange_n(&a->handoff, true, __ATOMIC_ACQ_REL))
                async_destroy(a);
        return NULL;
}

static int worker_start(struct async_handler *a) {
        sigset_t all, saved;
        int r = 0;

        pthread_mutex_lock(&a->start_lock);
        if (!__atomic_load_n(&a->running, __ATOMIC_ACQUIRE)) {
                /* The worker takes no signal meant for the program. */
                sigfillset(&all);
                pthread_sigmask(SIG_SETMASK, &all, &saved);
                r = -pthread_create(&a->worker, NULL, worker_main, a);
                pthread_sigmask(SIG_SETMASK, &saved, NULL);
                if (r == 0)
                        __atomic_store_n(&a->running, true, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&a->start_lock);
        return r;
}

/* ---- Callers ------------------------------------------------------------------ */

static void high_water_update(struct async_handler *a, uint64_t end) {
        uint64_t used = end - __atomic_load_n(&a->dequeue_pos, __ATOMIC_RELAXED);
        uint64_t hw = __atomic_load_n(&a->base.stats.queue_high_water, __ATOMIC_RELAXED);

        if (used > a->mask + 1)
                used = a->mask + 1;
        while (used > hw && !__atomic_compare_exchange_n(&a->base.stats.queue_high_water, &hw, used,
                                                         true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                ;
}

/* Writes r into the n slots reserved at pos and publishes them. */
static void ring_write_record(struct async_handler *a, uint64_t pos, uint32_t n,
                              const struct trail_record *r, const struct record_copy_plan *p) {
        struct record_copy_writer w = {
                .base = a->ring[0].data,
                .chunk = SLOT_DATA,
                .stride = sizeof(struct slot),
                .mask = a->mask,
                .pos = pos,
        };

        record_copy_write(&w, r, p);

        /* Publish: the first slot last, so that the worker sees the whole. */
        __atomic_store_n(&slot_at(a, pos)->meta, (uint64_t) n << 32 | (uint32_t) r->level,
                         __ATOMIC_RELAXED);
        for (uint32_t k = n; k-- > 1;)
                __atomic_store_n(&slot_at(a, pos + k)->seq, pos + k + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_at(a, pos)->seq, pos + 1, __ATOMIC_SEQ_CST);
        high_water_update(a, pos + n);
        worker_notify(a, pos + n);
}

static int async_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct async_handler *a = (struct async_handler *) h;
        size_t max = (size_t) a->record_slots_max * SLOT_DATA, size;
        struct record_copy_plan plan;
        uint64_t pos, deadline = 0;
        uint32_t n;
        bool keep;

        (void) fell_back;
        if (r->level > atomic_get(&a->inner->level))
                return 0;
        /* No worker (pthread_create() failed: EAGAIN, ENOMEM): a queued record
         * would wait for nobody, and every flush for it. Deliver it now, as a
         * synchronous handler would; the next record tries to start one again. */
        if (_unlikely_(!__atomic_load_n(&a->running, __ATOMIC_ACQUIRE)) && worker_start(a) < 0) {
                deliver(a, r);
                return HANDLER_COUNTS_ITSELF; /* counted by deliver() */
        }

        /* Too big for the queue: cut to fit (record_copy_plan()). */
        size = record_copy_plan(r, max, &plan);
        n = (uint32_t) ((size + SLOT_DATA - 1) / SLOT_DATA);

        keep = a->overflow == TRAIL_OVERFLOW_BLOCK || r->level <= atomic_get(&a->keep_level);
        for (unsigned tries = 0;; tries++) {
                if (ring_reserve(a, n, &pos) == 0)
                        break;
                if (a->overflow == TRAIL_OVERFLOW_DROP_OLD && tries < EVICT_TRIES &&
                    evict_oldest(a))
                        continue;
                if (!keep)
                        goto drop;
                if (deadline == 0)
                        deadline = now_usec() + atomic_get(&a->timeout_usec);
                int k = wait_for_space(a, n, deadline, &pos);
                if (k < 0)
                        goto drop;
                if (k > 0)
                        break;
        }

        ring_write_record(a, pos, n, r, &plan);
        return HANDLER_COUNTS_ITSELF;

drop:
        count_drop(a, r->level);
        return HANDLER_COUNTS_ITSELF;
}

/* Waits until every record queued before the call is delivered, up to the
 * flush timeout; then flushes the inner handler. */
static int async_flush(trail_handler *h) {
        struct async_handler *a = (struct async_handler *) h;
        uint64_t target = __atomic_load_n(&a->enqueue_pos, __ATOMIC_SEQ_CST);
        uint64_t deadline = now_usec() + atomic_get(&a->flush_timeout_usec);
        int r = 0;

        /* The worker itself (an inner handler that flushes) must not wait for itself. */
        if (__atomic_load_n(&a->running, __ATOMIC_ACQUIRE) &&
            pthread_equal(pthread_self(), a->worker))
                return 0;
        for (;;) {
                __atomic_add_fetch(&a->done_waiters, 1, __ATOMIC_SEQ_CST);
                uint32_t e = __atomic_load_n(&a->done_event, __ATOMIC_SEQ_CST);
                bool done = __atomic_load_n(&a->dequeue_pos, __ATOMIC_SEQ_CST) >= target &&
                            __atomic_load_n(&a->busy_pos, __ATOMIC_SEQ_CST) >= target;
                uint64_t now = now_usec();
                if (!done && now < deadline) {
                        struct timespec rel = usec_to_timespec(deadline - now);
                        futex_wait(&a->done_event, e, &rel);
                }
                __atomic_sub_fetch(&a->done_waiters, 1, __ATOMIC_SEQ_CST);
                if (done)
                        break;
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
        }
        if (a->inner->ops->flush) {
                int k = a->inner->ops->flush(a->inner);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

/* ---- Fork ---------------------------------------------------------------------- */

/* The child has no worker, and the parent's queued records are the
 * parent's to deliver: the queue starts empty, and a worker is started by
 * the child's first record. */
static void async_fork_child(trail_handler *h) {
        struct async_handler *a = (struct async_handler *) h;

        for (uint64_t i = 0; i <= a->mask; i++)
                a->ring[i].seq = i;
        a->enqueue_pos = a->dequeue_pos = 0;
        a->busy_pos = POS_IDLE;
        a->work_waiters = a->space_waiters = a->done_waiters = 0;
        memset(a->pending_dropped, 0, sizeof(a->pending_dropped));
        pthread_mutex_init(&a->start_lock, NULL);
        a->running = false;
        a->parent_worker_tls = a->worker_tls;
        a->worker_tls = NULL;
}

/* ---- Lifetime ------------------------------------------------------------------- */

static void async_destroy(struct async_handler *a) {
        trail_handler_unref(a->inner);
        pthread_mutex_destroy(&a->start_lock);
        free(a->ring);
        free(a->copy);
        free(a->fields);
        free(a);
}

static void async_free(trail_handler *h) {
        struct async_handler *a = (struct async_handler *) h;

        if (__atomic_load_n(&a->running, __ATOMIC_ACQUIRE)) {
                struct timespec until;
                uint64_t usec = atomic_get(&a->flush_timeout_usec);

                __atomic_store_n(&a->stop, true, __ATOMIC_RELEASE);
                __atomic_add_fetch(&a->work_event, 1, __ATOMIC_SEQ_CST);
                futex_wake_all(&a->work_event);
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += (time_t) (usec / 1000000);
                until.tv_nsec += (long) (usec % 1000000) * 1000;
                if (until.tv_nsec >= 1000000000) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000;
                }
                if (pthread_timedjoin_np(a->worker, NULL, &until) != 0) {
                        /* Stuck in the inner handler: never hang the program;
                         * the worker frees the handler when it gets out. */
                        pthread_detach(a->worker);
                        if (!__atomic_exchange_n(&a->handoff, true, __ATOMIC_ACQ_REL))
                                return;
                }
        }
        async_destroy(a);
}

/* "batch": the most records the worker hands the inner handler at once (1:
 * one at a time). */
static int async_set(trail_handler *h, const char *key, const char *value) {
        struct async_handler *a = (struct async_handler *) h;
        unsigned long v;
        char *end;

        if (strcmp(key, "batch") != 0)
                return -ENOENT;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno != 0 || end == value || *end || value[0] < '1' || value[0] > '9' ||
            v > HANDLER_BATCH_MAX)
                return -EINVAL;
        __atomic_store_n(&a->batch, (uint32_t) v, __ATOMIC_RELAXED);
        return 0;
}

static const struct handler_ops async_ops = {
        .type = "async",
        .emit = async_emit,
        .flush = async_flush,
        .set = async_set,
        .free = async_free,
        .fork_child = async_fork_child,
};

_public_ trail_handler *trail_handler_async(trail_handler *inner, size_t capacity, int overflow) {
        struct async_handler *a;
        size_t slots = 1;

        if (!inner || overflow < TRAIL_OVERFLOW_BLOCK || overflow > TRAIL_OVERFLOW_DROP_OLD ||
            capacity > CAPACITY_MAX) {
                errno = EINVAL;
                return NULL;
        }
        if (capacity == 0)
                capacity = CAPACITY_DEFAULT;
        if (capacity < CAPACITY_MIN)
                capacity = CAPACITY_MIN;
        while (slots < capacity)
                slots <<= 1;

        a = calloc(1, sizeof(*a));
        if (!a) {
                errno = ENOMEM;
                return NULL;
        }
        (void) handler_init(&a->base, &async_ops); /* renders no text: cannot fail */
        a->mask = slots - 1;
        /* A record may take at most a quarter of the ring. */
        a->record_slots_max =
                slots / 4 < RECORD_SLOTS_MAX ? (uint32_t) (slots / 4) : RECORD_SLOTS_MAX;
        a->overflow = overflow;
        a->keep_level = TRAIL_ERROR;
        a->timeout_usec = 1000000;
        a->flush_timeout_usec = 5000000;
        a->busy_pos = POS_IDLE;
        a->ring = aligned_alloc(64, slots * sizeof(struct slot));
        a->batch = BATCH_DEFAULT;
        a->copy = malloc((size_t) (BATCH_SLOTS + a->record_slots_max) * SLOT_DATA);
        a->fields = calloc(2 * RECORD_FIELDS_MAX, sizeof(struct rfield));
        if (!a->ring || !a->copy || !a->fields) {
                free(a->ring);
                free(a->copy);
                free(a->fields);
                free(a);
                errno = ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < slots; i++)
                a->ring[i].seq = i;
        pthread_mutex_init(&a->start_lock, NULL);
        a->inner = trail_handler_ref(inner);
        handler_fork_track(&a->base);
        return &a->base;
}

static struct async_handler *async_cast(trail_handler *h) {
        return h && h->ops == &async_ops ? (struct async_handler *) h : NULL;
}

_public_ int trail_handler_async_set_timeout(trail_handler *h, uint64_t usec) {
        struct async_handler *a = async_cast(h);

        if (!a)
                return h ? -EOPNOTSUPP : -EINVAL;
        __atomic_store_n(&a->timeout_usec, usec, __ATOMIC_RELAXED);
        return 0;
}

_public_ int trail_handler_async_set_flush_timeout(trail_handler *h, uint64_t usec) {
        struct async_handler *a = async_cast(h);

        if (!a)
                return h ? -EOPNOTSUPP : -EINVAL;
        __atomic_store_n(&a->flush_timeout_usec, usec, __ATOMIC_RELAXED);
        return 0;
}

_public_ int trail_handler_async_set_keep_level(trail_handler *h, int level) {
        struct async_handler *a = async_cast(h);

        if (!a)
                return h ? -EOPNOTSUPP : -EINVAL;
        if (level < -1 || level > TRAIL_DEBUG)
                return -EINVAL;
        __atomic_store_n(&a->keep_level, level, __ATOMIC_RELAXED);
        return 0;
}
