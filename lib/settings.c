/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Process-wide settings every record reads: the identifier and the facility.
 * The identifier is rendered once into its journald field and published as
 * an immutable string; replaced ones are kept until trail_shutdown(), since
 * another thread may be sending the old one at that moment. */

#include <string.h>

#include "pipeline-private.h"

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fork_hooks settings_fork = {.mutex = &settings_lock};
__attribute__((constructor)) static void settings_fork_register(void) {
        fork_hooks_register(FORK_RANK_SETTINGS, &settings_fork);
}
static struct ident *ident_current;
static struct retired *ident_retired;
static int facility = 3; /* LOG_DAEMON >> 3 */

static struct ident *ident_new(const char *name) {
        size_t n = strlen(name);
        struct ident *id = malloc(sizeof(*id) + STRLEN("SYSLOG_IDENTIFIER=") + n + 1);

        if (!id)
                return NULL;
        id->len = STRLEN("SYSLOG_IDENTIFIER=") + n;
        memcpy(id->field, "SYSLOG_IDENTIFIER=", STRLEN("SYSLOG_IDENTIFIER="));
        memcpy(id->field + STRLEN("SYSLOG_IDENTIFIER="), name, n + 1);
        return id;
}

/* journald spends about 1.45x the CPU on an entry without SYSLOG_IDENTIFIER:
 * always send one, the program's name by default. */
static const char *default_ident(void) {
        return program_invocation_short_name && *program_invocation_short_name
                       ? program_invocation_short_name
                       : "trail";
}

const struct ident *ident_get(void) {
        struct ident *id = __atomic_load_n(&ident_current, __ATOMIC_ACQUIRE);
        if (_likely_(id))
                return id;

        pthread_mutex_lock(&settings_lock);
        if (!ident_current)
                __atomic_store_n(&ident_current, ident_new(default_ident()), __ATOMIC_RELEASE);
        id = ident_current;
        pthread_mutex_unlock(&settings_lock);
        return id;
}

struct ident_prepared {
        struct ident *id;
        struct retired *node;
};

/* Everything that can fail, aside: the new identifier and its place on the
 * retired list. */
int ident_prepare(const char *name, struct ident_prepared **ret) {
        struct ident_prepared *p;

        if (name) {
                size_t n = strlen(name);
                /* RFC 5424 APP-NAME: 1-48 printable US-ASCII characters */
                if (n == 0 || n > 48)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++)
                        if (name[i] <= ' ' || name[i] >= 0x7f)
                                return -EINVAL;
        }
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->id = ident_new(name ? name : default_ident());
        p->node = retired_node_new();
        if (!p->id || !p->node) {
                ident_prepared_free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

void ident_prepared_free(struct ident_prepared *p) {
        if (!p)
                return;
        free(p->id);
        free(p->node);
        free(p);
}

void ident_publish(struct ident_prepared *p) {
        pthread_mutex_lock(&settings_lock);
        retire_node(&ident_retired, p->node, ident_current, free);
        __atomic_store_n(&ident_current, p->id, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&settings_lock);
        free(p);
}

_public_ int trail_set_ident(const char *name) {
        PROTECT_ERRNO;
        struct ident_prepared *p;
        int r;

        r = ident_prepare(name, &p);
        if (r < 0)
                return r;
        ident_publish(p);
        return 0;
}

_public_ int trail_set_facility(int f) {
        if (f < 0 || f > 23)
                return -EINVAL;
        __atomic_store_n(&facility, f, __ATOMIC_RELAXED);
        return 0;
}

int facility_get(void) {
        return __atomic_load_n(&facility, __ATOMIC_RELAXED);
}

void settings_free(void) {
        pthread_mutex_lock(&settings_lock);
        retired_free_all(&ident_retired);
        free(ident_current);
        ident_current = NULL;
        pthread_mutex_unlock(&settings_lock);
}
