/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A loopback syslog receiver that counts messages (bench only). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct sink;
/* Listens on 127.0.0.1, an ephemeral port, UDP, TCP or TLS (tls: over
 * TCP); NULL on error. */
struct sink *sink_start(bool tcp, bool tls, int *ret_port);
uint64_t sink_count(struct sink *s);
/* Waits until want messages are in, or the count stood still for still_ms;
 * returns the count. */
uint64_t sink_wait(struct sink *s, uint64_t want, int still_ms);
/* Waits (briefly) for want messages, stops, frees; returns the count. */
uint64_t sink_stop(struct sink *s, uint64_t want);
