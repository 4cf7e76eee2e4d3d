/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Redaction, applied by the record builder before any handler sees a record:
 * fields named in the redaction list get the value "****", and the scrubber
 * masks card numbers, bearer tokens and password=… pairs inside the message
 * and string values. Both cost one cheap scan when there is nothing to hide. */

#include <string.h>

#include "pipeline-private.h"

#define MASK "****"
const char redact_mask_value[] = MASK; /* a masked field points here */

struct redact_entry {
        size_t len;
        char name[FIELD_NAME_MAX + 3];
};

/* Immutable once published. bloom has a bit for a hash of the last three
 * characters of each name: a field name whose last three hash to a clear bit
 * can match no entry, which is most field names. */
struct redact_list {
        size_t n;
        bool has_short; /* an entry of fewer than 3 characters: no bloom test */
        uint64_t bloom[4];
        struct redact_entry *e;
};

const char *const redact_default_names[] = {
        "PASSWORD",      "PASSWD",        "SECRET", "TOKEN",      "ACCESS_TOKEN",
        "REFRESH_TOKEN", "AUTHORIZATION", "COOKIE", "SET_COOKIE", "API_KEY",
        "PRIVATE_KEY",   "CREDIT_CARD",   "CVV",    "SSN",        NULL,
};

#define N_DEFAULT (ELEMENTSOF(redact_default_names) - 1)

static struct redact_entry default_entries[N_DEFAULT];
static struct redact_list default_list = {.e = default_entries};
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static struct redact_list *current; /* atomic; NULL: the default list */
static pthread_mutex_t redact_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fork_hooks redact_fork = {.mutex = &redact_lock};
__attribute__((constructor)) static void redact_fork_register(void) {
        fork_hooks_register(FORK_RANK_REDACT, &redact_fork);
}
static struct retired *retired_lists;
static bool scrub_off; /* atomic */

static unsigned tail_hash(const char *end) {
        return ((unsigned char) end[-3] * 961u + (unsigned char) end[-2] * 31u +
                (unsigned char) end[-1]) &
               255u;
}

static void list_index(struct redact_list *l) {
        memset(l->bloom, 0, sizeof(l->bloom));
        l->has_short = false;
        for (size_t i = 0; i < l->n; i++) {
                if (l->e[i].len < 3) {
                        l->has_short = true;
                        continue;
                }
                unsigned h = tail_hash(l->e[i].name + l->e[i].len);
                l->bloom[h >> 6] |= UINT64_C(1) << (h & 63);
        }
}

/* Names are kept in upper case, each byte as normalising makes it, with
 * leading '_' removed, and nothing added or cut: "2fa" is kept as 2FA, so
 * that it is found at the end of USER_2FA and of F_2FA alike. A name longer
 * than a field name can be is refused. */
static int entry_set(struct redact_entry *e, const char *name) {
        size_t n = 0;

        while (*name && field_char_normalise(*name) == '_')
                name++;
        for (; name[n]; n++) {
                if (n >= FIELD_NAME_MAX)
                        return -EINVAL;
                e->name[n] = field_char_normalise(name[n]);
        }
        e->len = n;
        return n > 0 ? 0 : -EINVAL;
}

static void default_list_build(void) {
        for (size_t i = 0; i < N_DEFAULT; i++)
                (void) entry_set(&default_entries[i], redact_default_names[i]);
        default_list.n = N_DEFAULT;
        list_index(&default_list);
}

static const struct redact_list *list_get(void) {
        const struct redact_list *l = __atomic_load_n(&current, __ATOMIC_ACQUIRE);

        if (_likely_(l))
                return l;
        pthread_once(&default_once, default_list_build);
        return &default_list;
}

static void list_free(void *p) {
        struct redact_list *l = p;
        free(l->e);
        free(l);
}

static struct redact_list *list_new(size_t n) {
        struct redact_list *l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->e = calloc(n ? n : 1, sizeof(*l->e));
        if (!l->e) {
                free(l);
                return NULL;
        }
        return l;
}

/* Publishes l (NULL: the default) under redact_lock; the list it replaces
 * stays readable until trail_shutdown(). On error l is freed. */
static int list_publish_locked(struct redact_list *l) {
        struct redact_list *old = current;
        int r = 0;

        if (old)
                r = retire(&retired_lists, old, list_free);
        if (r >= 0)
                __atomic_store_n(&current, l, __ATOMIC_RELEASE);
        else if (l)
                list_free(l);
        return r;
}

static int list_publish(struct redact_list *l) {
        int r;

        pthread_mutex_lock(&redact_lock);
        r = list_publish_locked(l);
        pthread_mutex_unlock(&redact_lock);
        return r;
}

_public_ int trail_set_redact_fields(const char *const *names) {
        PROTECT_ERRNO;
        struct redact_list *l;
        size_t n = 0;

        if (!names)
                return list_publish(NULL);
        while (names[n])
                n++;
        l = list_new(n);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (entry_set(&l->e[i], names[i]) < 0) {
                        list_free(l);
                        return -EINVAL;
                }
        l->n = n;
        list_index(l);
        return list_publish(l);
}

_public_ int trail_add_redact_field(const char *name) {
        PROTECT_ERRNO;
        struct redact_entry e;
        const struct redact_list *cur;
        struct redact_list *l;
        int r;

        if (!name || entry_set(&e, name) < 0)
                return -EINVAL;
        /* Serialised with other changes, so that two adds both land. */
        pthread_mutex_lock(&redact_lock);
        cur = list_get();
        for (size_t i = 0; i < cur->n; i++)
                if (cur->e[i].len == e.len && memcmp(cur->e[i].name, e.name, e.len) == 0) {
                        pthread_mutex_unlock(&redact_lock);
                        return 0;
                }
        l = list_new(cur->n + 1);
        if (!l) {
                pthread_mutex_unlock(&redact_lock);
                return -ENOMEM;
        }
        memcpy(l->e, cur->e, cur->n * sizeof(*l->e));
        l->e[cur->n] = e;
        l->n = cur->n + 1;
        list_index(l);
        r = list_publish_locked(l);
        pthread_mutex_unlock(&redact_lock);
        return r;
}

_public_ int trail_set_scrub(bool enabled) {
        __atomic_store_n(&scrub_off, !enabled, __ATOMIC_RELAXED);
        return 0;
}

void redact_free(void) {
        pthread_mutex_lock(&redact_lock);
        if (current)
                list_free(current);
        __atomic_store_n(&current, NULL, __ATOMIC_RELEASE);
        retired_free_all(&retired_lists);
        pthread_mutex_unlock(&redact_lock);
        __atomic_store_n(&scrub_off, false, __ATOMIC_RELAXED);
}

/* The name itself, or '_' and the name at the end: DB_PASSWORD. */
static bool name_is_redacted(const struct redact_list *l, const char *name, size_t n) {
        if (l->n == 0)
                return false;
        if (n >= 3 && !l->has_short) {
                unsigned h = tail_hash(name + n);
                if (!(l->bloom[h >> 6] >> (h & 63) & 1))
                        return false;
        }
        for (size_t i = 0; i < l->n; i++) {
                size_t k = l->e[i].len;
                if (k > n || memcmp(name + n - k, l->e[i].name, k) != 0)
                        continue;
                if (k == n || name[n - k - 1] == '_')
                        return true;
        }
        return false;
}

/* ---- The scrubber -------------------------------------------------------- */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_alnum(char c) {
        return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* RFC 6750 §2.1 b64token */
static bool is_token_char(char c) {
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
               c == '/' || c == '=';
}

static bool luhn_ok(const char *s, size_t n) {
        unsigned sum = 0;
        bool twice = false;

        for (size_t i = n; i > 0; i--) {
                if (!is_digit(s[i - 1]))
                        continue;
                unsigned d = (unsigned) (s[i - 1] - '0');
                if (twice && (d *= 2) > 9)
                        d -= 9;
                sum += d;
                twice = !twice;
        }
        return sum % 10 == 0;
}

/* The end of the digit group at i. */
static size_t group_end(const char *s, size_t n, size_t i) {
        while (i < n && is_digit(s[i]))
                i++;
        return i;
}

/* A run of digit groups separated by single spaces or dashes starts at i
 * (its end in *ret_end). Not touching a letter, a card number is 13 to 19
 * digits that pass the Luhn check, in one group or grouped as cards are
 * printed: 4 digits first, then groups of 3 to 6 ("4111 1111 1111 1111",
 * "3782 822463 10005"). So "call 555-0100 4111111111111111" masks the card
 * alone, and an identifier such as "job-14399-1795651130" is no card, though
 * its 15 digits may pass the Luhn check. The longest from the first group
 * that can start one. */
static bool card_at(const char *s, size_t n, size_t i, size_t *ret_start, size_t *ret_end) {
        size_t e = group_end(s, n, i);

        while (e + 1 < n && (s[e] == ' ' || s[e] == '-') && is_digit(s[e + 1]))
                e = group_end(s, n, e + 1);
        *ret_end = e;
        if ((i > 0 && is_alnum(s[i - 1])) || (e < n && is_alnum(s[e])))
                return false;
        for (size_t g = i; g < e;) {
                size_t h = g, digits = 0, best = 0, first = group_end(s, n, g) - g;

                while (h < e) {
                        size_t ge = group_end(s, n, h);
                        if (h > g && (first != 4 || ge - h < 3 || ge - h > 6))
                                break;
                        digits += ge - h;
                        if (digits > 19)
                                break;
                        if (digits >= 13 && luhn_ok(s + g, ge - g))
                                best = ge;
                        h = ge + 1;
                }
                if (best) {
                        *ret_start = g;
                        *ret_end = best;
                        return true;
                }
                g = group_end(s, n, g) + 1;
        }
        return false;
}

/* ASCII only, key in lower case: no locale, no call. */
static bool ascii_prefix_ci(const char *s, const char *key, size_t k) {
        for (size_t i = 0; i < k; i++)
                if ((s[i] | 0x20) != key[i])
                        return false;
        return true;
}

static bool word_ends_with(const char *s, size_t end, const char *key, size_t k) {
        if (end < k || !ascii_prefix_ci(s + end - k, key, k))
                return false;
        /* "db_password=" yes, "nopassword=" no */
        return end == k || !((s[end - k - 1] | 0x20) >= 'a' && (s[end - k - 1] | 0x20) <= 'z');
}

/* s[i] is '=' or ':': is it password=…, passwd: …, secret="…"? */
static bool pair_at(const char *s, size_t n, size_t i, size_t *ret_start, size_t *ret_end) {
        static const struct {
                const char *s;
                size_t n;
        } keys[] = {{"password", 8}, {"passwd", 6}, {"secret", 6}};
        size_t k = i, v = i + 1, e;
        bool found = false;

        while (k > 0 && s[k - 1] == ' ')
                k--;
        if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\''))
                k--; /* "password": "…" */
        for (size_t j = 0; j < ELEMENTSOF(keys) && !found; j++)
                found = word_ends_with(s, k, keys[j].s, keys[j].n);
        if (!found)
                return false;
        while (v < n && s[v] == ' ')
                v++;
        if (v < n && (s[v] == '"' || s[v] == '\'')) {
                const char *q = memchr(s + v + 1, s[v], n - v - 1);
                e = q ? (size_t) (q - s) : n;
                v++;
        } else
                for (e = v; e < n && s[e] != ' ' && s[e] != '\t' && s[e] != '\n' && s[e] != '&' &&
                            s[e] != ';' && s[e] != ',' && s[e] != '"' && s[e] != '\'';
                     e++)
                        ;
        if (e <= v)
                return false;
        *ret_start = v;
        *ret_end = e;
        return true;
}

/* "Bearer <token>", any case, at a word start. */
static bool bearer_at(const char *s, size_t n, size_t i, size_t *ret_start, size_t *ret_end) {
        size_t j = i + 6, e;

        if (n - i < 8 || !ascii_prefix_ci(s + i, "bearer", 6) || s[j] != ' ')
                return false;
        if (i > 0 && is_alnum(s[i - 1]))
                return false;
        while (j < n && s[j] == ' ')
                j++;
        for (e = j; e < n && is_token_char(s[e]); e++)
                ;
        if (e == j)
                return false;
        *ret_start = j;
        *ret_end = e;
        return true;
}

/* What a first, cheap pass over the text found possible. */
enum {
        MAYBE_CARD = 1,   /* a run of 13 digits or more, spaces and dashes aside */
        MAYBE_PAIR = 2,   /* '=' or ':' */
        MAYBE_BEARER = 4, /* "bearer", any case */
};

/* Most text ends here: hex ids break digit runs with letters, and few
 * messages hold '=' or ':'. */
static unsigned prescan(const char *s, size_t n) {
        unsigned flags = 0;
        size_t run = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (is_digit(c)) {
                        if (++run >= 13)
                                flags |= MAYBE_CARD;
                } else if (c == ' ' || c == '-')
                        continue;
                else {
                        run = 0;
                        if (c == '=' || c == ':')
                                flags |= MAYBE_PAIR;
                        else if ((c | 0x20) == 'b' && n - i >= 8 &&
                                 ascii_prefix_ci(s + i + 1, "earer", 5))
                                flags |= MAYBE_BEARER;
                }
        }
        return flags;
}

/* The next secret in s at or after from: [*start, *end). */
static bool next_secret(const char *s, size_t n, unsigned maybe, size_t from, size_t *start,
                        size_t *end) {
        for (size_t i = from; i < n; i++) {
                char c = s[i];

                if (is_digit(c)) {
                        if (!(maybe & MAYBE_CARD))
                                continue;
                        size_t e;
                        if (card_at(s, n, i, start, &e)) {
                                *end = e;
                                return true;
                        }
                        i = e - 1;
                } else if (c == '=' || c == ':') {
                        if ((maybe & MAYBE_PAIR) && pair_at(s, n, i, start, end))
                                return true;
                } else if ((c | 0x20) == 'b' && (maybe & MAYBE_BEARER) &&
                           bearer_at(s, n, i, start, end))
                        return true;
        }
        return false;
}

/* The length of s scrubbed; SIZE_MAX when there is nothing to scrub. */
static size_t scrubbed_len(const char *s, size_t n) {
        size_t from = 0, a, b, len = n;
        unsigned maybe = prescan(s, n);
        bool any = false;

        if (_likely_(!maybe))
                return SIZE_MAX;
        while (next_secret(s, n, maybe, from, &a, &b)) {
                len = len - (b - a) + STRLEN(MASK);
                from = b;
                any = true;
        }
        return any ? len : SIZE_MAX;
}

static size_t scrub_copy(const char *s, size_t n, char *out) {
        size_t from = 0, a, b, o = 0;
        unsigned maybe = prescan(s, n);

        while (next_secret(s, n, maybe, from, &a, &b)) {
                memcpy(out + o, s + from, a - from);
                o += a - from;
                memcpy(out + o, MASK, STRLEN(MASK));
                o += STRLEN(MASK);
                from = b;
        }
        memcpy(out + o, s + from, n - from);
        return o + n - from;
}

void redact_message(struct tls_state *t) {
        es_str_t **m = &t->message;
        size_t n = (*m)->lenStr - STRLEN("MESSAGE="), len;
        const char *s;

        if (__atomic_load_n(&scrub_off, __ATOMIC_RELAXED))
                return;
        s = (const char *) es_getBufAddr(*m) + STRLEN("MESSAGE=");
        len = scrubbed_len(s, n);
        if (_likely_(len == SIZE_MAX))
                return;
        /* The original goes to t->render, free until dispatch; the scrubbed
         * text is written back. */
        es_emptyStr(t->render);
        if (buf_reserve(&t->render, n) < 0)
                goto hide_all;
        memcpy(es_getBufAddr(t->render), s, n);
        (*m)->lenStr = STRLEN("MESSAGE=");
        if (buf_reserve(m, len) < 0)
                goto hide_all;
        (*m)->lenStr += (es_size_t) scrub_copy((const char *) es_getBufAddr(t->render), n,
                                               (char *) es_getBufAddr(*m) + STRLEN("MESSAGE="));
        return;

hide_all:
        /* No memory to scrub: a message with a secret is not sent in clear. */
        (*m)->lenStr = STRLEN("MESSAGE=");
        memcpy(es_getBufAddr(*m) + STRLEN("MESSAGE="), MASK, STRLEN(MASK));
        (*m)->lenStr += STRLEN(MASK);
}

static void mask(struct rfield *f) {
        f->type = TRAIL_FIELD_STR;
        f->v.s = redact_mask_value;
        f->len = STRLEN(MASK);
}

void redact_mask(struct rfield *f) {
        mask(f);
}

size_t redact_given_tail(const char *name, char *out) {
        size_t n = strlen(name);

        if (n > REDACT_TAIL_MAX) {
                name += n - REDACT_TAIL_MAX;
                n = REDACT_TAIL_MAX;
        }
        for (size_t i = 0; i < n; i++)
                out[i] = field_char_normalise(name[i]);
        return n;
}

bool redact_given_is_secret(const char *tail, size_t n) {
        return name_is_redacted(list_get(), tail, n);
}

/* The name a sink shows: whole, and the part of it that RFC 5424 keeps in
 * front of '~' and the hash when it cuts it (format-rfc5424.c), which is
 * all a reader sees of the name there. (The hash cannot end in a listed
 * name: lower case hex after '~'.) */
static bool shown_name_is_redacted(const struct redact_list *l, const char *name, size_t n) {
        return name_is_redacted(l, name, n) ||
               (n > SD_NAME_MAX && name_is_redacted(l, name, SD_NAME_KEEP));
}

void redact_fields(struct tls_state *t, struct rfield *f, size_t n) {
        const struct redact_list *l = list_get();
        size_t need = 0;

        for (size_t i = 0; i < n; i++)
                if (shown_name_is_redacted(l, f[i].name, f[i].name_len))
                        mask(&f[i]);

        if (__atomic_load_n(&scrub_off, __ATOMIC_RELAXED))
                return;
        /* Scrubbed values go to t->scrub, reserved once for all of them so
         * that none moves. */
        for (size_t i = 0; i < n; i++)
                if (f[i].type == TRAIL_FIELD_STR && f[i].v.s != redact_mask_value) {
                        size_t len = scrubbed_len(f[i].v.s, f[i].len);
                        if (_unlikely_(len != SIZE_MAX))
                                need += len;
                }
        if (_likely_(need == 0))
                return;
        if (!t->scrub)
                t->scrub = es_newStr(256);
        if (t->scrub)
                es_emptyStr(t->scrub);
        if (!t->scrub || buf_reserve(&t->scrub, need) < 0) {
                for (size_t i = 0; i < n; i++)
                        if (f[i].type == TRAIL_FIELD_STR &&
                            scrubbed_len(f[i].v.s, f[i].len) != SIZE_MAX)
                                mask(&f[i]);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (f[i].type == TRAIL_FIELD_STR && f[i].v.s != redact_mask_value &&
                    scrubbed_len(f[i].v.s, f[i].len) != SIZE_MAX) {
                        char *out = (char *) es_getBufAddr(t->scrub) + t->scrub->lenStr;
                        size_t k = scrub_copy(f[i].v.s, f[i].len, out);
                        t->scrub->lenStr += (es_size_t) k;
                        f[i].v.s = out;
                        f[i].len = k;
                }
}
