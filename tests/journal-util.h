/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration-test helpers: a value unique to the test run, and reading
 * back from the real journal, with the sd-journal API, the entries that carry
 * it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct jfield {
        char *name;
        char *value; /* NUL-terminated copy; may hold binary bytes */
        size_t len;
};

struct jentry {
        struct jfield *f;
        size_t n;
};

struct jentries {
        struct jentry *e;
        size_t n;
};

/* A 32-hex-digit id, new for each call. */
void test_run_id(char out[33]);
/* Exits 77 (skip) when journald is not running. */
void require_journald(void);
/* Waits up to timeout_ms for at least `expected` entries with field=value,
 * then returns every such entry, oldest first. */
struct jentries journal_collect(const char *field, const char *value, size_t expected,
                                int timeout_ms);
/* The entries with field=value in the journal file at path (no wait). */
struct jentries journal_read_file(const char *path, const char *field, const char *value);
void jentries_free(struct jentries *es);
/* The value of the first field called name, or NULL. */
const char *jentry_get(const struct jentry *e, const char *name, size_t *ret_len);
size_t jentry_count(const struct jentry *e, const char *name);
