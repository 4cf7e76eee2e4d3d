/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libtrail's private interface for trail(1), the tool built from this
 * source tree: the node LIBTRAIL_PRIVATE of libtrail.sym. Not installed,
 * not documented as API, no stability promise: these change with any
 * release, and only a program of the same build (trail-tools depends on
 * exactly its libtrail) may call them. Every name is trail__ prefixed. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Reads and checks the trail.conf(5) at path without applying it: each
 * error is printed on stderr as FILE:LINE: key: why, and a summary of what
 * it would set up on out. 0 if the file is valid, negative errno if not. */
int trail__config_check(const char *path, FILE *out);

/* Whether name is a valid journal field name for a record's field (the
 * rules of trail_fields(3): upper case, digits and '_', not reserved). */
bool trail__field_name_is_valid(const char *name);
