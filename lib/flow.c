/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampling and rate limits per call site. The state lives in a static
 * trail__site next to the call site's trail_source, and is updated with
 * atomics only: no lock on the path of a record. */

#include <time.h>

#include "pipeline-private.h"

static uint64_t test_clock; /* atomic; 0: the real clock */

uint64_t flow_now_usec(void) {
        uint64_t c = __atomic_load_n(&test_clock, __ATOMIC_RELAXED);

        if (_unlikely_(c))
                return c;
        return now_usec();
}

void flow_set_clock_for_test(uint64_t usec) {
        __atomic_store_n(&test_clock, usec, __ATOMIC_RELAXED);
}

int flow_limits_set_sample(struct flow_limits *l, unsigned n) {
        if (n == 0)
                return -EINVAL;
        __atomic_store_n(&l->sample, n, __ATOMIC_RELAXED);
        return 0;
}

int flow_limits_set_rate_limit(struct flow_limits *l, unsigned burst, uint64_t interval_usec) {
        if (burst > 0 && interval_usec == 0)
                return -EINVAL;
        __atomic_store_n(&l->rl_interval, interval_usec, __ATOMIC_RELAXED);
        __atomic_store_n(&l->rl_burst, burst, __ATOMIC_RELAXED);
        return 0;
}

/* Keeps the 1st, (n+1)th, (2n+1)th … record of the site, across threads. */
static bool sample_keep(trail__site *site, uint64_t n) {
        return __atomic_fetch_add(&site->sampled, 1, __ATOMIC_RELAXED) % n == 0;
}

/* Fixed windows of interval_usec: the site's word holds the window number
 * (low 32 bits of it, enough to tell windows apart) and the records let
 * through in it, so one compare-and-swap moves both. The thread that opens
 * a new window collects the count of records suppressed before it. */
static bool rate_limit_pass(trail__site *site, uint64_t burst, uint64_t interval,
                            uint64_t *ret_suppressed) {
        uint64_t window = (flow_now_usec() / interval) & 0xffffffffu;
        uint64_t w = __atomic_load_n(&site->window, __ATOMIC_RELAXED), next;

        if (burst > 0xffffffffu)
                burst = 0xffffffffu;
        for (;;) {
                /* A thread that read the clock just before another opened
                 * the next window counts in that window: never go back. */
                uint64_t now = (int32_t) (uint32_t) (window - (w >> 32)) < 0 ? w >> 32 : window;
                bool opens = (w >> 32) != now;
                uint64_t count = opens ? 0 : (w & 0xffffffffu);

                if (count >= burst) {
                        __atomic_add_fetch(&site->suppressed, 1, __ATOMIC_RELAXED);
                        return false;
                }
                next = now << 32 | (count + 1);
                if (__atomic_compare_exchange_n(&site->window, &w, next, true, __ATOMIC_ACQ_REL,
                                                __ATOMIC_RELAXED)) {
                        if (opens)
                                *ret_suppressed =
                                        __atomic_exchange_n(&site->suppressed, 0, __ATOMIC_ACQ_REL);
                        return true;
                }
        }
}

bool flow_admit(const struct flow_limits *l, int level, const trail_source *src,
                trail_fields fields, struct flow_verdict *ret) {
        uint64_t sample = __atomic_load_n(&l->sample, __ATOMIC_RELAXED);
        uint64_t burst = __atomic_load_n(&l->rl_burst, __ATOMIC_RELAXED);
        uint64_t interval = __atomic_load_n(&l->rl_interval, __ATOMIC_RELAXED);
        trail__site *site = src->site;

        (void) level;
        *ret = (struct flow_verdict){};
        for (size_t i = 0; i < fields.n; i++)
                switch (fields.fields[i].type) {
                case TRAIL__FIELD_SAMPLE:
                        sample = fields.fields[i].value.u;
                        break;
                case TRAIL__FIELD_RATE_LIMIT:
                        burst = fields.fields[i].len;
                        interval = fields.fields[i].value.u;
                        break;
                case TRAIL__FIELD_BACKTRACE:
                        ret->backtrace = true;
                        break;
                }

        /* Without per-site state (a trail__log() call of one's own), there is
         * nothing to count with: every record passes. */
        if (!site)
                return true;
        if (sample > 1) {
                if (!sample_keep(site, sample))
                        return false;
                ret->sample_rate = sample;
        }
        if (burst > 0 && interval > 0 && !rate_limit_pass(site, burst, interval, &ret->suppressed))
                return false;
        return true;
}
