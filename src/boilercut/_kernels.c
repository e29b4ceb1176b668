/* Compiled loops of boilercut's scoring: drop-ins for numpy steps, the same numbers.

   fast_tfidf finds the char_wb n-grams and word tokens of a batch with numpy passes over
   its code points, looks them up in open-addressing hash tables (_KeyTable) and sorts the
   (row, column) pairs into counts (sparse_entries.count_entries). On a page of 28 lines
   that is about 150 numpy calls, each with its fixed cost. Here the same work is one loop
   over the code points per feature part: it finds the same terms, probes the same tables
   and writes the same entries (row-major, columns ascending within a row, each
   (row, column) once with its count), which are integers: equal, not merely close
   (char_wb_entries, word_entries). Scoring goes one step further (char_wb_dot, word_dot):
   each row's counts are weighted (TF-IDF) and multiplied by the weights as the row ends,
   with the floating-point operations of numpy's and scipy's steps in their order, so the
   scores are bit for bit those of the numpy path (tests/test_kernels.py).

   The other loops: the per-line counts of the shape features (line_stats), word counts
   (word_counts), the TF-IDF product of given entries (tfidf_dot), the site pass's line
   hashes (line_hashes), the row operations of page_rows.PageRows (window_mean,
   shift_rows), the vocabulary's token hashes (segment_hashes) and a test for lone
   surrogates (has_surrogates).

   Only the buffer protocol is used (no numpy headers): the caller passes C-contiguous
   arrays of the stated types and output arrays large enough for every entry. The GIL is
   held throughout: the caller's scratch arrays are then never shared by two threads.
   Compiled without fused multiply-adds (setup.py), which would round differently. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

/* Fibonacci hashing, as _KeyTable._home: the top bits of key * multiplier. */
static const uint64_t SLOT_MULTIPLIER = 0x9E3779B97F4A7C15ULL;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

/* A _KeyTable's slots with key and value side by side (fast_tfidf._slots), so that a
   probe reads one cache line instead of one in each of two arrays; for the word tokens,
   `extra` holds the token's unigram column. */
typedef struct {
    uint64_t key;
    int32_t value;
    int32_t extra;
} Slot;

typedef struct {
    const Slot *slots;
    Py_ssize_t size;
    unsigned shift;
    uint64_t empty;
} KeyTable;

static inline Py_ssize_t home(const KeyTable *t, uint64_t query)
{
    return (Py_ssize_t)((query * SLOT_MULTIPLIER) >> t->shift);
}

/* _KeyTable.get for one query: linear probing from the home slot until the key or an
   empty slot (the table ends with one, so the walk stays inside it). The slot found, or
   NULL. */
static inline const Slot *table_find(const KeyTable *t, uint64_t query)
{
    const Slot *slot = t->slots + home(t, query);
    for (;;) {
        if (slot->key == query)
            return slot->key == t->empty ? NULL : slot;
        if (slot->key == t->empty)
            return NULL;
        slot++;
    }
}

static inline int32_t table_get(const KeyTable *t, uint64_t query)
{
    const Slot *slot = table_find(t, query);
    return slot ? slot->value : -1;
}

/* A growable scratch array for sorting one row's columns. */
typedef struct {
    int64_t *data;
    Py_ssize_t capacity;
} Scratch;

static int scratch_reserve(Scratch *s, Py_ssize_t n)
{
    if (n <= s->capacity)
        return 0;
    Py_ssize_t capacity = s->capacity ? s->capacity : 1024;
    while (capacity < n)
        capacity *= 2;
    int64_t *data = PyMem_Realloc(s->data, (size_t)capacity * sizeof(int64_t));
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->data = data;
    s->capacity = capacity;
    return 0;
}

/* Sort a[0..m) (values below 2^bits) ascending: insertion sort for a few, else an LSD
   radix sort. A row holds about a hundred terms, so its digits are small (64 buckets for
   fewer than 256 values, 256 for more): the buckets cost less to clear and sum than
   the values to move. One pass counts every digit. */
static int sort_columns(int64_t *a, Py_ssize_t m, int bits, Scratch *scratch)
{
    if (m <= 32) {
        for (Py_ssize_t i = 1; i < m; i++) {
            int64_t v = a[i];
            Py_ssize_t j = i;
            while (j > 0 && a[j - 1] > v) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return 0;
    }
    if (scratch_reserve(scratch, m) < 0)
        return -1;
    int digit = m < 256 ? 6 : 8;
    int passes = (bits + digit - 1) / digit;
    if (passes < 1)
        passes = 1;
    if (passes > 8) {
        PyErr_SetString(PyExc_ValueError, "_kernels: column numbers too large to sort");
        return -1;
    }
    const Py_ssize_t buckets = (Py_ssize_t)1 << digit, mask = buckets - 1;
    uint32_t count[8][256];
    memset(count, 0, sizeof(count[0]) * (size_t)passes);
    for (Py_ssize_t i = 0; i < m; i++)
        for (int p = 0; p < passes; p++)
            count[p][(a[i] >> (p * digit)) & mask]++;
    int64_t *from = a, *to = scratch->data;
    for (int p = 0; p < passes; p++) {
        uint32_t total = 0;
        for (Py_ssize_t b = 0; b < buckets; b++) {
            uint32_t c = count[p][b];
            count[p][b] = total;
            total += c;
        }
        for (Py_ssize_t i = 0; i < m; i++)
            to[count[p][(from[i] >> (p * digit)) & mask]++] = from[i];
        int64_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != a)
        memcpy(a, from, (size_t)m * sizeof(int64_t));
    return 0;
}

/* The TF-IDF weighting of a row's counts and its product with the weights, done as each
   row ends (the *_dot loops) instead of writing the batch's entries for tfidf_dot: the
   same operations in the same order, on the row's own few hundred values, which stay in
   the cache (the entries of a 2,000-line batch are megabytes written, then read twice). */
typedef struct {
    const float *tf;        /* tf[count]: the term frequency as weighted, numpy's own figures */
    Py_ssize_t n_tf;        /* counts up to n_tf - 1; a larger one stops the loop (too_many) */
    const double *idf;      /* float64 idf, or */
    const float *idf32;     /* float32 idf, or neither */
    Py_ssize_t n_idf;
    const double *weights;  /* (columns, m) */
    Py_ssize_t m, n_weight_rows;
    double *out;            /* (rows, m), zeros */
    float *value;           /* the row's values */
    Py_ssize_t value_capacity;
    int too_many;
} Dot;

/* The entries being written: one row's columns are appended at col[nnz..], then sorted
   and counted in place by end_row; with `dot`, weighted and multiplied instead, and the
   next row's columns start again at col[0]. */
typedef struct {
    int64_t *row, *col, *indptr;
    float *value;
    Py_ssize_t capacity, nnz, row_start, n_rows;
    int bits;
    Scratch scratch;
    Dot *dot;
    int64_t *own_col;  /* dot: the columns' buffer, allocated here */
} Output;

static inline int emit(Output *out, int64_t col)
{
    if (out->nnz >= out->capacity) {
        PyErr_SetString(PyExc_ValueError, "_kernels: output arrays too small for the batch's entries");
        return -1;
    }
    out->col[out->nnz++] = col;
    if (out->dot != NULL && col >= 0 && col < out->dot->n_weight_rows) {
        /* The column's weights are read when the row ends, a few hundred probes later:
           fetched now, they are in the cache by then (a row's columns are scattered over
           megabytes of weights). */
        const double *x = out->dot->weights + col * out->dot->m;
        PREFETCH(x);
        if (out->dot->m > 8)
            PREFETCH(x + out->dot->m - 1);
    }
    return 0;
}

/* tfidf_dot's arithmetic for one row: the m distinct columns cols[] and their counts
   (d->value, as counts) -> tf, times idf, over the row's L2 norm, times the weights, added
   to the row's out. */
static int dot_row(Dot *d, Py_ssize_t r, const int64_t *cols, Py_ssize_t m)
{
    float *value = d->value;
    for (Py_ssize_t e = 0; e < m; e++) {
        if (cols[e] < 0 || cols[e] >= d->n_weight_rows || ((d->idf || d->idf32) && cols[e] >= d->n_idf)) {
            PyErr_SetString(PyExc_ValueError, "_kernels: a column beyond the weights or idf");
            return -1;
        }
        if (d->idf)
            value[e] = (float)((double)value[e] * d->idf[cols[e]]);
        else if (d->idf32)
            value[e] = value[e] * d->idf32[cols[e]];
    }
    double sum = 0.0;
    for (Py_ssize_t e = 0; e < m; e++) {
        float square = value[e] * value[e];
        sum += (double)square;
    }
    double norm = sum == 0.0 ? 1.0 : sqrt(sum);
    double *y = d->out + r * d->m;
    for (Py_ssize_t e = 0; e < m; e++) {
        double factor = (double)(float)((double)value[e] / norm);
        const double *x = d->weights + cols[e] * d->m;
        for (Py_ssize_t k = 0; k < d->m; k++)
            y[k] += factor * x[k];
    }
    return 0;
}

/* Close row r: sort its columns, keep each once with its count (or, with `dot`, add the
   row's product to its out). */
static int end_row(Output *out, Py_ssize_t r)
{
    Py_ssize_t start = out->row_start, m = out->nnz - start;
    int64_t *cols = out->col + start;
    if (m > 1 && sort_columns(cols, m, out->bits, &out->scratch) < 0)
        return -1;
    if (out->dot != NULL) {
        Dot *d = out->dot;
        if (m > d->value_capacity) {
            float *value = PyMem_Realloc(d->value, (size_t)m * sizeof(float));
            if (value == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            d->value = value;
            d->value_capacity = m;
        }
        Py_ssize_t w = 0;
        for (Py_ssize_t i = 0; i < m; w++) {
            Py_ssize_t j = i + 1;
            while (j < m && cols[j] == cols[i])
                j++;
            if (j - i >= d->n_tf) {  /* a count beyond the table: the caller's other path */
                d->too_many = 1;
                return -1;
            }
            cols[w] = cols[i];
            d->value[w] = d->tf[j - i];
            i = j;
        }
        if (r < out->n_rows && dot_row(d, r, cols, w) < 0)
            return -1;
        out->nnz = out->row_start = 0;
        return 0;
    }
    Py_ssize_t w = 0;
    for (Py_ssize_t i = 0; i < m; w++) {
        Py_ssize_t j = i + 1;
        while (j < m && cols[j] == cols[i])
            j++;
        cols[w] = cols[i];
        out->value[start + w] = (float)(j - i);
        out->row[start + w] = r;
        i = j;
    }
    out->nnz = start + w;
    out->row_start = out->nnz;
    if (r + 1 <= out->n_rows)
        out->indptr[r + 1] = out->nnz;
    return 0;
}

static int bit_length(Py_ssize_t v)
{
    int bits = 0;
    while (v > 0) {
        bits++;
        v >>= 1;
    }
    return bits;
}

/* Buffers, checked for size and item size. */
typedef struct {
    Py_buffer views[16];
    int n;
} Views;

static void release(Views *v)
{
    for (int i = 0; i < v->n; i++)
        PyBuffer_Release(&v->views[i]);
    v->n = 0;
}

static void *view(Views *v, PyObject *obj, Py_ssize_t itemsize, int writable, const char *name, Py_ssize_t *length)
{
    Py_buffer *b = &v->views[v->n];
    if (PyObject_GetBuffer(obj, b, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    v->n++;
    if (b->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "_kernels: %s has items of %zd bytes, %zd expected", name, b->itemsize, itemsize);
        return NULL;
    }
    if (length != NULL)
        *length = b->len / itemsize;
    return b->buf;
}

/* A text of the BMP alone: a str read in place (its 1- or 2-byte storage), or a buffer
   of UTF-16 code units. A str stored 4 bytes a character holds a code point above the
   BMP: the caller then takes its other path. */
typedef struct {
    int kind;  /* bytes per code unit: 1 or 2 */
    const void *data;
    Py_ssize_t length;
} BmpText;

/* 0: t is set; 1: text is a str with code points above the BMP; -1: an error. */
static int bmp_text_from(Views *v, PyObject *text, BmpText *t)
{
    if (PyUnicode_Check(text)) {
        if (PyUnicode_READY(text) < 0)
            return -1;
        int kind = PyUnicode_KIND(text);
        if (kind == PyUnicode_4BYTE_KIND)
            return 1;
        t->kind = kind == PyUnicode_1BYTE_KIND ? 1 : 2;
        t->data = PyUnicode_DATA(text);
        t->length = PyUnicode_GET_LENGTH(text);
        return 0;
    }
    t->kind = 2;
    t->data = view(v, text, 2, 0, "code units", &t->length);
    return t->data == NULL ? -1 : 0;
}

static inline uint16_t bmp_unit(const BmpText *t, Py_ssize_t i)
{
    return t->kind == 1 ? ((const uint8_t *)t->data)[i] : ((const uint16_t *)t->data)[i];
}

/* A table of one entry per code point of the BMP (65,536 items of itemsize bytes), or
   NULL with an error set. */
static const void *bmp_table(Views *v, PyObject *obj, Py_ssize_t itemsize, const char *name)
{
    Py_ssize_t n;
    const void *table = view(v, obj, itemsize, 0, name, &n);
    if (table != NULL && n != 0x10000) {
        PyErr_Format(PyExc_ValueError, "_kernels: %s has %zd entries, not one per code point of the BMP", name, n);
        return NULL;
    }
    return table;
}

static int table_from(Views *v, PyObject *spec, KeyTable *t)
{
    PyObject *slots;
    unsigned long long empty;
    unsigned int shift;
    if (!PyArg_ParseTuple(spec, "OIK", &slots, &shift, &empty))
        return -1;
    Py_ssize_t n_slots;
    t->slots = view(v, slots, sizeof(Slot), 0, "table slots", &n_slots);
    if (t->slots == NULL)
        return -1;
    if (n_slots == 0 || shift > 64 || shift < 1 || (n_slots - 1) >> (64 - shift) == 0) {
        PyErr_SetString(PyExc_ValueError, "_kernels: malformed key table");
        return -1;
    }
    t->size = n_slots;
    t->shift = shift;
    t->empty = (uint64_t)empty;
    return 0;
}

static int output_from(Views *v, PyObject *row, PyObject *col, PyObject *value, PyObject *indptr,
                       Py_ssize_t n_rows, Py_ssize_t n_cols, Output *out)
{
    Py_ssize_t n_row, n_col, n_value, n_indptr;
    memset(out, 0, sizeof(*out));
    if ((out->row = view(v, row, 8, 1, "row", &n_row)) == NULL
        || (out->col = view(v, col, 8, 1, "col", &n_col)) == NULL
        || (out->value = view(v, value, 4, 1, "value", &n_value)) == NULL
        || (out->indptr = view(v, indptr, 8, 1, "indptr", &n_indptr)) == NULL)
        return -1;
    if (n_row != n_col || n_value != n_col || n_indptr != n_rows + 1) {
        PyErr_SetString(PyExc_ValueError, "_kernels: output arrays of mismatched lengths");
        return -1;
    }
    out->capacity = n_col;
    out->n_rows = n_rows;
    out->bits = bit_length(n_cols > 1 ? n_cols - 1 : 1);
    out->indptr[0] = 0;
    return 0;
}

/* Close the last row and any rows after it (a batch whose text ends before its last
   lines, which cannot happen for joined lines, still gets a full indptr). */
static int finish(Output *out, Py_ssize_t row)
{
    if (end_row(out, row) < 0)
        return -1;
    if (out->dot == NULL)
        for (Py_ssize_t r = row + 1; r < out->n_rows; r++)
            out->indptr[r + 1] = out->nnz;
    return 0;
}

/* The idf of a Dot: float64 (the product in float64, rounded to float32) or float32 (the
   product in float32), as numpy multiplies float32 values by either; None: no idf. */
static int idf_from(Views *v, PyObject *idf_obj, Dot *d)
{
    if (idf_obj == Py_None)
        return 0;
    Py_buffer *b = &v->views[v->n];
    if (PyObject_GetBuffer(idf_obj, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    v->n++;
    if (b->itemsize == 8 && b->format && strcmp(b->format, "d") == 0)
        d->idf = b->buf;
    else if (b->itemsize == 4 && b->format && strcmp(b->format, "f") == 0)
        d->idf32 = b->buf;
    else {
        PyErr_SetString(PyExc_TypeError, "_kernels: idf must be float64 or float32");
        return -1;
    }
    d->n_idf = b->len / b->itemsize;
    return 0;
}

/* An Output for the *_dot loops, from their (tf, idf, weights, out) arguments: room for
   `capacity` columns of one row. Returns 0, or -1 with an error set. */
static int dot_output_from(Views *v, PyObject *tf_obj, PyObject *idf_obj, PyObject *weights_obj, PyObject *out_obj,
                           Py_ssize_t capacity, Py_ssize_t n_rows, Py_ssize_t n_cols, Output *out, Dot *d)
{
    memset(out, 0, sizeof(*out));
    memset(d, 0, sizeof(*d));
    Py_ssize_t n_weights, n_out;
    if ((d->tf = view(v, tf_obj, 4, 0, "tf", &d->n_tf)) == NULL)
        return -1;
    if (idf_from(v, idf_obj, d) < 0)
        return -1;
    if ((d->weights = view(v, weights_obj, 8, 0, "weights", &n_weights)) == NULL
        || (d->out = view(v, out_obj, 8, 1, "out", &n_out)) == NULL)
        return -1;
    if (n_rows <= 0 || n_out % n_rows != 0 || n_out == 0 || n_weights % (n_out / n_rows) != 0) {
        PyErr_SetString(PyExc_ValueError, "_kernels: weights or out of mismatched shapes");
        return -1;
    }
    d->m = n_out / n_rows;
    d->n_weight_rows = n_weights / d->m;
    out->own_col = PyMem_Malloc((size_t)(capacity > 0 ? capacity : 1) * sizeof(int64_t));
    if (out->own_col == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    out->col = out->own_col;
    out->capacity = capacity;
    out->n_rows = n_rows;
    out->bits = bit_length(n_cols > 1 ? n_cols - 1 : 1);
    out->dot = d;
    return 0;
}

/* What a loop returns: nnz for entries, 0 for a product; -2 when a count was beyond the
   tf table (a product only; no error set); NULL on an error. */
static PyObject *loop_result(Output *out, PyObject *result)
{
    if (out->dot != NULL && out->dot->too_many) {
        Py_XDECREF(result);
        return PyLong_FromLong(-2);
    }
    return result;
}

static void free_output(Output *out)
{
    PyMem_Free(out->scratch.data);
    PyMem_Free(out->own_col);
    if (out->dot != NULL)
        PyMem_Free(out->dot->value);
}

/* How many table probes ahead a slot is prefetched: the tables (MBs) miss the cache on
   most probes, and probes of different terms do not depend on each other. */
#define AHEAD 8

PyDoc_STRVAR(char_wb_entries_doc,
"char_wb_entries(ids, space, newline, min_n, tables, n_rows, n_cols, row, col, value, indptr) -> nnz\n\n"
"The counts of fast_tfidf._CharWbCounts.pairs, as entries. ids: uint64 character id per\n"
"position of the padded batch text; space, newline: uint8 flags per position. Or ids: the\n"
"uint16 UTF-16 code units of a text of the BMP alone, space: (character id, whitespace and\n"
"exception tables), 65,536 entries each, newline: None; then -1 on an exception. tables: one\n"
"(keys, values, shift, empty) per n-gram length from min_n, as _KeyTable holds them.");

/* char_wb_entries, or with `dot` char_wb_dot: the last four arguments are then (tf, idf,
   weights, out). */
static PyObject *char_wb(PyObject *args, int dot)
{
    PyObject *ids_obj, *space_obj, *newline_obj, *tables, *row_obj, *col_obj, *value_obj, *indptr_obj;
    int min_n;
    Py_ssize_t n_rows, n_cols;
    if (!PyArg_ParseTuple(args, "OOOiO!nnOOOO", &ids_obj, &space_obj, &newline_obj, &min_n, &PyTuple_Type, &tables,
                          &n_rows, &n_cols, &row_obj, &col_obj, &value_obj, &indptr_obj))
        return NULL;
    Views v = {.n = 0};
    Output out;
    Dot product;
    memset(&out, 0, sizeof(out));
    KeyTable table[3];
    Py_ssize_t n_ids, n_space, n_newline;
    int n_tables = (int)PyTuple_GET_SIZE(tables), max_n = min_n + n_tables - 1;
    const uint64_t *ids = NULL;  /* the arrays' path; a text of the BMP is read by table */
    const uint8_t *space = NULL, *newline = NULL;
    PyObject *result = NULL;
    uint64_t *own_ids = NULL;  /* made here from a BMP text's code units, a line at a time */
    uint8_t *own_flags = NULL;
    uint64_t *keys = NULL;
    uint8_t *which = NULL;
    /* A text of the BMP: its code units, and per code point of the BMP its character id,
       whitespace, exception (a code point the tables cannot lower alone: answer -1). */
    BmpText units;
    const uint64_t *id_table = NULL;
    const uint8_t *space_table = NULL, *exception = NULL;
    if (PyTuple_Check(space_obj)) {
        PyObject *id_table_obj, *space_table_obj, *exception_obj;
        if (!PyArg_ParseTuple(space_obj, "OOO", &id_table_obj, &space_table_obj, &exception_obj))
            goto done;
        int found = bmp_text_from(&v, ids_obj, &units);
        if (found < 0)
            goto done;
        if (found > 0) {  /* code points above the BMP */
            release(&v);
            return PyLong_FromLong(-1);
        }
        n_ids = n_space = n_newline = units.length;
        id_table = bmp_table(&v, id_table_obj, 8, "id table");
        space_table = id_table ? bmp_table(&v, space_table_obj, 1, "space table") : NULL;
        exception = space_table ? bmp_table(&v, exception_obj, 1, "exception table") : NULL;
        if (exception == NULL)
            goto done;
        own_ids = PyMem_Malloc((size_t)(n_ids + 1) * sizeof(uint64_t));
        own_flags = PyMem_Malloc((size_t)(n_ids + 1));
        if (!own_ids || !own_flags) {
            PyErr_NoMemory();
            goto done;
        }
    } else {
        ids = view(&v, ids_obj, 8, 0, "ids", &n_ids);
        space = ids ? view(&v, space_obj, 1, 0, "space", &n_space) : NULL;
        newline = space ? view(&v, newline_obj, 1, 0, "newline", &n_newline) : NULL;
        if (newline == NULL)
            goto done;
    }
    if (n_space != n_ids || n_newline != n_ids || min_n < 2 || n_tables < 1 || max_n > 4) {
        PyErr_SetString(PyExc_ValueError, "_kernels: char_wb_entries arguments of mismatched lengths or n-gram range");
        goto done;
    }
    for (int k = 0; k < n_tables; k++)
        if (table_from(&v, PyTuple_GET_ITEM(tables, k), &table[k]) < 0)
            goto done;
    if (dot ? dot_output_from(&v, row_obj, col_obj, value_obj, indptr_obj, n_ids * n_tables + 1, n_rows, n_cols,
                              &out, &product) < 0
            : output_from(&v, row_obj, col_obj, value_obj, indptr_obj, n_rows, n_cols, &out) < 0)
        goto done;
    /* Line by line (a window never crosses a line end), so that what a line needs stays
       in the cache: its character ids and whitespace flags, its windows' keys and tables
       (n - min_n), found first so that their slots can be fetched ahead of the probes. */
    keys = PyMem_Malloc((size_t)(n_ids * n_tables + 1) * sizeof(uint64_t));
    which = PyMem_Malloc((size_t)(n_ids * n_tables + 1));
    if (!keys || !which) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t r = 0;
    for (Py_ssize_t i = 0;; i++) {  /* i: where the line starts */
        const uint64_t *line_ids;
        const uint8_t *line_space;
        Py_ssize_t length = 0;
        if (id_table != NULL) {
            for (; i + length < n_ids; length++) {
                uint16_t unit = bmp_unit(&units, i + length);
                if (unit == '\n')
                    break;
                if (exception[unit]) {
                    result = PyLong_FromLong(-1);
                    goto done;
                }
                own_ids[length] = id_table[unit];
                own_flags[length] = space_table[unit];
            }
            line_ids = own_ids;
            line_space = own_flags;
        } else {
            while (i + length < n_ids && !newline[i + length])
                length++;
            line_ids = ids + i;
            line_space = space + i;
        }
        /* The windows starting at each position p, one character longer each: a window of
           length n is an n-gram of a padded word when it holds no whitespace at its inner
           positions, and (n = 2) is not two spaces. Once blocked, every longer one is. */
        Py_ssize_t n_windows = 0;
        for (Py_ssize_t p = 0; p < length; p++) {
            uint64_t key = line_ids[p];
            for (int n = 2; n <= max_n && p + n <= length; n++) {
                Py_ssize_t last = p + n - 1;
                if (n > 2 && line_space[last - 1])
                    break;
                key = (key << 16) | line_ids[last];
                if (n == 2 && line_space[p] && line_space[last])
                    continue;
                if (n < min_n)
                    continue;
                keys[n_windows] = key;
                which[n_windows++] = (uint8_t)(n - min_n);
            }
        }
        /* The line's entries: each window's column, if it is a vocabulary n-gram. */
        for (Py_ssize_t w = 0; w < n_windows && w < AHEAD; w++)
            PREFETCH(table[which[w]].slots + home(&table[which[w]], keys[w]));
        for (Py_ssize_t w = 0; w < n_windows; w++) {
            if (w + AHEAD < n_windows)
                PREFETCH(table[which[w + AHEAD]].slots + home(&table[which[w + AHEAD]], keys[w + AHEAD]));
            int32_t c = table_get(&table[which[w]], keys[w]);
            if (c >= 0 && emit(&out, c) < 0)
                goto done;
        }
        i += length;
        if (i >= n_ids)
            break;
        /* a line end closes its row */
        if (end_row(&out, r) < 0)
            goto done;
        if (++r >= n_rows) {
            PyErr_SetString(PyExc_ValueError, "_kernels: more lines in the text than rows");
            goto done;
        }
    }
    if (finish(&out, r) < 0)
        goto done;
    result = PyLong_FromSsize_t(dot ? 0 : out.nnz);
done:  /* errors (result NULL) and success alike */
    result = loop_result(&out, result);
    PyMem_Free(keys);
    PyMem_Free(which);
    PyMem_Free(own_ids);
    PyMem_Free(own_flags);
    free_output(&out);
    release(&v);
    return result;
}

static PyObject *char_wb_entries(PyObject *self, PyObject *args)
{
    return char_wb(args, 0);
}

PyDoc_STRVAR(char_wb_dot_doc,
"char_wb_dot(ids, space, newline, min_n, tables, n_rows, n_cols, tf, idf, weights, out) -> 0 or -2\n\n"
"char_wb_entries' counts weighted and multiplied as tfidf_dot does, row by row, without\n"
"writing the entries: out (float64 (n_rows, m), zeros) += the rows' TF-IDF values times\n"
"weights (float64 (n_cols, m)). tf: float32, tf[count] the term frequency as numpy weighs\n"
"it (1 + log(count) when sublinear); -2 when a row counts a term tf's length or more\n"
"times (out is then partly written), -1 as char_wb_entries.");

static PyObject *char_wb_dot(PyObject *self, PyObject *args)
{
    return char_wb(args, 1);
}

PyDoc_STRVAR(word_entries_doc,
"word_entries(codes, classes, word_bit, hash_base, token_table, token_length, bigram_table,\n"
"             n_tokens, n_rows, n_cols, row, col, value, indptr) -> nnz\n\n"
"The counts of fast_tfidf._WordCounts.pairs, as entries. codes: uint32 normalised code\n"
"points of the joined batch; classes: uint8 class bits. Or codes: the uint16 UTF-16 code\n"
"units of a batch of the BMP alone, and classes: (code table, class table, exception\n"
"flags), 65,536 entries each; then -1 when a unit is an exception. A token is a maximal run of code\n"
"points with word_bit, hashed as _token_hashes hashes it. token_table: slots of token id\n"
"and unigram column; bigram_table: slots of bigram column, or None for unigrams only.");

/* The text of word_entries: normalised code points and class bits, or UTF-16 code units
   of a text of the BMP alone, normalised by table (fast_tfidf._bmp_normalised). */
typedef struct {
    const uint32_t *codes;
    const uint8_t *classes;
    BmpText units;
    int bmp;
    const uint32_t *code_table;
    const uint8_t *class_table;
    const uint8_t *exception;  /* 1 for the code points the tables cannot lower alone */
} Text;

static inline int text_at(const Text *t, Py_ssize_t i, uint32_t *code, uint8_t *classes)
{
    if (t->bmp) {
        uint16_t unit = bmp_unit(&t->units, i);
        if (t->exception[unit])
            return -1;
        *code = t->code_table[unit];
        *classes = t->class_table[unit];
    } else {
        *code = t->codes[i];
        *classes = t->classes[i];
    }
    return 0;
}


/* word_entries, or with `dot` word_dot: the last four arguments are then (tf, idf,
   weights, out). */
static PyObject *word(PyObject *args, int dot)
{
    PyObject *codes_obj, *classes_obj, *token_spec, *length_obj, *bigram_spec;
    PyObject *result = NULL;
    Text text;
    memset(&text, 0, sizeof(text));
    PyObject *row_obj, *col_obj, *value_obj, *indptr_obj;
    unsigned int word_bit;
    unsigned long long base;
    long long n_tokens;
    Py_ssize_t n_rows, n_cols;
    if (!PyArg_ParseTuple(args, "OOIKO!OOLnnOOOO", &codes_obj, &classes_obj, &word_bit, &base, &PyTuple_Type,
                          &token_spec, &length_obj, &bigram_spec, &n_tokens, &n_rows, &n_cols,
                          &row_obj, &col_obj, &value_obj, &indptr_obj))
        return NULL;
    Views v = {.n = 0};
    Output out;
    Dot product;
    memset(&out, 0, sizeof(out));
    KeyTable tokens, bigrams;
    int with_bigrams = bigram_spec != Py_None;
    Py_ssize_t n_codes, n_classes, n_lengths;
    /* Per token of the batch: its hash, length, row, id (or -1), and the columns of its
       unigram and of the bigram it ends (or -1). */
    uint64_t *hash = NULL;
    Py_ssize_t *length = NULL, *row = NULL;
    int32_t *id = NULL, *unigram = NULL, *bigram = NULL;
    if (PyTuple_Check(classes_obj)) {  /* UTF-16 code units of a BMP text, and the tables */
        PyObject *code_table, *class_table, *exceptions;
        if (!PyArg_ParseTuple(classes_obj, "OOO", &code_table, &class_table, &exceptions))
            goto done;
        int found = bmp_text_from(&v, codes_obj, &text.units);
        if (found < 0)
            goto done;
        if (found > 0) {  /* code points above the BMP */
            release(&v);
            return PyLong_FromLong(-1);
        }
        text.bmp = 1;
        n_codes = text.units.length;
        if ((text.code_table = bmp_table(&v, code_table, 4, "code table")) == NULL
            || (text.class_table = bmp_table(&v, class_table, 1, "class table")) == NULL
            || (text.exception = bmp_table(&v, exceptions, 1, "exception table")) == NULL)
            goto done;
        n_classes = n_codes;
    } else if ((text.codes = view(&v, codes_obj, 4, 0, "codes", &n_codes)) == NULL
               || (text.classes = view(&v, classes_obj, 1, 0, "classes", &n_classes)) == NULL) {
        goto done;
    }
    const int64_t *token_length = view(&v, length_obj, 8, 0, "token_length", &n_lengths);
    if (token_length == NULL || table_from(&v, token_spec, &tokens) < 0)
        goto done;
    if (with_bigrams && (!PyTuple_Check(bigram_spec) || table_from(&v, bigram_spec, &bigrams) < 0))
        goto done;
    if (n_classes != n_codes || n_lengths != n_tokens + 1) {
        PyErr_SetString(PyExc_ValueError, "_kernels: word_entries arguments of mismatched lengths");
        goto done;
    }
    if (dot ? dot_output_from(&v, row_obj, col_obj, value_obj, indptr_obj, n_codes + 1, n_rows, n_cols, &out,
                              &product) < 0
            : output_from(&v, row_obj, col_obj, value_obj, indptr_obj, n_rows, n_cols, &out) < 0)
        goto done;
    Py_ssize_t capacity = n_codes / 2 + 1;  /* tokens are separated by a non-word code point */
    hash = PyMem_Malloc((size_t)capacity * sizeof(uint64_t));
    length = PyMem_Malloc((size_t)capacity * sizeof(Py_ssize_t));
    row = PyMem_Malloc((size_t)capacity * sizeof(Py_ssize_t));
    id = PyMem_Malloc((size_t)capacity * sizeof(int32_t));
    unigram = PyMem_Malloc((size_t)capacity * sizeof(int32_t));
    bigram = PyMem_Malloc((size_t)capacity * sizeof(int32_t));
    if (!hash || !length || !row || !id || !unigram || !bigram) {
        PyErr_NoMemory();
        goto done;
    }

    /* The tokens: hash = sum of code[start + k] * base^k modulo 2^64. */
    Py_ssize_t n = 0, r = 0;
    uint32_t code;
    uint8_t classes;
    for (Py_ssize_t i = 0; i < n_codes;) {
        if (text_at(&text, i, &code, &classes) < 0)
            goto not_bmp;
        if (code == '\n') {
            if (++r >= n_rows) {
                PyErr_SetString(PyExc_ValueError, "_kernels: more lines in the text than rows");
                goto done;
            }
            i++;
            continue;
        }
        if (!(classes & word_bit)) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        uint64_t h = 0, power = 1;
        for (;;) {
            h += (uint64_t)code * power;
            power *= (uint64_t)base;
            if (++i >= n_codes)
                break;
            if (text_at(&text, i, &code, &classes) < 0)
                goto not_bmp;
            if (!(classes & word_bit))
                break;
        }
        hash[n] = h;
        length[n] = i - start;
        row[n] = r;
        n++;
    }

    /* Their ids and unigram columns. A hash match of another length is not the token. */
    for (Py_ssize_t t = 0; t < n && t < AHEAD; t++)
        PREFETCH(tokens.slots + home(&tokens, hash[t]));
    for (Py_ssize_t t = 0; t < n; t++) {
        if (t + AHEAD < n)
            PREFETCH(tokens.slots + home(&tokens, hash[t + AHEAD]));
        const Slot *slot = table_find(&tokens, hash[t]);
        int32_t found = slot ? slot->value : -1;
        if (found >= n_tokens) {
            PyErr_SetString(PyExc_ValueError, "_kernels: token id out of range");
            goto done;
        }
        if (found >= 0 && token_length[found] != length[t])
            found = -1;
        id[t] = found;
        unigram[t] = found >= 0 ? slot->extra : -1;
    }

    /* The bigrams: two known tokens side by side on one line, the key of their ids. The
       keys are reused from `hash`, the pairs' token numbers from `length`. */
    Py_ssize_t n_pairs = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        bigram[t] = -1;
        if (with_bigrams && t > 0 && row[t] == row[t - 1] && id[t - 1] >= 0 && id[t] >= 0) {
            hash[n_pairs] = (uint64_t)((int64_t)id[t - 1] * n_tokens + id[t]);
            length[n_pairs++] = t;
        }
    }
    for (Py_ssize_t k = 0; k < n_pairs && k < AHEAD; k++)
        PREFETCH(bigrams.slots + home(&bigrams, hash[k]));
    for (Py_ssize_t k = 0; k < n_pairs; k++) {
        if (k + AHEAD < n_pairs)
            PREFETCH(bigrams.slots + home(&bigrams, hash[k + AHEAD]));
        bigram[length[k]] = table_get(&bigrams, hash[k]);
    }

    /* The entries, row by row. */
    r = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        while (r < row[t])
            if (end_row(&out, r++) < 0)
                goto done;
        if (unigram[t] >= 0 && emit(&out, unigram[t]) < 0)
            goto done;
        if (bigram[t] >= 0 && emit(&out, bigram[t]) < 0)
            goto done;
    }
    if (finish(&out, r) < 0)
        goto done;
    result = PyLong_FromSsize_t(dot ? 0 : out.nnz);
    goto done;
not_bmp:  /* a code point the tables cannot normalise alone: the caller takes the long way */
    result = PyLong_FromLong(-1);
done:  /* errors (result NULL) and success alike */
    result = loop_result(&out, result);
    PyMem_Free(hash);
    PyMem_Free(length);
    PyMem_Free(row);
    PyMem_Free(id);
    PyMem_Free(unigram);
    PyMem_Free(bigram);
    free_output(&out);
    release(&v);
    return result;
}

static PyObject *word_entries(PyObject *self, PyObject *args)
{
    return word(args, 0);
}

PyDoc_STRVAR(word_dot_doc,
"word_dot(codes, classes, word_bit, hash_base, token_table, token_length, bigram_table,\n"
"         n_tokens, n_rows, n_cols, tf, idf, weights, out) -> 0, -1 or -2\n\n"
"word_entries' counts weighted and multiplied as char_wb_dot does them.");

static PyObject *word_dot(PyObject *self, PyObject *args)
{
    return word(args, 1);
}

/* The per-line counts of line_stats, in this order (line_shape._STAT_NAMES). */
enum {
    N_WORDS, N_TOKENS, TITLECASE, LETTERS, ALNUM_SPACE, DIGITS, UPPERS, QUOTES, GLUED, HAS_LINK,
    HAS_COPYRIGHT, SEPARATORS, PIPES, SPACED_MARKS, UNIT_IN_HEAD, LONGEST_SEGMENT, SEGMENTS,
    ENDS_TERMINAL, ENDS_COLON, ENDS_DIGIT, STARTS_BULLET, STARTS_UPPER, STARTS_PIPE, N_STATS
};

/* The class and mark bits of line_shape (passed in, in this order, so that they are
   defined once). */
enum { B_ALPHA, B_DIGIT, B_UPPER, B_ALNUM, B_SPACE, B_CJK, B_WORD, B_DECIMAL, B_LOWER, B_LOWER_AZ, B_GLUED_UPPER,
       B_QUOTE, B_SEPARATOR, B_LITERAL, B_UNIT, B_NUMBER_PUNCT, N_BITS };

/* A literal mark: its code points, and what must follow it: 0 anything, 1 a \w
   character, -1 no \w character (or the end of the batch). */
typedef struct {
    uint32_t codes[8];
    Py_ssize_t length;
    int follow;
} Literal;

static int literals_from(PyObject *list, Literal *out, int max, int *n)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) > max) {
        PyErr_SetString(PyExc_ValueError, "_kernels: literals must be a short list");
        return -1;
    }
    *n = (int)PyList_GET_SIZE(list);
    for (int k = 0; k < *n; k++) {
        PyObject *text;
        int follow;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, k), "Ui", &text, &follow))
            return -1;
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        if (length < 1 || length > 8) {
            PyErr_SetString(PyExc_ValueError, "_kernels: a literal of 1 to 8 characters");
            return -1;
        }
        for (Py_ssize_t j = 0; j < length; j++)
            out[k].codes[j] = PyUnicode_READ_CHAR(text, j);
        out[k].length = length;
        out[k].follow = follow;
    }
    return 0;
}

static inline int literal_at(const Literal *literal, const uint32_t *codes, const uint16_t *classes,
                             Py_ssize_t n_codes, Py_ssize_t p, unsigned word_bit)
{
    Py_ssize_t end = p + literal->length;
    if (end > n_codes)
        return 0;
    for (Py_ssize_t j = 0; j < literal->length; j++)
        if (codes[p + j] != literal->codes[j])
            return 0;
    if (literal->follow == 0)
        return 1;
    int word_after = end < n_codes && (classes[end] & word_bit);
    return literal->follow > 0 ? word_after : !word_after;
}

PyDoc_STRVAR(line_stats_doc,
"line_stats(codes, classes, starts, lengths, head_chars, bits, terminal, bullets, links, copyright, out)\n"
"    -> 0, or -1 for a text above the BMP given as a str\n\n"
"The per-line counts line_shape.shape_matrix builds its features from, for the stripped\n"
"lines of a batch joined by \"\\n\": codes (uint32) and classes (uint16, class and mark\n"
"bits) of every position, or the text itself (a str) and (class table,), 65,536 uint16;\n"
"each line's start and length (int64). bits: the class and mark\n"
"bits, in _kernels.c's order; terminal: uint32 codes that end a sentence; bullets: int64\n"
"(first << 21 | second) of the two-character bullets; links, copyright: [(literal,\n"
"follow)]. out: int64 (lines, N_STATS), zeros, filled in line_shape._STAT_NAMES order.");

static PyObject *line_stats(PyObject *self, PyObject *args)
{
    PyObject *codes_obj, *classes_obj, *starts_obj, *lengths_obj, *bits_obj, *terminal_obj, *bullets_obj;
    PyObject *links_obj, *copyright_obj, *out_obj;
    Py_ssize_t head_chars;
    if (!PyArg_ParseTuple(args, "OOOOnO!OOOOO", &codes_obj, &classes_obj, &starts_obj, &lengths_obj, &head_chars,
                          &PyTuple_Type, &bits_obj, &terminal_obj, &bullets_obj, &links_obj, &copyright_obj, &out_obj))
        return NULL;
    Views v = {.n = 0};
    unsigned bit[N_BITS];
    Literal links[8], copyright[8];
    int n_links, n_copyright;
    Py_ssize_t n_codes, n_classes, n_lines, n_lengths, n_terminal, n_bullets, n_out;
    if (PyTuple_GET_SIZE(bits_obj) != N_BITS) {
        PyErr_SetString(PyExc_ValueError, "_kernels: line_stats needs every class and mark bit");
        return NULL;
    }
    for (int k = 0; k < N_BITS; k++) {
        bit[k] = (unsigned)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(bits_obj, k));
        if (PyErr_Occurred())
            return NULL;
    }
    if (literals_from(links_obj, links, 8, &n_links) < 0 || literals_from(copyright_obj, copyright, 8, &n_copyright) < 0)
        return NULL;
    const uint32_t *codes;
    const uint16_t *classes;
    uint32_t *own_codes = NULL;  /* made here from a BMP text */
    uint16_t *own_classes = NULL;
    if (PyTuple_Check(classes_obj)) {  /* a text of the BMP, and (the class and mark bits per code point,) */
        PyObject *table_obj;
        BmpText text;
        if (!PyArg_ParseTuple(classes_obj, "O", &table_obj))
            goto fail;
        int found = bmp_text_from(&v, codes_obj, &text);
        if (found < 0)
            goto fail;
        if (found > 0) {  /* code points above the BMP */
            release(&v);
            return PyLong_FromLong(-1);
        }
        const uint16_t *table = bmp_table(&v, table_obj, 2, "class table");
        if (table == NULL)
            goto fail;
        n_codes = n_classes = text.length;
        own_codes = PyMem_Malloc((size_t)(n_codes + 1) * sizeof(uint32_t));
        own_classes = PyMem_Malloc((size_t)(n_codes + 1) * sizeof(uint16_t));
        if (!own_codes || !own_classes) {
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t i = 0; i < n_codes; i++) {
            uint16_t unit = bmp_unit(&text, i);
            own_codes[i] = unit;
            own_classes[i] = table[unit];
        }
        codes = own_codes;
        classes = own_classes;
    } else {
        codes = view(&v, codes_obj, 4, 0, "codes", &n_codes);
        classes = codes ? view(&v, classes_obj, 2, 0, "classes", &n_classes) : NULL;
        if (classes == NULL)
            goto fail;
    }
    const int64_t *starts = view(&v, starts_obj, 8, 0, "starts", &n_lines);
    const int64_t *lengths = starts ? view(&v, lengths_obj, 8, 0, "lengths", &n_lengths) : NULL;
    const uint32_t *terminal = lengths ? view(&v, terminal_obj, 4, 0, "terminal", &n_terminal) : NULL;
    const int64_t *bullets = terminal ? view(&v, bullets_obj, 8, 0, "bullets", &n_bullets) : NULL;
    int64_t *out = bullets ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL)
        goto fail;
    if (n_classes != n_codes || n_lengths != n_lines || n_out != n_lines * N_STATS) {
        PyErr_SetString(PyExc_ValueError, "_kernels: line_stats arguments of mismatched lengths");
        goto fail;
    }
    const unsigned SPACE = bit[B_SPACE], CJK = bit[B_CJK], WORD = bit[B_WORD], UPPER = bit[B_UPPER];
    const unsigned IN_WORD = SPACE | CJK;  /* neither of these: inside a word of count_words */
    const unsigned ALPHA = bit[B_ALPHA], ALNUM_OR_SPACE = bit[B_ALNUM] | SPACE, DIGIT = bit[B_DIGIT];
    const unsigned QUOTE = bit[B_QUOTE], LOWER = bit[B_LOWER_AZ] | bit[B_LOWER], GLUED_UPPER = bit[B_GLUED_UPPER];
    const unsigned LOWER_AZ = bit[B_LOWER_AZ], UNIT = bit[B_UNIT], LITERAL = bit[B_LITERAL];
    const unsigned BEFORE_UNIT = bit[B_DECIMAL] | SPACE | bit[B_NUMBER_PUNCT], SEPARATOR = bit[B_SEPARATOR];
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        Py_ssize_t s = starts[i], length = lengths[i], e = s + length;
        Py_ssize_t h = s + (length < head_chars ? length : head_chars);
        if (s < 0 || length < 0 || e > n_codes || (i > 0 && s <= starts[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "_kernels: line bounds outside the codes");
            goto fail;
        }
        int64_t *o = out + i * N_STATS;
        /* One pass over the line, its counts kept in locals (registers) until the end.
           Words (runs of neither whitespace nor CJK, and each CJK character), str.split()
           tokens and those that start upper-case: where a run begins, as the batch sees it
           (the "\n" between lines is whitespace). In the head: its characters, glued
           words, units, links and copyright marks. Separators: " X " (X a separator mark)
           and " :: ", counted at the space before; "|"s; marks other than "|" between
           whitespace. Segments, split by "|" alone (line_shape._segment_words for a line
           whose marks are not between whitespace): the words of the longest, how many are
           not blank; a word also starts right after a "|". */
        int64_t n_words = 0, n_tokens = 0, titlecase = 0, letters = 0, alnum_space = 0, digits = 0, uppers = 0;
        int64_t quotes = 0, glued = 0, separators = 0, pipes = 0, spaced_marks = 0;
        int64_t segment_words = 0, longest = 0, segments = 0;
        int unit_in_head = 0, has_link = 0, has_copyright = 0, blank = 1, after_pipe = 0;
        unsigned before = s > 0 ? classes[s - 1] : SPACE;
        for (Py_ssize_t p = s; p < e; p++) {
            unsigned c = classes[p];
            uint32_t code = codes[p];
            /* Without branches: word and token starts depend on the text, a branch on
               them is mispredicted at every word's edge. */
            int visible = (c & SPACE) == 0;
            int starts_word = ((c & CJK) != 0) | (visible & ((before & IN_WORD) != 0));
            int starts_token = visible & ((before & SPACE) != 0);
            n_words += starts_word;
            n_tokens += starts_token;
            titlecase += starts_token & ((c & UPPER) != 0);
            before = c;
            if (code == '|') {  /* a segment ends */
                if (!blank) {
                    segments++;
                    if (segment_words > longest)
                        longest = segment_words;
                }
                segment_words = 0;
                blank = 1;
                after_pipe = 1;
            } else {
                segment_words += starts_word | (after_pipe & visible);
                blank &= !visible;
                after_pipe = 0;
            }
            if (p < h) {
                letters += (c & ALPHA) != 0;
                alnum_space += (c & ALNUM_OR_SPACE) != 0;
                digits += (c & DIGIT) != 0;
                uppers += (c & UPPER) != 0;
                quotes += (c & QUOTE) != 0;
                if ((c & LOWER) && p + 2 < n_codes && (classes[p + 1] & GLUED_UPPER) && (classes[p + 2] & LOWER_AZ))
                    glued++;
                if ((c & UNIT) && p >= 1 && (classes[p - 1] & BEFORE_UNIT)
                    && (p + 1 >= n_codes || !(classes[p + 1] & WORD) || p + 1 == h))
                    unit_in_head = 1;
                if (c & LITERAL) {
                    for (int k = 0; k < n_links && !has_link; k++)
                        if (literal_at(&links[k], codes, classes, n_codes, p, WORD))
                            has_link = 1;
                    for (int k = 0; k < n_copyright && !has_copyright; k++)
                        if (literal_at(&copyright[k], codes, classes, n_codes, p, WORD))
                            has_copyright = 1;
                }
            }
            if (c & SPACE) {
                if (code == ' ' && p + 2 < n_codes) {
                    if ((classes[p + 1] & SEPARATOR) && codes[p + 2] == ' ')
                        separators++;
                    else if (codes[p + 1] == ':' && p + 3 < n_codes && codes[p + 2] == ':' && codes[p + 3] == ' ')
                        separators++;
                }
            } else if (c & SEPARATOR) {
                if (code == '|')
                    pipes++;
                else if (p >= 1 && p + 1 < n_codes && (classes[p - 1] & classes[p + 1] & SPACE))
                    spaced_marks++;
            }
        }
        if (!blank) {  /* the last segment */
            segments++;
            if (segment_words > longest)
                longest = segment_words;
        }
        o[N_WORDS] = n_words;
        o[N_TOKENS] = n_tokens;
        o[TITLECASE] = titlecase;
        o[LETTERS] = letters;
        o[ALNUM_SPACE] = alnum_space;
        o[DIGITS] = digits;
        o[UPPERS] = uppers;
        o[QUOTES] = quotes;
        o[GLUED] = glued;
        o[HAS_LINK] = has_link;
        o[HAS_COPYRIGHT] = has_copyright;
        o[SEPARATORS] = separators;
        o[PIPES] = pipes;
        o[SPACED_MARKS] = spaced_marks;
        o[UNIT_IN_HEAD] = unit_in_head;
        if (pipes || separators) {
            o[LONGEST_SEGMENT] = longest;
            o[SEGMENTS] = segments;
        } else {
            o[LONGEST_SEGMENT] = n_words;
            o[SEGMENTS] = 1;
        }
        /* The line's first and last characters (a space for an empty line). */
        uint32_t first = length ? codes[s] : ' ', last = length ? codes[e - 1] : ' ';
        uint32_t second = length > 1 ? codes[s + 1] : 0;
        for (Py_ssize_t k = 0; k < n_terminal; k++)
            if (last == terminal[k])
                o[ENDS_TERMINAL] = 1;
        o[ENDS_COLON] = last == ':';
        o[ENDS_DIGIT] = length && (classes[e - 1] & bit[B_DIGIT]);
        int64_t pair = (int64_t)first << 21 | second;
        for (Py_ssize_t k = 0; k < n_bullets; k++)
            if (pair == bullets[k])
                o[STARTS_BULLET] = 1;
        o[STARTS_UPPER] = length && (classes[s] & UPPER);
        o[STARTS_PIPE] = first == '|';
    }
    PyMem_Free(own_codes);
    PyMem_Free(own_classes);
    release(&v);
    return PyLong_FromLong(0);
fail:
    PyMem_Free(own_codes);
    PyMem_Free(own_classes);
    release(&v);
    return NULL;
}

PyDoc_STRVAR(word_counts_doc,
"word_counts(text, table, space_bit, cjk_bit, starts, lengths, out) -> 0, or -1 for a text above the BMP\n\n"
"line_stats' word count alone (lines.count_words: runs of neither whitespace nor CJK, and\n"
"each CJK character) of each line text[start:start + length]; table: the uint16 class\n"
"bits of every code point of the BMP; out: int64 per line.");

static PyObject *word_counts(PyObject *self, PyObject *args)
{
    PyObject *text_obj, *table_obj, *starts_obj, *lengths_obj, *out_obj;
    unsigned int space_bit, cjk_bit;
    if (!PyArg_ParseTuple(args, "UOIIOOO", &text_obj, &table_obj, &space_bit, &cjk_bit, &starts_obj, &lengths_obj,
                          &out_obj))
        return NULL;
    Views v = {.n = 0};
    BmpText text;
    Py_ssize_t n_lines, n_lengths, n_out;
    int found = bmp_text_from(&v, text_obj, &text);
    if (found != 0) {
        release(&v);
        return found < 0 ? NULL : PyLong_FromLong(-1);
    }
    const uint16_t *table = bmp_table(&v, table_obj, 2, "class table");
    const int64_t *starts = table ? view(&v, starts_obj, 8, 0, "starts", &n_lines) : NULL;
    const int64_t *lengths = starts ? view(&v, lengths_obj, 8, 0, "lengths", &n_lengths) : NULL;
    int64_t *out = lengths ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL)
        goto fail;
    if (n_lengths != n_lines || n_out != n_lines) {
        PyErr_SetString(PyExc_ValueError, "_kernels: word_counts arguments of mismatched lengths");
        goto fail;
    }
    const unsigned SPACE = space_bit, CJK = cjk_bit, IN_WORD = space_bit | cjk_bit;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        Py_ssize_t s = starts[i], e = s + lengths[i];
        if (s < 0 || lengths[i] < 0 || e > text.length) {
            PyErr_SetString(PyExc_ValueError, "_kernels: line bounds outside the text");
            goto fail;
        }
        int64_t words = 0;
        unsigned before = SPACE;
        if (text.kind == 1) {
            const uint8_t *u = text.data;
            for (Py_ssize_t p = s; p < e; p++) {
                unsigned c = table[u[p]];
                words += ((c & CJK) != 0) | (((c & SPACE) == 0) & ((before & IN_WORD) != 0));
                before = c;
            }
        } else {
            const uint16_t *u = text.data;
            for (Py_ssize_t p = s; p < e; p++) {
                unsigned c = table[u[p]];
                words += ((c & CJK) != 0) | (((c & SPACE) == 0) & ((before & IN_WORD) != 0));
                before = c;
            }
        }
        out[i] = words;
    }
    release(&v);
    return PyLong_FromLong(0);
fail:
    release(&v);
    return NULL;
}

PyDoc_STRVAR(tfidf_dot_doc,
"tfidf_dot(col, value, indptr, idf, weights, out)\n\n"
"The rest of fast_tfidf's weighting of counts and the product with the weights:\n"
"value (float32 entries, row-major; sublinear tf already applied; overwritten) times idf[col]\n"
"(float64 or float32, or None), each row divided by its L2 norm, then out (float64 (rows, m),\n"
"zeros) += value[e] * weights[col[e]] (weights float64 (columns, m)). The same operations in the same\n"
"order as numpy's steps (multiply in float64 and round to float32; squares in float32\n"
"summed in float64 in entry order; the quotient rounded to float32) and scipy's\n"
"csr_matvecs (float64 products added in entry order), so the same numbers.");

static PyObject *tfidf_dot(PyObject *self, PyObject *args)
{
    PyObject *col_obj, *value_obj, *indptr_obj, *idf_obj, *weights_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOOOOO", &col_obj, &value_obj, &indptr_obj, &idf_obj, &weights_obj, &out_obj))
        return NULL;
    Views v = {.n = 0};
    Dot d;
    memset(&d, 0, sizeof(d));
    Py_ssize_t n_entries, n_values, n_indptr, n_weights, n_out;
    const int64_t *col = view(&v, col_obj, 8, 0, "col", &n_entries);
    float *value = col ? view(&v, value_obj, 4, 1, "value", &n_values) : NULL;
    const int64_t *indptr = value ? view(&v, indptr_obj, 8, 0, "indptr", &n_indptr) : NULL;
    if (indptr == NULL || idf_from(&v, idf_obj, &d) < 0)
        goto fail;
    d.weights = view(&v, weights_obj, 8, 0, "weights", &n_weights);
    d.out = d.weights ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (d.out == NULL)
        goto fail;
    Py_ssize_t n_rows = n_indptr - 1;
    if (n_values != n_entries || n_rows < 0 || (n_rows == 0 && n_out != 0) || (n_rows > 0 && n_out % n_rows != 0)) {
        PyErr_SetString(PyExc_ValueError, "_kernels: tfidf_dot arguments of mismatched lengths");
        goto fail;
    }
    d.m = n_rows ? n_out / n_rows : 0;
    if (d.m == 0 || n_weights % d.m != 0 || indptr[0] != 0 || indptr[n_rows] != n_entries) {
        if (n_rows == 0)
            goto done;
        PyErr_SetString(PyExc_ValueError, "_kernels: tfidf_dot weights or row pointers do not fit");
        goto fail;
    }
    d.n_weight_rows = n_weights / d.m;
    for (Py_ssize_t r = 0; r < n_rows; r++) {  /* each row as the fused loops weigh a row */
        Py_ssize_t a = indptr[r], b = indptr[r + 1];
        if (a > b || b > n_entries) {
            PyErr_SetString(PyExc_ValueError, "_kernels: tfidf_dot row pointers out of order");
            goto fail;
        }
        d.value = value + a;
        if (dot_row(&d, r, col + a, b - a) < 0)
            goto fail;
    }
done:
    release(&v);
    Py_RETURN_NONE;
fail:
    release(&v);
    return NULL;
}

/* splitmix64's finaliser (line_hash._mix). */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

PyDoc_STRVAR(line_hashes_doc,
"line_hashes(text, lengths, table, seed, special, out) -> 0, or -1 for a text above the BMP\n\n"
"line_hash.line_hashes of the lines joined by \"\\n\" (text, a str) of the given lengths\n"
"(int64): per line, splitmix64 of the sum modulo 2^64 of each normalised code point\n"
"(table: uint32 per code point of the BMP, 0 for one that normalising turns into a space)\n"
"times splitmix64(its position in the normalised line + seed), or 1 for a sum that mixes\n"
"to 0; 0 for a line with no code point left. out: uint64 per line; special: uint8 per\n"
"line, set to 1 where the line holds U+0130 or U+03A3 (the caller hashes those itself).");

static PyObject *line_hashes(PyObject *self, PyObject *args)
{
    PyObject *text_obj, *lengths_obj, *table_obj, *special_obj, *out_obj;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "UOOKOO", &text_obj, &lengths_obj, &table_obj, &seed, &special_obj, &out_obj))
        return NULL;
    Views v = {.n = 0};
    BmpText text;
    Py_ssize_t n_lines, n_special, n_out;
    int found = bmp_text_from(&v, text_obj, &text);
    if (found < 0)
        goto fail;
    if (found > 0) {  /* code points above the BMP: the caller's numpy path */
        release(&v);
        return PyLong_FromLong(-1);
    }
    const int64_t *lengths = view(&v, lengths_obj, 8, 0, "lengths", &n_lines);
    const uint32_t *table = lengths ? bmp_table(&v, table_obj, 4, "table") : NULL;
    uint8_t *special = table ? view(&v, special_obj, 1, 1, "special", &n_special) : NULL;
    uint64_t *out = special ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL)
        goto fail;
    if (n_special != n_lines || n_out != n_lines) {
        PyErr_SetString(PyExc_ValueError, "_kernels: line_hashes arguments of mismatched lengths");
        goto fail;
    }
    Py_ssize_t s = 0;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        Py_ssize_t e = s + lengths[i];
        if (lengths[i] < 0 || e > text.length) {
            PyErr_SetString(PyExc_ValueError, "_kernels: line lengths beyond the text");
            goto fail;
        }
        uint64_t total = 0, position = 0;
        int any = 0, gap = 0, odd = 0;
        for (Py_ssize_t p = s; p < e; p++) {
            uint16_t unit = bmp_unit(&text, p);
            uint32_t code = table[unit];
            odd |= unit == 0x130 || unit == 0x3A3;
            if (code) {
                if (gap)  /* one space between words */
                    position++;
                total += (uint64_t)code * mix64(position + (uint64_t)seed);
                position++;
                any = 1;
                gap = 0;
            } else if (any) {
                gap = 1;
            }
        }
        uint64_t hash = any ? mix64(total) : 0;
        out[i] = any && hash == 0 ? 1 : hash;
        special[i] = (uint8_t)odd;
        s = e + 1;
    }
    release(&v);
    return PyLong_FromLong(0);
fail:
    release(&v);
    return NULL;
}

PyDoc_STRVAR(window_mean_doc,
"window_mean(values, bounds, radius, out)\n\n"
"page_rows.PageRows.window_mean: for each row i of page [bounds[p], bounds[p + 1]), the mean\n"
"of the other rows within +-radius on its page, or 0 for a row alone. values, out: float64\n"
"(rows, k), C order; bounds: int64, 0 first, the number of rows last. The same operations\n"
"in the same order as the numpy steps: the page's running sums (its first row copied, then\n"
"one addition per row and column), (sum[hi] - sum[lo] - value) / the count of other rows.");

static PyObject *window_mean(PyObject *self, PyObject *args)
{
    PyObject *values_obj, *bounds_obj, *out_obj;
    Py_ssize_t radius, k;
    if (!PyArg_ParseTuple(args, "OOnnO", &values_obj, &bounds_obj, &radius, &k, &out_obj))
        return NULL;
    Views v = {.n = 0};
    Py_ssize_t n_values, n_bounds, n_out;
    double *sums = NULL;
    PyObject *result = NULL;
    const double *values = view(&v, values_obj, 8, 0, "values", &n_values);
    const int64_t *bounds = values ? view(&v, bounds_obj, 8, 0, "bounds", &n_bounds) : NULL;
    double *out = bounds ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL)
        goto done;
    if (k < 1 || radius < 0 || n_bounds < 1 || n_values % k != 0 || n_out != n_values || bounds[0] != 0
        || bounds[n_bounds - 1] != n_values / k) {
        PyErr_SetString(PyExc_ValueError, "_kernels: window_mean arguments of mismatched shapes");
        goto done;
    }
    Py_ssize_t longest = 0;
    for (Py_ssize_t p = 0; p + 1 < n_bounds; p++) {
        if (bounds[p + 1] < bounds[p]) {
            PyErr_SetString(PyExc_ValueError, "_kernels: window_mean page bounds out of order");
            goto done;
        }
        if (bounds[p + 1] - bounds[p] > longest)
            longest = bounds[p + 1] - bounds[p];
    }
    sums = PyMem_Malloc((size_t)(longest + 1) * (size_t)k * sizeof(double));
    if (sums == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t p = 0; p + 1 < n_bounds; p++) {
        Py_ssize_t a = bounds[p], b = bounds[p + 1];
        if (a == b)
            continue;
        /* sums row j: the sum of the page's rows before its row j (np.cumsum after a zero row) */
        for (Py_ssize_t c = 0; c < k; c++) {
            sums[c] = 0.0;
            sums[k + c] = values[a * k + c];
        }
        for (Py_ssize_t j = 1; j < b - a; j++)
            for (Py_ssize_t c = 0; c < k; c++)
                sums[(j + 1) * k + c] = sums[j * k + c] + values[(a + j) * k + c];
        for (Py_ssize_t i = a; i < b; i++) {
            Py_ssize_t lo = i - radius > a ? i - radius : a, hi = i + radius + 1 < b ? i + radius + 1 : b;
            double divisor = (double)(hi - lo - 1 > 1 ? hi - lo - 1 : 1);
            for (Py_ssize_t c = 0; c < k; c++)
                out[i * k + c] = (sums[(hi - a) * k + c] - sums[(lo - a) * k + c] - values[i * k + c]) / divisor;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(sums);
    release(&v);
    return result;
}

PyDoc_STRVAR(shift_rows_doc,
"shift_rows(values, first, offset, page, out, add)\n\n"
"page_rows.PageRows.shifted (add 0: out = ...) or add_shifted (add 1: out += ...): row i gets\n"
"columns first.. of values' row i + offset times 1.0 when that row is on row i's page, else\n"
"times 0.0 (numpy's values[src] * valid). values: float64 (rows, m), C order; out: float64\n"
"(rows, k), k <= m - first; page: int64 page number of every row.");

static PyObject *shift_rows(PyObject *self, PyObject *args)
{
    PyObject *values_obj, *page_obj, *out_obj;
    Py_ssize_t first, offset;
    int add;
    if (!PyArg_ParseTuple(args, "OnnOOp", &values_obj, &first, &offset, &page_obj, &out_obj, &add))
        return NULL;
    Views v = {.n = 0};
    Py_ssize_t n_values, n, n_out;
    const double *values = view(&v, values_obj, 8, 0, "values", &n_values);
    const int64_t *page = values ? view(&v, page_obj, 8, 0, "page", &n) : NULL;
    double *out = page ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL) {
        release(&v);
        return NULL;
    }
    if (n == 0) {
        release(&v);
        Py_RETURN_NONE;
    }
    Py_ssize_t m = n_values / n, k = n_out / n;
    if (n_values % n != 0 || n_out % n != 0 || first < 0 || k < 1 || first + k > m) {
        PyErr_SetString(PyExc_ValueError, "_kernels: shift_rows arguments of mismatched shapes");
        release(&v);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t j = i + offset;
        double valid = j >= 0 && j < n && page[j] == page[i] ? 1.0 : 0.0;
        j = j < 0 ? 0 : j >= n ? n - 1 : j;  /* np.clip: the row read, times 0.0 when not valid */
        const double *x = values + j * m + first;
        double *y = out + i * k;
        if (add)
            for (Py_ssize_t c = 0; c < k; c++)
                y[c] += x[c] * valid;
        else
            for (Py_ssize_t c = 0; c < k; c++)
                y[c] = x[c] * valid;
    }
    release(&v);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(has_surrogates_doc,
"has_surrogates(text) -> bool\n\n"
"Whether the str holds a code point of U+D800..U+DFFF (a lone surrogate): what\n"
"text.encode(\"utf-16-le\") refuses, without encoding it.");

static PyObject *has_surrogates(PyObject *self, PyObject *args)
{
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text))
        return NULL;
    if (PyUnicode_READY(text) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text), found = 0;
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_2BYTE_KIND) {
        const uint16_t *u = data;
        for (Py_ssize_t i = 0; i < n; i++)
            found |= (u[i] & 0xF800) == 0xD800;
    } else if (kind == PyUnicode_4BYTE_KIND) {
        const uint32_t *u = data;
        for (Py_ssize_t i = 0; i < n; i++)
            found |= (u[i] & 0xFFFFF800u) == 0xD800;
    }  /* 1 byte a character: none */
    return PyBool_FromLong(found);
}

PyDoc_STRVAR(segment_hashes_doc,
"segment_hashes(codes, starts, ends, base, out)\n\n"
"fast_tfidf._segment_hashes: out[t] = the sum of codes[starts[t] + k] * base^k modulo 2^64\n"
"for k < ends[t] - starts[t]. codes: uint32; starts, ends: int64; out: uint64.");

static PyObject *segment_hashes(PyObject *self, PyObject *args)
{
    PyObject *codes_obj, *starts_obj, *ends_obj, *out_obj;
    unsigned long long base;
    if (!PyArg_ParseTuple(args, "OOOKO", &codes_obj, &starts_obj, &ends_obj, &base, &out_obj))
        return NULL;
    Views v = {.n = 0};
    Py_ssize_t n_codes, n, n_ends, n_out;
    const uint32_t *codes = view(&v, codes_obj, 4, 0, "codes", &n_codes);
    const int64_t *starts = codes ? view(&v, starts_obj, 8, 0, "starts", &n) : NULL;
    const int64_t *ends = starts ? view(&v, ends_obj, 8, 0, "ends", &n_ends) : NULL;
    uint64_t *out = ends ? view(&v, out_obj, 8, 1, "out", &n_out) : NULL;
    if (out == NULL) {
        release(&v);
        return NULL;
    }
    if (n_ends != n || n_out != n) {
        PyErr_SetString(PyExc_ValueError, "_kernels: segment_hashes arguments of mismatched lengths");
        release(&v);
        return NULL;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        if (starts[t] < 0 || ends[t] < starts[t] || ends[t] > n_codes) {
            PyErr_SetString(PyExc_ValueError, "_kernels: a segment outside the codes");
            release(&v);
            return NULL;
        }
        uint64_t h = 0, power = 1;
        for (int64_t i = starts[t]; i < ends[t]; i++) {
            h += (uint64_t)codes[i] * power;
            power *= (uint64_t)base;
        }
        out[t] = h;
    }
    release(&v);
    Py_RETURN_NONE;
}

/* ---- Training: the terms of every line counted once (shared_counts.py) ---- */

/* The most symbols (code points of a char_wb n-gram, tokens of a word n-gram) in a term
   counted here: a term's key holds the symbols themselves. */
#define GRAM_MAX_N 8

/* The distinct terms seen so far, numbered in the order they first occur, as
   CountVectorizer numbers them: their symbols, lengths and hashes, an open-addressing
   table of their numbers, and per term the last line that held it and where that line's
   entry for it is. */
typedef struct {
    uint32_t *symbols;   /* term t at symbols[t * GRAM_MAX_N ...] */
    uint8_t *lengths;
    uint64_t *hashes;
    Py_ssize_t *last_line;
    Py_ssize_t *entry;
    Py_ssize_t n_terms, capacity;
    int32_t *slots;      /* -1: empty */
    Py_ssize_t n_slots;  /* a power of two, at least twice n_terms */
} Grams;

/* A growable int32 array. */
typedef struct {
    int32_t *data;
    Py_ssize_t n, capacity;
} Int32s;

/* What the counting loops write: per line, one entry per distinct term, in the order
   the terms first occur in it, and where each line's entries start. */
typedef struct {
    Grams grams;
    Int32s ids, counts, first;
    int64_t *indptr;
    Py_ssize_t n_lines;
} Counting;

static int int32s_push(Int32s *a, int32_t value)
{
    if (a->n == a->capacity) {
        Py_ssize_t capacity = a->capacity ? 2 * a->capacity : 4096;
        int32_t *data = PyMem_Realloc(a->data, (size_t)capacity * sizeof(int32_t));
        if (data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->data = data;
        a->capacity = capacity;
    }
    a->data[a->n++] = value;
    return 0;
}

static inline uint64_t gram_hash(const uint32_t *g, int length)
{
    uint64_t h = (uint64_t)length;
    for (int k = 0; k < length; k++)
        h = (h ^ g[k]) * 0x100000001B3ULL;
    return mix64(h);
}

/* Room for one more term: its arrays, and a table at most half full. */
static int grams_reserve(Grams *t)
{
    if (t->n_terms == t->capacity) {
        Py_ssize_t capacity = t->capacity ? 2 * t->capacity : 65536;
        void *p;
        if (!(p = PyMem_Realloc(t->symbols, (size_t)capacity * GRAM_MAX_N * sizeof(uint32_t))))
            return PyErr_NoMemory(), -1;
        t->symbols = p;
        if (!(p = PyMem_Realloc(t->lengths, (size_t)capacity)))
            return PyErr_NoMemory(), -1;
        t->lengths = p;
        if (!(p = PyMem_Realloc(t->hashes, (size_t)capacity * sizeof(uint64_t))))
            return PyErr_NoMemory(), -1;
        t->hashes = p;
        if (!(p = PyMem_Realloc(t->last_line, (size_t)capacity * sizeof(Py_ssize_t))))
            return PyErr_NoMemory(), -1;
        t->last_line = p;
        if (!(p = PyMem_Realloc(t->entry, (size_t)capacity * sizeof(Py_ssize_t))))
            return PyErr_NoMemory(), -1;
        t->entry = p;
        t->capacity = capacity;
    }
    if (2 * (t->n_terms + 1) > t->n_slots) {
        Py_ssize_t n_slots = t->n_slots ? 2 * t->n_slots : 131072;
        int32_t *slots = PyMem_Malloc((size_t)n_slots * sizeof(int32_t));
        if (slots == NULL)
            return PyErr_NoMemory(), -1;
        memset(slots, 0xFF, (size_t)n_slots * sizeof(int32_t));
        for (Py_ssize_t id = 0; id < t->n_terms; id++) {
            size_t s = (size_t)t->hashes[id] & (size_t)(n_slots - 1);
            while (slots[s] >= 0)
                s = (s + 1) & (size_t)(n_slots - 1);
            slots[s] = (int32_t)id;
        }
        PyMem_Free(t->slots);
        t->slots = slots;
        t->n_slots = n_slots;
    }
    return 0;
}

/* The number of the term g (length symbols), numbered anew if it is new; -1 on an error. */
static Py_ssize_t gram_id(Grams *t, const uint32_t *g, int length)
{
    uint64_t h = gram_hash(g, length);
    size_t mask = (size_t)(t->n_slots - 1), s = (size_t)h & mask;
    for (;; s = (s + 1) & mask) {
        int32_t id = t->slots[s];
        if (id < 0)
            break;
        if (t->hashes[id] == h && t->lengths[id] == length &&
                memcmp(t->symbols + (size_t)id * GRAM_MAX_N, g, (size_t)length * sizeof(uint32_t)) == 0)
            return id;
    }
    if (t->n_terms >= INT32_MAX - 1) {
        PyErr_SetString(PyExc_OverflowError, "_kernels: more than 2^31 distinct terms");
        return -1;
    }
    if (grams_reserve(t) < 0)
        return -1;
    if ((size_t)(t->n_slots - 1) != mask)  /* the table grew: find the empty slot anew */
        for (mask = (size_t)(t->n_slots - 1), s = (size_t)h & mask; t->slots[s] >= 0; s = (s + 1) & mask)
            ;
    Py_ssize_t id = t->n_terms++;
    memcpy(t->symbols + (size_t)id * GRAM_MAX_N, g, (size_t)length * sizeof(uint32_t));
    t->lengths[id] = (uint8_t)length;
    t->hashes[id] = h;
    t->last_line[id] = -1;
    t->slots[s] = (int32_t)id;
    return id;
}

static int counting_start(Counting *c, Py_ssize_t n_lines)
{
    memset(c, 0, sizeof(*c));
    c->n_lines = n_lines;
    c->indptr = PyMem_Malloc((size_t)(n_lines + 1) * sizeof(int64_t));
    if (c->indptr == NULL)
        return PyErr_NoMemory(), -1;
    c->indptr[0] = 0;
    return grams_reserve(&c->grams);
}

/* Count one term of line `line`, the position-th of the line. */
static int count_gram(Counting *c, const uint32_t *g, int length, Py_ssize_t line, Py_ssize_t position)
{
    Grams *t = &c->grams;
    Py_ssize_t id = gram_id(t, g, length);
    if (id < 0)
        return -1;
    if (t->last_line[id] == line) {
        c->counts.data[t->entry[id]]++;
        return 0;
    }
    if (position > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "_kernels: a line of more than 2^31 terms");
        return -1;
    }
    t->last_line[id] = line;
    t->entry[id] = c->ids.n;
    if (int32s_push(&c->ids, (int32_t)id) < 0 || int32s_push(&c->counts, 1) < 0 ||
            int32s_push(&c->first, (int32_t)position) < 0)
        return -1;
    return 0;
}

/* (terms, indptr, ids, counts, first); terms is stolen (NULL: an error). */
static PyObject *counting_result(Counting *c, PyObject *terms)
{
    if (terms == NULL)
        return NULL;
    /* (a NULL buffer would come back as None: no entries are an empty bytes) */
    PyObject *result = Py_BuildValue(
        "(Ny#y#y#y#)", terms, (const char *)c->indptr, (Py_ssize_t)((c->n_lines + 1) * sizeof(int64_t)),
        c->ids.data ? (const char *)c->ids.data : "", (Py_ssize_t)(c->ids.n * sizeof(int32_t)),
        c->counts.data ? (const char *)c->counts.data : "", (Py_ssize_t)(c->counts.n * sizeof(int32_t)),
        c->first.data ? (const char *)c->first.data : "", (Py_ssize_t)(c->first.n * sizeof(int32_t)));
    return result;
}

static void counting_free(Counting *c)
{
    PyMem_Free(c->indptr);
    PyMem_Free(c->ids.data);
    PyMem_Free(c->counts.data);
    PyMem_Free(c->first.data);
    PyMem_Free(c->grams.symbols);
    PyMem_Free(c->grams.lengths);
    PyMem_Free(c->grams.hashes);
    PyMem_Free(c->grams.last_line);
    PyMem_Free(c->grams.entry);
    PyMem_Free(c->grams.slots);
}

/* Room for n symbols in *buffer (its contents are not kept); -1 on an error. */
static int symbols_room(uint32_t **buffer, Py_ssize_t *capacity, Py_ssize_t n)
{
    if (n <= *capacity)
        return 0;
    PyMem_Free(*buffer);
    *capacity = 2 * n;
    *buffer = PyMem_Malloc((size_t)*capacity * sizeof(uint32_t));
    if (*buffer == NULL) {
        *capacity = 0;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The list of the terms, each made by make(its symbols, its length, context); NULL on
   an error. */
static PyObject *counted_terms(const Counting *c, PyObject *(*make)(const uint32_t *, int, void *), void *context)
{
    PyObject *terms = PyList_New(c->grams.n_terms);
    for (Py_ssize_t id = 0; terms != NULL && id < c->grams.n_terms; id++) {
        PyObject *term = make(c->grams.symbols + (size_t)id * GRAM_MAX_N, c->grams.lengths[id], context);
        if (term == NULL)
            Py_CLEAR(terms);
        else
            PyList_SET_ITEM(terms, id, term);
    }
    return terms;
}

static int check_range(const char *name, int min_n, int max_n)
{
    if (min_n < 1 || max_n < min_n || max_n > GRAM_MAX_N) {
        PyErr_Format(PyExc_ValueError, "_kernels: %s counts n-grams of 1 to %d, asked %d to %d", name, GRAM_MAX_N,
                     min_n, max_n);
        return -1;
    }
    return 0;
}

#define COUNTS_RETURN_DOC \
"Per line, one entry per distinct term, in the order the terms first occur in it: ids (its\n" \
"number in terms, the distinct terms in the order they first occur), counts, first (its\n" \
"first position among the line's terms), int32 bytes; indptr: int64 bytes, where each\n" \
"line's entries start, and their end."

/* A char_wb term: its code points. */
static PyObject *code_points_str(const uint32_t *g, int length, void *context)
{
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, g, length);
}

/* A word n-gram: its tokens (context: the list of tokens, and " ") joined by a space. */
static PyObject *joined_tokens(const uint32_t *g, int length, void *context)
{
    PyObject *tokens = ((PyObject **)context)[0], *space = ((PyObject **)context)[1];
    if (length == 1)
        return Py_NewRef(PyList_GET_ITEM(tokens, g[0]));
    PyObject *parts = PyTuple_New(length);
    if (parts == NULL)
        return NULL;
    for (int k = 0; k < length; k++)
        PyTuple_SET_ITEM(parts, k, Py_NewRef(PyList_GET_ITEM(tokens, g[k])));
    PyObject *term = PyUnicode_Join(space, parts);
    Py_DECREF(parts);
    return term;
}

PyDoc_STRVAR(char_wb_counts_doc,
"char_wb_counts(texts, min_n, max_n) -> (terms, indptr, ids, counts, first)\n\n"
"The n-grams of scikit-learn's char_wb analyzer (CountVectorizer._char_wb_ngrams) in each\n"
"str of the list texts, counted: each text split at whitespace (as str.split), each word\n"
"padded with a space at both ends, its n-grams for n from min_n to max_n (<= 8) in that\n"
"order, a padded word of n characters or fewer once, whole, and no longer ones.\n"
COUNTS_RETURN_DOC);

static PyObject *char_wb_counts(PyObject *self, PyObject *args)
{
    PyObject *texts;
    int min_n, max_n;
    if (!PyArg_ParseTuple(args, "O!ii", &PyList_Type, &texts, &min_n, &max_n) ||
            check_range("char_wb_counts", min_n, max_n) < 0)
        return NULL;
    Counting c;
    uint32_t *word = NULL;  /* the padded word */
    Py_ssize_t word_capacity = 0;
    PyObject *result = NULL;
    if (counting_start(&c, PyList_GET_SIZE(texts)) < 0)
        goto done;
    for (Py_ssize_t line = 0; line < c.n_lines; line++) {
        PyObject *text = PyList_GET_ITEM(texts, line);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "_kernels: char_wb_counts texts[%zd] is %.100s, not str", line,
                         Py_TYPE(text)->tp_name);
            goto done;
        }
        if (PyUnicode_READY(text) < 0)
            goto done;
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t length = PyUnicode_GET_LENGTH(text), position = 0;
        for (Py_ssize_t i = 0; i < length;) {
            if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
                i++;
                continue;
            }
            Py_ssize_t end = i;
            while (end < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end)))
                end++;
            Py_ssize_t padded = end - i + 2;
            if (symbols_room(&word, &word_capacity, padded) < 0)
                goto done;
            word[0] = word[padded - 1] = ' ';
            for (Py_ssize_t k = i; k < end; k++)
                word[k - i + 1] = PyUnicode_READ(kind, data, k);
            for (int n = min_n; n <= max_n; n++) {
                if (padded <= n) {  /* scikit-learn: "count a short word (w_len < n) only once" */
                    if (count_gram(&c, word, (int)padded, line, position++) < 0)
                        goto done;
                    break;
                }
                for (Py_ssize_t offset = 0; offset + n <= padded; offset++)
                    if (count_gram(&c, word + offset, n, line, position++) < 0)
                        goto done;
            }
            i = end;
        }
        c.indptr[line + 1] = c.ids.n;
    }
    result = counting_result(&c, counted_terms(&c, code_points_str, NULL));
done:  /* errors (result NULL) and success alike */
    PyMem_Free(word);
    counting_free(&c);
    return result;
}

PyDoc_STRVAR(word_ngram_counts_doc,
"word_ngram_counts(tokens, min_n, max_n) -> (terms, indptr, ids, counts, first)\n\n"
"The word n-grams of scikit-learn's word analyzer (CountVectorizer._word_ngrams) of each\n"
"list of str in the list tokens (a line's tokens, stop words removed), counted: for n\n"
"from min_n to max_n (<= 8) in that order, each run of n tokens, as a term their join by\n"
"a space. None when a token holds a space (a join could then be another run's).\n"
COUNTS_RETURN_DOC);

static PyObject *word_ngram_counts(PyObject *self, PyObject *args)
{
    PyObject *lines;
    int min_n, max_n;
    if (!PyArg_ParseTuple(args, "O!ii", &PyList_Type, &lines, &min_n, &max_n) ||
            check_range("word_ngram_counts", min_n, max_n) < 0)
        return NULL;
    Counting c;
    /* Each distinct token's number, the symbol of the n-grams (a token holds no space, so
       a run of token numbers and its joined str determine each other). */
    PyObject *numbers = PyDict_New(), *tokens = PyList_New(0), *space = PyUnicode_FromString(" ");
    uint32_t *symbols = NULL;  /* a line's token numbers */
    Py_ssize_t capacity = 0;
    PyObject *result = NULL;
    if (counting_start(&c, PyList_GET_SIZE(lines)) < 0 || !numbers || !tokens || !space)
        goto done;
    for (Py_ssize_t line = 0; line < c.n_lines; line++) {
        PyObject *found = PyList_GET_ITEM(lines, line);
        if (!PyList_Check(found)) {
            PyErr_Format(PyExc_TypeError, "_kernels: word_ngram_counts tokens[%zd] is %.100s, not list", line,
                         Py_TYPE(found)->tp_name);
            goto done;
        }
        Py_ssize_t n_tokens = PyList_GET_SIZE(found), position = 0;
        if (symbols_room(&symbols, &capacity, n_tokens) < 0)
            goto done;
        for (Py_ssize_t k = 0; k < n_tokens; k++) {
            PyObject *token = PyList_GET_ITEM(found, k);
            if (!PyUnicode_Check(token)) {
                PyErr_Format(PyExc_TypeError, "_kernels: word_ngram_counts tokens[%zd][%zd] is %.100s, not str",
                             line, k, Py_TYPE(token)->tp_name);
                goto done;
            }
            PyObject *number = PyDict_GetItemWithError(numbers, token);
            if (number == NULL) {
                if (PyErr_Occurred())
                    goto done;
                Py_ssize_t next = PyList_GET_SIZE(tokens);
                Py_ssize_t spaced = PyUnicode_FindChar(token, ' ', 0, PyUnicode_GET_LENGTH(token), 1);
                if (spaced == -2)
                    goto done;
                if (spaced >= 0) {  /* a tokenizer's token with a space: its joins could be another's */
                    result = Py_NewRef(Py_None);
                    goto done;
                }
                if (next > (Py_ssize_t)UINT32_MAX) {
                    PyErr_SetString(PyExc_OverflowError, "_kernels: more than 2^32 distinct tokens");
                    goto done;
                }
                number = PyLong_FromSsize_t(next);
                int failed = number == NULL || PyDict_SetItem(numbers, token, number) < 0 ||
                             PyList_Append(tokens, token) < 0;
                Py_XDECREF(number);  /* the dict holds it */
                if (failed)
                    goto done;
                symbols[k] = (uint32_t)next;
            } else {
                symbols[k] = (uint32_t)PyLong_AsSsize_t(number);
            }
        }
        for (int n = min_n; n <= max_n; n++)
            for (Py_ssize_t i = 0; i + n <= n_tokens; i++)
                if (count_gram(&c, symbols + i, n, line, position++) < 0)
                    goto done;
        c.indptr[line + 1] = c.ids.n;
    }
    {
        PyObject *context[2] = {tokens, space};
        result = counting_result(&c, counted_terms(&c, joined_tokens, context));
    }
done:  /* errors (result NULL) and success alike */
    PyMem_Free(symbols);
    Py_XDECREF(numbers);
    Py_XDECREF(tokens);
    Py_XDECREF(space);
    counting_free(&c);
    return result;
}

static PyMethodDef methods[] = {
    {"char_wb_entries", char_wb_entries, METH_VARARGS, char_wb_entries_doc},
    {"word_entries", word_entries, METH_VARARGS, word_entries_doc},
    {"char_wb_dot", char_wb_dot, METH_VARARGS, char_wb_dot_doc},
    {"word_dot", word_dot, METH_VARARGS, word_dot_doc},
    {"line_stats", line_stats, METH_VARARGS, line_stats_doc},
    {"word_counts", word_counts, METH_VARARGS, word_counts_doc},
    {"tfidf_dot", tfidf_dot, METH_VARARGS, tfidf_dot_doc},
    {"line_hashes", line_hashes, METH_VARARGS, line_hashes_doc},
    {"window_mean", window_mean, METH_VARARGS, window_mean_doc},
    {"shift_rows", shift_rows, METH_VARARGS, shift_rows_doc},
    {"has_surrogates", has_surrogates, METH_VARARGS, has_surrogates_doc},
    {"segment_hashes", segment_hashes, METH_VARARGS, segment_hashes_doc},
    {"char_wb_counts", char_wb_counts, METH_VARARGS, char_wb_counts_doc},
    {"word_ngram_counts", word_ngram_counts, METH_VARARGS, word_ngram_counts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "boilercut._kernels",
    "Compiled loops for fast_tfidf, line_shape and line_hash (optional: without them each runs its numpy path).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
