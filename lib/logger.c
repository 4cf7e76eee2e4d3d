/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logger tree: dotted names, inherited levels kept
 * denormalised in every node so that the level test needs no lock, and the
 * per-logger handler lists that records propagate through. */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logger-private.h"

/* The registry. Loggers are created rarely and live for the process; one
 * mutex guards creation, the tree links and level changes. */
#define LOGGER_BUCKETS 256

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fork_hooks registry_fork = {.mutex = &registry_lock};
__attribute__((constructor)) static void registry_fork_register(void) {
        fork_hooks_register(FORK_RANK_LOGGERS, &registry_fork);
}
static trail_logger *buckets[LOGGER_BUCKETS];
static trail_logger *root;
static struct handler_set *retired_sets;

static size_t name_hash(const char *s, size_t n) {
        size_t h = 5381;
        for (size_t i = 0; i < n; i++)
                h = h * 33 + (unsigned char) s[i];
        return h % LOGGER_BUCKETS;
}

/* No empty segment, no leading or trailing dot, printable ASCII, no space. */
bool logger_name_is_valid(const char *name, size_t n) {
        if (n == 0 || name[0] == '.' || name[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) name[i];
                if (c <= ' ' || c >= 0x7f)
                        return false;
                if (c == '.' && name[i + 1] == '.')
                        return false;
        }
        return true;
}

static trail_logger *logger_new(const char *name, size_t n, trail_logger *parent) {
        trail_logger *lg = calloc(1, sizeof(*lg) + STRLEN("LOGGER=") + n + 1);
        if (!lg)
                return NULL;
        memcpy(lg->logger_field, "LOGGER=", STRLEN("LOGGER="));
        memcpy(lg->logger_field + STRLEN("LOGGER="), name, n);
        lg->name = lg->logger_field + STRLEN("LOGGER=");
        lg->field_len = STRLEN("LOGGER=") + n;
        lg->propagate = true;
        lg->parent = parent;
        if (parent) {
                lg->level_set = TRAIL_LEVEL_INHERIT;
                lg->level_effective = parent->level_effective;
                lg->next_sibling = parent->first_child;
                parent->first_child = lg;
        } else {
                lg->level_set = TRAIL_INFO;
                lg->level_effective = TRAIL_INFO;
        }
        return lg;
}

static trail_logger *lookup_locked(const char *name, size_t n) {
        for (trail_logger *lg = buckets[name_hash(name, n)]; lg; lg = lg->hash_next)
                if (lg->field_len - STRLEN("LOGGER=") == n && memcmp(lg->name, name, n) == 0)
                        return lg;
        return NULL;
}

static trail_logger *root_locked(void) {
        if (!root)
                root = logger_new("root", STRLEN("root"), NULL);
        return root;
}

trail_logger *logger_root(void) {
        trail_logger *r = __atomic_load_n(&root, __ATOMIC_ACQUIRE);
        if (r)
                return r;
        pthread_mutex_lock(&registry_lock);
        r = root_locked();
        pthread_mutex_unlock(&registry_lock);
        return r;
}

/* Creates name and each missing ancestor ("a", "a.b" for "a.b.c"). */
static trail_logger *get_locked(const char *name, size_t n) {
        if (n == STRLEN("root") && memcmp(name, "root", n) == 0)
                return root_locked();

        trail_logger *lg = lookup_locked(name, n);
        if (lg)
                return lg;

        trail_logger *parent = NULL;
        for (size_t i = n; i > 0; i--)
                if (name[i - 1] == '.') {
                        parent = get_locked(name, i - 1);
                        if (!parent)
                                return NULL;
                        break;
                }
        if (!parent)
                parent = root_locked();
        if (!parent)
                return NULL;

        lg = logger_new(name, n, parent);
        if (!lg)
                return NULL;
        size_t b = name_hash(name, n);
        lg->hash_next = buckets[b];
        buckets[b] = lg;
        return lg;
}

/* trail_get() without the configuration's autoload: NULL or "" is the root;
 * NULL with errno set (EINVAL, ENOMEM) on failure. */
trail_logger *logger_get(const char *name) {
        size_t n = name ? strlen(name) : 0;
        trail_logger *lg;

        if (n == 0 || strcmp(name, "root") == 0)
                return logger_root() ?: (errno = ENOMEM, NULL);
        if (!logger_name_is_valid(name, n)) {
                errno = EINVAL;
                return NULL;
        }

        pthread_mutex_lock(&registry_lock);
        lg = get_locked(name, n);
        pthread_mutex_unlock(&registry_lock);
        if (!lg)
                errno = ENOMEM;
        return lg;
}

_public_ const char *trail_logger_name(const trail_logger *lg) {
        return lg ? lg->name : NULL;
}

/* Every descendant that inherits takes the new effective level before the
 * setter returns. */
static void propagate_level_locked(trail_logger *lg, int effective) {
        __atomic_store_n(&lg->level_effective, effective, __ATOMIC_RELAXED);
        for (trail_logger *c = lg->first_child; c; c = c->next_sibling)
                if (c->level_set == TRAIL_LEVEL_INHERIT)
                        propagate_level_locked(c, effective);
}

_public_ int trail_logger_set_level(trail_logger *lg, int level) {
        if (!lg)
                return -EINVAL;
        if (level < TRAIL_LEVEL_INHERIT || level > TRAIL_DEBUG)
                return -EINVAL;
        if (level == TRAIL_LEVEL_INHERIT && !lg->parent)
                return -EINVAL; /* the root has nothing to inherit from */

        pthread_mutex_lock(&registry_lock);
        lg->level_set = level;
        propagate_level_locked(lg,
                               level == TRAIL_LEVEL_INHERIT ? lg->parent->level_effective : level);
        pthread_mutex_unlock(&registry_lock);
        return 0;
}

_public_ int trail_logger_level(const trail_logger *lg) {
        if (!lg)
                return -EINVAL;
        return __atomic_load_n(&lg->level_effective, __ATOMIC_RELAXED);
}

_public_ int trail_logger_set_propagate(trail_logger *lg, bool propagate) {
        if (!lg)
                return -EINVAL;
        __atomic_store_n(&lg->propagate, propagate, __ATOMIC_RELAXED);
        return 0;
}

_public_ int trail_logger_set_sample(trail_logger *lg, unsigned n) {
        return lg ? flow_limits_set_sample(&lg->flow, n) : -EINVAL;
}

_public_ int trail_logger_set_rate_limit(trail_logger *lg, unsigned burst, uint64_t interval_usec) {
        return lg ? flow_limits_set_rate_limit(&lg->flow, burst, interval_usec) : -EINVAL;
}

/* Handler lists are copied on change and the old list retired, not freed:
 * another thread may still be walking it. Retired lists are freed by
 * trail_shutdown(), when no thread logs. */
static int handler_set_replace_locked(trail_logger *lg, trail_handler *add, trail_handler *remove) {
        struct handler_set *old = lg->handlers, *set;
        size_t n = old ? old->n : 0, k = 0;
        bool found = false;

        for (size_t i = 0; i < n; i++) {
                if (old->h[i] == add)
                        return -EEXIST;
                if (old->h[i] == remove)
                        found = true;
        }
        if (remove && !found)
                return -ENOENT;

        set = malloc(sizeof(*set) + (n + 1) * sizeof(set->h[0]));
        if (!set)
                return -ENOMEM;
        set->retired_next = NULL;
        for (size_t i = 0; i < n; i++)
                if (old->h[i] != remove)
                        set->h[k++] = trail_handler_ref(old->h[i]);
        if (add)
                set->h[k++] = trail_handler_ref(add);
        set->n = k;

        __atomic_store_n(&lg->handlers, set, __ATOMIC_RELEASE);
        if (old) {
                old->retired_next = retired_sets;
                retired_sets = old;
        }
        return 0;
}

_public_ int trail_logger_add_handler(trail_logger *lg, trail_handler *h) {
        int r;

        if (!lg || !h)
                return -EINVAL;
        pthread_mutex_lock(&registry_lock);
        r = handler_set_replace_locked(lg, h, NULL);
        pthread_mutex_unlock(&registry_lock);
        return r;
}

_public_ int trail_logger_remove_handler(trail_logger *lg, trail_handler *h) {
        int r;

        if (!lg || !h)
                return -EINVAL;
        pthread_mutex_lock(&registry_lock);
        r = handler_set_replace_locked(lg, NULL, h);
        pthread_mutex_unlock(&registry_lock);
        return r;
}

/* Replaced filter lists of loggers: freed at shutdown. */
static struct retired *retired_filters;

static int logger_filter_change(trail_logger *lg, trail_filter_fn fn, void *userdata, bool add) {
        int r;

        if (!lg || !fn)
                return -EINVAL;
        pthread_mutex_lock(&registry_lock);
        r = filter_list_change(&lg->filters, &retired_filters, fn, userdata, add);
        pthread_mutex_unlock(&registry_lock);
        return r;
}

_public_ int trail_logger_add_filter(trail_logger *lg, trail_filter_fn fn, void *userdata) {
        return logger_filter_change(lg, fn, userdata, true);
}

_public_ int trail_logger_remove_filter(trail_logger *lg, trail_filter_fn fn, void *userdata) {
        return logger_filter_change(lg, fn, userdata, false);
}

static void handler_set_free(struct handler_set *set) {
        if (!set)
                return;
        for (size_t i = 0; i < set->n; i++)
                trail_handler_unref(set->h[i]);
        free(set);
}

void loggers_for_each_handler_set(void (*fn)(struct handler_set *set, void *userdata),
                                  void *userdata) {
        pthread_mutex_lock(&registry_lock);
        if (root && root->handlers)
                fn(root->handlers, userdata);
        for (size_t b = 0; b < LOGGER_BUCKETS; b++)
                for (trail_logger *lg = buckets[b]; lg; lg = lg->hash_next)
                        if (lg->handlers)
                                fn(lg->handlers, userdata);
        pthread_mutex_unlock(&registry_lock);
}

static void detach_locked(trail_logger *lg) {
        struct handler_set *old = lg->handlers;
        __atomic_store_n(&lg->handlers, NULL, __ATOMIC_RELEASE);
        handler_set_free(old);
}

void loggers_detach_all_handlers(void) {
        pthread_mutex_lock(&registry_lock);
        if (root)
                detach_locked(root);
        for (size_t b = 0; b < LOGGER_BUCKETS; b++)
                for (trail_logger *lg = buckets[b]; lg; lg = lg->hash_next)
                        detach_locked(lg);
        pthread_mutex_unlock(&registry_lock);
}

void handler_sets_free_retired(void) {
        pthread_mutex_lock(&registry_lock);
        retired_free_all(&retired_filters);
        while (retired_sets) {
                struct handler_set *s = retired_sets;
                retired_sets = s->retired_next;
                handler_set_free(s);
        }
        pthread_mutex_unlock(&registry_lock);
}

void handler_set_release(struct handler_set *set) {
        handler_set_free(set);
}

struct handler_set *loggers_apply(const struct logger_change *c, size_t n) {
        struct handler_set *replaced = NULL;

        pthread_mutex_lock(&registry_lock);
        for (size_t i = 0; i < n; i++) {
                trail_logger *lg = c[i].lg;
                struct handler_set *old = lg->handlers;
                int level = c[i].level;

                if (level == TRAIL_LEVEL_INHERIT && !lg->parent)
                        level = TRAIL_INFO;
                if (c[i].replace_handlers) {
                        __atomic_store_n(&lg->handlers, c[i].set, __ATOMIC_RELEASE);
                        if (old) {
                                old->retired_next = replaced;
                                replaced = old;
                        }
                }
                if (c[i].set_propagate)
                        __atomic_store_n(&lg->propagate, c[i].propagate, __ATOMIC_RELAXED);
                lg->level_set = level;
                propagate_level_locked(
                        lg, level == TRAIL_LEVEL_INHERIT ? lg->parent->level_effective : level);
        }
        pthread_mutex_unlock(&registry_lock);
        return replaced;
}
