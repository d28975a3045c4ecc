/* metrics.c: the server's metrics registry and its Prometheus text
 * exposition (GET /metrics): calls by function and outcome, a latency
 * histogram of calls, HTTP requests by listener and status, the executor's
 * counters (warm Faaslets, ...) and the process's memory. One registry per
 * server, guarded by its own lock. */
#include "http/http_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERIES_SLOTS 2048u            /* distinct (user, function) pairs kept; power of 2 */
#define SERIES_MAX (SERIES_SLOTS / 2) /* beyond: counted under user="_other" */

/* Upper bounds (seconds) of the latency histogram's buckets. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                        5,      10,      30,     60};
#define LATENCY_BUCKETS (sizeof latency_bounds / sizeof latency_bounds[0])

struct series {
    bool used;
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    uint64_t calls[HTTP_OUTCOME_COUNT];
};

struct http_metrics {
    pthread_mutex_t lock;             /* guards everything below */
    struct series series[SERIES_SLOTS];
    uint32_t series_count;
    uint64_t other[HTTP_OUTCOME_COUNT];
    uint64_t latency[LATENCY_BUCKETS + 1]; /* last: +Inf */
    double latency_sum;
    uint64_t latency_count;
    uint64_t requests[2][500];        /* [upload][status - 100] */
};

static const char *const outcome_names[HTTP_OUTCOME_COUNT] = {"success", "error", "failed"};

struct http_metrics *http_metrics_create(void)
{
    struct http_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void http_metrics_destroy(struct http_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static uint32_t hash_names(const char *user, const char *function)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = user; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = function; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

void http_metrics_call(struct http_metrics *m, const char *user, const char *function,
                       enum http_outcome outcome, double seconds)
{
    uint32_t h = hash_names(user, function);
    size_t b = 0;
    while (b < LATENCY_BUCKETS && seconds > latency_bounds[b])
        b++;
    pthread_mutex_lock(&m->lock);
    uint64_t *counts = m->other;
    for (uint32_t i = 0; i < SERIES_SLOTS; i++) {
        struct series *s = &m->series[(h + i) & (SERIES_SLOTS - 1)];
        if (s->used && !strcmp(s->user, user) && !strcmp(s->function, function)) {
            counts = s->calls;
            break;
        }
        if (!s->used) {
            if (m->series_count < SERIES_MAX) {
                s->used = true;
                snprintf(s->user, sizeof s->user, "%s", user);
                snprintf(s->function, sizeof s->function, "%s", function);
                m->series_count++;
                counts = s->calls;
            }
            break;
        }
    }
    counts[outcome]++;
    m->latency[b]++;
    m->latency_sum += seconds;
    m->latency_count++;
    pthread_mutex_unlock(&m->lock);
}

void http_metrics_request(struct http_metrics *m, bool upload, unsigned status)
{
    if (status < 100 || status > 599)
        return;
    pthread_mutex_lock(&m->lock);
    m->requests[upload][status - 100]++;
    pthread_mutex_unlock(&m->lock);
}

/* A growing text buffer; on OOM it stops growing and marks itself failed. */
struct text {
    char *s;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* Resident and virtual bytes of this process (0 if /proc is unreadable). */
static void process_memory(uint64_t *rss, uint64_t *vsz)
{
    *rss = *vsz = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return;
    unsigned long long pages = 0, resident = 0;
    if (fscanf(f, "%llu %llu", &pages, &resident) == 2) {
        long page = sysconf(_SC_PAGESIZE);
        *vsz = pages * (uint64_t)page;
        *rss = resident * (uint64_t)page;
    }
    fclose(f);
}

char *http_metrics_render(struct http_metrics *m, struct exec *exec, uint32_t in_flight)
{
    struct text t = {.cap = 4096};
    t.s = malloc(t.cap);
    if (!t.s)
        return NULL;
    t.s[0] = '\0';
    struct http_metrics *snap = malloc(sizeof *snap);
    if (!snap) {
        free(t.s);
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    memcpy(snap, m, sizeof *snap);
    pthread_mutex_unlock(&m->lock);

    text_add(&t, "# HELP faaslet_calls_total Finished calls by function and outcome "
                 "(success: returned 0; error: non-zero return value; failed: trapped, "
                 "timed out or could not start).\n# TYPE faaslet_calls_total counter\n");
    for (uint32_t i = 0; i < SERIES_SLOTS; i++) {
        const struct series *s = &snap->series[i];
        if (!s->used)
            continue;
        for (int o = 0; o < HTTP_OUTCOME_COUNT; o++)
            text_add(&t,
                     "faaslet_calls_total{user=\"%s\",function=\"%s\",outcome=\"%s\"} %llu\n",
                     s->user, s->function, outcome_names[o], (unsigned long long)s->calls[o]);
    }
    for (int o = 0; o < HTTP_OUTCOME_COUNT; o++)
        if (snap->other[o])
            text_add(&t,
                     "faaslet_calls_total{user=\"_other\",function=\"_other\",outcome=\"%s\"} "
                     "%llu\n",
                     outcome_names[o], (unsigned long long)snap->other[o]);

    text_add(&t, "# HELP faaslet_call_duration_seconds Time from submission to the end of a "
                 "call.\n# TYPE faaslet_call_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t b = 0; b < LATENCY_BUCKETS; b++) {
        cumulative += snap->latency[b];
        text_add(&t, "faaslet_call_duration_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[b],
                 (unsigned long long)cumulative);
    }
    cumulative += snap->latency[LATENCY_BUCKETS];
    text_add(&t, "faaslet_call_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)cumulative);
    text_add(&t, "faaslet_call_duration_seconds_sum %.9f\n", snap->latency_sum);
    text_add(&t, "faaslet_call_duration_seconds_count %llu\n",
             (unsigned long long)snap->latency_count);

    text_add(&t, "# HELP faaslet_http_requests_total HTTP requests answered, by listener and "
                 "status.\n# TYPE faaslet_http_requests_total counter\n");
    for (int u = 0; u < 2; u++)
        for (int c = 0; c < 500; c++)
            if (snap->requests[u][c])
                text_add(&t, "faaslet_http_requests_total{listener=\"%s\",code=\"%d\"} %llu\n",
                         u ? "upload" : "invoke", c + 100,
                         (unsigned long long)snap->requests[u][c]);
    free(snap);

    struct exec_stats st;
    exec_stats_get(exec, &st);
    text_add(&t,
             "# HELP faaslet_warm_faaslets Faaslets kept warm (reset, idle) for their "
             "function.\n# TYPE faaslet_warm_faaslets gauge\nfaaslet_warm_faaslets %u\n",
             st.faaslets_idle);
    text_add(&t,
             "# HELP faaslet_faaslets_created_total Faaslets restored from a "
             "proto-faaslet.\n# TYPE faaslet_faaslets_created_total counter\n"
             "faaslet_faaslets_created_total %llu\n",
             (unsigned long long)st.faaslets_created);
    text_add(&t,
             "# HELP faaslet_faaslets_reused_total Calls that ran on a warm Faaslet.\n"
             "# TYPE faaslet_faaslets_reused_total counter\nfaaslet_faaslets_reused_total %llu\n",
             (unsigned long long)st.faaslets_reused);
    text_add(&t,
             "# HELP faaslet_calls_started_total Calls started (chained ones too).\n"
             "# TYPE faaslet_calls_started_total counter\nfaaslet_calls_started_total %llu\n",
             (unsigned long long)st.calls_started);
    text_add(&t,
             "# HELP faaslet_calls_running Calls started and not finished (chained ones "
             "too).\n# TYPE faaslet_calls_running gauge\nfaaslet_calls_running %llu\n",
             (unsigned long long)(st.calls_started - st.calls_finished));
    text_add(&t,
             "# HELP faaslet_calls_blocked Calls waiting for another call right now.\n"
             "# TYPE faaslet_calls_blocked gauge\nfaaslet_calls_blocked %u\n",
             st.calls_blocked);
    text_add(&t,
             "# HELP faaslet_http_in_flight HTTP requests and submitted calls in "
             "progress.\n# TYPE faaslet_http_in_flight gauge\nfaaslet_http_in_flight %u\n",
             in_flight);
    uint64_t rss, vsz;
    process_memory(&rss, &vsz);
    text_add(&t,
             "# HELP process_resident_memory_bytes Resident memory of the faaslet process.\n"
             "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
             (unsigned long long)rss);
    text_add(&t,
             "# HELP process_virtual_memory_bytes Virtual memory of the faaslet process "
             "(includes linear-memory reservations).\n# TYPE process_virtual_memory_bytes "
             "gauge\nprocess_virtual_memory_bytes %llu\n",
             (unsigned long long)vsz);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
