/* In-process copy of a collection for list queries (see listindex.h). */
#define _GNU_SOURCE /* qsort_r, strcasestr */
#include "tripdesk/listindex.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/common.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/redis.h"
#include "tripdesk/store.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FIELDS 32
#define SYNC_BATCH 512
#define LOAD_BATCH 256 /* documents a load puts into the live table per write lock */
#define PENDING_MAX 4096
#define TABLE_FIRST_ROWS 1024 /* a table's first capacity; it doubles when full */

/* A typed value extracted from a document. The numbers are MongoDB's BSON type
 * order for sorting (missing sorts as null). */
enum { LV_NULL = 1, LV_NUM = 2, LV_STR = 3, LV_OTHER = 4, LV_OID = 7, LV_BOOL = 8, LV_DATE = 9 };

typedef struct {
    uint8_t type;
    bool missing;
    union {
        double d;
        int64_t t;
        const char *s; /* points into the row's document */
        bson_oid_t oid;
        bool b;
    } u;
} lv;

typedef struct {
    bson_t *doc; /* as written, without staged events; NULL in a columns_only copy */
    char *json;  /* the document as the API shows it, printed once (columns_only: while
                   * in the JSON ring, else NULL) */
    char *strs;  /* columns_only: the row's strings that are not interned */
    int64_t version;
    uint32_t seen; /* the table's reload generation when the row was last put */
    bool in_ring;  /* columns_only: its index is in the JSON ring */
    bool gone;     /* not in the database at the last reload: skipped, not counted */
} row;

/* A document about to be put: its row and its field values. */
typedef struct {
    row r;
    lv vals[MAX_FIELDS]; /* vals[0] is _id */
} staged;

/* The rows, their field values column by column (a query reads only the columns it
 * filters and sorts on, one after the other), and the id -> row hash (linear
 * probing; rows are replaced, never removed, so no tombstones). */
/* The distinct strings of one column while there are few of them (statuses, trip
 * types, priorities...): values point here, into a small block that stays in the
 * cache, instead of into documents all over the heap. */
#define INTERN_MAX 1024
#define INTERN_SLOTS 2048
typedef struct {
    char **slots;    /* INTERN_SLOTS, open addressing */
    int n;           /* when INTERN_MAX, new values are no longer interned */
    bool incomplete; /* some string of the column is not interned */
} interned;

/* Each row's value of a column as a small code, so that equality with a string or a
 * boolean compares two integers in a dense array: an interned string's slot + 1, or
 * one of the boolean codes; 0 for anything else (missing, numbers, ids, strings not
 * interned). */
#define CODE_FALSE (INTERN_SLOTS + 1)
#define CODE_TRUE (INTERN_SLOTS + 2)
#define CODE_NONE 0xFFFF /* a query value no row holds */
#define NCODES (CODE_TRUE + 1)

/* columns_only: a column's strings that are not interned, one after the other
 * ('\0'-terminated) in chunks that never move, with where each starts and whose row
 * it is, so that a substring search is one memmem over each chunk (see
 * search_bits) rather than a strstr per row. A string replaced by a newer version's
 * stays as garbage: its row no longer points at it. */
#define CHUNK_BYTES ((size_t)1024 * 1024)
typedef struct {
    char *data;
    size_t used, cap;
    uint32_t *starts, *rows; /* per string */
    size_t n, capn;
} chunk;

typedef struct {
    chunk *chunks;
    size_t n, cap;
} arena;

typedef struct {
    row *rows;
    lv *cols[MAX_FIELDS];         /* cols[f][i]: field f of row i */
    uint16_t *codes[MAX_FIELDS];  /* codes[f][i]: the same as a code */
    uint32_t *hashes[MAX_FIELDS]; /* hashes[f][i]: td_hash of a string value, else 0 */
    uint32_t *counts[MAX_FIELDS]; /* counts[f][code]: rows holding it (NCODES) */
    interned strs[MAX_FIELDS];
    int ncols;
    size_t n, cap;
    size_t ngone;    /* rows marked gone (see row.gone): live rows are n - ngone */
    uint32_t gen;    /* reload generation (see reload_sweep) */
    uint32_t *slots; /* row index + 1; 0: empty */
    size_t nslots;   /* power of two */
    const td_listindex_opts *opts;
    /* columns_only: the rows holding JSON, oldest first (a circular buffer), and the
     * bytes of that JSON and of the rows' string blocks */
    uint32_t *ring;
    size_t rhead, rn, rcap;
    size_t json_bytes, str_bytes;
    void *ext;                /* the read model beside the table (opts->ext_new) */
    arena arenas[MAX_FIELDS]; /* columns_only */
} table;

struct td_listindex {
    char coll[64];
    char stream_key[96], epoch_key[96];
    char *fields[MAX_FIELDS];
    int nfields;
    char instance[25]; /* tags this daemon's own stream entries */
    td_doc_to_json render;
    td_listindex_opts opts;

    pthread_rwlock_t lock; /* the table */
    table t;
    pthread_mutex_t json_mu; /* columns_only: rows' JSON and the ring, under the read lock */
    int over;                /* atomic: more documents than opts.max_rows */

    pthread_mutex_t sync_mu; /* catching up; the state below */
    uint64_t sync_ctr;       /* catch-ups begun (atomic) */
    uint64_t sync_done;      /* sync_ctr value the last complete catch-up began with */
    char last_id[TD_STREAM_ID_LEN];
    char epoch[64];
    int loaded, need_reload, loading; /* atomics */
    int why_not;                      /* atomic: the last reason the copy did not answer */
    int64_t loaded_at;
    pthread_cond_t loaded_cv; /* with sync_mu: the first load is done */

    pthread_mutex_t during_mu; /* this daemon's writes during a load, put again */
    bool recording;            /* after it: the load's scan may have missed them */
    bson_t **during;
    size_t nduring, capduring;

    pthread_mutex_t pend_mu; /* ids whose announcement failed */
    char (*pending)[25];
    size_t npending;
    bool overflow;
};

/* ---- values ---------------------------------------------------------------------- */

static void lv_from_iter(const bson_iter_t *it, lv *v)
{
    memset(v, 0, sizeof *v);
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8:
        v->type = LV_STR;
        v->u.s = bson_iter_utf8(it, NULL);
        break;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        v->type = LV_NUM;
        v->u.d = bson_iter_as_double(it);
        break;
    case BSON_TYPE_DATE_TIME:
        v->type = LV_DATE;
        v->u.t = bson_iter_date_time(it);
        break;
    case BSON_TYPE_OID:
        v->type = LV_OID;
        bson_oid_copy(bson_iter_oid(it), &v->u.oid);
        break;
    case BSON_TYPE_BOOL:
        v->type = LV_BOOL;
        v->u.b = bson_iter_bool(it);
        break;
    case BSON_TYPE_NULL: v->type = LV_NULL; break;
    default:
        v->type = LV_OTHER; /* documents, arrays, ...: never equal, sorted after strings */
        break;
    }
}

static void lv_from_path(const bson_t *doc, const char *path, lv *v)
{
    bson_iter_t d;
    if (td_bson_at(doc, path, &d)) {
        lv_from_iter(&d, v);
    } else {
        memset(v, 0, sizeof *v);
        v->type = LV_NULL;
        v->missing = true;
    }
}

/* Same-type comparison (callers check the types first). */
static int lv_cmp_same(const lv *a, const lv *b)
{
    switch (a->type) {
    case LV_NUM: return a->u.d < b->u.d ? -1 : a->u.d > b->u.d;
    case LV_STR: return strcmp(a->u.s, b->u.s);
    case LV_OID: return bson_oid_compare(&a->u.oid, &b->u.oid);
    case LV_BOOL: return (int)a->u.b - (int)b->u.b;
    case LV_DATE: return a->u.t < b->u.t ? -1 : a->u.t > b->u.t;
    default: return 0;
    }
}

/* MongoDB's sort order: by type first, then by value. */
static int lv_cmp(const lv *a, const lv *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return lv_cmp_same(a, b);
}

/* MongoDB equality: {f: null} matches null and missing; others need equal values. */
static bool lv_eq(const lv *doc, const lv *q)
{
    if (q->type == LV_NULL)
        return doc->type == LV_NULL;
    return doc->type == q->type && q->type != LV_OTHER && lv_cmp_same(doc, q) == 0;
}

/* ---- the table ------------------------------------------------------------------- */

static uint32_t oid_hash(const bson_oid_t *oid)
{
    return td_hash(oid->bytes, sizeof oid->bytes);
}

static void row_free(row *r)
{
    if (r->doc != NULL)
        bson_destroy(r->doc);
    free(r->json);
    free(r->strs);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        row_free(&t->rows[i]);
    free(t->rows);
    free(t->ring);
    if (t->ext != NULL && t->opts->ext_free != NULL)
        t->opts->ext_free(t->ext);
    for (int f = 0; f < t->ncols; f++) {
        free(t->cols[f]);
        free(t->codes[f]);
        free(t->hashes[f]);
        for (size_t c = 0; c < t->arenas[f].n; c++) {
            free(t->arenas[f].chunks[c].data);
            free(t->arenas[f].chunks[c].starts);
            free(t->arenas[f].chunks[c].rows);
        }
        free(t->arenas[f].chunks);
        free(t->counts[f]);
        for (int i = 0; t->strs[f].slots != NULL && i < INTERN_SLOTS; i++)
            free(t->strs[f].slots[i]);
        free(t->strs[f].slots);
    }
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static const bson_oid_t *row_id(const table *t, size_t i)
{
    return &t->cols[0][i].u.oid;
}

static uint32_t *table_slot(table *t, const bson_oid_t *id)
{
    size_t mask = t->nslots - 1;
    for (size_t i = oid_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0 || bson_oid_equal(row_id(t, s - 1), id))
            return &t->slots[i];
    }
}

/* Grows one of the arrays parallel to t->rows as t->rows grows from t->cap. */
static int parallel_grow(const table *t, void **v, size_t elem)
{
    size_t cap = t->cap;
    return td_grow(v, &cap, t->n, elem, TABLE_FIRST_ROWS);
}

static int table_grow(table *t)
{
    if (t->n == t->cap) {
        /* The rows and every column are parallel arrays: each grows from the same
         * capacity, which is kept only when all did (the ones grown so far just have
         * room to spare). */
        size_t cap = t->cap;
        if (td_grow((void **)&t->rows, &cap, t->n, sizeof *t->rows, TABLE_FIRST_ROWS) != TD_OK)
            return TD_ENOMEM;
        for (int f = 0; f < t->ncols; f++) {
            if (parallel_grow(t, (void **)&t->cols[f], sizeof *t->cols[f]) != TD_OK ||
                parallel_grow(t, (void **)&t->codes[f], sizeof *t->codes[f]) != TD_OK ||
                parallel_grow(t, (void **)&t->hashes[f], sizeof *t->hashes[f]) != TD_OK)
                return TD_ENOMEM;
            if (t->counts[f] == NULL &&
                (t->counts[f] = calloc(NCODES, sizeof *t->counts[f])) == NULL)
                return TD_ENOMEM;
        }
        t->cap = cap;
    }
    if ((t->n + 1) * 2 > t->nslots) {
        size_t nslots = t->nslots ? t->nslots * 2 : 2048;
        uint32_t *slots = calloc(nslots, sizeof *slots);
        if (slots == NULL)
            return TD_ENOMEM;
        free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
        for (size_t i = 0; i < t->n; i++)
            *table_slot(t, row_id(t, i)) = (uint32_t)(i + 1);
    }
    return TD_OK;
}

static size_t intern_hash(const char *s)
{
    return td_hash(s, strlen(s)) & (INTERN_SLOTS - 1);
}

/* The column's copy of s and its code, or s itself and 0 once the column has too
 * many distinct strings (or memory ran out). */
static const char *intern(interned *in, const char *s, uint16_t *code)
{
    *code = 0;
    if (in->slots == NULL) {
        if (in->n == INTERN_MAX || (in->slots = calloc(INTERN_SLOTS, sizeof *in->slots)) == NULL) {
            in->incomplete = true;
            return s;
        }
    }
    for (size_t i = intern_hash(s);; i = (i + 1) & (INTERN_SLOTS - 1)) {
        if (in->slots[i] == NULL) {
            if (in->n == INTERN_MAX || (in->slots[i] = strdup(s)) == NULL) {
                in->incomplete = true;
                return s;
            }
            in->n++;
            *code = (uint16_t)(i + 1);
            return in->slots[i];
        }
        if (strcmp(in->slots[i], s) == 0) {
            *code = (uint16_t)(i + 1);
            return in->slots[i];
        }
    }
}

/* The code of s in the column, CODE_NONE when no row holds it; 0 when the column has
 * strings without a code (codes then cannot decide). */
static uint16_t intern_code(const interned *in, const char *s)
{
    if (in->incomplete)
        return 0;
    if (in->slots == NULL)
        return CODE_NONE;
    for (size_t i = intern_hash(s);; i = (i + 1) & (INTERN_SLOTS - 1)) {
        if (in->slots[i] == NULL)
            return CODE_NONE;
        if (strcmp(in->slots[i], s) == 0)
            return (uint16_t)(i + 1);
    }
}

/* Copies s (of row) into the arena; the copy, or NULL when out of memory. */
static const char *arena_put(arena *a, const char *s, uint32_t row)
{
    size_t len = strlen(s) + 1;
    chunk *c = a->n > 0 ? &a->chunks[a->n - 1] : NULL;
    if (c == NULL || c->cap - c->used < len) {
        if (td_grow((void **)&a->chunks, &a->cap, a->n, sizeof *a->chunks, 16) != TD_OK)
            return NULL;
        c = &a->chunks[a->n];
        memset(c, 0, sizeof *c);
        c->cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
        if ((c->data = malloc(c->cap)) == NULL)
            return NULL;
        a->n++;
    }
    /* starts and rows are parallel: each grows from the same capacity, which is
     * kept only when both did */
    size_t capn = c->capn, cap_rows = c->capn;
    if (td_grow((void **)&c->starts, &capn, c->n, sizeof *c->starts, 1024) != TD_OK ||
        td_grow((void **)&c->rows, &cap_rows, c->n, sizeof *c->rows, 1024) != TD_OK)
        return NULL;
    c->capn = capn;
    char *copy = c->data + c->used;
    memcpy(copy, s, len);
    c->starts[c->n] = (uint32_t)c->used;
    c->rows[c->n++] = row;
    c->used += len;
    return copy;
}

/* Appends row i to the JSON ring (columns_only). */
static int ring_push(table *t, uint32_t i)
{
    if (t->rn == t->rcap) {
        size_t cap = t->rcap ? t->rcap * 2 : 1024;
        uint32_t *ring = malloc(cap * sizeof *ring);
        if (ring == NULL)
            return TD_ENOMEM;
        for (size_t k = 0; k < t->rn; k++)
            ring[k] = t->ring[(t->rhead + k) % t->rcap];
        free(t->ring);
        t->ring = ring;
        t->rcap = cap;
        t->rhead = 0;
    }
    t->ring[(t->rhead + t->rn++) % t->rcap] = i;
    return TD_OK;
}

/* Gives row i the JSON json (taken) in a columns_only table, then drops the oldest
 * JSON while there is more than opts->json_bytes of it. Called with the table
 * write-locked, or read-locked with json_mu held. */
static void json_keep(table *t, size_t i, char *json)
{
    row *r = &t->rows[i];
    if (r->json != NULL) {
        t->json_bytes -= strlen(r->json) + 1;
        free(r->json);
        r->json = NULL;
    }
    if (json == NULL)
        return;
    if (!r->in_ring) {
        if (ring_push(t, (uint32_t)i) != TD_OK) {
            free(json);
            return;
        }
        r->in_ring = true;
    }
    r->json = json;
    t->json_bytes += strlen(json) + 1;
    while (t->json_bytes > t->opts->json_bytes && t->rn > 0) {
        row *old = &t->rows[t->ring[t->rhead]];
        t->rhead = (t->rhead + 1) % t->rcap;
        t->rn--;
        old->in_ring = false;
        if (old->json != NULL) {
            t->json_bytes -= strlen(old->json) + 1;
            free(old->json);
            old->json = NULL;
        }
    }
}

/* Takes st's row; keeps whichever of it and the present row has the higher version. */
static int table_put(table *t, staged *st)
{
    int rc = table_grow(t);
    if (rc != TD_OK) {
        row_free(&st->r);
        return rc;
    }
    uint32_t *slot = table_slot(t, &st->vals[0].u.oid);
    bool fresh = *slot == 0;
    if (!fresh && t->rows[*slot - 1].version > st->r.version && !t->rows[*slot - 1].gone) {
        t->rows[*slot - 1].seen = t->gen; /* a newer version is held: the document exists */
        row_free(&st->r);
        return TD_OK;
    }
    if (fresh && t->opts->max_rows > 0 && t->n >= t->opts->max_rows) {
        row_free(&st->r);
        return TD_ENOMEM; /* over the bound the copy was given */
    }
    uint16_t codes[MAX_FIELDS];
    size_t need = 0;
    for (int f = 0; f < t->ncols; f++) {
        codes[f] = 0;
        if (st->vals[f].type == LV_STR) {
            st->vals[f].u.s = intern(&t->strs[f], st->vals[f].u.s, &codes[f]);
            if (codes[f] == 0)
                need += strlen(st->vals[f].u.s) + 1;
        } else if (st->vals[f].type == LV_BOOL) {
            codes[f] = st->vals[f].u.b ? CODE_TRUE : CODE_FALSE;
        }
    }
    if (t->opts->columns_only && need > 0) {
        /* the document goes: its strings that are not interned move to the arenas */
        uint32_t at = fresh ? (uint32_t)t->n : *slot - 1;
        for (int f = 0; f < t->ncols; f++)
            if (st->vals[f].type == LV_STR && codes[f] == 0) {
                const char *copy = arena_put(&t->arenas[f], st->vals[f].u.s, at);
                if (copy == NULL) {
                    row_free(&st->r);
                    return TD_ENOMEM;
                }
                st->vals[f].u.s = copy;
            }
    }
    size_t i;
    if (!fresh) {
        i = *slot - 1;
        row *old = &t->rows[i];
        if (old->json != NULL && t->opts->columns_only)
            t->json_bytes -= strlen(old->json) + 1;
        st->r.in_ring = old->in_ring;
        bool was_gone = old->gone;
        if (t->ext != NULL && t->opts->ext_replace != NULL && old->doc != NULL)
            t->opts->ext_replace(t->ext, old->doc, st->r.doc);
        row_free(old);
        if (was_gone) /* back in the database: counted again below */
            t->ngone--;
        else
            for (int f = 0; f < t->ncols; f++)
                t->counts[f][t->codes[f][i]]--;
    } else {
        i = t->n++;
        *slot = (uint32_t)t->n;
    }
    if (fresh && t->ext != NULL && t->opts->ext_add != NULL)
        t->opts->ext_add(t->ext, st->r.doc);
    char *json = NULL;
    if (t->opts->columns_only) {
        bson_destroy(st->r.doc);
        st->r.doc = NULL;
        json = st->r.json;
        st->r.json = NULL;
    }
    st->r.seen = t->gen;
    st->r.gone = false;
    t->rows[i] = st->r;
    for (int f = 0; f < t->ncols; f++) {
        t->cols[f][i] = st->vals[f];
        t->codes[f][i] = codes[f];
        t->hashes[f][i] =
            st->vals[f].type == LV_STR ? td_hash(st->vals[f].u.s, strlen(st->vals[f].u.s)) : 0;
        t->counts[f][codes[f]]++;
    }
    if (t->opts->columns_only)
        json_keep(t, i, json);
    return TD_OK;
}

/* The key of doc: its ObjectId _id, or with string_ids the ObjectId of its 24-hex
 * string _id. False when it has neither. */
static bool doc_key(const td_listindex *ix, const bson_t *doc, bson_oid_t *oid)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id"))
        return false;
    if (BSON_ITER_HOLDS_OID(&it)) {
        bson_oid_copy(bson_iter_oid(&it), oid);
        return true;
    }
    if (!ix->opts.string_ids || !BSON_ITER_HOLDS_UTF8(&it))
        return false;
    const char *hex = bson_iter_utf8(&it, NULL);
    if (!td_is_object_id(hex))
        return false;
    bson_oid_init_from_string(oid, hex);
    return true;
}

/* The row and field values of doc; false when it has no key (or memory). */
static bool stage(td_listindex *ix, const bson_t *doc, staged *st)
{
    bson_oid_t key;
    if (!doc_key(ix, doc, &key))
        return false;
    memset(&st->r, 0, sizeof st->r);
    st->r.doc = bson_new(); /* without staged events: they are moved out meanwhile */
    if (st->r.doc == NULL)
        return false;
    bson_copy_to_excluding_noinit(doc, st->r.doc, "_events", NULL);
    cJSON *shown = ix->render(st->r.doc, NULL);
    st->r.json = shown != NULL ? cJSON_PrintUnformatted(shown) : NULL;
    cJSON_Delete(shown);
    if (st->r.json == NULL) {
        bson_destroy(st->r.doc);
        return false;
    }
    st->r.version = td_bson_int(st->r.doc, "version", 0);
    for (int f = 0; f < ix->nfields; f++)
        lv_from_path(st->r.doc, ix->fields[f], &st->vals[f]);
    st->vals[0].type = LV_OID; /* fields[0] is _id */
    bson_oid_copy(&key, &st->vals[0].u.oid);
    return true;
}

/* Ends recording: puts what was written during a load into its new table. */
static void replay_during(td_listindex *ix, table *t)
{
    pthread_mutex_lock(&ix->during_mu);
    for (size_t i = 0; i < ix->nduring; i++) {
        staged st;
        if (t != NULL && stage(ix, ix->during[i], &st))
            table_put(t, &st);
        bson_destroy(ix->during[i]);
    }
    free(ix->during);
    ix->during = NULL;
    ix->nduring = ix->capduring = 0;
    ix->recording = false;
    pthread_mutex_unlock(&ix->during_mu);
}

void td_listindex_put_local(td_listindex *ix, const bson_t *doc)
{
    pthread_mutex_lock(&ix->during_mu);
    if (ix->recording) {
        if (td_grow((void **)&ix->during, &ix->capduring, ix->nduring, sizeof(bson_t *), 64) ==
            TD_OK)
            ix->during[ix->nduring++] = bson_copy(doc);
        else
            __atomic_store_n(&ix->need_reload, 1, __ATOMIC_RELEASE); /* lost it: again */
    }
    pthread_mutex_unlock(&ix->during_mu);
    staged st;
    if (!stage(ix, doc, &st))
        return;
    pthread_rwlock_wrlock(&ix->lock);
    if (table_put(&ix->t, &st) != TD_OK && ix->opts.max_rows > 0 && ix->t.n >= ix->opts.max_rows &&
        !__atomic_exchange_n(&ix->over, 1, __ATOMIC_ACQ_REL))
        td_error("list copy of %s: more than %zu documents, answering from the database", ix->coll,
                 ix->opts.max_rows);
    pthread_rwlock_unlock(&ix->lock);
}

static int catch_up(td_listindex *ix, mongoc_client_t *c);

/* ---- lifecycle ------------------------------------------------------------------- */

/* An empty table of ix (with its read model). */
static int table_init(td_listindex *ix, table *t)
{
    memset(t, 0, sizeof *t);
    t->ncols = ix->nfields;
    t->opts = &ix->opts;
    if (ix->opts.ext_new != NULL && (t->ext = ix->opts.ext_new(ix->opts.ext_arg)) == NULL)
        return TD_ENOMEM;
    return TD_OK;
}

int td_listindex_new(td_listindex **out, const char *coll, const char *ns,
                     const char *const *fields, td_doc_to_json render)
{
    const td_listindex_opts none = {0};
    return td_listindex_new_opts(out, coll, ns, fields, render, &none);
}

int td_listindex_new_opts(td_listindex **out, const char *coll, const char *ns,
                          const char *const *fields, td_doc_to_json render,
                          const td_listindex_opts *opts)
{
    td_listindex *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return TD_ENOMEM;
    ix->opts = *opts;
    /* A name too long for its key is a bug of the caller: refused, never cut. On
     * failure the free below destroys locks that may not be initialised yet: a
     * zeroed lock is glibc's static initialiser, which may be destroyed. */
    int rc = TD_EINVAL;
    if (td_fmt(ix->coll, sizeof ix->coll, "%s", coll) != TD_OK ||
        td_fmt(ix->stream_key, sizeof ix->stream_key, "%s:changes", ns) != TD_OK ||
        td_fmt(ix->epoch_key, sizeof ix->epoch_key, "%s:epoch", ns) != TD_OK)
        goto fail;
    rc = TD_ENOMEM;
    if (pthread_mutex_init(&ix->json_mu, NULL) != 0 || pthread_rwlock_init(&ix->lock, NULL) != 0 ||
        pthread_mutex_init(&ix->sync_mu, NULL) != 0 ||
        pthread_cond_init(&ix->loaded_cv, NULL) != 0 ||
        pthread_mutex_init(&ix->pend_mu, NULL) != 0 ||
        pthread_mutex_init(&ix->during_mu, NULL) != 0)
        goto fail;
    td_new_id(ix->instance);
    ix->render = render;
    const char *id = "_id";
    for (int i = -1; i < 0 || (fields[i] != NULL && ix->nfields < MAX_FIELDS); i++) {
        const char *f = i < 0 ? id : fields[i];
        bool dup = false;
        for (int j = 0; j < ix->nfields; j++)
            dup |= strcmp(ix->fields[j], f) == 0;
        if (dup)
            continue;
        if ((ix->fields[ix->nfields] = strdup(f)) == NULL)
            goto fail;
        ix->nfields++;
    }
    if (table_init(ix, &ix->t) != TD_OK)
        goto fail;
    /* Its first load is due at the owner's next maintenance tick (copies of one
     * daemon load one after the other): until it has begun and ended, queries wait
     * for it as during a load, rather than scan the database meanwhile. */
    ix->loading = 1;
    *out = ix;
    return TD_OK;
fail:
    td_listindex_free(ix);
    return rc;
}

void td_listindex_free(td_listindex *ix)
{
    if (ix == NULL)
        return;
    table_free(&ix->t);
    for (int i = 0; i < ix->nfields; i++)
        free(ix->fields[i]);
    free(ix->pending);
    pthread_rwlock_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->sync_mu);
    pthread_cond_destroy(&ix->loaded_cv);
    pthread_mutex_destroy(&ix->pend_mu);
    for (size_t i = 0; i < ix->nduring; i++)
        bson_destroy(ix->during[i]);
    free(ix->during);
    pthread_mutex_destroy(&ix->during_mu);
    pthread_mutex_destroy(&ix->json_mu);
    free(ix);
}

size_t td_listindex_bytes(td_listindex *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    const table *t = &ix->t;
    size_t n = t->cap * (sizeof(row) + (size_t)t->ncols * (sizeof(lv) + sizeof(uint16_t))) +
               t->nslots * sizeof(uint32_t) + t->rcap * sizeof(uint32_t);
    for (int f = 0; f < t->ncols; f++)
        for (size_t c = 0; c < t->arenas[f].n; c++)
            n += t->arenas[f].chunks[c].cap + t->arenas[f].chunks[c].capn * 2 * sizeof(uint32_t);
    n += (size_t)t->ncols * t->cap * sizeof(uint32_t); /* hashes */
    pthread_mutex_lock(&ix->json_mu);
    n += t->json_bytes;
    pthread_mutex_unlock(&ix->json_mu);
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

size_t td_listindex_size(td_listindex *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->t.n - ix->t.ngone;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

/* The stream's current marker, made when Redis has none (first start, or Redis
 * lost its data — every copy then reloads). */
static int current_epoch(td_listindex *ix, char out[64])
{
    char *v = NULL;
    size_t len;
    int rc = td_redis_get(ix->epoch_key, &v, &len);
    if (rc == TD_ENOTFOUND) {
        char fresh[25];
        td_new_id(fresh);
        rc = td_redis_set(ix->epoch_key, fresh, true);
        if (rc == TD_OK || rc == TD_ECONFLICT)
            rc = td_redis_get(ix->epoch_key, &v, &len);
    }
    /* ours are 24 hex digits: a longer value is not a marker this code wrote */
    if (rc == TD_OK && td_fmt(out, 64, "%s", v) != TD_OK) {
        td_warn("%s in Redis is not a list copy marker (%zu bytes)", ix->epoch_key, len);
        rc = TD_EIO;
    }
    free(v);
    return rc;
}

static void skip_entry(const char *value, void *arg)
{
    (void)value;
    (void)arg;
}

/* Puts a batch of staged documents into the live table under one write lock. */
static int put_batch(td_listindex *ix, staged *batch, size_t *n)
{
    int rc = TD_OK;
    pthread_rwlock_wrlock(&ix->lock);
    for (size_t i = 0; i < *n; i++) {
        int put = rc == TD_OK ? table_put(&ix->t, &batch[i]) : TD_OK;
        if (rc != TD_OK)
            row_free(&batch[i].r);
        else
            rc = put;
    }
    pthread_rwlock_unlock(&ix->lock);
    *n = 0;
    return rc;
}

/* After a complete scan (under the write lock): the rows not put since the scan
 * began (generation gen) are no longer in the database. They are marked gone —
 * skipped by queries and reads, their codes no longer counted — and come back if
 * a later write or reload puts them again. A table with a read model keeps them
 * (the model counts each document once, as it was added; the collections that
 * have one are never deleted from): returns how many were left so. */
static size_t reload_sweep(table *t, uint32_t gen)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->n; i++) {
        row *r = &t->rows[i];
        if (r->gone || r->seen == gen)
            continue;
        if (t->ext != NULL) {
            kept++;
            continue;
        }
        r->gone = true;
        t->ngone++;
        for (int f = 0; f < t->ncols; f++)
            t->counts[f][t->codes[f][i]]--;
    }
    return kept;
}

/* Loads the collection into the live table, in place: batches of LOAD_BATCH
 * documents, each put under the write lock like any write (a row keeps the higher
 * version), then the rows the scan did not see are swept. The peak is one table
 * plus a batch, never two tables. Queries go on meanwhile when the copy was loaded
 * before (each row is then the version held before or a newer one), except after
 * a lost track (need_reload: the database answers until the load is done). */
static int load(td_listindex *ix, mongoc_client_t *c)
{
    int64_t t0 = td_mono_ms();
    char epoch[64], last[TD_STREAM_ID_LEN] = "";
    pthread_mutex_lock(&ix->during_mu);
    ix->recording = true;
    pthread_mutex_unlock(&ix->during_mu);
    int rc = current_epoch(ix, epoch);
    /* Skip to the end of the stream: the scan below sees everything written so far;
     * what is written during it is read again at the next catch-up. */
    while (rc == TD_OK) {
        char *marker = NULL;
        int n = 0;
        rc = td_redis_stream_read(ix->epoch_key, ix->stream_key, last, SYNC_BATCH, &marker,
                                  skip_entry, NULL, &n);
        free(marker);
        if (n < SYNC_BATCH)
            break;
    }
    if (rc != TD_OK) {
        replay_during(ix, NULL);
        return rc == TD_ENOMEM ? rc : TD_EUNAVAIL;
    }
    if (last[0] == '\0')
        memcpy(last, "0-0", sizeof "0-0");
    pthread_rwlock_wrlock(&ix->lock);
    uint32_t gen = ++ix->t.gen;
    pthread_rwlock_unlock(&ix->lock);
    staged *batch = malloc(LOAD_BATCH * sizeof *batch);
    if (batch == NULL) {
        replay_during(ix, NULL);
        return TD_ENOMEM;
    }
    size_t nb = 0;
    mongoc_collection_t *coll = td_mongo_coll(c, ix->coll);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    while (rc == TD_OK && mongoc_cursor_next(cur, &doc)) {
        if (stage(ix, doc, &batch[nb]))
            nb++;
        if (nb == LOAD_BATCH)
            rc = put_batch(ix, batch, &nb);
    }
    if (rc == TD_OK && nb > 0)
        rc = put_batch(ix, batch, &nb);
    for (size_t i = 0; i < nb; i++)
        row_free(&batch[i].r);
    free(batch);
    bson_error_t err;
    if (rc == TD_OK && mongoc_cursor_error(cur, &err))
        rc = td_mongo_rc(&err);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&filter);
    if (rc != TD_OK) {
        pthread_rwlock_wrlock(&ix->lock);
        bool over = ix->opts.max_rows > 0 && ix->t.n >= ix->opts.max_rows;
        pthread_rwlock_unlock(&ix->lock);
        replay_during(ix, NULL);
        if (over) {
            /* tried again with the periodic backstop, not every second */
            pthread_mutex_lock(&ix->sync_mu);
            ix->loaded_at = td_mono_ms();
            pthread_mutex_unlock(&ix->sync_mu);
            __atomic_store_n(&ix->over, 1, __ATOMIC_RELEASE);
            td_error("list copy of %s: more than %zu documents, not loaded; lists come from "
                     "the database",
                     ix->coll, ix->opts.max_rows);
        }
        return rc;
    }
    pthread_mutex_lock(&ix->sync_mu);
    pthread_rwlock_wrlock(&ix->lock);
    replay_during(ix, &ix->t); /* under the lock: a later write waits and lands after */
    size_t kept = reload_sweep(&ix->t, gen);
    size_t n = ix->t.n - ix->t.ngone;
    pthread_rwlock_unlock(&ix->lock);
    /* fit: both are buffers of the same size as these */
    TD_IGNORE(td_fmt(ix->last_id, sizeof ix->last_id, "%s", last));
    TD_IGNORE(td_fmt(ix->epoch, sizeof ix->epoch, "%s", epoch));
    ix->loaded_at = td_mono_ms();
    __atomic_store_n(&ix->need_reload, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&ix->over, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&ix->loaded, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&ix->sync_mu);
    if (kept > 0)
        td_warn("list copy of %s: %zu documents no longer in the database are still counted by "
                "its read model",
                ix->coll, kept);
    td_info("list copy of %s: %zu documents loaded in %lld ms", ix->coll, n,
            (long long)(td_mono_ms() - t0));
    return TD_OK;
}

int td_listindex_load(td_listindex *ix, mongoc_client_t *c)
{
    __atomic_store_n(&ix->loading, 1, __ATOMIC_RELEASE);
    int rc = load(ix, c);
    pthread_mutex_lock(&ix->sync_mu);
    __atomic_store_n(&ix->loading, 0, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&ix->loaded_cv);
    pthread_mutex_unlock(&ix->sync_mu);
    return rc;
}

void td_listindex_maintain(td_listindex *ix, mongoc_client_t *c)
{
    bool due = (!__atomic_load_n(&ix->loaded, __ATOMIC_ACQUIRE) ||
                __atomic_load_n(&ix->need_reload, __ATOMIC_ACQUIRE)) &&
               !__atomic_load_n(&ix->over, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&ix->sync_mu);
    due |= td_mono_ms() - ix->loaded_at >= TD_LISTINDEX_RELOAD_MS;
    pthread_mutex_unlock(&ix->sync_mu);
    if (due && c != NULL) {
        int rc = td_listindex_load(ix, c);
        if (rc != TD_OK)
            td_info("list copy of %s not loaded: %s", ix->coll, td_strerror(rc));
    } else if (c != NULL && __atomic_load_n(&ix->loaded, __ATOMIC_ACQUIRE)) {
        /* a catch-up between requests: a lost track (Redis restarted from an older
         * snapshot, or emptied) is seen now and the reload starts at the next tick,
         * without waiting for a request to find it */
        int rc = catch_up(ix, c);
        if (rc != TD_OK && __atomic_load_n(&ix->need_reload, __ATOMIC_ACQUIRE))
            td_info("list copy of %s lost track of the other daemons' writes (Redis emptied or "
                    "restarted from an older snapshot): reloading",
                    ix->coll);
        else if (rc != TD_OK && rc != TD_EUNAVAIL)
            td_info("list copy of %s: catch-up failed: %s", ix->coll, td_strerror(rc));
    }
}

/* ---- telling the other daemons ----------------------------------------------------- */

static int announce(td_listindex *ix, const char *hex)
{
    char value[64];
    /* fits: two ids of 24 hex digits */
    TD_IGNORE(td_fmt(value, sizeof value, "%s:%s", ix->instance, hex));
    return td_redis_stream_add(ix->stream_key, TD_LISTINDEX_STREAM_KEEP_MS, value);
}

/* Re-sends announcements that failed while Redis was down; when too many failed,
 * changes the marker instead, so every copy reloads. */
static void flush_pending(td_listindex *ix)
{
    pthread_mutex_lock(&ix->pend_mu);
    if (ix->overflow) {
        char fresh[25];
        td_new_id(fresh);
        if (td_redis_set(ix->epoch_key, fresh, false) == TD_OK) {
            ix->overflow = false;
            ix->npending = 0;
        }
    }
    while (ix->npending > 0 && announce(ix, ix->pending[ix->npending - 1]) == TD_OK)
        ix->npending--;
    pthread_mutex_unlock(&ix->pend_mu);
}

void td_listindex_put(td_listindex *ix, const bson_t *doc)
{
    char hex[25];
    bson_oid_t key;
    if (!doc_key(ix, doc, &key))
        return;
    bson_oid_to_string(&key, hex);
    td_listindex_put_local(ix, doc);
    if (announce(ix, hex) == TD_OK)
        return;
    /* The others cannot know yet: remember it, and stop trusting our own copy for
     * the others' writes until Redis is back (query needs a catch-up anyway). */
    pthread_mutex_lock(&ix->pend_mu);
    if (ix->pending == NULL)
        ix->pending = malloc(PENDING_MAX * sizeof *ix->pending);
    if (ix->pending != NULL && ix->npending < PENDING_MAX)
        memcpy(ix->pending[ix->npending++], hex, 25);
    else
        ix->overflow = true;
    pthread_mutex_unlock(&ix->pend_mu);
}

/* ---- catching up ------------------------------------------------------------------- */

typedef struct {
    td_listindex *ix;
    char (*ids)[25];
    size_t n;
} changes;

static void collect(const char *value, void *arg)
{
    changes *ch = arg;
    const char *colon = strchr(value, ':');
    if (colon == NULL || strlen(colon + 1) != 24)
        return;
    if ((size_t)(colon - value) == 24 && strncmp(value, ch->ix->instance, 24) == 0)
        return; /* our own write: in the copy already */
    memcpy(ch->ids[ch->n++], colon + 1, 25);
}

static int reread(td_listindex *ix, mongoc_client_t *c, const char *hex)
{
    if (!td_is_object_id(hex))
        return TD_OK;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, hex);
    bson_t filter = BSON_INITIALIZER, doc;
    if (ix->opts.string_ids)
        BSON_APPEND_UTF8(&filter, "_id", hex);
    else
        BSON_APPEND_OID(&filter, "_id", &oid);
    bson_init(&doc);
    int rc = td_store_find_one(c, ix->coll, &filter, &doc);
    if (rc == TD_OK)
        td_listindex_put_local(ix, &doc);
    bson_destroy(&doc);
    bson_destroy(&filter);
    return rc == TD_ENOTFOUND ? TD_OK : rc;
}

/* Applies the other daemons' writes announced since the last catch-up. Requests
 * that arrive together share one: a catch-up that began after a request arrived
 * covers every write answered before it arrived. */
static int catch_up(td_listindex *ix, mongoc_client_t *c)
{
    char ids[SYNC_BATCH][25];
    uint64_t arrived = __atomic_load_n(&ix->sync_ctr, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&ix->sync_mu);
    if (ix->sync_done > arrived) {
        pthread_mutex_unlock(&ix->sync_mu);
        return TD_OK;
    }
    uint64_t began = __atomic_add_fetch(&ix->sync_ctr, 1, __ATOMIC_ACQ_REL);
    int rc = TD_OK;
    for (;;) {
        changes ch = {ix, ids, 0};
        char *marker = NULL;
        char last[TD_STREAM_ID_LEN];
        memcpy(last, ix->last_id, sizeof last);
        int n = 0;
        rc = td_redis_stream_read(ix->epoch_key, ix->stream_key, last, SYNC_BATCH, &marker, collect,
                                  &ch, &n);
        if (rc == TD_OK && (marker == NULL || strcmp(marker, ix->epoch) != 0)) {
            __atomic_store_n(&ix->need_reload, 1, __ATOMIC_RELEASE);
            rc = TD_EIO; /* lost track (not unreachable): the database answers */
        }
        free(marker);
        for (size_t i = 0; rc == TD_OK && i < ch.n; i++)
            rc = reread(ix, c, ch.ids[i]);
        if (rc != TD_OK)
            break;
        memcpy(ix->last_id, last, sizeof last);
        if (n < SYNC_BATCH)
            break;
    }
    if (rc == TD_OK)
        ix->sync_done = began;
    pthread_mutex_unlock(&ix->sync_mu);
    return rc;
}

/* ---- queries ----------------------------------------------------------------------- */

typedef enum { P_EQ, P_NE, P_IN, P_NIN, P_GT, P_GTE, P_LT, P_LTE, P_REGEX, P_EXISTS } pred_op;

#define MAX_PREDS 48
#define MAX_IN 32

typedef struct {
    int col;
    pred_op op;
    lv v[MAX_IN];
    int nv;
    char *literal; /* P_REGEX: the unescaped text */
    bool icase;
    bool coded;              /* decided by the codes (see resolve_codes) */
    uint16_t codes[MAX_IN];  /* the codes of v */
    uint8_t *bits;           /* P_REGEX on a column with an arena: the rows that match */
    bool hashed;             /* not coded, $eq/$in of strings: hashes compared first */
    uint32_t hashes[MAX_IN]; /* the hashes of v */
} pred;

typedef struct {
    pred p[MAX_PREDS];
    int n;
    int sort_col[8], sort_dir[8], nsort;
} plan;

static void plan_free(plan *pl)
{
    for (int i = 0; i < pl->n; i++) {
        free(pl->p[i].literal);
        free(pl->p[i].bits);
    }
}

static int column_of(const td_listindex *ix, const char *path)
{
    for (int i = 0; i < ix->nfields; i++)
        if (strcmp(ix->fields[i], path) == 0)
            return i;
    return -1;
}

/* Unescapes a td_regex_escape pattern; NULL when it holds a real regex operator. */
static char *regex_literal(const char *pattern)
{
    char *out = malloc(strlen(pattern) + 1);
    if (out == NULL)
        return NULL;
    size_t w = 0;
    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            out[w++] = *++p;
        } else if (strchr("^$.|?*+()[]{}", *p) != NULL) {
            free(out);
            return NULL;
        } else {
            out[w++] = *p;
        }
    }
    out[w] = '\0';
    return out;
}

static int add_pred(plan *pl, int col, pred_op op, pred **out)
{
    if (pl->n == MAX_PREDS)
        return TD_EINVAL;
    pred *p = &pl->p[pl->n++];
    memset(p, 0, sizeof *p);
    p->col = col;
    p->op = op;
    *out = p;
    return TD_OK;
}

static int compile_ops(plan *pl, int col, bson_iter_t *ops)
{
    static const struct {
        const char *name;
        pred_op op;
    } names[] = {{"$eq", P_EQ},       {"$ne", P_NE},        {"$in", P_IN}, {"$nin", P_NIN},
                 {"$gt", P_GT},       {"$gte", P_GTE},      {"$lt", P_LT}, {"$lte", P_LTE},
                 {"$regex", P_REGEX}, {"$exists", P_EXISTS}};
    const char *options = NULL;
    bson_iter_t o = *ops;
    while (bson_iter_next(&o))
        if (strcmp(bson_iter_key(&o), "$options") == 0 && BSON_ITER_HOLDS_UTF8(&o))
            options = bson_iter_utf8(&o, NULL);
    while (bson_iter_next(ops)) {
        const char *key = bson_iter_key(ops);
        if (strcmp(key, "$options") == 0)
            continue;
        int which = -1;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(key, names[i].name) == 0)
                which = (int)i;
        if (which < 0)
            return TD_EINVAL;
        pred *p;
        if (add_pred(pl, col, names[which].op, &p) != TD_OK)
            return TD_EINVAL;
        switch (p->op) {
        case P_IN:
        case P_NIN: {
            bson_iter_t arr;
            if (!BSON_ITER_HOLDS_ARRAY(ops) || !bson_iter_recurse(ops, &arr))
                return TD_EINVAL;
            while (bson_iter_next(&arr)) {
                if (p->nv == MAX_IN)
                    return TD_EINVAL;
                lv_from_iter(&arr, &p->v[p->nv++]);
            }
            break;
        }
        case P_REGEX:
            if (!BSON_ITER_HOLDS_UTF8(ops) ||
                (options != NULL && strcmp(options, "") != 0 && strcmp(options, "i") != 0))
                return TD_EINVAL;
            p->literal = regex_literal(bson_iter_utf8(ops, NULL));
            if (p->literal == NULL)
                return TD_EINVAL;
            p->icase = options != NULL && strcmp(options, "i") == 0;
            break;
        case P_EXISTS:
            p->v[0].type = LV_BOOL;
            p->v[0].u.b = bson_iter_as_bool(ops);
            p->nv = 1;
            break;
        default:
            lv_from_iter(ops, &p->v[0]);
            p->nv = 1;
            break;
        }
    }
    return TD_OK;
}

static int compile_filter(const td_listindex *ix, plan *pl, const bson_t *filter)
{
    bson_iter_t it;
    if (!bson_iter_init(&it, filter))
        return TD_EINVAL;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (strcmp(key, "$and") == 0) {
            bson_iter_t arr;
            if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
                return TD_EINVAL;
            while (bson_iter_next(&arr)) {
                const uint8_t *data;
                uint32_t len;
                bson_t sub;
                if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
                    return TD_EINVAL;
                bson_iter_document(&arr, &len, &data);
                if (!bson_init_static(&sub, data, len) || compile_filter(ix, pl, &sub) != TD_OK)
                    return TD_EINVAL;
            }
            continue;
        }
        if (key[0] == '$')
            return TD_EINVAL; /* $or, $nor, ...: not needed by the list builder */
        int col = column_of(ix, key);
        if (col < 0)
            return TD_EINVAL;
        bson_iter_t ops;
        if (BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &ops)) {
            bson_iter_t first = ops;
            if (bson_iter_next(&first) && bson_iter_key(&first)[0] == '$') {
                if (compile_ops(pl, col, &ops) != TD_OK)
                    return TD_EINVAL;
                continue;
            }
            return TD_EINVAL; /* equality with a whole document */
        }
        pred *p;
        if (add_pred(pl, col, P_EQ, &p) != TD_OK)
            return TD_EINVAL;
        lv_from_iter(&it, &p->v[0]);
        p->nv = 1;
    }
    return TD_OK;
}

static int compile_sort(const td_listindex *ix, plan *pl, const bson_t *sort)
{
    bson_iter_t it;
    if (!bson_iter_init(&it, sort))
        return TD_EINVAL;
    while (bson_iter_next(&it)) {
        int col = column_of(ix, bson_iter_key(&it));
        if (col < 0 || pl->nsort == 8)
            return TD_EINVAL;
        pl->sort_col[pl->nsort] = col;
        pl->sort_dir[pl->nsort++] = bson_iter_as_int64(&it) < 0 ? -1 : 1;
    }
    return TD_OK;
}

static bool in_list(const lv *v, const pred *p)
{
    for (int i = 0; i < p->nv; i++)
        if (lv_eq(v, &p->v[i]))
            return true;
    return false;
}

static bool range_ok(const lv *v, const pred *p)
{
    const lv *q = &p->v[0];
    if (v->type != q->type || q->type == LV_NULL || q->type == LV_OTHER)
        return false;
    int c = lv_cmp_same(v, q);
    switch (p->op) {
    case P_GT: return c > 0;
    case P_GTE: return c >= 0;
    case P_LT: return c < 0;
    default: return c <= 0;
    }
}

/* For a case-sensitive substring predicate on a column whose strings are in an
 * arena (columns_only) and all of them there (no interned ones): the rows that hold
 * the literal, by one memmem over each chunk. Leaves p->bits NULL otherwise (or out
 * of memory): matches() then tests each row. Called with the table locked. */
static void search_bits(const table *t, pred *p)
{
    const arena *a = &t->arenas[p->col];
    if (p->op != P_REGEX || p->icase || a->n == 0 || (p->bits = calloc(t->n / 8 + 1, 1)) == NULL)
        return;
    size_t len = strlen(p->literal);
    const lv *col = t->cols[p->col];
    for (size_t c = 0; c < a->n; c++) {
        const chunk *ch = &a->chunks[c];
        const char *from = ch->data, *end = ch->data + ch->used, *hit;
        while (from < end && (hit = memmem(from, (size_t)(end - from), p->literal, len)) != NULL) {
            size_t off = (size_t)(hit - ch->data), lo = 0, hi = ch->n;
            while (hi - lo > 1) { /* the last string starting at or before the hit */
                size_t mid = lo + (hi - lo) / 2;
                if (ch->starts[mid] <= off)
                    lo = mid;
                else
                    hi = mid;
            }
            const char *start = ch->data + ch->starts[lo];
            uint32_t r = ch->rows[lo];
            if (r < t->n && col[r].type == LV_STR && col[r].u.s == start)
                p->bits[r >> 3] |= (uint8_t)(1u << (r & 7));
            from = start + strlen(start) + 1; /* on to the next string */
        }
    }
    /* the column's first distinct strings are interned, not in the arena */
    const interned *in = &t->strs[p->col];
    if (in->n == 0)
        return;
    bool hold[INTERN_SLOTS + 1] = {false};
    for (int k = 0; k < INTERN_SLOTS; k++)
        hold[k + 1] = in->slots[k] != NULL && strstr(in->slots[k], p->literal) != NULL;
    const uint16_t *codes = t->codes[p->col];
    for (size_t r = 0; r < t->n; r++)
        if (codes[r] != 0 && codes[r] <= INTERN_SLOTS && hold[codes[r]])
            p->bits[r >> 3] |= (uint8_t)(1u << (r & 7));
}

/* Marks the predicates that the codes decide (equality and membership with strings of
 * a fully interned column, or with booleans) and puts them first, where most rows
 * are turned down by comparing two integers. Called with the table locked: codes
 * belong to the table. */
static void resolve_codes(const table *t, plan *pl)
{
    int nfirst = 0;
    for (int i = 0; i < pl->n; i++) {
        pred *p = &pl->p[i];
        p->coded = p->op == P_EQ || p->op == P_NE || p->op == P_IN || p->op == P_NIN;
        for (int k = 0; p->coded && k < p->nv; k++) {
            const lv *q = &p->v[k];
            if (q->type == LV_BOOL)
                p->codes[k] = q->u.b ? CODE_TRUE : CODE_FALSE;
            else if (q->type == LV_STR)
                p->codes[k] = intern_code(&t->strs[p->col], q->u.s);
            else
                p->codes[k] = 0;
            p->coded = p->codes[k] != 0;
        }
        if (p->coded) {
            pred tmp = pl->p[nfirst];
            pl->p[nfirst++] = *p;
            *p = tmp;
        }
    }
    for (int i = nfirst; i < pl->n; i++)
        search_bits(t, &pl->p[i]);
    /* then string equality on columns without codes (ids, references): a dense
     * array of hashes turns down nearly every row before a string is read */
    int nnext = nfirst;
    for (int i = nfirst; i < pl->n; i++) {
        pred *p = &pl->p[i];
        p->hashed = (p->op == P_EQ || p->op == P_IN) && p->nv > 0;
        for (int k = 0; p->hashed && k < p->nv; k++) {
            p->hashed = p->v[k].type == LV_STR;
            if (p->hashed)
                p->hashes[k] = td_hash(p->v[k].u.s, strlen(p->v[k].u.s));
        }
        if (p->hashed) {
            pred tmp = pl->p[nnext];
            pl->p[nnext++] = *p;
            *p = tmp;
        }
    }
    /* first of all the one that turns down the most rows */
    int best = -1;
    size_t fewest = 0;
    for (int i = 0; i < nfirst; i++) {
        const pred *p = &pl->p[i];
        size_t hold = 0;
        for (int k = 0; k < p->nv; k++)
            hold += p->codes[k] == CODE_NONE || t->counts[p->col] == NULL /* no rows yet */
                        ? 0
                        : t->counts[p->col][p->codes[k]];
        size_t pass = p->op == P_EQ || p->op == P_IN ? hold : t->n - hold;
        if (best < 0 || pass < fewest) {
            best = i;
            fewest = pass;
        }
    }
    if (best > 0) {
        pred tmp = pl->p[0];
        pl->p[0] = pl->p[best];
        pl->p[best] = tmp;
    }
}

/* Whether the row passes the plan's predicates from the first-th on. */
static bool matches(const table *t, size_t row, const plan *pl, int first)
{
    for (int i = first; i < pl->n; i++) {
        const pred *p = &pl->p[i];
        if (p->coded) {
            uint16_t c = t->codes[p->col][row];
            bool in = false;
            for (int k = 0; k < p->nv; k++)
                in |= c == p->codes[k];
            if (in != (p->op == P_EQ || p->op == P_IN))
                return false;
            continue;
        }
        if (p->bits != NULL) {
            if (!(p->bits[row >> 3] & (1u << (row & 7))))
                return false;
            continue;
        }
        const lv *v = &t->cols[p->col][row];
        if (p->hashed) {
            uint32_t h = t->hashes[p->col][row];
            bool in = false;
            for (int k = 0; !in && k < p->nv; k++)
                in = h == p->hashes[k] && lv_eq(v, &p->v[k]);
            if (!in)
                return false;
            continue;
        }
        bool ok;
        switch (p->op) {
        case P_EQ: ok = lv_eq(v, &p->v[0]); break;
        case P_NE: ok = !lv_eq(v, &p->v[0]); break;
        case P_IN: ok = in_list(v, p); break;
        case P_NIN: ok = !in_list(v, p); break;
        case P_REGEX:
            ok = v->type == LV_STR &&
                 (p->icase ? strcasestr(v->u.s, p->literal) : strstr(v->u.s, p->literal)) != NULL;
            break;
        case P_EXISTS: ok = !v->missing == p->v[0].u.b; break;
        default: ok = range_ok(v, p); break;
        }
        if (!ok)
            return false;
    }
    return true;
}

typedef struct {
    const table *t;
    const plan *pl;
} order;

/* Compares rows *a and *b (indices) in the plan's sort order. */
static int row_cmp(const void *a, const void *b, void *arg)
{
    const order *o = arg;
    size_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    for (int i = 0; i < o->pl->nsort; i++) {
        const lv *col = o->t->cols[o->pl->sort_col[i]];
        int c = lv_cmp(&col[x], &col[y]);
        if (c != 0)
            return c * o->pl->sort_dir[i];
    }
    return 0;
}

/* Keeps the k first rows in sort order in a max-heap (the last of them on top). */
static void heap_sift_down(uint32_t *h, size_t n, size_t i, order *o)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && row_cmp(&h[l], &h[m], o) > 0)
            m = l;
        if (r < n && row_cmp(&h[r], &h[m], o) > 0)
            m = r;
        if (m == i)
            return;
        uint32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(uint32_t *h, size_t *n, uint32_t row, order *o)
{
    size_t i = (*n)++;
    h[i] = row;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (row_cmp(&h[i], &h[parent], o) <= 0)
            break;
        uint32_t t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

/* Reads the page's documents that have no JSON in the copy (columns_only) from the
 * database by _id, renders them into slots and keeps their JSON in the ring. */
static int fetch_missing(td_listindex *ix, mongoc_client_t *c, cJSON **slots, const bson_oid_t *ids,
                         const size_t *pos, size_t n)
{
    int rc = TD_OK;
    for (size_t k = 0; rc == TD_OK && k < n; k++) {
        char hex[25];
        bson_oid_to_string(&ids[k], hex);
        bson_t filter = BSON_INITIALIZER, doc;
        if (ix->opts.string_ids)
            BSON_APPEND_UTF8(&filter, "_id", hex);
        else
            BSON_APPEND_OID(&filter, "_id", &ids[k]);
        bson_init(&doc);
        rc = td_store_find_one(c, ix->coll, &filter, &doc);
        bson_destroy(&filter);
        if (rc == TD_ENOTFOUND) { /* gone meanwhile: not on the page */
            bson_destroy(&doc);
            rc = TD_OK;
            continue;
        }
        cJSON *shown = rc == TD_OK ? ix->render(&doc, NULL) : NULL;
        char *json = shown != NULL ? cJSON_PrintUnformatted(shown) : NULL;
        cJSON_Delete(shown);
        bson_destroy(&doc);
        if (rc != TD_OK)
            break;
        if (json == NULL) {
            rc = TD_ENOMEM;
            break;
        }
        slots[pos[k]] = cJSON_CreateRaw(json);
        pthread_rwlock_rdlock(&ix->lock);
        table *t = &ix->t;
        uint32_t slot = t->nslots > 0 ? *table_slot(t, &ids[k]) : 0;
        pthread_mutex_lock(&ix->json_mu);
        if (slot != 0 && t->rows[slot - 1].json == NULL) {
            json_keep(t, slot - 1, json);
            json = NULL;
        }
        pthread_mutex_unlock(&ix->json_mu);
        pthread_rwlock_unlock(&ix->lock);
        free(json);
    }
    return rc;
}

static int select_rows(td_listindex *ix, mongoc_client_t *c, const td_list *l, cJSON **items,
                       int64_t *total);

int td_listindex_select(td_listindex *ix, const td_list *l, cJSON **items, int64_t *total)
{
    return select_rows(ix, NULL, l, items, total);
}

/* td_listindex_select; c (may be NULL) reads what a columns_only copy has no JSON of. */
static int select_rows(td_listindex *ix, mongoc_client_t *c, const td_list *l, cJSON **items,
                       int64_t *total)
{
    *items = NULL;
    *total = 0;
    plan *pl = malloc(sizeof *pl); /* add_pred clears each predicate it hands out */
    if (pl == NULL)
        return TD_ENOMEM;
    pl->n = pl->nsort = 0;
    if (compile_filter(ix, pl, &l->filter) != TD_OK || compile_sort(ix, pl, &l->sort) != TD_OK) {
        plan_free(pl);
        free(pl);
        return TD_EINVAL;
    }
    int rc = TD_OK;
    int64_t skip = (l->page - 1) * l->limit;
    pthread_rwlock_rdlock(&ix->lock);
    const table *t = &ix->t;
    resolve_codes(t, pl);
    order o = {t, pl};
    size_t k = (size_t)(skip + l->limit);
    if (k > t->n)
        k = t->n;
    uint32_t *heap = malloc((k + 1) * sizeof *heap);
    size_t nh = 0, npage = 0, nmiss = 0;
    int64_t count = 0;
    cJSON **slots = NULL;
    bson_oid_t *miss_ids = NULL;
    size_t *miss_pos = NULL;
    if (heap == NULL) {
        rc = TD_ENOMEM;
    } else {
        /* One pass: count the matches, keep the first k of them in sort order. A
         * first predicate decided by codes is tested in a tight loop over its
         * column, the others only for the rows that pass it. */
        const pred *p0 = pl->n > 0 && pl->p[0].coded && pl->p[0].nv == 1 ? &pl->p[0] : NULL;
        const uint16_t *c0 = p0 != NULL ? t->codes[p0->col] : NULL;
        uint16_t want = p0 != NULL ? p0->codes[0] : 0;
        bool eq0 = p0 != NULL && (p0->op == P_EQ || p0->op == P_IN);
        /* Rows sit in the order they were written, about that of createdAt: for a
         * descending first sort key the rows that end up on the page come first
         * from the end, and most others are turned down by one comparison. The
         * order is total (_id last), so the direction never changes the answer. */
        bool backwards = pl->nsort > 0 && pl->sort_dir[0] < 0;
        bool any_gone = t->ngone > 0;
        for (size_t j = 0; j < t->n; j++) {
            size_t i = backwards ? t->n - 1 - j : j;
            if (any_gone && t->rows[i].gone)
                continue;
            if (c0 != NULL) {
                if ((c0[i] == want) != eq0 || !matches(t, i, pl, 1))
                    continue;
            } else if (!matches(t, i, pl, 0)) {
                continue;
            }
            count++;
            if (k == 0)
                continue;
            uint32_t r = (uint32_t)i;
            if (nh < k) {
                heap_push(heap, &nh, r, &o);
            } else if (row_cmp(&r, &heap[0], &o) < 0) {
                heap[0] = r;
                heap_sift_down(heap, nh, 0, &o);
            }
        }
        qsort_r(heap, nh, sizeof *heap, row_cmp, &o);
        /* The documents as printed when they were put, spliced in verbatim; in a
         * columns_only copy those still held, the others read below. */
        npage = nh > (size_t)skip ? nh - (size_t)skip : 0;
        slots = calloc(npage + 1, sizeof(cJSON *));
        miss_ids = malloc((npage + 1) * sizeof *miss_ids);
        miss_pos = malloc((npage + 1) * sizeof *miss_pos);
        if (slots == NULL || miss_ids == NULL || miss_pos == NULL) {
            rc = TD_ENOMEM;
        } else {
            if (ix->opts.columns_only)
                pthread_mutex_lock(&ix->json_mu);
            for (size_t k = 0; k < npage; k++) {
                uint32_t r = heap[(size_t)skip + k];
                if (t->rows[r].json != NULL) {
                    slots[k] = cJSON_CreateRaw(t->rows[r].json);
                } else {
                    bson_oid_copy(row_id(t, r), &miss_ids[nmiss]);
                    miss_pos[nmiss++] = k;
                }
            }
            if (ix->opts.columns_only)
                pthread_mutex_unlock(&ix->json_mu);
        }
        *total = count;
    }
    pthread_rwlock_unlock(&ix->lock);
    free(heap);
    if (rc == TD_OK && nmiss > 0)
        rc = c != NULL ? fetch_missing(ix, c, slots, miss_ids, miss_pos, nmiss) : TD_EUNAVAIL;
    cJSON *arr = rc == TD_OK ? cJSON_CreateArray() : NULL;
    if (rc == TD_OK && arr == NULL)
        rc = TD_ENOMEM;
    for (size_t j = 0; slots != NULL && j < npage; j++) {
        if (arr != NULL && slots[j] != NULL)
            cJSON_AddItemToArray(arr, slots[j]);
        else
            cJSON_Delete(slots[j]);
    }
    free(slots);
    free(miss_ids);
    free(miss_pos);
    *items = arr;
    if (rc != TD_OK)
        *total = 0;
    plan_free(pl);
    free(pl);
    return rc;
}

/* Logs when the copy stops answering (and why: the database answers meanwhile)
 * and when it answers again; once per change, not per request. */
static void note_why_not(td_listindex *ix, int rc)
{
    int before = __atomic_exchange_n(&ix->why_not, rc, __ATOMIC_ACQ_REL);
    if (before == rc)
        return;
    if (rc == TD_OK)
        td_info("list copy of %s answers again", ix->coll);
    else
        td_info("list copy of %s cannot answer (%s): lists come from the database", ix->coll,
                __atomic_load_n(&ix->need_reload, __ATOMIC_ACQUIRE) ? "reloading: lost track"
                                                                    : td_strerror(rc));
}

/* Whether the copy may answer now, after catching up with the other daemons.
 * TD_EAGAIN during the first load (the caller retries later, see listindex.h).
 * With degraded (not NULL) a loaded copy that cannot catch up because Redis is
 * unreachable (or its own writes are not yet announced) still answers, with
 * *degraded set; else, and while reloading after Redis lost track, TD_EUNAVAIL. */
static int ready(td_listindex *ix, mongoc_client_t *c, bool *degraded)
{
    bool loaded = __atomic_load_n(&ix->loaded, __ATOMIC_ACQUIRE);
    if (!loaded && __atomic_load_n(&ix->loading, __ATOMIC_ACQUIRE))
        return TD_EAGAIN;
    if (!loaded || __atomic_load_n(&ix->over, __ATOMIC_ACQUIRE)) {
        note_why_not(ix, TD_EUNAVAIL);
        return TD_EUNAVAIL;
    }
    int rc = TD_OK;
    if (__atomic_load_n(&ix->need_reload, __ATOMIC_ACQUIRE)) {
        rc = TD_EIO; /* reloading after Redis lost track: the database answers */
    } else {
        flush_pending(ix);
        pthread_mutex_lock(&ix->pend_mu);
        bool unannounced = ix->npending > 0 || ix->overflow;
        pthread_mutex_unlock(&ix->pend_mu);
        /* the others cannot see our writes yet: neither can we trust them */
        rc = unannounced ? TD_EUNAVAIL : catch_up(ix, c);
    }
    if (rc == TD_ENOMEM)
        return rc;
    if (rc == TD_EUNAVAIL && degraded != NULL) { /* Redis (or MongoDB) unreachable */
        *degraded = true;
        return TD_OK;
    }
    note_why_not(ix, rc);
    return rc == TD_OK ? TD_OK : TD_EUNAVAIL;
}

int td_listindex_query(td_listindex *ix, mongoc_client_t *c, const td_list *l, cJSON **items,
                       int64_t *total)
{
    return td_listindex_query_degraded(ix, c, l, items, total, NULL);
}

int td_listindex_query_degraded(td_listindex *ix, mongoc_client_t *c, const td_list *l,
                                cJSON **items, int64_t *total, bool *degraded)
{
    *items = NULL;
    *total = 0;
    if (degraded != NULL)
        *degraded = false;
    int rc = ready(ix, c, degraded);
    return rc == TD_OK ? select_rows(ix, c, l, items, total) : rc;
}

int td_listindex_ext_read(td_listindex *ix, mongoc_client_t *c,
                          void (*fn)(const void *ext, void *arg), void *arg)
{
    int rc = ready(ix, c, NULL);
    if (rc != TD_OK)
        return rc;
    pthread_rwlock_rdlock(&ix->lock);
    if (ix->t.ext != NULL)
        fn(ix->t.ext, arg);
    else
        rc = TD_EINVAL;
    pthread_rwlock_unlock(&ix->lock);
    return rc;
}

int td_listindex_get(td_listindex *ix, mongoc_client_t *c, const bson_oid_t *id, bson_t *out)
{
    if (ix->opts.columns_only)
        return TD_EUNAVAIL; /* no documents kept: the database answers by _id */
    int rc = ready(ix, c, NULL);
    if (rc != TD_OK)
        return rc == TD_EAGAIN ? TD_EUNAVAIL : rc;
    pthread_rwlock_rdlock(&ix->lock);
    table *t = &ix->t;
    uint32_t slot = t->nslots > 0 ? *table_slot(t, id) : 0;
    if (slot != 0 && t->rows[slot - 1].gone)
        slot = 0;
    if (slot != 0)
        bson_copy_to(t->rows[slot - 1].doc, out);
    pthread_rwlock_unlock(&ix->lock);
    return slot != 0 ? TD_OK : TD_ENOTFOUND;
}
