/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The grace period of a configuration swap. Logging threads walk handler
 * sets without a lock; each has a dispatch slot whose counter is odd while it
 * does. The swapper raises a flag that holds new records at the door, waits
 * (bounded) for the slots that were odd to move on, swaps, and lowers the
 * flag: no record sees half of the old configuration and half of the new,
 * and what was replaced can be freed at once. */

#include <sched.h>
#include <time.h>

#include "pipeline-private.h"

int dispatch_swap_pending;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dispatch_slot *slots;

/* A record held at the door waits at most this long: a swapper that is
 * itself interrupted (a signal handler that logs) must not hang the thread. */
#define DOOR_WAIT_MAX_USEC (2ULL * 1000 * 1000)

static void nap(unsigned round) {
        if (round < 64) {
                sched_yield();
                return;
        }
        struct timespec ts = {0, 100 * 1000}; /* 100 µs */
        nanosleep(&ts, NULL);
}

/* This thread's slot: its own, with its own destructor, not part of the
 * scratch below. */
static __thread struct dispatch_slot *slot_mine;
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

/* fork() copies the registry with the other threads' slots, which will
 * never move again in the child, and maybe the lock held. */
static void slots_child_fork(void) {
        struct dispatch_slot *s = slot_mine;

        slots = NULL;
        if (s) {
                s->prev = s->next = NULL;
                s->wait = false;
                slots = s;
        }
        dispatch_swap_pending = 0;
}

static const struct fork_hooks slots_fork = {.mutex = &slots_lock, .child = slots_child_fork};
__attribute__((constructor)) static void slots_fork_register(void) {
        fork_hooks_register(FORK_RANK_DISPATCH_SLOTS, &slots_fork);
}

static void dispatch_slot_register(struct dispatch_slot *s) {
        pthread_mutex_lock(&slots_lock);
        s->prev = NULL;
        s->wait = false;
        s->next = slots;
        if (slots)
                slots->prev = s;
        slots = s;
        pthread_mutex_unlock(&slots_lock);
}

static void dispatch_slot_unregister(struct dispatch_slot *s) {
        pthread_mutex_lock(&slots_lock);
        if (s->prev)
                s->prev->next = s->next;
        else if (slots == s)
                slots = s->next;
        if (s->next)
                s->next->prev = s->prev;
        s->prev = s->next = NULL;
        pthread_mutex_unlock(&slots_lock);
}

static void slot_free(void *p) {
        if (!p)
                return;
        dispatch_slot_unregister(p);
        free(p);
}

static void slot_key_create(void) {
        (void) pthread_key_create(&slot_key, slot_free);
}

struct dispatch_slot *dispatch_slot_get(void) {
        struct dispatch_slot *s = slot_mine;

        if (_likely_(s))
                return s;
        pthread_once(&slot_once, slot_key_create);
        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        dispatch_slot_register(s);
        (void) pthread_setspecific(slot_key, s);
        slot_mine = s;
        return s;
}

void dispatch_slot_release(void) {
        struct dispatch_slot *s = slot_mine;

        slot_mine = NULL;
        (void) pthread_setspecific(slot_key, NULL);
        slot_free(s);
}

/* Called by dispatch_enter() when a swap is coming: step out (so that the
 * swapper does not wait for this thread), wait for the swap, step in again. */
void dispatch_wait_swap(struct dispatch_slot *s) {
        uint64_t deadline = now_usec() + DOOR_WAIT_MAX_USEC;
        unsigned round = 0;

        while (__atomic_load_n(&dispatch_swap_pending, __ATOMIC_SEQ_CST)) {
                dispatch_exit(s);
                while (__atomic_load_n(&dispatch_swap_pending, __ATOMIC_ACQUIRE)) {
                        if (now_usec() > deadline) {
                                /* Go on: the swapper keeps what it replaced
                                 * until a later grace period proves it unused. */
                                __atomic_store_n(&s->seq,
                                                 __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1,
                                                 __ATOMIC_SEQ_CST);
                                return;
                        }
                        nap(round++);
                }
                __atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1,
                                 __ATOMIC_SEQ_CST);
        }
}

bool dispatch_grace_wait(int timeout_ms) {
        uint64_t deadline = now_usec() + (uint64_t) timeout_ms * 1000;
        struct dispatch_slot *self = slot_mine;
        unsigned round = 0;

        pthread_mutex_lock(&slots_lock);
        for (struct dispatch_slot *s = slots; s; s = s->next) {
                s->snap = __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST);
                /* The caller's own slot: it is not dispatching (config.c
                 * refuses to swap from inside a handler). */
                s->wait = (s->snap & 1) && s != self;
        }
        pthread_mutex_unlock(&slots_lock);

        for (;;) {
                bool busy = false;

                pthread_mutex_lock(&slots_lock);
                for (struct dispatch_slot *s = slots; s; s = s->next)
                        if (s->wait) {
                                if (__atomic_load_n(&s->seq, __ATOMIC_SEQ_CST) != s->snap)
                                        s->wait = false;
                                else
                                        busy = true;
                        }
                pthread_mutex_unlock(&slots_lock);
                if (!busy)
                        return true;
                if (now_usec() > deadline)
                        return false;
                nap(round++);
        }
}

bool dispatch_swap_begin(int timeout_ms) {
        __atomic_store_n(&dispatch_swap_pending, 1, __ATOMIC_SEQ_CST);
        return dispatch_grace_wait(timeout_ms);
}

void dispatch_swap_end(void) {
        __atomic_store_n(&dispatch_swap_pending, 0, __ATOMIC_SEQ_CST);
}
