/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness: runs every row of every table several times, round-robin so
 * that a burst of load on the machine hits all peers alike, takes medians,
 * counts heap allocations with a malloc interposer, counts the records that
 * reached journald with sd-journal, and prints one table and one CSV. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "bench.h"

/* ---- Allocation counter --------------------------------------------------- */

/* Every library in the process resolves malloc and friends to these (C++'s
 * operator new calls malloc). Counted only while a row is being timed. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static bool counting;
static uint64_t allocations;

static inline void count_one(void) {
        if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
                __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) {
        count_one();
        return __libc_malloc(n);
}
void *calloc(size_t k, size_t n) {
        count_one();
        return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n) {
        count_one();
        return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
        count_one();
        return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n) {
        count_one();
        return __libc_memalign(a, n);
}
int posix_memalign(void **ret, size_t a, size_t n) {
        void *p;
        count_one();
        p = __libc_memalign(a, n);
        if (!p)
                return ENOMEM;
        *ret = p;
        return 0;
}
void free(void *p) {
        __libc_free(p);
}

/* ---- Time --------------------------------------------------------------- */

static uint64_t ns_of(clockid_t clk) {
        struct timespec ts;
        clock_gettime(clk, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t bench_now_ns(void) {
        return ns_of(CLOCK_MONOTONIC);
}

/* ---- Journal ------------------------------------------------------------ */

/* The entries with this SYSLOG_IDENTIFIER; journald writes asynchronously,
 * so wait until the count reaches "want" or stops growing for a second. */
static uint64_t journal_count(const char *ident, uint64_t want) {
        char match[128];
        uint64_t n = 0, last = 0;
        uint64_t still_since = bench_now_ns();

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", ident);
        for (;;) {
                sd_journal *j;
                if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0)
                        return 0;
                sd_journal_add_match(j, match, 0);
                n = 0;
                while (sd_journal_next(j) > 0)
                        n++;
                sd_journal_close(j);
                if (n >= want)
                        return n;
                if (n != last) {
                        last = n;
                        still_since = bench_now_ns();
                } else if (bench_now_ns() - still_since > 1000000000u)
                        return n;
                usleep(50000);
        }
}

/* ---- Running a row -------------------------------------------------------- */

struct sample {
        double rate;         /* records/s (throughput, latency) or ns/call */
        double cpu_ns;       /* caller CPU per record */
        double allocs;       /* heap allocations per record */
        double arrived;      /* fraction that reached journald */
        double p50, p99, p999; /* latency rows */
};

struct worker {
        const struct bench_row *row;
        struct bench_ctx ctx;
        uint64_t n;
        uint64_t cpu_ns;
        pthread_barrier_t *start;
        pthread_t thread;
};

static void *worker_main(void *p) {
        struct worker *w = p;
        uint64_t c0;

        if (w->start)
                pthread_barrier_wait(w->start);
        c0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
        w->row->run(&w->ctx, w->n);
        w->cpu_ns = ns_of(CLOCK_THREAD_CPUTIME_ID) - c0;
        return NULL;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* One run of one row: n records per thread. Returns < 0 when the row's
 * setup refused (its library or sink is absent). */
static int run_row(const struct bench_row *row, unsigned row_idx, unsigned run, uint64_t n,
                   struct sample *s) {
        unsigned threads = row->threads > 1 ? row->threads : 1;
        uint64_t iters = n * (row->scale ? row->scale : 1);
        struct worker w[threads];
        pthread_barrier_t start;
        char ident[64];
        struct bench_ctx ctx = { .ident = ident, .threads = threads };
        uint64_t t0, wall, cpu = 0;

        snprintf(ident, sizeof(ident), "tb-%d-%u-%u", (int) getpid(), row_idx, run);
        if (row->setup && row->setup(&ctx) < 0)
                return -1;

        /* Warm: thread buffers, sockets, first-use allocations. */
        if (row->kind != BENCH_LATENCY)
                row->run(&ctx, row->kind == BENCH_NS_PER_CALL ? 1000 : 50);

        memset(w, 0, sizeof(w));
        for (unsigned i = 0; i < threads; i++) {
                w[i].row = row;
                w[i].ctx = ctx;
                w[i].n = row->kind == BENCH_LATENCY && iters >= threads ? iters / threads : iters;
                if (row->kind == BENCH_LATENCY) {
                        w[i].ctx.lat = calloc(w[i].n, sizeof(uint64_t));
                        w[i].ctx.n_lat = 0;
                        if (!w[i].ctx.lat)
                                return -1;
                }
        }

        allocations = 0;
        __atomic_store_n(&counting, true, __ATOMIC_RELAXED);
        if (threads == 1) {
                t0 = bench_now_ns();
                worker_main(&w[0]);
                wall = bench_now_ns() - t0;
        } else {
                pthread_barrier_init(&start, NULL, threads + 1);
                for (unsigned i = 0; i < threads; i++) {
                        w[i].start = &start;
                        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
                }
                pthread_barrier_wait(&start);
                t0 = bench_now_ns();
                for (unsigned i = 0; i < threads; i++)
                        pthread_join(w[i].thread, NULL);
                wall = bench_now_ns() - t0;
                pthread_barrier_destroy(&start);
        }
        __atomic_store_n(&counting, false, __ATOMIC_RELAXED);
        /* Thread creation and the barrier allocate in the harness, not in the row. */
        uint64_t allocs = allocations;

        for (unsigned i = 0; i < threads; i++)
                cpu += w[i].cpu_ns;
        uint64_t total = w[0].n * threads;
        memset(s, 0, sizeof(*s));
        if (row->kind == BENCH_NS_PER_CALL)
                s->rate = (double) wall / (double) total;
        else
                s->rate = (double) total * 1e9 / (double) wall;
        s->cpu_ns = (double) cpu / (double) total;
        s->allocs = threads > 1 ? -1 : (double) allocs / (double) total;
        s->arrived = -1;

        if (row->kind == BENCH_LATENCY) {
                size_t m = 0;
                for (unsigned i = 0; i < threads; i++)
                        m += w[i].ctx.n_lat;
                uint64_t *all = malloc((m ? m : 1) * sizeof(uint64_t));
                size_t k = 0;
                for (unsigned i = 0; i < threads; i++) {
                        memcpy(all + k, w[i].ctx.lat, w[i].ctx.n_lat * sizeof(uint64_t));
                        k += w[i].ctx.n_lat;
                        free(w[i].ctx.lat);
                }
                qsort(all, m, sizeof(uint64_t), cmp_u64);
                if (m) {
                        s->p50 = (double) all[m / 2];
                        s->p99 = (double) all[m * 99 / 100];
                        s->p999 = (double) all[m * 999 / 1000];
                }
                free(all);
        }

        uint64_t want = total + (row->kind == BENCH_LATENCY ? 0 : 50);
        ctx.expected = want;
        if (row->teardown)
                row->teardown(&ctx);
        if (row->arrived)
                s->arrived = (double) row->arrived(&ctx) / (double) want;
        else if (row->to_journal)
                s->arrived = (double) journal_count(ident, want) / (double) want;
        return 0;
}

/* ---- Tables --------------------------------------------------------------- */

static const struct bench_row *const tables[] = {
        bench_rows_libsystemd, bench_rows_trail, bench_rows_glib, bench_rows_glibc,
        bench_rows_spdlog,
};

struct result {
        const struct bench_row *row;
        struct sample runs[64];
        unsigned n_runs;
        bool skipped;
        struct sample med;
};

static double median_of(struct result *r, size_t off) {
        double v[64];
        for (unsigned i = 0; i < r->n_runs; i++)
                v[i] = *(const double *) ((const char *) &r->runs[i] + off);
        qsort(v, r->n_runs, sizeof(double), cmp_double);
        return r->n_runs ? v[r->n_runs / 2] : 0;
}

static const struct result *find(const struct result *res, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(res[i].row->name, name) && !res[i].skipped)
                        return &res[i];
        return NULL;
}

/* a's figure over b's (rate or CPU per record): the median of the per-round
 * ratios, since the two ran within seconds of each other in each round,
 * while the load on a shared machine drifts between rounds. Falls back to
 * the ratio of the medians. */
static double ratio_at(const struct result *a, const struct result *b, size_t off) {
        double v[64];
        unsigned n = 0;

#define AT(r, s) (*(const double *) ((const char *) &(r)->s + off))
        if (a->n_runs == b->n_runs)
                for (unsigned i = 0; i < a->n_runs; i++)
                        if (AT(b, runs[i]) > 0)
                                v[n++] = AT(a, runs[i]) / AT(b, runs[i]);
        if (n == 0)
                return AT(b, med) > 0 ? AT(a, med) / AT(b, med) : 0;
#undef AT
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ratio_of(const struct result *a, const struct result *b) {
        return ratio_at(a, b, offsetof(struct sample, rate));
}

static double cpu_ratio_of(const struct result *a, const struct result *b) {
        return ratio_at(a, b, offsetof(struct sample, cpu_ns));
}

static void verdict(const char *what, bool measured, bool met, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void verdict(const char *what, bool measured, bool met, const char *fmt, ...) {
        va_list ap;

        printf("  %-8s %-46s ", !measured ? "n/a" : met ? "MET" : "MISSED", what);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

/* The targets, as ratios within this one run. */
static void print_targets(const struct result *res, size_t n) {
        const struct result *raw = find(res, n, "sd_journal_sendv, prebuilt iovec");
        const struct result *send = find(res, n, "sd_journal_send (printf-style)");
        const struct result *glib = find(res, n, "glib g_log_structured -> journald");
        const struct result *sync = find(res, n, "trail journald sync");
        const struct result *off = find(res, n, "trail disabled call (debug at info)");
        const struct result *glib_off = find(res, n, "glib g_debug, disabled");
        double x;

        printf("\ntargets (ratios from this run):\n");
        x = raw && sync ? ratio_of(sync, raw) : 0;
        verdict("journald sync >= 0.95 x raw sd_journal_sendv", raw && sync, x >= 0.95,
                "%.3f x (caller CPU %.3f x raw's)", x, raw && sync ? cpu_ratio_of(sync, raw) : 0);
        x = glib && sync ? ratio_of(sync, glib) : 0;
        verdict("journald sync >= 1.3 x GLib", glib && sync, x >= 1.3, "%.3f x (caller CPU %.3f x GLib's)",
                x, glib && sync ? cpu_ratio_of(sync, glib) : 0);
        x = send && sync ? ratio_of(sync, send) : 0;
        verdict("journald sync >= 1.0 x sd_journal_send", send && sync, x >= 1.0,
                "%.3f x (caller CPU %.3f x sd_journal_send's)", x,
                send && sync ? cpu_ratio_of(sync, send) : 0);
        verdict("disabled call <= 1 ns", off, off && off->med.rate <= 1.0, "%.2f ns",
                off ? off->med.rate : 0);
        x = off && glib_off ? ratio_of(off, glib_off) : 0;
        verdict("disabled call <= 0.1 x GLib g_debug", off && glib_off, x <= 0.1, "%.4f x", x);
        double worst = -1;
        for (size_t i = 0; i < n; i++)
                if (!res[i].skipped && !strcmp(res[i].row->peer, "trail") &&
                    res[i].row->kind == BENCH_THROUGHPUT && !strstr(res[i].row->name, "async") &&
                    res[i].med.allocs > worst)
                        worst = res[i].med.allocs;
        verdict("0 heap allocations/record, trail sync paths", worst >= 0, worst == 0,
                "worst %.2f (single-thread sink rows; see allocs/r for async and formatting)", worst);
        /* issue 19: through the async handler to a loopback receiver */
        static const struct {
                const char *proto;
                double target;
        } batched[] = {{"TCP", 1e6}, {"TLS", 5e5}, {"UDP", 0}};
        for (size_t i = 0; i < sizeof(batched) / sizeof(batched[0]); i++) {
                char name[64], base[64], what[96];
                snprintf(name, sizeof(name), "trail RFC 5424 over %s, async", batched[i].proto);
                snprintf(base, sizeof(base), "trail RFC 5424 over %s, async, batch 1", batched[i].proto);
                const struct result *b = find(res, n, name), *u = find(res, n, base);
                bool both = b && u && !b->skipped && !u->skipped;
                double rx = both ? ratio_of(b, u) : 0;
                if (batched[i].target > 0) {
                        snprintf(what, sizeof(what), "%s async >= %.1f M records/s at the receiver",
                                 batched[i].proto, batched[i].target / 1e6);
                        verdict(what, b && !b->skipped, b && b->med.rate >= batched[i].target,
                                "%.0f records/s, arrived %.3f, %.2f x batch 1", b ? b->med.rate : 0,
                                b ? b->med.arrived : 0, rx);
                } else if (both)
                        printf("  %-8s %-46s %.0f records/s, arrived %.3f, %.2f x batch 1\n", "info",
                               "UDP async (no target)", b->med.rate, b->med.arrived, rx);
        }
        const struct result *f5424 = find(res, n, "trail format RFC 5424 into memory");
        const struct result *fjson = find(res, n, "trail format JSON into memory");
        const struct result *lat4 = find(res, n, "trail journald async, caller latency, 4 producers");
        verdict("RFC 5424 formatting >= 3 M records/s", f5424, f5424 && f5424->med.rate >= 3e6,
                "%.2f M records/s (one core)", f5424 ? f5424->med.rate / 1e6 : 0);
        verdict("JSON formatting >= 3 M records/s", fjson, fjson && fjson->med.rate >= 3e6,
                "%.2f M records/s (one core)", fjson ? fjson->med.rate / 1e6 : 0);
        verdict("async caller p99 <= 1 us, 4 producers", lat4, lat4 && lat4->med.p99 <= 1000,
                "p99 %.0f ns (p50 %.0f, p99.9 %.0f)", lat4 ? lat4->med.p99 : 0,
                lat4 ? lat4->med.p50 : 0, lat4 ? lat4->med.p999 : 0);
        double lost = 2;
        for (size_t i = 0; i < n; i++)
                if (!res[i].skipped && res[i].med.arrived >= 0 && res[i].med.arrived < lost)
                        lost = res[i].med.arrived;
        verdict("every record sent arrived in journald", lost <= 1.5, lost >= 1.0,
                "worst run of any row: %.2f%%", lost * 100);
}

static const char *kind_name(enum bench_kind k) {
        return k == BENCH_THROUGHPUT ? "throughput" : k == BENCH_NS_PER_CALL ? "ns_per_call" :
               k == BENCH_FORMAT ? "format" : "latency";
}

/* --only: comma-separated substrings of row names; NULL selects every row. */
static bool selected(const char *name, const char *only) {
        char buf[256];

        if (!only)
                return true;
        snprintf(buf, sizeof(buf), "%s", only);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (strstr(name, tok))
                        return true;
        return false;
}

static void usage(void) {
        fputs("usage: trail-bench [--runs N] [--records N] [--csv FILE] [--only SUBSTRING[,SUBSTRING…]]\n"
              "  runs every benchmark row N times (median), N records per run\n", stderr);
}

int main(int argc, char **argv) {
        unsigned runs = 7;
        uint64_t records = 20000;
        const char *csv_path = NULL, *only = NULL;
        static const struct option opts[] = {
                { "runs", required_argument, NULL, 'r' },
                { "records", required_argument, NULL, 'n' },
                { "csv", required_argument, NULL, 'c' },
                { "only", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "r:n:c:o:h", opts, NULL)) >= 0)
                switch (c) {
                case 'r': runs = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'n': records = strtoull(optarg, NULL, 10); break;
                case 'c': csv_path = optarg; break;
                case 'o': only = optarg; break;
                case 'h': usage(); return 0;
                default: usage(); return 2;
                }
        if (runs < 1 || runs > 64 || records < 1) {
                usage();
                return 2;
        }

        size_t n_rows = 0;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct bench_row *r = tables[t]; r->name; r++)
                        n_rows++;
        struct result *res = calloc(n_rows, sizeof(*res));
        if (!res)
                return 1;
        size_t k = 0;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct bench_row *r = tables[t]; r->name; r++)
                        res[k++].row = r;

        /* Round-robin: run 1 of every row, then run 2 of every row, … and
         * each round starts one row later, so that no row always follows
         * the same neighbour (journald may still be digesting its records). */
        for (unsigned run = 0; run < runs; run++) {
                fprintf(stderr, "run %u/%u:", run + 1, runs);
                for (size_t j = 0; j < n_rows; j++) {
                        size_t i = (j + run) % n_rows;
                        struct result *r = &res[i];
                        if (r->skipped || !selected(r->row->name, only)) {
                                r->skipped = true;
                                continue;
                        }
                        fprintf(stderr, " .");
                        if (run_row(r->row, (unsigned) i, run, records, &r->runs[r->n_runs]) < 0) {
                                fprintf(stderr, "\nskipped: %s (setup failed)\n", r->row->name);
                                r->skipped = true;
                                continue;
                        }
                        r->n_runs++;
                }
                fprintf(stderr, "\n");
        }

        for (size_t i = 0; i < n_rows; i++) {
                struct result *r = &res[i];
                if (r->skipped)
                        continue;
                r->med.rate = median_of(r, offsetof(struct sample, rate));
                r->med.cpu_ns = median_of(r, offsetof(struct sample, cpu_ns));
                r->med.allocs = median_of(r, offsetof(struct sample, allocs));
                /* The worst run: a lost record anywhere counts. */
                r->med.arrived = 2;
                for (unsigned j = 0; j < r->n_runs; j++)
                        if (r->runs[j].arrived < r->med.arrived)
                                r->med.arrived = r->runs[j].arrived;
                r->med.p50 = median_of(r, offsetof(struct sample, p50));
                r->med.p99 = median_of(r, offsetof(struct sample, p99));
                r->med.p999 = median_of(r, offsetof(struct sample, p999));
        }

        const struct result *raw = find(res, n_rows, "sd_journal_sendv, prebuilt iovec");
        const struct result *glib_off = find(res, n_rows, "glib g_debug, disabled");

        FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
        if (csv_path && !csv) {
                fprintf(stderr, "%s: %m\n", csv_path);
                return 1;
        }
        if (csv)
                fprintf(csv, "name,peer,kind,threads,runs,records_per_s,ns_per_call,cpu_ns_per_record,"
                             "allocs_per_record,arrived,vs_raw_sendv,cpu_vs_raw_sendv,vs_glib_disabled,p50_ns,p99_ns,"
                             "p999_ns,note\n");

        printf("%-52s %4s %15s %8s %9s %8s %8s %8s  %s\n", "benchmark (median of runs)", "thr",
               "records/s", "x raw", "CPU ns/r", "CPU/raw", "allocs/r", "arrived", "note");
        printf("(x raw: records/s / raw sendv's, median of per-round ratios, higher is faster; on ns/call rows, \"g\": ns / GLib's "
               "disabled g_debug. CPU/raw: caller CPU per record / raw sendv's, likewise per round, lower is cheaper.\n"
               " arrived: share of the records sent found in journald, worst run. allocs/r: "
               "malloc+calloc+realloc per record, single-thread rows.)\n");
        for (size_t i = 0; i < n_rows; i++) {
                const struct result *r = &res[i];
                const struct bench_row *row = r->row;
                char rate[32], ratio[32], cpu[32], cpu_ratio[32], allocs[32], arrived[32];

                if (r->skipped)
                        continue;
                double vs_raw = -1, vs_glib = -1;
                if (row->kind == BENCH_NS_PER_CALL) {
                        snprintf(rate, sizeof(rate), "%.2f ns/call", r->med.rate);
                        if (glib_off && glib_off->med.rate > 0)
                                vs_glib = ratio_of(r, glib_off);
                        if (vs_glib >= 0)
                                snprintf(ratio, sizeof(ratio), "%.4fg", vs_glib);
                        else
                                snprintf(ratio, sizeof(ratio), "-");
                } else {
                        snprintf(rate, sizeof(rate), "%.0f", r->med.rate);
                        if (raw && raw->med.rate > 0 && row->kind == BENCH_THROUGHPUT)
                                vs_raw = ratio_of(r, raw);
                        if (vs_raw >= 0)
                                snprintf(ratio, sizeof(ratio), "%.3f", vs_raw);
                        else
                                snprintf(ratio, sizeof(ratio), "-");
                }
                snprintf(cpu, sizeof(cpu), "%.0f", r->med.cpu_ns);
                /* The caller's CPU against raw sendv's: 1.05 = 5% more. */
                if (raw && row->kind == BENCH_THROUGHPUT && raw->med.cpu_ns > 0)
                        snprintf(cpu_ratio, sizeof(cpu_ratio), "%.3f", cpu_ratio_of(r, raw));
                else
                        snprintf(cpu_ratio, sizeof(cpu_ratio), "-");
                if (r->med.allocs < 0)
                        snprintf(allocs, sizeof(allocs), "-");
                else
                        snprintf(allocs, sizeof(allocs), "%.2f", r->med.allocs);
                if (r->med.arrived < 0 || r->med.arrived > 1.5)
                        snprintf(arrived, sizeof(arrived), "-");
                else
                        snprintf(arrived, sizeof(arrived), "%.1f%%", r->med.arrived * 100);
                printf("%-52s %4u %15s %8s %9s %8s %8s %8s  %s", row->name, row->threads ? row->threads : 1,
                       rate, ratio, cpu, cpu_ratio, allocs, arrived, row->note ? row->note : "");
                if (row->kind == BENCH_LATENCY)
                        printf(" p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns", r->med.p50, r->med.p99,
                               r->med.p999);
                printf("\n");
                if (csv)
                        fprintf(csv, "\"%s\",%s,%s,%u,%u,%.1f,%.3f,%.1f,%.3f,%.4f,%.4f,%.4f,%.5f,%.0f,%.0f,%.0f,\"%s\"\n",
                                row->name, row->peer, kind_name(row->kind),
                                row->threads ? row->threads : 1, r->n_runs,
                                row->kind == BENCH_NS_PER_CALL ? 0 : r->med.rate,
                                row->kind == BENCH_NS_PER_CALL ? r->med.rate : 0, r->med.cpu_ns,
                                r->med.allocs, r->med.arrived, vs_raw,
                                raw && raw->med.cpu_ns > 0 && row->kind == BENCH_THROUGHPUT
                                        ? cpu_ratio_of(r, raw) : -1,
                                vs_glib, r->med.p50,
                                r->med.p99, r->med.p999, row->note ? row->note : "");
        }
        if (csv)
                fclose(csv);
        print_targets(res, n_rows);
        if (bench_pending[0])
                printf("\nnot measured yet (their handlers are not on this branch):\n");
        for (const char *const *p = bench_pending; *p; p++)
                printf("  - %s\n", *p);
        free(res);
        return 0;
}
