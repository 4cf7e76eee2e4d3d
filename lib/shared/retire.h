/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The deferred-free list: objects replaced while logging threads may still
 * read them without a lock are kept here, and freed when their owner is.
 * Includes only libc. */
#pragma once

/* Replaced objects, freed when their owner is: a thread may still be using
 * them until then. */
struct retired {
        struct retired *next;
        void *object;
        void (*free)(void *object);
};
int retire(struct retired **list, void *object, void (*free_fn)(void *object));
/* The same in two halves, for a caller that must not fail once it has
 * replaced the object: the node is allocated aside (NULL: out of memory),
 * then pushed, which cannot fail. A NULL object is not freed. */
struct retired *retired_node_new(void);
void retire_node(struct retired **list, struct retired *node, void *object,
                 void (*free_fn)(void *object));
void retired_free_all(struct retired **list);
