/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SD-NAME the rfc5424 formatter shows for a field name (trail(7), "RFC
 * 5424"), written here from the documented rule, not taken from the
 * library: a name of up to 32 characters as it is; a longer one as its
 * first 23 characters, '~' and 8 lower-case hex digits of FNV-1a 32 over
 * four salt bytes (least significant first) and the name, salt 0 unless
 * an earlier field's cut clashes. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline const char *sd_name_cut_salted(const char *name, uint32_t salt, char out[33]) {
        size_t n = strlen(name);
        uint32_t h = 2166136261u;

        if (n <= 32) {
                memcpy(out, name, n + 1);
                return out;
        }
        for (int k = 0; k < 4; k++, salt >>= 8)
                h = (h ^ (salt & 0xff)) * 16777619u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char) name[i]) * 16777619u;
        snprintf(out, 33, "%.23s~%08x", name, (unsigned) h);
        return out;
}

static inline const char *sd_name_cut(const char *name, char out[33]) {
        return sd_name_cut_salted(name, 0, out);
}
