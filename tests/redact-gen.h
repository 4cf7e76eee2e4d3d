/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generated field names that redaction must mask (trail_set_redact_fields(3)):
 * every listed name, the built-in ones and two added with
 * trail_add_redact_field(), spelled in three cases, at the end of names with
 * prefixes of many kinds (digits, lower case, punctuation, UTF-8, trail's and
 * journald's reserved names, mixed) and total lengths from 1 to 300 bytes,
 * the lengths around 32 (RFC 5424's SD-NAME) and 64 (journald's names, the
 * cut) all taken. Each such name, as given, is or ends in '_' (or a byte
 * that normalising makes '_') and the listed name. */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "trail.h"

#define GEN_SECRET "s3cr3t-in-clear" /* the value of every generated field */

/* Added with trail_add_redact_field() by gen_add_custom_names(); "k" makes
 * a name of 1 byte. */
static const char *const gen_custom[] = {"Otp.Seed", "k"};

static const char *const gen_listed[] = {
        "password",      "passwd", "secret",     "token",   "access_token", "refresh_token",
        "authorization", "cookie", "set_cookie", "api_key", "private_key",  "credit_card",
        "cvv",           "ssn",    "otp_seed",   "k",
};
#define GEN_N_LISTED (sizeof(gen_listed) / sizeof(gen_listed[0]))

static const struct {
        const char *prefix, *fill; /* fill: cycled byte by byte up to the length */
} gen_kinds[] = {
        {"", "a"},
        {"1", "0123456789"},
        {"42_", "9"},
        {"db_", "abcdefghij"},
        {"x-", "-"},
        {"a.b.", ".:/"},
        {"\xc3\xa9", "\xc3\xa9"},                     /* é */
        {"\xe6\x97\xa5\xe6\x9c\xac", "\xe8\xaa\x9e"}, /* 日本, 語 */
        {"!@#", "!@#$%^&*()=\"] "},
        {"__", "_"},
        {"A1-\xc3\xa9.z", "Zz9-\xc3\xa9"},
        {"OBJECT_", "X"},
        {"message", "M"},
        {"7\xe2\x82\xac", "\xe2\x82\xac"}, /* € */
        {"\t", "\n\r\x01\x7f"},
};
#define GEN_N_KINDS (sizeof(gen_kinds) / sizeof(gen_kinds[0]))

/* The bytes before the listed name: each becomes '_' when normalised. */
static const char *const gen_seps[] = {"_", "-", ".", "\xc3\xa9", " ", "__"};

static const size_t gen_lengths[] = {
        1,  2,  3,   4,   5,   8,   12,  16,  20,  24,  28,  30,  31,  32, 33,
        34, 35, 36,  40,  48,  56,  60,  61,  62,  63,  64,  65,  66,  67, 68,
        70, 80, 100, 127, 128, 129, 200, 254, 255, 256, 257, 299, 300,
};
#define GEN_N_LENGTHS (sizeof(gen_lengths) / sizeof(gen_lengths[0]))

static inline void gen_add_custom_names(void) {
        for (size_t i = 0; i < sizeof(gen_custom) / sizeof(gen_custom[0]); i++)
                if (trail_add_redact_field(gen_custom[i]) < 0)
                        abort();
}

/* The listed name in one of three spellings: lower, upper, mixed case. */
static inline void gen_spell(const char *listed, unsigned how, char *out) {
        size_t i = 0;

        for (; listed[i]; i++) {
                char c = listed[i];
                bool up = how == 1 || (how == 2 && i % 2 == 0);
                out[i] = up && c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
        }
        out[i] = '\0';
}

/* Name number (listed, kind, length) into out (at least 301 bytes): false
 * when no name of that kind has that length. */
static inline bool gen_name(size_t listed, size_t kind, size_t length, char *out) {
        const char *prefix = gen_kinds[kind].prefix, *fill = gen_kinds[kind].fill;
        size_t target = gen_lengths[length], seed = listed * 7 + kind * 3 + length;
        const char *sep = gen_seps[seed % (sizeof(gen_seps) / sizeof(gen_seps[0]))];
        char spelled[64];
        size_t ln, lp = strlen(prefix), ls = strlen(sep), lf = strlen(fill), n = 0;

        gen_spell(gen_listed[listed], (unsigned) (seed % 3), spelled);
        ln = strlen(spelled);
        if (target == ln) { /* the listed name alone, once per name */
                if (kind != 0)
                        return false;
                memcpy(out, spelled, ln + 1);
                return true;
        }
        if (target < ln + lp + ls)
                return false;
        memcpy(out, prefix, lp);
        n = lp;
        for (size_t i = 0; n < target - ln - ls; i++)
                out[n++] = fill[i % lf];
        memcpy(out + n, sep, ls);
        memcpy(out + n + ls, spelled, ln + 1);
        return true;
}

/* Names that redaction must leave alone, with their values. */
static const char *const gen_visible[] = {"PASSWORDLESS", "token_count", "mypassword",
                                          "password-hint"};
#define GEN_VISIBLE_VALUE "shown-value"
