/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handlers in general: reference counting, levels, formatters and filters,
 * and delivery accounting. */

#include <string.h>

#include "handler-private.h"

/* Serialises changes of handlers' formatters and filters. */
static pthread_mutex_t handler_config_lock = PTHREAD_MUTEX_INITIALIZER;

/* The handlers with fork hooks that are not freed yet, for fork(). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static trail_handler *live;

void handler_fork_track(trail_handler *h) {
        pthread_mutex_lock(&live_lock);
        h->live_prev = NULL;
        h->live_next = live;
        if (live)
                live->live_prev = h;
        live = h;
        h->live = true;
        pthread_mutex_unlock(&live_lock);
}

static void handler_fork_untrack(trail_handler *h) {
        pthread_mutex_lock(&live_lock);
        if (h->live) {
                if (h->live_prev)
                        h->live_prev->live_next = h->live_next;
                else
                        live = h->live_next;
                if (h->live_next)
                        h->live_next->live_prev = h->live_prev;
                h->live = false;
        }
        pthread_mutex_unlock(&live_lock);
}

static void live_fork_prepare(void) {
        for (trail_handler *h = live; h; h = h->live_next)
                if (h->ops->fork_prepare)
                        h->ops->fork_prepare(h);
}

static void live_fork_parent(void) {
        for (trail_handler *h = live; h; h = h->live_next)
                if (h->ops->fork_parent)
                        h->ops->fork_parent(h);
}

static void live_fork_child(void) {
        for (trail_handler *h = live; h; h = h->live_next)
                if (h->ops->fork_child)
                        h->ops->fork_child(h);
}

static const struct fork_hooks config_fork = {.mutex = &handler_config_lock};
static const struct fork_hooks live_fork = {
        .mutex = &live_lock,
        .prepare = live_fork_prepare,
        .parent = live_fork_parent,
        .child = live_fork_child,
};

__attribute__((constructor)) static void handler_fork_register(void) {
        fork_hooks_register(FORK_RANK_HANDLER_CONFIG, &config_fork);
        fork_hooks_register(FORK_RANK_HANDLERS, &live_fork);
}

int handler_init(trail_handler *h, const struct handler_ops *ops) {
        h->ops = ops;
        h->refcount = 1;
        h->level = TRAIL_DEBUG;
        if (ops->default_format) {
                trail_formatter *f = trail_formatter_new(ops->default_format);
                if (!f)
                        return -errno;
                formatter_freeze(f);
                h->formatter = f;
        }
        return 0;
}

static void formatter_unref_void(void *f) {
        trail_formatter_unref(f);
}

_public_ trail_handler *trail_handler_ref(trail_handler *h) {
        if (h)
                __atomic_add_fetch(&h->refcount, 1, __ATOMIC_RELAXED);
        return h;
}

_public_ trail_handler *trail_handler_unref(trail_handler *h) {
        if (h && __atomic_sub_fetch(&h->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
                PROTECT_ERRNO;
                handler_fork_untrack(h);
                if (h->ops->flush)
                        (void) h->ops->flush(h);
                trail_formatter_unref(h->formatter);
                free(h->filters);
                retired_free_all(&h->retired);
                h->ops->free(h);
        }
        return NULL;
}

_public_ int trail_handler_set_level(trail_handler *h, int level) {
        if (!h || level < TRAIL_EMERGENCY || level > TRAIL_DEBUG)
                return -EINVAL;
        __atomic_store_n(&h->level, level, __ATOMIC_RELAXED);
        return 0;
}

_public_ int trail_handler_set_formatter(trail_handler *h, trail_formatter *f) {
        trail_formatter *old;
        int r;

        if (!h || !f)
                return -EINVAL;
        if (!h->ops->default_format)
                return -EOPNOTSUPP;
        pthread_mutex_lock(&handler_config_lock);
        old = h->formatter;
        r = retire(&h->retired, old, formatter_unref_void);
        if (r >= 0) {
                formatter_freeze(f);
                __atomic_store_n(&h->formatter, trail_formatter_ref(f), __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&handler_config_lock);
        return r;
}

_public_ int trail_handler_add_filter(trail_handler *h, trail_filter_fn fn, void *userdata) {
        int r;

        if (!h || !fn)
                return -EINVAL;
        pthread_mutex_lock(&handler_config_lock);
        r = filter_list_change(&h->filters, &h->retired, fn, userdata, true);
        pthread_mutex_unlock(&handler_config_lock);
        return r;
}

_public_ int trail_handler_remove_filter(trail_handler *h, trail_filter_fn fn, void *userdata) {
        int r;

        if (!h || !fn)
                return -EINVAL;
        pthread_mutex_lock(&handler_config_lock);
        r = filter_list_change(&h->filters, &h->retired, fn, userdata, false);
        pthread_mutex_unlock(&handler_config_lock);
        return r;
}

_public_ int trail_handler_set(trail_handler *h, const char *key, const char *value) {
        PROTECT_ERRNO;
        int r;

        if (!h || !key || !value)
                return -EINVAL;
        if (strcmp(key, "level") == 0) {
                int level = trail_level_parse(value);
                return level < 0 ? -EINVAL : trail_handler_set_level(h, level);
        }
        if (strcmp(key, "format") == 0) {
                _cleanup_(trail_formatter_unrefp) trail_formatter *f = NULL;
                if (!h->ops->default_format)
                        return -EOPNOTSUPP;
                f = trail_formatter_new(value);
                if (!f)
                        return -errno; /* EINVAL for an unknown name, or ENOMEM */
                return trail_handler_set_formatter(h, f);
        }
        r = h->ops->set ? h->ops->set(h, key, value) : -ENOENT;
        if (r != -ENOENT)
                return r;
        /* A formatter option: the formatter in use is frozen, so set it on a
         * copy of the same kind with the options given so far. */
        pthread_mutex_lock(&handler_config_lock);
        _cleanup_(trail_formatter_unrefp) trail_formatter *cur = trail_formatter_ref(h->formatter);
        pthread_mutex_unlock(&handler_config_lock);
        if (!cur)
                return -ENOENT;
        _cleanup_(trail_formatter_unrefp) trail_formatter *copy = formatter_clone(cur);
        if (!copy)
                return -errno;
        r = trail_formatter_set(copy, key, value);
        if (r < 0)
                return r;
        return trail_handler_set_formatter(h, copy);
}

static void emit_count(trail_handler *h, int k, bool fell_back) {
        if (k == HANDLER_COUNTS_ITSELF)
                ; /* the handler counts delivery itself, as it happens */
        else if (k >= 0)
                atomic_inc(&h->stats.delivered);
        else if (fell_back)
                atomic_inc(&h->stats.failed);
        else {
                atomic_inc(&h->stats.failed);
                atomic_inc(&h->stats.lost);
        }
}

int handler_emit(trail_handler *h, const struct trail_record *r) {
        bool fell_back = false;
        int k;

        if (!filter_list_pass(__atomic_load_n(&h->filters, __ATOMIC_ACQUIRE), r))
                return 0;
        atomic_inc(&h->stats.records);
        k = h->ops->emit(h, r, &fell_back);
        emit_count(h, k, fell_back);
        return k;
}

void handler_emit_batch(trail_handler *h, const struct trail_record *const *r, size_t n, int *ret) {
        const struct filter_list *fl = __atomic_load_n(&h->filters, __ATOMIC_ACQUIRE);
        const struct trail_record *pass[HANDLER_BATCH_MAX];
        unsigned char idx[HANDLER_BATCH_MAX];
        int res[HANDLER_BATCH_MAX];
        bool fell_back[HANDLER_BATCH_MAX] = {};
        size_t m = 0;

        for (; n > HANDLER_BATCH_MAX;
             n -= HANDLER_BATCH_MAX, r += HANDLER_BATCH_MAX, ret += HANDLER_BATCH_MAX)
                handler_emit_batch(h, r, HANDLER_BATCH_MAX, ret);
        if (!h->ops->emit_batch || n == 1) {
                for (size_t i = 0; i < n; i++)
                        ret[i] = handler_emit(h, r[i]);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                ret[i] = 0;
                if (filter_list_pass(fl, r[i])) {
                        idx[m] = (unsigned char) i;
                        pass[m++] = r[i];
                }
        }
        if (m == 0)
                return;
        __atomic_add_fetch(&h->stats.records, m, __ATOMIC_RELAXED);
        h->ops->emit_batch(h, pass, m, res, fell_back);
        for (size_t j = 0; j < m; j++) {
                emit_count(h, res[j], fell_back[j]);
                ret[idx[j]] = res[j];
        }
}

/* ---- Statistics --------------------------------------------------------- */

static void counters_read(const struct handler_counters *c, trail_stats *s) {
        s->records += atomic_get(&c->records);
        s->delivered += atomic_get(&c->delivered);
        s->failed += atomic_get(&c->failed);
        s->lost += atomic_get(&c->lost);
        s->dropped += atomic_get(&c->dropped);
        s->resent += atomic_get(&c->resent);
        uint64_t hw = atomic_get(&c->queue_high_water);
        if (hw > s->queue_high_water)
                s->queue_high_water = hw;
}

_public_ int trail_handler_get_stats(const trail_handler *h, trail_stats *ret) {
        trail_stats s = {};

        if (!h || !ret)
                return -EINVAL;
        counters_read(&h->stats, &s);
        *ret = s;
        return 0;
}

/* Adds h's counters to s (the high-water mark: the largest). */
void handler_stats_add(const trail_handler *h, trail_stats *s) {
        counters_read(&h->stats, s);
}
