/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host name to addresses without ever holding a logging call longer than
 * its deadline: an address is parsed at once; a name is resolved by
 * getaddrinfo() on a thread of its own, and the last good answer is kept. */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "resolve.h"
#include "shared/util.h"

/* One getaddrinfo() on a thread of its own, so that a resolver that does
 * not answer never holds a logging call (nor the handler's lock). It
 * shares nothing with the handler but this job, and no lock: the thread
 * fills in the answer, sets done, and writes to the eventfd that a
 * handler waiting for it polls. Two references, the thread's and the
 * handler's; the last one dropped frees it, so a handler freed while its
 * name is being resolved leaves the job to the thread. */
struct resolve_job {
        unsigned refcount;
        bool done;
        int error; /* negative errno; 0 with addrs */
        int efd;
        pid_t pid; /* the process whose thread resolves it */
        int socktype;
        char *host, *port;
        struct addrs addrs;
};

static int addrinfo_error(int k) {
        return k == EAI_SYSTEM ? -errno : k == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
}

static void addrs_from(struct addrs *a, const struct addrinfo *res) {
        a->n = 0;
        for (const struct addrinfo *ai = res; ai && a->n < ADDRS_MAX; ai = ai->ai_next) {
                if (ai->ai_addrlen > sizeof(a->a[0].sa))
                        continue;
                memcpy(&a->a[a->n].sa, ai->ai_addr, ai->ai_addrlen);
                a->a[a->n].len = ai->ai_addrlen;
                a->a[a->n].family = ai->ai_family;
                a->a[a->n].socktype = ai->ai_socktype;
                a->a[a->n].protocol = ai->ai_protocol;
                a->n++;
        }
}

static int resolve(const char *host, const char *port, int socktype, int flags, struct addrs *ret) {
        struct addrinfo
                hints =
                        {
                                .ai_family = AF_UNSPEC,
                                .ai_socktype = socktype,
                                /* the port is digits (parse_host_port): no services lookup */
                                .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV | flags,
                        },
                *res = NULL;
        int k = getaddrinfo(host, port, &hints, &res);

        if (k != 0)
                return addrinfo_error(k);
        addrs_from(ret, res);
        freeaddrinfo(res);
        return ret->n > 0 ? 0 : -EHOSTUNREACH;
}

static void job_unref(struct resolve_job *j) {
        if (__atomic_sub_fetch(&j->refcount, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        if (j->efd >= 0)
                close(j->efd);
        free(j->host);
        free(j->port);
        free(j);
}

static void *resolve_thread(void *arg) {
        struct resolve_job *j = arg;
        struct addrs a;
        int k = resolve(j->host, j->port, j->socktype, 0, &a);

        if (k >= 0)
                j->addrs = a;
        j->error = k;
        __atomic_store_n(&j->done, true, __ATOMIC_RELEASE);
        (void) !write(j->efd, &(uint64_t){1}, sizeof(uint64_t));
        job_unref(j);
        return NULL;
}

/* Drops the handler's job. In a child forked while it was in flight, the
 * thread resolving it does not exist: the child's copy is its alone. */
void resolver_drop(struct resolver *s) {
        struct resolve_job *j = s->job;

        if (!j)
                return;
        s->job = NULL;
        if (j->pid != getpid())
                j->refcount = 1;
        job_unref(j);
}

static int job_start(struct resolver *s) {
        struct resolve_job *j = calloc(1, sizeof(*j));
        sigset_t all, old;
        pthread_attr_t attr;
        pthread_t thread;
        int k;

        if (!j)
                return -ENOMEM;
        j->refcount = 2;
        j->pid = getpid();
        j->socktype = s->socktype;
        j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        j->host = strdup(s->host);
        j->port = strdup(s->port);
        if (j->efd < 0 || !j->host || !j->port) {
                k = j->efd < 0 ? -errno : -ENOMEM;
                j->refcount = 1;
                job_unref(j);
                return k;
        }
        /* the host's signals are not for this thread */
        sigfillset(&all);
        k = -pthread_attr_init(&attr);
        if (k == 0) {
                (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_sigmask(SIG_SETMASK, &all, &old);
                k = -pthread_create(&thread, &attr, resolve_thread, j);
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                pthread_attr_destroy(&attr);
        }
        if (k < 0) {
                j->refcount = 1;
                job_unref(j);
                return k;
        }
        s->job = j;
        return 0;
}

/* Takes the answer of a finished job: a good one replaces the last good
 * addresses, a failed one leaves them. Returns the job's error, or
 * -EINPROGRESS while it runs (and none when there is no job: 0). */
static int job_take(struct resolver *s) {
        int k;

        if (!s->job)
                return 0;
        if (!__atomic_load_n(&s->job->done, __ATOMIC_ACQUIRE)) {
                if (s->job->pid == getpid())
                        return -EINPROGRESS;
                resolver_drop(s); /* forked: nobody resolves it here */
                return 0;
        }
        k = s->job->error;
        if (k >= 0)
                s->addrs = s->job->addrs;
        resolver_drop(s);
        return k;
}

/* An address literal, parsed without getaddrinfo(): with AI_ADDRCONFIG it
 * takes a lock of glibc's (__check_pf) that a child of fork() may inherit
 * held by a thread of its parent, and would hang there. 0, or -EINVAL when
 * host is not an IPv4 or IPv6 literal (a name, or a scoped address). */
static int resolve_literal(const char *host, const char *port, int socktype, struct addrs *ret) {
        struct sockaddr_in in = {.sin_family = AF_INET};
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(port, &end, 10);
        if (errno != 0 || end == port || *end != '\0' || n > 65535)
                return -EINVAL;
        if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
                in.sin_port = htons((uint16_t) n);
                memcpy(&ret->a[0].sa, &in, sizeof(in));
                ret->a[0].len = sizeof(in);
                ret->a[0].family = AF_INET;
        } else if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
                in6.sin6_port = htons((uint16_t) n);
                memcpy(&ret->a[0].sa, &in6, sizeof(in6));
                ret->a[0].len = sizeof(in6);
                ret->a[0].family = AF_INET6;
        } else
                return -EINVAL;
        ret->a[0].socktype = socktype;
        ret->a[0].protocol = 0;
        ret->n = 1;
        return 0;
}

/* The addresses to connect to. An address is parsed here; a name is
 * resolved on a thread: while there is a last good answer, connecting
 * uses it and a fresh resolution runs in the background (a receiver that
 * moved is found at the next reconnect); without one, this waits for the
 * answer until the deadline, polling the job's eventfd, never longer. */
int resolver_get(struct resolver *s, uint64_t deadline) {
        int k;

        if (s->numeric)
                return 0;
        if (s->addrs.n == 0 && !s->job) {
                k = resolve_literal(s->host, s->port, s->socktype, &s->addrs);
                if (k >= 0) {
                        s->numeric = true;
                        return 0;
                }
        }
        k = job_take(s);
        if (s->addrs.n > 0) {
                if (!s->job)
                        (void) job_start(s); /* refresh; the last good answer meanwhile */
                return 0;
        }
        if (k < 0 && k != -EINPROGRESS)
                return k; /* the resolver said no; the backoff decides when to ask again */
        if (!s->job) {
                k = job_start(s);
                if (k < 0)
                        return k;
        }
        k = poll_until(s->job->efd, POLLIN, deadline);
        if (k < 0)
                return k;
        k = job_take(s);
        if (k < 0)
                return k == -EINPROGRESS ? -ETIMEDOUT : k;
        return s->addrs.n > 0 ? 0 : -EHOSTUNREACH;
}

/* "host:port", "[v6]:port", "host" (default port). */
int parse_host_port(const char *s, const char *default_port, char **ret_host, char **ret_port) {
        const char *host = s, *port = default_port, *end;
        size_t n;

        if (*s == '[') {
                end = strchr(s, ']');
                if (!end)
                        return -EINVAL;
                host = s + 1;
                n = (size_t) (end - host);
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1])
                        return -EINVAL;
        } else {
                end = strrchr(s, ':');
                if (end && strchr(s, ':') != end)
                        return -EINVAL; /* a bare IPv6 address needs brackets */
                n = end ? (size_t) (end - s) : strlen(s);
                if (end)
                        port = end + 1;
        }
        if (n == 0 || !*port || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
            atoi(port) > 65535)
                return -EINVAL;
        *ret_host = strndup(host, n);
        *ret_port = strdup(port);
        if (!*ret_host || !*ret_port)
                return -ENOMEM;
        return 0;
}
