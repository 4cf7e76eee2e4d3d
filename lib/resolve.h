/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name resolution for the network handlers (resolve.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDRS_MAX 8

/* Addresses a name resolved to, copied out of an addrinfo list. */
struct addrs {
        size_t n;
        struct {
                struct sockaddr_storage sa;
                socklen_t len;
                int family, socktype, protocol;
        } a[ADDRS_MAX];
};

struct resolve_job;

/* What a handler resolves: host and port (borrowed, the handler's), the
 * socket type, and the state resolve.c keeps. Zero-initialise the rest. */
struct resolver {
        const char *host, *port;
        int socktype;
        struct addrs addrs;      /* the last good answer for host */
        bool numeric;            /* host is an address: never resolved */
        struct resolve_job *job; /* a resolution in flight, or done and not yet taken */
};

/* 0 with r->addrs filled, or a negative errno: -ETIMEDOUT when no answer
 * came before deadline (a monotonic time in µs), the resolver's refusal. */
int resolver_get(struct resolver *r, uint64_t deadline);
/* Lets go of a resolution in flight (its thread frees it when done). */
void resolver_drop(struct resolver *r);
/* "host:port", "[v6]:port", "host" (then default_port): both copied, or a
 * negative errno (-EINVAL for a bad form, a bad port). */
int parse_host_port(const char *s, const char *default_port, char **ret_host, char **ret_port);
