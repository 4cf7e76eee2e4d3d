/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logs random records (random bytes in messages and values, random field
 * types) through a stream handler on stdout in the format given, each one
 * preceded by a line "E {…}" saying what was logged, in hex, so that
 * check-json.py and check-logfmt.py can read the output back and compare.
 * Usage: gen-records FORMAT COUNT [SEED] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trail.h"

static uint64_t rng_state;

static uint64_t rnd(void) {
        /* splitmix64 */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static const char *const utf8_samples[] = {
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xc2\x85",
        "\xe2\x80\xa8",
        "\xed\x9f\xbf",
        "\xef\xbf\xbd",
        "\xf4\x8f\xbf\xbf",
        /* and some invalid ones */
        "\xc0\xaf",
        "\xe2\x82",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xf0\x9f\x98",
};

/* Random bytes, no NUL unless allow_nul. Returns the length. */
static size_t random_bytes(char *out, size_t max, bool allow_nul) {
        size_t n = rnd() % 8 == 0 ? rnd() % max : rnd() % 48, len = 0;

        while (len < n) {
                unsigned k = (unsigned) (rnd() % 10);
                if (k < 4) {
                        out[len++] = (char) (rnd() % 256);
                        if (!allow_nul && out[len - 1] == '\0')
                                out[len - 1] = '\x01';
                } else if (k < 8)
                        out[len++] = (char) (' ' + rnd() % 95);
                else {
                        const char *s = utf8_samples[rnd() % (sizeof(utf8_samples) /
                                                              sizeof(*utf8_samples))];
                        size_t l = strlen(s);
                        if (len + l > n)
                                break;
                        memcpy(out + len, s, l);
                        len += l;
                }
        }
        return len;
}

static void hex(FILE *o, const void *p, size_t n) {
        const unsigned char *u = p;
        for (size_t i = 0; i < n; i++)
                fprintf(o, "%02x", u[i]);
}

static const struct {
        const char *given, *normalised;
} names[] = {
        {"REQUEST_ID", "REQUEST_ID"},
        {"message", "F_MESSAGE"},
        {"level", "LEVEL"},
        {"time", "TIME"},
        {"logger", "F_LOGGER"},
        {"priority", "F_PRIORITY"},
        {"user-id", "USER_ID"},
        {"msg", "MSG"},
        {"F1", "F1"},
        {"F2", "F2"},
        {"X", "X"},
        {"tid", "F_TID"},
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

int main(int argc, char **argv) {
        static char bufs[N_NAMES][4096];
        static char msg[2][4096];
        trail_field fields[N_NAMES];
        int count;

        if (argc < 3)
                return 2;
        count = atoi(argv[2]);
        rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;

        trail_handler *h = trail_handler_stream(STDOUT_FILENO, argv[1]);
        trail_logger *lg = trail_get("gen.records");
        if (!h)
                return 2;
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_logger_set_level(lg, TRAIL_DEBUG);
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);

        for (int i = 0; i < count; i++) {
                int level = (int) (rnd() % 8);
                size_t m0 = random_bytes(msg[0], sizeof(msg[0]) - 1, false);
                size_t m1 = random_bytes(msg[1], sizeof(msg[1]) - 1, false);
                bool nul = rnd() % 10 == 0;
                size_t n = 0;
                bool used[N_NAMES] = {false};
                size_t want = rnd() % 8;

                msg[0][m0] = msg[1][m1] = '\0';
                printf("E {\"level\":%d,\"message\":\"", level);
                hex(stdout, msg[0], m0);
                if (nul) {
                        hex(stdout, "", 1);
                        hex(stdout, msg[1], m1);
                }
                printf("\",\"fields\":[");
                for (size_t k = 0; k < want; k++) {
                        size_t j = rnd() % N_NAMES;
                        if (used[j])
                                continue;
                        used[j] = true;
                        trail_field *f = &fields[n];
                        printf("%s[\"%s\",", n ? "," : "", names[j].normalised);
                        switch (rnd() % 6) {
                        case 0: {
                                size_t l = random_bytes(bufs[j], sizeof(bufs[j]) - 1, false);
                                bufs[j][l] = '\0';
                                *f = TRAIL_STR(names[j].given, bufs[j]);
                                printf("\"str\",\"");
                                hex(stdout, bufs[j], l);
                                printf("\"]");
                                break;
                        }
                        case 1: {
                                size_t l = random_bytes(bufs[j], sizeof(bufs[j]), true);
                                *f = TRAIL_BYTES(names[j].given, bufs[j], l);
                                printf("\"bytes\",\"");
                                hex(stdout, bufs[j], l);
                                printf("\"]");
                                break;
                        }
                        case 2: {
                                int64_t v = (int64_t) rnd() >> (rnd() % 64);
                                *f = TRAIL_INT(names[j].given, v);
                                printf("\"int\",\"%" PRId64 "\"]", v);
                                break;
                        }
                        case 3: {
                                uint64_t v = rnd() >> (rnd() % 64);
                                *f = TRAIL_UINT(names[j].given, v);
                                printf("\"uint\",\"%" PRIu64 "\"]", v);
                                break;
                        }
                        case 4: {
                                static const double special[] = {0.0,
                                                                 -0.0,
                                                                 1.0,
                                                                 0.1,
                                                                 1e300,
                                                                 5e-324,
                                                                 __builtin_inf(),
                                                                 -__builtin_inf(),
                                                                 __builtin_nan("")};
                                double v;
                                uint64_t bits = rnd();
                                if (rnd() % 3 == 0)
                                        v = special[rnd() % (sizeof(special) / sizeof(*special))];
                                else
                                        memcpy(&v, &bits, sizeof(v));
                                *f = TRAIL_DOUBLE(names[j].given, v);
                                printf("\"double\",\"");
                                hex(stdout, &v, sizeof(v));
                                printf("\"]");
                                break;
                        }
                        default: {
                                bool v = rnd() % 2;
                                *f = TRAIL_BOOL(names[j].given, v);
                                printf("\"bool\",\"%d\"]", v);
                        }
                        }
                        n++;
                }
                printf("]}\n");
                fflush(stdout); /* before the handler writes its line */
                trail_fields fs = {fields, n};
                if (nul)
                        trail_log_with(lg, level, fs, "%s%c%s", msg[0], 0, msg[1]);
                else
                        trail_log_with(lg, level, fs, "%s", msg[0]);
        }
        trail_handler_unref(h);
        return 0;
}
