/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RELP (rsyslog's Reliable Event Logging Protocol) through librelp, for the
 * syslog handler's "relp://" and "relp+tls://" targets. librelp's calls
 * block (for acknowledgements, for connects, for seconds), so they run on a
 * sender thread of the handler's own: a logging call only queues its frame
 * in the handler's buffer (syslog-queue.c) and returns. */

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if HAVE_RELP
#include <librelp.h>
#endif

#include "handler-syslog-private.h"

#define WINDOW_DEFAULT   128
#define WINDOW_MAX       65536
#define BACKOFF_MIN_USEC (100 * 1000ULL)
#define BACKOFF_MAX_USEC (5 * 1000 * 1000ULL)

#if HAVE_RELP

/* Acknowledgements: librelp tells its user nothing of them, but it sends a
 * frame only while fewer than "window" of its frames wait for one, and a
 * librelp server (rsyslog's imrelp) answers a session's frames in order.
 * So once the k-th frame of a session is sent, frames 1 … k - window of it
 * were acknowledged; the rest of the session's frames ("held") stay in the
 * buffer. trail_flush() closes the session: the answer to "close" comes
 * after every other answer, so all held frames were acknowledged. A broken
 * session is thrown away whole and the held frames are sent again in a new
 * one (not with librelp's own resend, which needs a session librelp still
 * calls broken), and counted as resent: at most that many duplicates. */
struct relp_state {
        pthread_t thread;
        bool running, stop, handoff, tls;
        int shutdown_now;    /* librelp's "stop at once" flag */
        pthread_cond_t wake; /* the thread: a frame, a flush, stop */
        pthread_cond_t done; /* flushers: frames acknowledged or given up */
        relpEngine_t *engine;
        relpClt_t *clt;
        bool connected, failed;  /* failed: librelp reported an error */
        unsigned window;         /* the option: for the next session */
        unsigned session_window; /* the session's */
        size_t inflight;         /* held frames sent in this session */
        size_t send_rel;         /* offset of held frame #inflight from q.start */
        uint64_t flush_seq, flush_done;
        uint64_t next_retry_usec, backoff_usec;
        char *copy; /* the frame being sent, out of the buffer */
        size_t copy_cap;
};

static void on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code) {
        struct syslog_handler *s = usr;
        (void) objinfo;
        (void) errmsg;
        (void) code;
        if (s)
                s->relp->failed = true;
}

static void on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code) {
        struct syslog_handler *s = usr;
        (void) authinfo;
        (void) errmsg;
        (void) code;
        if (s) {
                s->relp->failed = true;
                syslog_report_once(s, "the server certificate did not verify", EBADMSG);
        }
}

static void on_generic_err(char *objinfo, char *errmsg, relpRetVal code) {
        (void) objinfo;
        (void) errmsg;
        (void) code;
}

static unsigned timeout_sec(const struct syslog_handler *s) {
        uint64_t t = __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        /* librelp counts in whole seconds; 0 would fail every wait */
        return t < 1000000 ? 1 : (unsigned) ((t + 999999) / 1000000);
}

/* The client, with what the options say; NULL when librelp refused one.
 * Called without s->lock: reads options that only syslog_relp_set()
 * changes, under the lock, and copies of them (see copy_options). */
struct relp_options {
        unsigned window, timeout;
        bool tls, verify;
        char *ca, *cert, *key, *peer, *priority;
};

static void options_free(struct relp_options *o) {
        free(o->ca);
        free(o->cert);
        free(o->key);
        free(o->peer);
        free(o->priority);
}

static int options_copy(struct syslog_handler *s, struct relp_options *o) {
        const char *peer = s->server_name ? s->server_name : s->host;
        *o = (struct relp_options){.window = s->relp->window,
                                   .timeout = timeout_sec(s),
                                   .tls = s->relp->tls,
                                   .verify = s->verify};
#define DUP(f, v)                                                                                  \
        if ((v) && !(o->f = strdup(v)))                                                            \
                goto oom;
        DUP(ca, s->ca);
        DUP(cert, s->cert);
        DUP(key, s->key);
        DUP(peer, peer);
        DUP(priority, s->priority);
#undef DUP
        return 0;
oom:
        options_free(o);
        *o = (struct relp_options){};
        return -ENOMEM;
}

static relpRetVal client_tls(relpClt_t *c, const struct relp_options *o) {
        relpRetVal k = relpCltEnableTLS(c);
        if (k == RELP_RET_OK && o->priority)
                k = relpCltSetGnuTLSPriString(c, o->priority);
        if (k == RELP_RET_OK && o->ca)
                k = relpCltSetCACert(c, o->ca);
        if (k == RELP_RET_OK && o->cert)
                k = relpCltSetOwnCert(c, o->cert);
        if (k == RELP_RET_OK && (o->key || o->cert))
                k = relpCltSetPrivKey(c, o->key ? o->key : o->cert);
        /* verify: the chain to the CA and the server's name (RFC 5425
         * §5.2, as the tls:// target does); otherwise anonymous */
        if (k == RELP_RET_OK && o->verify) {
                k = relpCltSetAuthMode(c, (char *) "name");
                if (k == RELP_RET_OK)
                        k = relpCltAddPermittedPeer(c, o->peer);
        }
        return k;
}

/* Without s->lock: connects, which blocks up to the timeout. */
static int session_open(struct syslog_handler *s, const struct relp_options *o) {
        struct relp_state *r = s->relp;
        relpClt_t *c = NULL;
        relpRetVal k;

        r->failed = false;
        k = relpEngineCltConstruct(r->engine, &c);
        if (k != RELP_RET_OK)
                return -ENOMEM;
        k = relpCltSetUsrPtr(c, s);
        if (k == RELP_RET_OK)
                k = relpCltSetTimeout(c, o->timeout);
        if (k == RELP_RET_OK)
                k = relpCltSetConnTimeout(c, (int) o->timeout);
        if (k == RELP_RET_OK)
                k = relpCltSetWindowSize(c, (int) o->window);
        if (k == RELP_RET_OK && o->tls)
                k = client_tls(c, o);
        if (k == RELP_RET_OK)
                k = relpCltConnect(c, 0, (unsigned char *) s->port, (unsigned char *) s->host);
        if (k != RELP_RET_OK) {
                relpEngineCltDestruct(r->engine, &c);
                return k == RELP_RET_OUT_OF_MEMORY ? -ENOMEM : -ECONNREFUSED;
        }
        r->clt = c;
        return 0;
}

/* Without s->lock. Returns whether librelp closed the session cleanly:
 * every frame sent on it was then acknowledged. */
static bool session_close(struct syslog_handler *s) {
        struct relp_state *r = s->relp;
        bool clean = !r->failed;

        r->failed = false;
        if (r->clt)
                relpEngineCltDestruct(r->engine, &r->clt);
        clean = clean && !r->failed;
        r->clt = NULL;
        return clean;
}

/* ---- The sender thread ------------------------------------------------------ */

/* Waits on c (CLOCK_MONOTONIC) under s->lock until deadline at most. */
static void wait_until(struct syslog_handler *s, pthread_cond_t *c, uint64_t deadline) {
        if (deadline == DEADLINE_NONE) {
                pthread_cond_wait(c, &s->lock);
                return;
        }
        struct timespec ts = {.tv_sec = (time_t) (deadline / 1000000),
                              .tv_nsec = (long) (deadline % 1000000) * 1000};
        pthread_cond_timedwait(c, &s->lock, &ts);
}

/* Under s->lock: copies the next frame to send (held frame #inflight, or
 * the first unsent one, which becomes held) into r->copy. */
static int next_frame(struct syslog_handler *s, size_t *ret_len, bool *ret_notice) {
        struct relp_state *r = s->relp;
        struct pending *q = &s->q;
        const char *p;
        size_t off = q->start + r->send_rel, len;

        if (r->inflight == q->n_held) {
                if (q->n_held == q->n_frames)
                        return -EAGAIN;
                len = syslog_queue_frame_at(s, q->held_end, &p, ret_notice);
                q->held_end += sizeof(uint32_t) + len;
                q->n_held++;
        } else
                len = syslog_queue_frame_at(s, off, &p, ret_notice);
        if (len > r->copy_cap) {
                char *c = realloc(r->copy, len);
                if (!c)
                        return -ENOMEM;
                r->copy = c;
                r->copy_cap = len;
        }
        memcpy(r->copy, p, len);
        *ret_len = len;
        return 0;
}

/* Under s->lock, after the frame was sent: what the window proves. */
static void frame_sent(struct syslog_handler *s, size_t len) {
        struct relp_state *r = s->relp;
        const char *p;
        bool notice;

        r->inflight++;
        r->send_rel += sizeof(uint32_t) + len;
        while (r->inflight > r->session_window) {
                r->send_rel -= sizeof(uint32_t) + syslog_queue_frame_at(s, s->q.start, &p, &notice);
                syslog_queue_acked(s, 1);
                r->inflight--;
        }
}

static void backoff(struct syslog_handler *s, int error) {
        struct relp_state *r = s->relp;

        r->backoff_usec = r->backoff_usec ? r->backoff_usec * 2 : BACKOFF_MIN_USEC;
        if (r->backoff_usec > BACKOFF_MAX_USEC)
                r->backoff_usec = BACKOFF_MAX_USEC;
        r->next_retry_usec = now_usec() + r->backoff_usec;
        syslog_report_once(s, "cannot connect; holding records until it can", error);
}

/* Under s->lock, which it lets go while librelp works. */
static void connect_locked(struct syslog_handler *s) {
        struct relp_state *r = s->relp;
        struct relp_options o;
        int k = options_copy(s, &o);
        unsigned window = o.window;

        pthread_mutex_unlock(&s->lock);
        if (k >= 0)
                k = session_open(s, &o);
        options_free(&o);
        pthread_mutex_lock(&s->lock);
        if (k < 0) {
                backoff(s, k);
                return;
        }
        r->backoff_usec = 0;
        r->session_window = window;
        r->inflight = 0;
        r->send_rel = 0;
        /* what an earlier session held goes again: at most that many duplicates */
        __atomic_add_fetch(&s->base.stats.resent, s->q.n_held, __ATOMIC_RELAXED);
        __atomic_store_n(&r->connected, true, __ATOMIC_RELEASE);
}

static void disconnect_locked(struct syslog_handler *s, bool acked_all) {
        struct relp_state *r = s->relp;

        __atomic_store_n(&r->connected, false, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&s->lock);
        bool clean = session_close(s);
        pthread_mutex_lock(&s->lock);
        if (acked_all && clean && r->inflight == s->q.n_held)
                syslog_queue_acked(s, s->q.n_held);
        r->inflight = 0;
        r->send_rel = 0;
}

static void *sender_main(void *arg) {
        struct syslog_handler *s = arg;
        struct relp_state *r = s->relp;

        pthread_mutex_lock(&s->lock);
        while (!r->stop) {
                size_t len;
                bool notice;
                bool flushing = r->flush_done != r->flush_seq;

                if (!r->connected) {
                        if (s->q.n_frames == 0) {
                                r->flush_done = r->flush_seq;
                                pthread_cond_broadcast(&r->done);
                                wait_until(s, &r->wake, DEADLINE_NONE);
                                continue;
                        }
                        if (!flushing && now_usec() < r->next_retry_usec) {
                                wait_until(s, &r->wake, r->next_retry_usec);
                                continue;
                        }
                        connect_locked(s);
                        if (!r->connected) {
                                r->flush_done = r->flush_seq; /* a flush waits no more */
                                pthread_cond_broadcast(&r->done);
                        }
                        continue;
                }
                int k = next_frame(s, &len, &notice);
                if (k == -EAGAIN) {
                        /* all sent: a flush closes the session to learn that
                         * the last window was acknowledged */
                        if (flushing) {
                                uint64_t seq = r->flush_seq;
                                if (s->q.n_held > 0)
                                        disconnect_locked(s, true);
                                r->flush_done = seq;
                                pthread_cond_broadcast(&r->done);
                                continue;
                        }
                        wait_until(s, &r->wake, DEADLINE_NONE);
                        continue;
                }
                if (k < 0) {
                        wait_until(s, &r->wake, now_usec() + BACKOFF_MIN_USEC);
                        continue;
                }
                pthread_mutex_unlock(&s->lock);
                relpRetVal rk = relpCltSendSyslog(r->clt, (unsigned char *) r->copy, len);
                pthread_mutex_lock(&s->lock);
                if (rk == RELP_RET_OK)
                        frame_sent(s, len);
                else {
                        disconnect_locked(s, false);
                        backoff(s, -ECONNRESET);
                }
        }
        pthread_mutex_unlock(&s->lock);
        session_close(s);
        if (__atomic_exchange_n(&r->handoff, true, __ATOMIC_ACQ_REL))
                syslog_release(s);
        return NULL;
}

static int thread_start(struct syslog_handler *s) {
        struct relp_state *r = s->relp;
        sigset_t all, saved;
        int k;

        /* The thread takes no signal meant for the program (librelp's
         * writes raise SIGPIPE at a receiver that went away: it stays
         * pending on this thread). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        k = -pthread_create(&r->thread, NULL, sender_main, s);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (k == 0)
                r->running = true;
        return k;
}

/* ---- The handler's side ----------------------------------------------------- */

int syslog_relp_new(struct syslog_handler *s, bool tls) {
        struct relp_state *r = calloc(1, sizeof(*r));
        pthread_condattr_t a;

        if (!r)
                return -ENOMEM;
        s->relp = r;
        r->tls = tls;
        r->window = WINDOW_DEFAULT;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&r->wake, &a);
        pthread_cond_init(&r->done, &a);
        pthread_condattr_destroy(&a);
        if (relpEngineConstruct(&r->engine) != RELP_RET_OK)
                return -ENOMEM;
        relpEngineSetDbgprint(r->engine, NULL);
        relpEngineSetOnErr(r->engine, on_err);
        relpEngineSetOnAuthErr(r->engine, on_auth_err);
        relpEngineSetOnGenericErr(r->engine, on_generic_err);
        relpEngineSetShutdownImmdtPtr(r->engine, &r->shutdown_now);
        (void) relpEngineSetEnableCmd(r->engine, (unsigned char *) "syslog",
                                      eRelpCmdState_Required);
        if (tls && relpEngineSetTLSLibByName(r->engine, "gnutls") != RELP_RET_OK)
                return -EPROTONOSUPPORT;
        return 0;
}

void syslog_relp_kick(struct syslog_handler *s) {
        struct relp_state *r = s->relp;

        if (!r->running && thread_start(s) < 0)
                return; /* no thread (EAGAIN): the frame waits for the next record */
        pthread_cond_signal(&r->wake);
}

bool syslog_relp_connected(const struct syslog_handler *s) {
        return __atomic_load_n(&s->relp->connected, __ATOMIC_ACQUIRE);
}

/* Under s->lock: waits until every frame is acknowledged, the sender gave
 * up on this flush (no connection), or the deadline. */
int syslog_relp_flush(struct syslog_handler *s, uint64_t deadline) {
        struct relp_state *r = s->relp;

        if (s->q.n_frames == 0)
                return 0;
        if (!r->running && thread_start(s) < 0)
                return -EAGAIN;
        if (r->running && pthread_equal(pthread_self(), r->thread))
                return 0;
        uint64_t seq = ++r->flush_seq;
        r->next_retry_usec = 0;
        pthread_cond_signal(&r->wake);
        while (r->flush_done < seq && s->q.n_frames > 0 && now_usec() < deadline)
                wait_until(s, &r->done, deadline);
        return s->q.n_frames == 0 ? 0 : -ETIMEDOUT;
}

int syslog_relp_set(struct syslog_handler *s, const char *key, const char *value) {
        uint64_t v;

        if (strcmp(key, "window") == 0) {
                if (parse_size(value, &v) < 0 || v < 2 || v > WINDOW_MAX)
                        return -EINVAL;
                /* takes effect with the next session */
                s->relp->window = (unsigned) v;
                return 0;
        }
        return -ENOENT;
}

bool syslog_relp_stop(struct syslog_handler *s) {
        struct relp_state *r = s->relp;

        if (!r || !r->running)
                return true;
        pthread_mutex_lock(&s->lock);
        r->stop = true;
        __atomic_store_n(&r->shutdown_now, 1, __ATOMIC_RELAXED);
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&s->lock);

        struct timespec until;
        uint64_t usec = __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t) (usec / 1000000);
        until.tv_nsec += (long) (usec % 1000000) * 1000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(r->thread, NULL, &until) == 0)
                return true;
        /* inside librelp past the timeout: never hang the program; the
         * thread frees the handler when librelp lets it go */
        pthread_detach(r->thread);
        return __atomic_exchange_n(&r->handoff, true, __ATOMIC_ACQ_REL);
}

static void relp_release(struct syslog_handler *s) {
        struct relp_state *r = s->relp;

        if (!r)
                return;
        if (r->clt)
                relpEngineCltDestruct(r->engine, &r->clt);
        if (r->engine)
                relpEngineDestruct(&r->engine);
        pthread_cond_destroy(&r->wake);
        pthread_cond_destroy(&r->done);
        free(r->copy);
        free(r);
        s->relp = NULL;
}

/* fork(): the child has no sender thread, and the parent's session (its
 * socket, its TLS state) is the parent's: the child lets go of it without
 * a word to the receiver (its memory stays with the child, like any of the
 * parent's memory) and starts anew with its first record. */
void syslog_relp_fork_child(struct syslog_handler *s) {
        struct relp_state *r = s->relp;
        pthread_condattr_t a;

        r->running = r->stop = r->handoff = false;
        r->connected = false;
        r->clt = NULL;
        r->inflight = r->send_rel = 0;
        r->flush_seq = r->flush_done = 0;
        r->next_retry_usec = r->backoff_usec = 0;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&r->wake, &a);
        pthread_cond_init(&r->done, &a);
        pthread_condattr_destroy(&a);
        s->q.n_held = 0;
        s->q.held_end = s->q.start;
}

#else /* !HAVE_RELP */

int syslog_relp_new(struct syslog_handler *s, bool tls) {
        (void) s;
        (void) tls;
        return -EPROTONOSUPPORT;
}
void syslog_relp_kick(struct syslog_handler *s) {
        (void) s;
}
bool syslog_relp_connected(const struct syslog_handler *s) {
        (void) s;
        return false;
}
int syslog_relp_flush(struct syslog_handler *s, uint64_t deadline) {
        (void) s;
        (void) deadline;
        return -EPROTONOSUPPORT;
}
int syslog_relp_set(struct syslog_handler *s, const char *key, const char *value) {
        (void) s;
        (void) key;
        (void) value;
        return -ENOENT;
}
bool syslog_relp_stop(struct syslog_handler *s) {
        (void) s;
        return true;
}
static void relp_release(struct syslog_handler *s) {
        (void) s;
}
void syslog_relp_fork_child(struct syslog_handler *s) {
        (void) s;
}

#endif

/* The end of a syslog handler of any transport: here, because a RELP
 * handler's sender thread may be the one to end it. What is still held is
 * lost. */
void syslog_release(struct syslog_handler *s) {
        __atomic_add_fetch(&s->base.stats.lost, s->q.n_frames, __ATOMIC_RELAXED);
        relp_release(s);
        syslog_disconnect(s, now_usec() + s->timeout_usec);
#if HAVE_GNUTLS
        if (s->cred)
                gnutls_certificate_free_credentials(s->cred);
#endif
        pthread_mutex_destroy(&s->lock);
        free(s->q.data);
        free(s->batch.data);
        free(s->target);
        free(s->path);
        free(s->host);
        free(s->port);
        free(s->ca);
        free(s->cert);
        free(s->key);
        free(s->server_name);
        free(s->priority);
        free(s);
}
