/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The file handler: one line per record appended to a file by path, with
 * one write() (O_APPEND), rendered as the stream handler renders; the file
 * is reopened when the path names another file or none (logrotate), when
 * trail_reopen() asks, and after a failure, rate-limited by the check
 * interval, never with a system call per record. */

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handler-private.h"

#define MODE_DEFAULT           0640
#define CHECK_INTERVAL_DEFAULT 1000000 /* 1 s, in µs */

/* Raised by trail_reopen(): one atomic add, so async-signal-safe. Every
 * file handler compares it with its own before each record. */
static unsigned reopen_generation;

struct file_handler {
        trail_handler base;
        /* The descriptor's number never changes while the handler lives: a
         * reopen puts the new file under it with dup3(), atomically, so a
         * thread writing meanwhile writes whole into the old file or the new
         * one, and no thread ever writes to a closed or reused number. -1
         * only in a handler made for trail check. */
        int fd;
        char *path;             /* absolute */
        unsigned mode;          /* atomic: of files it creates, exactly (fchmod) */
        uint64_t interval_usec; /* atomic: how often the path is looked at */
        uint64_t checked_usec;  /* atomic: the record time of the last look */
        unsigned generation;    /* atomic: reopen_generation at the last reopen */
        bool busy;              /* atomic: a thread is looking or reopening */
        bool broken;            /* atomic: no writable file at the path; records fail */
        int broken_error;       /* atomic: why (a positive errno) */
        bool torn;              /* atomic: a write failed part-way, leaving part of a line */
        bool reported;          /* atomic: the once-only failure report was written */
        /* the open file, and whether this handler created it; written only
         * by the thread that holds busy (or the constructor) */
        dev_t dev;
        ino_t ino;
        bool created;
};

void file_handlers_reopen(void) {
        __atomic_add_fetch(&reopen_generation, 1, __ATOMIC_RELEASE);
}

_public_ int trail_reopen(void) {
        file_handlers_reopen();
        return 0;
}

/* A device, FIFO or directory at path is refused before it is opened:
 * opening some devices acts (a watchdog starts, a tape rewinds). -ENOENT
 * when nothing is there, 0 for a regular file. */
static int not_a_file(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

/* Opens path for appending, creating it (then with exactly mode) if it is
 * not there. Only a regular file: O_NONBLOCK keeps a FIFO without a reader
 * from blocking the open, and the type is checked after it. Returns the
 * descriptor or a negative errno; *ret_created tells whether it was made. */
static int file_open(const char *path, unsigned mode, struct stat *st, bool *ret_created) {
        const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        int fd = -1;
        bool created = false;

        /* O_EXCL first, to know whether it was made here; a file removed
         * between the two opens is made by the next round; a symbolic link
         * to nothing (O_EXCL refuses it) is followed as open(2) would */
        for (int i = 0; i < 3 && fd < 0; i++) {
                fd = open(path, flags | O_CREAT | O_EXCL, mode & 0777);
                created = fd >= 0;
                if (fd < 0 && errno == EEXIST) {
                        int k = not_a_file(path);
                        if (k < 0)
                                return k;
                        fd = open(path, flags | (i == 2 ? O_CREAT : 0), mode & 0777);
                }
                if (fd < 0 && errno != ENOENT && errno != EEXIST)
                        break;
        }
        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
                int k = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
                close(fd);
                return k;
        }
        /* exactly the mode asked for, not as the umask cut it: the file the
         * handler reopens after a rotation is like the first one */
        if (created)
                (void) fchmod(fd, mode);
        *ret_created = created;
        return fd;
}

static void file_report_once(struct file_handler *s, const char *what, int error) {
        stderr_report_once(&s->reported,
                           "cannot %s %s (%s); records are counted as lost until it can "
                           "(reported once)",
                           what, s->path, strerror(-error));
}

/* Under busy: the file under s->fd replaced by what the path names now. */
static void file_reopen(struct file_handler *s) {
        struct stat st;
        bool created = false;
        int nfd = file_open(s->path, __atomic_load_n(&s->mode, __ATOMIC_RELAXED), &st, &created);
        int k = nfd;

        if (nfd >= 0) {
                if (st.st_dev == s->dev && st.st_ino == s->ino)
                        k = 0; /* still the same file: nothing to swap */
                else if (dup3(nfd, s->fd, O_CLOEXEC) < 0)
                        k = -errno;
                else {
                        s->dev = st.st_dev;
                        s->ino = st.st_ino;
                        s->created = created;
                        k = 0;
                }
                close(nfd);
        }
        if (k < 0) {
                /* the file in hand still is the one at the path (a reopen
                 * asked for when no descriptor is left): keep writing it */
                if (!__atomic_load_n(&s->broken, __ATOMIC_RELAXED) && stat(s->path, &st) == 0 &&
                    st.st_dev == s->dev && st.st_ino == s->ino)
                        return;
                __atomic_store_n(&s->broken_error, -k, __ATOMIC_RELAXED);
                __atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
                file_report_once(s, "open", k);
                return;
        }
        __atomic_store_n(&s->broken, false, __ATOMIC_RELEASE);
}

/* Before a record: a look at the path at most once per interval of record
 * time (any record's: r->time, which the record carries, so no clock is
 * read and no system call made in between), and a reopen when the path
 * names another file or none, when trail_reopen() was called, or when the
 * last open failed. One thread looks; the others write meanwhile. */
static void file_watch(struct file_handler *s, const struct trail_record *r) {
        unsigned gen = __atomic_load_n(&reopen_generation, __ATOMIC_ACQUIRE);
        uint64_t t = (uint64_t) r->time.tv_sec * 1000000 + (uint64_t) r->time.tv_nsec / 1000;
        uint64_t last = __atomic_load_n(&s->checked_usec, __ATOMIC_RELAXED);
        uint64_t iv = __atomic_load_n(&s->interval_usec, __ATOMIC_RELAXED);
        bool forced = gen != __atomic_load_n(&s->generation, __ATOMIC_RELAXED);
        struct stat st;

        /* records a little out of order (an async handler's worker delivers
         * them in queue order) are not due; a clock set back by an interval
         * or more is */
        if (!forced && (t >= last ? t - last : last - t) < iv)
                return;
        if (__atomic_exchange_n(&s->busy, true, __ATOMIC_ACQUIRE))
                return;
        __atomic_store_n(&s->checked_usec, t, __ATOMIC_RELAXED);
        __atomic_store_n(&s->generation, gen, __ATOMIC_RELAXED);
        if (forced || __atomic_load_n(&s->broken, __ATOMIC_RELAXED) || stat(s->path, &st) < 0 ||
            st.st_dev != s->dev || st.st_ino != s->ino)
                file_reopen(s);
        __atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
}

/* The whole line with one write() (more only when the file system takes
 * part of it: disk full, a size limit). A regular file does not wait for
 * a reader, so there is no deadline to keep; a network file system that
 * stalls stalls the write (see trail_handler_file(3): use the async
 * handler there). */
static int write_all(int fd, const char *p, size_t n, bool *ret_partial) {
        size_t total = n;
        int k = 0;

        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        k = w < 0 ? -errno : -EIO;
                        break;
                }
                p += w;
                n -= (size_t) w;
        }
        *ret_partial = n > 0 && n < total;
        return k;
}

static int file_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        (void) fell_back;
        struct file_handler *s = (struct file_handler *) h;
        struct tls_state *t;
        bool mend, partial = false;
        int k;

        if (s->fd < 0)
                return -EBADF; /* deferred, and its configuration not applied */
        file_watch(s, r);
        if (__atomic_load_n(&s->broken, __ATOMIC_ACQUIRE))
                return -__atomic_load_n(&s->broken_error, __ATOMIC_RELAXED);
        t = tls_state_get();
        if (!t)
                return -ENOMEM;
        mend = __atomic_exchange_n(&s->torn, false, __ATOMIC_RELAXED);
        k = stream_render_line(__atomic_load_n(&h->formatter, __ATOMIC_ACQUIRE), r, false, mend,
                               false, t);
        if (k < 0)
                return k;
        k = write_all(s->fd, (const char *) es_getBufAddr(t->render), t->render->lenStr, &partial);
        if (k < 0) {
                if (partial || mend)
                        __atomic_store_n(&s->torn, true, __ATOMIC_RELAXED);
                file_report_once(s, "write to", k);
        }
        return k;
}

/* "0640": octal, at most 07777. */
static int parse_mode(const char *v, unsigned *ret) {
        unsigned m = 0;

        if (!*v || strlen(v) > 5)
                return -EINVAL;
        for (const char *p = v; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                m = m * 8 + (unsigned) (*p - '0');
        }
        if (m > 07777)
                return -EINVAL;
        *ret = m;
        return 0;
}

static int file_set(trail_handler *h, const char *key, const char *value) {
        struct file_handler *s = (struct file_handler *) h;
        uint64_t v;
        unsigned m;

        if (strcmp(key, "mode") == 0) {
                if (parse_mode(value, &m) < 0)
                        return -EINVAL;
                __atomic_store_n(&s->mode, m, __ATOMIC_RELAXED);
                /* the file this handler made, still in hand, gets it too */
                if (s->fd >= 0 && !__atomic_exchange_n(&s->busy, true, __ATOMIC_ACQUIRE)) {
                        if (s->created)
                                (void) fchmod(s->fd, m);
                        __atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
                }
                return 0;
        }
        if (strcmp(key, "check_interval") == 0) {
                if (parse_duration_usec(value, &v) < 0 || v > TIMEOUT_MAX_USEC)
                        return -EINVAL;
                __atomic_store_n(&s->interval_usec, v, __ATOMIC_RELAXED);
                return 0;
        }
        return -ENOENT;
}

/* A thread that was reopening is not in the child: the child may reopen. */
static void file_fork_child(trail_handler *h) {
        struct file_handler *s = (struct file_handler *) h;

        __atomic_store_n(&s->busy, false, __ATOMIC_RELAXED);
}

static void file_free(trail_handler *h) {
        struct file_handler *s = (struct file_handler *) h;

        if (s->fd >= 0)
                close(s->fd);
        free(s->path);
        free(s);
}

static const struct handler_ops file_ops = {
        .type = "file",
        .default_format = "text",
        .emit = file_emit,
        .set = file_set,
        .free = file_free,
        .fork_child = file_fork_child,
};

/* path made absolute now: a later chdir() must not move the log. */
static char *path_absolute(const char *path) {
        _cleanup_free_ char *cwd = NULL;
        char *p;

        if (path[0] == '/')
                return strdup(path);
        cwd = get_current_dir_name();
        if (!cwd)
                return NULL;
        if (asprintf(&p, "%s/%s", cwd, path) < 0)
                return NULL;
        return p;
}

/* The directory of path can take a new file (for trail check). */
static int dir_writable(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;

        if (!dir)
                return -ENOMEM;
        if (slash && !slash[1])
                return -EISDIR; /* as open(2) with O_CREAT says of "name/" */
        if (slash == dir)
                slash[1] = '\0';
        else if (slash)
                *slash = '\0';
        if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
                return -errno;
        return 0;
}

/* deferred: an existing file is opened, a missing one only checked for
 * (its directory can take it) and made by file_handler_open() */
static trail_handler *file_handler_new(const char *path, const char *format, bool deferred) {
        _cleanup_(trail_formatter_unrefp) trail_formatter *f = NULL;
        struct file_handler *s;
        struct stat st;
        int r;

        if (!path || !*path) {
                errno = EINVAL;
                return NULL;
        }
        if (format) {
                f = trail_formatter_new(format);
                if (!f)
                        return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                errno = ENOMEM;
                return NULL;
        }
        s->fd = -1;
        s->mode = MODE_DEFAULT;
        s->interval_usec = CHECK_INTERVAL_DEFAULT;
        s->generation = __atomic_load_n(&reopen_generation, __ATOMIC_ACQUIRE);
        s->path = path_absolute(path);
        r = s->path ? 0 : -ENOMEM;
        if (r >= 0 && deferred) {
                r = not_a_file(s->path);
                if (r >= 0) {
                        s->fd = open(s->path,
                                     O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                        r = s->fd >= 0 ? 0 : -errno;
                }
                if (r == -ENOENT)
                        r = dir_writable(s->path);
                else if (r >= 0 && fstat(s->fd, &st) < 0)
                        r = -errno;
                else if (r >= 0 && !S_ISREG(st.st_mode))
                        r = -EINVAL;
        } else if (r >= 0)
                r = file_open(s->path, s->mode, &st, &s->created);
        if (r >= 0 && !deferred)
                s->fd = r;
        if (r >= 0 && s->fd >= 0) {
                s->dev = st.st_dev;
                s->ino = st.st_ino;
        }
        if (r < 0) {
                /* base not initialised yet: freed by hand */
                if (s->fd >= 0)
                        close(s->fd);
                free(s->path);
                free(s);
                errno = -r;
                return NULL;
        }
        r = handler_init(&s->base, &file_ops);
        if (r >= 0 && f)
                r = trail_handler_set_formatter(&s->base, f);
        if (r < 0) {
                trail_handler_unref(&s->base);
                errno = -r;
                return NULL;
        }
        handler_fork_track(&s->base);
        return &s->base;
}

trail_handler *file_handler_deferred(const char *path) {
        return file_handler_new(path, NULL, true);
}

int file_handler_open(trail_handler *h) {
        struct file_handler *s = (struct file_handler *) h;
        struct stat st;
        int fd;

        if (s->fd >= 0)
                return 0;
        fd = file_open(s->path, __atomic_load_n(&s->mode, __ATOMIC_RELAXED), &st, &s->created);
        if (fd < 0)
                return fd;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->fd = fd;
        return 0;
}

_public_ trail_handler *trail_handler_file(const char *path, const char *format) {
        return file_handler_new(path, format, false);
}
