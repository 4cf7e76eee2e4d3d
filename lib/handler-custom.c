/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handlers of the user's own: a vtable of emit, flush and close called with
 * the user's pointer, behind the same levels, filters and counters as the
 * built-in handlers. */

#include "handler-private.h"

struct custom_handler {
        trail_handler base;
        trail_handler_vtable vt;
        void *userdata;
};

static int custom_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct custom_handler *c = (struct custom_handler *) h;
        int k;

        (void) fell_back;
        k = c->vt.emit(r, c->userdata);
        return k < 0 ? k : 0;
}

static int custom_flush(trail_handler *h) {
        struct custom_handler *c = (struct custom_handler *) h;
        int k;

        if (!c->vt.flush)
                return 0;
        k = c->vt.flush(c->userdata);
        return k < 0 ? k : 0;
}

static void custom_free(trail_handler *h) {
        struct custom_handler *c = (struct custom_handler *) h;

        if (c->vt.close)
                c->vt.close(c->userdata);
        free(c);
}

static const struct handler_ops custom_ops = {
        .type = "custom",
        .emit = custom_emit,
        .flush = custom_flush,
        .free = custom_free,
};

_public_ trail_handler *trail_handler_custom(const trail_handler_vtable *vt, void *userdata) {
        struct custom_handler *c;
        int r;

        if (!vt || !vt->emit) {
                errno = EINVAL;
                return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                errno = ENOMEM;
                return NULL;
        }
        c->vt = *vt;
        c->userdata = userdata;
        r = handler_init(&c->base, &custom_ops);
        if (r < 0) {
                /* close is for a handler that existed: not called here */
                c->vt.close = NULL;
                trail_handler_unref(&c->base);
                errno = -r;
                return NULL;
        }
        return &c->base;
}
