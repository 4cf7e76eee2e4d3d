/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Futex waits on event counts (futex.c). A waiter registers in its waiters
 * count, reads the event, checks its condition, and sleeps only while the
 * event is unchanged; a notifier changes the condition, then signals. */
#pragma once

#include <stdint.h>
#include <time.h>

/* Sleeps while *addr == val, at most rel (NULL: no bound). */
void futex_wait(uint32_t *addr, uint32_t val, const struct timespec *rel);
void futex_wake_all(uint32_t *addr);
/* The notifier's half: wakes the waiters registered in *waiters. */
void event_signal(uint32_t *event, uint32_t *waiters);
