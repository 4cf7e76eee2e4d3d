/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5), [handler NAME] sections of type memory: each names
 * another section as its target, which is built first (config-build.c
 * builds them in the order given here); a chain of memory handlers that
 * comes back to itself is refused. */

#include <stdio.h>
#include <string.h>

#include "config-private.h"

static const struct entry *section_key(const struct hsection *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->e[i]->key, key) == 0)
                        return s->e[i];
        return NULL;
}

bool hsection_is_memory(const struct hsection *s) {
        const struct entry *type = section_key(s, "type");
        return type && strcmp(type->value, "memory") == 0;
}

/* The handler the memory section's target names, or NULL. */
static struct chandler *target_of(struct config *c, const struct hsection *s) {
        const struct entry *e = section_key(s, "target");
        struct key *k = e ? keys_find(c->handler_index, c->n_handlers, e->value, "") : NULL;
        return k ? &c->handlers[k->i] : NULL;
}

/* "a → b → a": the cycle that starts at stack[from]. */
static void report_cycle(struct config *c, struct chandler **stack, size_t from, size_t depth) {
        char chain[256] = "";

        for (size_t i = from; i < depth; i++) {
                snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%s → ",
                         stack[i]->name);
                stack[i]->memory_cycle = true;
        }
        snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%s", stack[from]->name);
        ERR(c, section_key(stack[from]->pending, "target"),
            "memory handlers that hold for each other: %s", chain);
}

/* Walks from each memory section to its target, its target's target, …,
 * with an explicit stack (a chain may be as long as the file), and puts
 * each section after the one it names. */
size_t memory_order(struct config *c, struct chandler **order, struct chandler **stack) {
        size_t n = 0;

        for (size_t i = 0; i < c->n_handlers; i++) {
                struct chandler *cur = &c->handlers[i];
                size_t depth = 0;

                while (cur && cur->pending && cur->memory_state == MEMORY_WAITING) {
                        cur->memory_state = MEMORY_VISITING;
                        stack[depth++] = cur;
                        cur = target_of(c, cur->pending);
                }
                if (cur && cur->pending && cur->memory_state == MEMORY_VISITING) {
                        size_t from = 0;
                        while (stack[from] != cur)
                                from++;
                        report_cycle(c, stack, from, depth);
                }
                while (depth > 0) {
                        struct chandler *ch = stack[--depth];
                        ch->memory_state = MEMORY_ORDERED;
                        if (!ch->memory_cycle)
                                order[n++] = ch;
                }
        }
        return n;
}

/* target = NAME (required), capacity = N, trigger = LEVEL, per_thread = yes|no */
trail_handler *create_memory(struct config *c, const struct hsection *s, char *summary,
                             size_t size) {
        const struct entry *target = section_key(s, "target"), *e;
        unsigned long long capacity = 64;
        int trigger = TRAIL_ERROR, per_thread = 1;
        struct chandler *t;
        size_t errors_before = c->errors.n;

        if (!target) {
                errors_add(&c->errors, s->line, "target", EINVAL,
                           "missing: a memory handler needs target = the handler it sends to");
                return NULL;
        }
        t = target_of(c, s);
        if (!t) {
                ERR(c, target, "no [handler %s] section", target->value);
                return NULL;
        }
        if ((e = section_key(s, "capacity")) &&
            (parse_uint(e->value, 65536, &capacity) < 0 || capacity == 0))
                ERR(c, e, "'%s' is not a number of records from 1 to 65536", e->value);
        if ((e = section_key(s, "trigger")) && (trigger = trail_level_parse(e->value)) < 0)
                ERR(c, e, "unknown level '%s'", e->value);
        if ((e = section_key(s, "per_thread")) && (per_thread = parse_bool(e->value)) < 0)
                ERR(c, e, "'%s' is not yes or no", e->value);
        if ((e = section_key(s, "async")) && parse_bool(e->value) > 0)
                ERR(c, e,
                    "a memory handler holds records per thread: put async = yes on its "
                    "target");
        /* a target that failed has its own error already */
        if (c->errors.n > errors_before || !t->h)
                return NULL;

        trail_handler *h = trail_handler_memory(t->h, (size_t) capacity, trigger);
        int k = h ? 0 : -errno;
        if (h && !per_thread)
                k = trail_handler_set(h, "per_thread", "no");
        if (k < 0) {
                int errnum = -k;
                trail_handler_unref(h);
                errors_add(&c->errors, s->line, "type", errnum, "cannot create the handler: %s",
                           strerror(errnum));
                return NULL;
        }
        t->used = true;
        snprintf(summary, size, " target=%s capacity=%llu trigger=%s per_thread=%s", target->value,
                 capacity, trail_level_name(trigger), per_thread ? "yes" : "no");
        return h;
}
