/* hashtab.c: string workload. Builds pseudo-random words, counts them in an
 * open-addressing hash table (FNV-1a, linear probing, growing at 50% load),
 * then looks up a second stream of words; prints distinct/hit counts and the
 * most frequent word. Usage: hashtab [scale%]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_WORDS 1000000L
#define MAX_WORD 16

struct entry {
    char *word; /* owned copy; NULL = empty slot */
    uint32_t hash;
    uint32_t count;
};

struct table {
    struct entry *slots;
    size_t capacity; /* power of two */
    size_t used;
};

static uint32_t fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* Writes a pseudo-random word of 2..7 letters from a small alphabet into out. */
static size_t make_word(uint32_t *seed, char out[MAX_WORD])
{
    static const char letters[] = "etaoinshrdlu";
    *seed = *seed * 1664525u + 1013904223u;
    size_t len = 2 + (*seed >> 28) % 6;
    for (size_t i = 0; i < len; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        out[i] = letters[(*seed >> 24) % 12];
    }
    out[len] = '\0';
    return len;
}

static int table_grow(struct table *t)
{
    size_t cap = t->capacity * 2;
    struct entry *slots = calloc(cap, sizeof(struct entry));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->capacity; i++) {
        if (!t->slots[i].word)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].word)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->capacity = cap;
    return 0;
}

/* Returns the entry for word, inserting it with count 0 when missing if insert. */
static struct entry *table_find(struct table *t, const char *word, size_t len, int insert)
{
    uint32_t h = fnv1a(word, len);
    size_t j = h & (t->capacity - 1);
    while (t->slots[j].word) {
        if (t->slots[j].hash == h && strcmp(t->slots[j].word, word) == 0)
            return &t->slots[j];
        j = (j + 1) & (t->capacity - 1);
    }
    if (!insert)
        return NULL;
    if ((t->used + 1) * 2 > t->capacity) {
        if (table_grow(t) != 0)
            return NULL;
        return table_find(t, word, len, insert);
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, word, len + 1);
    t->slots[j].word = copy;
    t->slots[j].hash = h;
    t->slots[j].count = 0;
    t->used++;
    return &t->slots[j];
}

int main(int argc, char **argv)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    if (scale < 1)
        scale = 1;
    if (scale > 100000)
        scale = 100000;
    long words = BASE_WORDS * scale / 100;
    struct table t = {calloc(1024, sizeof(struct entry)), 1024, 0};
    if (!t.slots) {
        fprintf(stderr, "hashtab: out of memory\n");
        return 1;
    }
    char w[MAX_WORD];
    uint32_t seed = 4242u;
    for (long i = 0; i < words; i++) {
        size_t len = make_word(&seed, w);
        struct entry *e = table_find(&t, w, len, 1);
        if (!e) {
            fprintf(stderr, "hashtab: out of memory\n");
            return 1;
        }
        e->count++;
    }
    long hits = 0;
    uint64_t weight = 0;
    seed = 777u;
    for (long i = 0; i < words; i++) {
        size_t len = make_word(&seed, w);
        struct entry *e = table_find(&t, w, len, 0);
        if (e) {
            hits++;
            weight += e->count;
        }
    }
    const struct entry *best = NULL;
    for (size_t i = 0; i < t.capacity; i++) {
        const struct entry *e = &t.slots[i];
        if (e->word && (!best || e->count > best->count ||
                        (e->count == best->count && strcmp(e->word, best->word) < 0)))
            best = e;
    }
    printf("hashtab words=%ld distinct=%zu hits=%ld weight=%llu top=%s:%u\n", words, t.used, hits,
           (unsigned long long)weight, best ? best->word : "-", best ? best->count : 0u);
    for (size_t i = 0; i < t.capacity; i++)
        free(t.slots[i].word);
    free(t.slots);
    return 0;
}
