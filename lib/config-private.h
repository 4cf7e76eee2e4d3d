/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the three parts of the configuration share: config-parse.c reads the
 * file into entries and parses values, config-build.c builds a struct
 * config from the entries, config.c applies it (and holds the public
 * calls). */
#pragma once

#include <stdio.h>

#include "logger-private.h"

/* The largest file read (trail.conf(5)): far above any real configuration,
 * and what stops /dev/zero-like input, with the regular-file check, from
 * growing memory without end. */
#define CONFIG_SIZE_MAX (4 * 1024 * 1024)

/* ---- Errors --------------------------------------------------------------- */

struct config_error {
        unsigned line;
        size_t seq; /* errors of one line keep the order they were found in */
        char *key;
        char *message;
        int errnum; /* positive */
};

/* Errors kept with their line: a file of a million bad lines must neither
 * take a million messages' memory nor flood the terminal. Those of the
 * whole file (line 0) are always kept. */
#define ERRORS_MAX 1000

struct errors {
        struct config_error *e;
        size_t n, cap;
        size_t n_more; /* past ERRORS_MAX: counted, not kept */
        bool oom;
};

void errors_add(struct errors *es, unsigned line, const char *key, int errnum, const char *fmt, ...)
        TRAIL__PRINTF(5, 6);
int error_cmp(const void *a, const void *b);
void errors_free(struct errors *es);

/* ---- Parsing: libinih into a list of entries ------------------------------ */

struct entry {
        char *section; /* as written, between the brackets */
        char *key;
        char *value;
        unsigned line;
        bool used;
};

struct section_header {
        char *name;
        unsigned line;
};

struct parse {
        const char *file;
        FILE *f;
        struct errors *errors;
        unsigned line;             /* lines handed to inih so far */
        bool indented;             /* the current line starts with a blank */
        size_t size;               /* bytes read so far */
        bool stop;                 /* CONFIG_SIZE_MAX reached */
        size_t last_len, last_cap; /* of the last entry's value, which may grow */
        struct entry *e;
        size_t n_e, cap_e;
        struct section_header *s;
        size_t n_s, cap_s;
        bool oom;
};

/* Grows *p (an array of *cap elements of size bytes) to hold n + 1. */
bool config_grow(void **p, size_t *cap, size_t n, size_t size);
/* Reads and parses the file at path into p (p->file, p->errors set by the
 * caller); errors go to p->errors. Negative errno when it cannot be opened. */
int config_parse_file(const char *path, struct parse *p);
void parse_free(struct parse *p);

/* ---- Values --------------------------------------------------------------- */

int parse_uint(const char *v, unsigned long long max, unsigned long long *ret);
/* Splits a list on commas and blanks; returns the number of words, each
 * NUL-terminated in the (modified) buffer. */
size_t split_words(char *s, char **words, size_t max);

/* ---- Name indexes ---------------------------------------------------------- */

/* Sections, keys, handlers and loggers are matched by name through arrays
 * sorted once and searched by bisection, so that building a file costs
 * O(n log n) in its entries: a scan of every section per section was
 * quadratic (100k sections never finished). Sorting, not hashing: no input
 * can make it slower. */
struct key {
        const char *a, *b; /* the name: b is "" when one string is enough */
        size_t i;          /* the item's position in the array indexed */
        size_t v;          /* the caller's */
};

void keys_sort(struct key *k, size_t n);
/* The first of the keys named (a, b) in sorted k[0..n): the one of lowest i. */
struct key *keys_find(struct key *k, size_t n, const char *a, const char *b);

/* ---- The configuration being built ---------------------------------------- */

struct hsection;

struct chandler {
        char *name;
        unsigned line;
        const struct handler_type *type;
        trail_handler *h;
        /* a file handler, h or inside it (async): its file is made when
         * the configuration is applied (file_handler_open()) */
        trail_handler *file;
        bool used;
        char *summary; /* for trail check */
        /* type = memory: the section, built after its target (config-memory.c) */
        struct hsection *pending;
        int memory_state; /* MEMORY_* */
        bool memory_cycle;
};
enum { MEMORY_WAITING, MEMORY_VISITING, MEMORY_ORDERED };

#define LIST_MAX 64

struct clogger {
        char *name; /* NULL: the root */
        unsigned line;
        int level; /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate;
        struct chandler *handlers[LIST_MAX];
        size_t n_handlers;
        trail_logger *lg;
        bool from_env; /* only a level from $TRAIL_LEVEL */
        struct flow_setting {
                bool has_sample, has_rate_limit;
                unsigned sample;   /* 1: keep all */
                unsigned burst;    /* 0: no limit */
                uint64_t interval; /* µs */
        } flow;
};

struct config {
        const char *file;
        struct errors errors;
        struct clogger *loggers; /* [0] is the root */
        size_t n_loggers, cap_loggers;
        struct chandler *handlers;
        size_t n_handlers, cap_handlers;
        struct key *handler_index; /* by name, once every handler is known */
        bool has_ident, has_facility, has_fields;
        char *ident;
        int facility;
        trail_field *fields;
        size_t n_fields;
        char *fields_buf;
        struct flow_setting filter_flow; /* [filter] sample, rate_limit */
        bool has_redact, has_scrub, scrub, has_backtrace;
        char **redact; /* NULL-terminated; NULL: the built-in list */
        char *redact_buf;
        int backtrace_level; /* -1: none */
};

#define ERR(c, ent, fmt, ...)                                                                      \
        errors_add(&(c)->errors, (ent)->line, (ent)->key, EINVAL, fmt, ##__VA_ARGS__)

/* The keys of one [handler NAME] section. */
struct hsection {
        const char *name;
        unsigned line;
        const struct entry *e[LIST_MAX];
        size_t n;
};

struct handler_type {
        const char *name;
        /* Keys the constructor takes; every other key of the section goes
         * through trail_handler_set(). */
        const char *const *keys;
        /* Returns a new handler, or NULL after adding an error. */
        trail_handler *(*create)(struct config *c, const struct hsection *s, char *summary,
                                 size_t summary_size);
};

/* Values of keys (config-parse.c): each adds its error to c->errors. */
/* What a level may be, for the messages that refuse one. */
#define LEVEL_NAMES_EXPECTED                                                                       \
        "debug, info, notice, warning, error, critical, alert, emergency, 0 to 7"
void set_level(struct config *c, const struct entry *e, int *level, bool may_inherit);
void set_fields(struct config *c, const struct entry *e);
void set_ident(struct config *c, const struct entry *e);
/* sample = N; rate_limit = BURST/INTERVAL. Returns false when the key is
 * neither. */
bool set_flow(struct config *c, const struct entry *e, struct flow_setting *f);
void set_redact(struct config *c, const struct entry *e);

/* config-memory.c: whether the section is of type memory; the memory
 * sections in the order to build them (each after its target; those in a
 * cycle left out, with an error), stack with room for every handler;
 * the type's constructor. */
bool hsection_is_memory(const struct hsection *s);
size_t memory_order(struct config *c, struct chandler **order, struct chandler **stack);
trail_handler *create_memory(struct config *c, const struct hsection *s, char *summary,
                             size_t size);

/* config-build.c */
/* Builds the whole configuration from the entries; errors go to c->errors. */
void config_build(struct config *c, struct parse *p);
/* A new [logger NAME] (NULL: the root) at its defaults; NULL when out of memory. */
struct clogger *config_add_logger(struct config *c, const char *name, unsigned line);
void config_free_contents(struct config *c);

/* config-env.c */
/* $TRAIL_LEVEL on top: returns the number of overrides, or -EINVAL. */
int env_levels(struct config *c, trail_config_error_fn on_error, void *userdata);
