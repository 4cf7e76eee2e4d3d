/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Futex waits on event counts, for queues that must not take a lock. */

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futex.h"

void futex_wait(uint32_t *addr, uint32_t val, const struct timespec *rel) {
        (void) syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

void futex_wake_all(uint32_t *addr) {
        (void) syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* The notifier's half: after its change (a seq_cst store, so that either
 * the waiter sees the change or this sees the waiter: no thread fence, which
 * TSan does not model), wake whoever registered. */
void event_signal(uint32_t *event, uint32_t *waiters) {
        if (__atomic_load_n(waiters, __ATOMIC_SEQ_CST)) {
                __atomic_add_fetch(event, 1, __ATOMIC_SEQ_CST);
                futex_wake_all(event);
        }
}
