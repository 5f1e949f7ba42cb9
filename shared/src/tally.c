/* Counts per key over time, kept as documents are written (see tally.h). */
#include "tripdesk/tally.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/common.h"

#include <stdlib.h>
#include <string.h>

#define KEY_SLOTS_MIN 64

typedef struct {
    char *values[TD_TALLY_MAX_FIELDS]; /* NULL: missing or not a string */
    int64_t *times;                    /* sorted */
    size_t n, cap;
    int64_t undated;
} tally_key;

struct td_tally {
    char *fields[TD_TALLY_MAX_FIELDS];
    int nfields;
    char *time_field;
    tally_key *keys;
    size_t nkeys, capkeys;
    uint32_t *slots; /* key index + 1, open addressing; nslots a power of two */
    size_t nslots;
    int64_t total;
};

int td_tally_new(td_tally **out, const char *const *fields, const char *time_field)
{
    td_tally *t = calloc(1, sizeof *t);
    if (t == NULL)
        return TD_ENOMEM;
    int rc = TD_OK;
    for (int i = 0; fields[i] != NULL; i++) {
        if (i == TD_TALLY_MAX_FIELDS) {
            rc = TD_EINVAL;
            break;
        }
        if ((t->fields[i] = strdup(fields[i])) == NULL) {
            rc = TD_ENOMEM;
            break;
        }
        t->nfields++;
    }
    if (rc == TD_OK && (t->time_field = strdup(time_field)) == NULL)
        rc = TD_ENOMEM;
    if (rc != TD_OK) {
        td_tally_free(t);
        return rc;
    }
    *out = t;
    return TD_OK;
}

void td_tally_free(td_tally *t)
{
    if (t == NULL)
        return;
    for (size_t k = 0; k < t->nkeys; k++) {
        for (int i = 0; i < t->nfields; i++)
            free(t->keys[k].values[i]);
        free(t->keys[k].times);
    }
    for (int i = 0; i < t->nfields; i++)
        free(t->fields[i]);
    free(t->time_field);
    free(t->keys);
    free(t->slots);
    free(t);
}

static bool same(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static uint32_t key_hash(const td_tally *t, const char *const *values)
{
    uint32_t h = 0;
    for (int i = 0; i < t->nfields; i++)
        h = h * 31u + (values[i] != NULL ? td_hash(values[i], strlen(values[i])) : 7u);
    return h;
}

static uint32_t *key_slot(const td_tally *t, const char *const *values)
{
    size_t mask = t->nslots - 1;
    for (size_t i = key_hash(t, values) & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0)
            return &t->slots[i];
        bool eq = true;
        for (int f = 0; eq && f < t->nfields; f++)
            eq = same(t->keys[s - 1].values[f], values[f]);
        if (eq)
            return &t->slots[i];
    }
}

/* The key of values, made when new; NULL when out of memory. */
static tally_key *key_of(td_tally *t, const char *const *values)
{
    if ((t->nkeys + 1) * 2 > t->nslots) {
        size_t nslots = t->nslots ? t->nslots * 2 : KEY_SLOTS_MIN;
        uint32_t *slots = calloc(nslots, sizeof *slots);
        if (slots == NULL)
            return NULL;
        free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
        for (size_t k = 0; k < t->nkeys; k++)
            *key_slot(t, (const char *const *)t->keys[k].values) = (uint32_t)(k + 1);
    }
    uint32_t *slot = key_slot(t, values);
    if (*slot != 0)
        return &t->keys[*slot - 1];
    if (td_grow((void **)&t->keys, &t->capkeys, t->nkeys, sizeof *t->keys, 16) != TD_OK)
        return NULL;
    tally_key *k = &t->keys[t->nkeys];
    memset(k, 0, sizeof *k);
    for (int i = 0; i < t->nfields; i++) {
        if (values[i] != NULL && (k->values[i] = strdup(values[i])) == NULL) {
            for (int j = 0; j < i; j++)
                free(k->values[j]);
            return NULL;
        }
    }
    *slot = (uint32_t)++t->nkeys;
    return k;
}

/* Index of the first time > x (upper) or >= x (lower) in the sorted times. */
static size_t bound(const int64_t *v, size_t n, int64_t x, bool upper)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (upper ? v[mid] <= x : v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int td_tally_add(td_tally *t, const bson_t *doc)
{
    const char *values[TD_TALLY_MAX_FIELDS] = {NULL};
    for (int i = 0; i < t->nfields; i++)
        values[i] = td_bson_str(doc, t->fields[i]);
    bson_iter_t it;
    bool dated = td_bson_at(doc, t->time_field, &it) && BSON_ITER_HOLDS_DATE_TIME(&it);
    int64_t when = dated ? bson_iter_date_time(&it) : 0;
    tally_key *k = key_of(t, values);
    if (k == NULL)
        return TD_ENOMEM;
    if (!dated) {
        k->undated++;
        t->total++;
        return TD_OK;
    }
    if (td_grow((void **)&k->times, &k->cap, k->n, sizeof *k->times, 64) != TD_OK)
        return TD_ENOMEM;
    /* Entries come about in time order: the place is nearly always the end. */
    size_t at = k->n > 0 && k->times[k->n - 1] <= when ? k->n : bound(k->times, k->n, when, true);
    memmove(&k->times[at + 1], &k->times[at], (k->n - at) * sizeof *k->times);
    k->times[at] = when;
    k->n++;
    t->total++;
    return TD_OK;
}

void td_tally_each(const td_tally *t, int64_t from, int64_t to, td_tally_fn fn, void *arg)
{
    bool open = from == TD_TALLY_NO_BOUND && to == TD_TALLY_NO_BOUND;
    for (size_t i = 0; i < t->nkeys; i++) {
        const tally_key *k = &t->keys[i];
        int64_t n;
        if (open) {
            n = (int64_t)k->n + k->undated;
        } else {
            size_t lo = from == TD_TALLY_NO_BOUND ? 0 : bound(k->times, k->n, from, false);
            size_t hi = to == TD_TALLY_NO_BOUND ? k->n : bound(k->times, k->n, to, true);
            n = hi > lo ? (int64_t)(hi - lo) : 0;
        }
        if (n > 0)
            fn((const char *const *)k->values, n, arg);
    }
}

int64_t td_tally_total(const td_tally *t)
{
    return t->total;
}

size_t td_tally_bytes(const td_tally *t)
{
    size_t n = sizeof *t + t->capkeys * sizeof *t->keys + t->nslots * sizeof *t->slots;
    for (size_t i = 0; i < t->nkeys; i++)
        n += t->keys[i].cap * sizeof *t->keys[i].times;
    return n;
}
