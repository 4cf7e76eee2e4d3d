/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the field name check and normaliser (record.c). Oracles: the
 * output is always a valid journald name (A-Z 0-9 '_', not starting with a
 * digit or '_', 1..64 bytes, none of trail's own) or nothing; it is what
 * trail_fields(3) documents (a reference normaliser written here from that
 * text); normalising again changes nothing; a valid name is kept as is; and
 * "renamed" is true exactly when the name changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-input.h"
#include "logger-private.h"

static bool journald_name_ok(const char *s, size_t n) {
        if (n == 0 || n > REF_NAME_MAX || !(s[0] >= 'A' && s[0] <= 'Z'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return !ref_name_reserved(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_part in = {data, size};
        char *name = fuzz_cstr(in);
        /* exactly the documented size, so that ASan sees one byte more */
        char *out = malloc(FIELD_NAME_MAX + 2), *again = malloc(FIELD_NAME_MAX + 2);
        char expect[REF_NAME_MAX + 1];
        size_t n, n2, valid_len = 0, expect_n;
        bool renamed, renamed2, valid;

        if (!out || !again)
                abort();
        valid = field_name_is_valid(name, &valid_len);
        n = field_name_normalise(name, out, &renamed);
        expect_n = ref_normalise(name, expect);

        FUZZ_CHECK(n <= FIELD_NAME_MAX, "length %zu", n);
        FUZZ_CHECK(n == expect_n && memcmp(out, expect, n) == 0,
                   "\"%s\" gave \"%.*s\", want \"%s\"", name, (int) n, out, expect);
        FUZZ_CHECK(valid == journald_name_ok(name, strlen(name)), "\"%s\" valid=%d", name, valid);
        if (valid)
                FUZZ_CHECK(valid_len == strlen(name) && n == valid_len && !renamed &&
                                   memcmp(out, name, n) == 0,
                           "valid \"%s\" changed", name);
        FUZZ_CHECK(renamed == !(n == strlen(name) && memcmp(out, name, n) == 0),
                   "\"%s\": renamed=%d", name, renamed);
        if (n > 0) {
                FUZZ_CHECK(journald_name_ok(out, n), "\"%s\" gave invalid \"%.*s\"", name, (int) n,
                           out);
                out[n] = '\0';
                size_t len;
                FUZZ_CHECK(field_name_is_valid(out, &len) && len == n, "\"%s\" not valid", out);
                n2 = field_name_normalise(out, again, &renamed2);
                FUZZ_CHECK(n2 == n && memcmp(again, out, n) == 0 && !renamed2,
                           "not idempotent: \"%s\" -> \"%.*s\"", out, (int) n2, again);
        }
        free(name);
        free(out);
        free(again);
        return 0;
}
