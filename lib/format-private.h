/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The formats layer (format.c, format-*.c, format-registry.c): a record
 * rendered as text. */
#pragma once

#include "pipeline-private.h"

/* ---- Formatters (format.c, format-*.c) ---------------------------------- */

/* What the handler that sends a record tells its formatter, passed with
 * each record (never kept in the formatter, which handlers share). */
struct format_frame {
        /* The most the handler can send in one record (0: no limit): a
         * formatter that can fit the record to it does (rfc5424); the
         * handler cuts whatever is still longer. */
        size_t max;
        /* The record is framed by its length or by a datagram (RFC 6587
         * octet counting, RFC 5426 UDP, a unix datagram socket): no byte in
         * it can end it, so a format that allows control characters in a
         * value (RFC 5424 §6.3.3, §6.4) writes them as they are instead of
         * escaping them. false wherever lines frame records (a stream
         * handler, LF framing, trail_formatter_format()). */
        bool length_framed;
};
#define FORMAT_FRAME_LINES (&(const struct format_frame){0, false})

struct formatter_ops {
        const char *name;
        size_t size; /* of the object, which starts with struct trail_formatter */
        int (*init)(trail_formatter *f); /* optional */
        /* -ENOENT for a key it does not know, -EINVAL for a bad value. */
        int (*set)(trail_formatter *f, const char *key, const char *value);
        /* Appends the record, without a line terminator, to *buf, as the
         * handler's frame allows (struct format_frame). Must not allocate
         * except to grow *buf; must not log. */
        int (*format)(const trail_formatter *f, const struct trail_record *r,
                      const struct format_frame *fr, es_str_t **buf);
        /* Optional: like format, for a handler writing to a terminal with
         * NO_COLOR unset (a formatter that colours in its "auto" mode). */
        int (*format_terminal)(const trail_formatter *f, const struct trail_record *r,
                               const struct format_frame *fr, es_str_t **buf);
        void (*done)(trail_formatter *f); /* optional: frees what init/set allocated */
        /* Over a stream transport: each record ends with an LF (RFC 6587
         * §3.4.2, for legacy receivers; the formatter must escape every LF
         * in a record) instead of starting with its octet count (§3.4.1). */
        bool lf_framing;
};

struct trail_formatter {
        const struct formatter_ops *ops;
        unsigned refcount;
        bool frozen;    /* attached to a handler: options no longer change */
        char **options; /* key, value, key, value, …: replayed by formatter_clone() */
        size_t n_options;
};

extern const struct formatter_ops format_text_ops;
extern const struct formatter_ops format_json_ops;
extern const struct formatter_ops format_logfmt_ops;
trail_formatter *formatter_new(const struct formatter_ops *ops);
/* The shared default text formatter (static, never freed). */
trail_formatter *formatter_default_text(void);
void formatter_freeze(trail_formatter *f);
/* A new, unfrozen formatter of the same kind with the same options. */
trail_formatter *formatter_clone(const trail_formatter *f);

extern const struct formatter_ops format_rfc5424_ops, format_rfc3164_ops;

/* format-json.c: the "time" option of text, json and logfmt: "utc" or
 * "local". */
int format_time_option(bool *utc, const char *value);
