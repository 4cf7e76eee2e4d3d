/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork(): every lock of the library, taken in one order before fork() and
 * released after it, in the parent and in the child, so that the child never
 * inherits a lock held by a thread it does not have, nor the state that
 * thread was halfway through changing.
 *
 * The order is the library's lock order (enum fork_rank, outermost first):
 * a thread that holds one of these locks only ever waits for locks of a
 * higher rank, so taking them all in rank order cannot deadlock with it.
 * One pthread_atfork() registration for all of them: separate registrations
 * would run in the order the modules happened to register, not in this one.
 *
 * Locks held across I/O that may last up to a handler's timeout (the syslog
 * handler's connection) are not taken here: fork() would wait for the
 * network. Their handlers mend them in the child instead (fork_child in
 * struct handler_ops). */

#include "record-private.h"

static const struct fork_hooks *hooks[_FORK_RANK_MAX];

static void fork_prepare(void) {
        for (size_t i = 0; i < _FORK_RANK_MAX; i++) {
                const struct fork_hooks *h = hooks[i];
                if (!h)
                        continue;
                if (h->mutex)
                        pthread_mutex_lock(h->mutex);
                if (h->prepare)
                        h->prepare();
        }
}

static void fork_parent(void) {
        for (size_t i = _FORK_RANK_MAX; i-- > 0;) {
                const struct fork_hooks *h = hooks[i];
                if (!h)
                        continue;
                if (h->parent)
                        h->parent();
                if (h->mutex)
                        pthread_mutex_unlock(h->mutex);
        }
}

/* The child's one thread is the one that took the locks: it releases them,
 * after each module has mended what a thread of the parent left behind. */
static void fork_child(void) {
        for (size_t i = _FORK_RANK_MAX; i-- > 0;) {
                const struct fork_hooks *h = hooks[i];
                if (!h)
                        continue;
                if (h->child)
                        h->child();
                if (h->mutex)
                        pthread_mutex_unlock(h->mutex);
        }
}

/* Before main(), on one thread: every module registers in its constructor,
 * so the table is complete before any thread can fork. */
/* shared/ cannot see this file: its lock is registered from here. */
static const struct fork_hooks time_zone_fork = {.mutex = &time_zone_lock};

__attribute__((constructor)) static void fork_register(void) {
        fork_hooks_register(FORK_RANK_TIME_ZONE, &time_zone_fork);
        (void) pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void fork_hooks_register(enum fork_rank rank, const struct fork_hooks *h) {
        if (rank < _FORK_RANK_MAX)
                hooks[rank] = h;
}
