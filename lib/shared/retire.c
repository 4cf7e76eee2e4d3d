/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The deferred-free list (retire.h). Callers hold their own lock. */

#include <errno.h>
#include <stdlib.h>

#include "retire.h"

int retire(struct retired **list, void *object, void (*free_fn)(void *object)) {
        struct retired *r;

        if (!object)
                return 0;
        r = retired_node_new();
        if (!r)
                return -ENOMEM;
        retire_node(list, r, object, free_fn);
        return 0;
}

struct retired *retired_node_new(void) {
        return malloc(sizeof(struct retired));
}

void retire_node(struct retired **list, struct retired *node, void *object,
                 void (*free_fn)(void *object)) {
        *node = (struct retired){*list, object, free_fn};
        *list = node;
}

void retired_free_all(struct retired **list) {
        while (*list) {
                struct retired *r = *list;
                *list = r->next;
                if (r->object)
                        r->free(r->object);
                free(r);
        }
}
