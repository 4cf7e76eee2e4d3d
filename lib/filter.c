/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filter lists on loggers and handlers: logging threads read them without
 * a lock, so a list is replaced as a whole and the old one retired
 * (shared/retire.c) until its owner goes. */

#include "pipeline-private.h"

int filter_list_change(struct filter_list **list, struct retired **retired, trail_filter_fn fn,
                       void *userdata, bool add) {
        struct filter_list *old = *list, *l;
        size_t n = old ? old->n : 0, k = 0;
        bool found = false;

        for (size_t i = 0; i < n; i++)
                if (old->e[i].fn == fn && old->e[i].userdata == userdata)
                        found = true;
        if (add && found)
                return -EEXIST;
        if (!add && !found)
                return -ENOENT;

        if (!add && n == 1)
                l = NULL;
        else {
                l = malloc(sizeof(*l) + (n + 1) * sizeof(l->e[0]));
                if (!l)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (add || old->e[i].fn != fn || old->e[i].userdata != userdata)
                                l->e[k++] = old->e[i];
                if (add)
                        l->e[k++] = (struct filter_entry){fn, userdata};
                l->n = k;
        }
        if (old && retire(retired, old, free) < 0) {
                free(l);
                return -ENOMEM;
        }
        __atomic_store_n(list, l, __ATOMIC_RELEASE);
        return 0;
}
