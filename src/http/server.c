/* server.c: the HTTP listeners (libmicrohttpd), request life cycle, routing
 * and the endpoints. The invoke listener runs a small pool of event threads
 * (epoll); a sync call suspends its connection and the executor's on_finish
 * callback resumes it, so waiting clients hold no thread. The upload
 * listener is thread-per-connection: uploads validate whole modules, which
 * would stall an event thread, and they are rare.
 *
 * A request's context (struct request) lives from the first callback to
 * MHD's completion notice; a sync call's state machine (call_state) decides
 * who frees it if the connection ends before the call does. */
#define _GNU_SOURCE
#include "http/http_internal.h"

#include "state/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_APPS 4096u                /* EXECUTE_BATCH apps kept for status polls */
#define CONNECTION_TIMEOUT_S 120u     /* idle connections (suspended ones never time out) */
#define LOG_BUFFER_BYTES (256u << 10)
#define LOG_FLUSH_MS 20u
#define TIMING_SLOTS 1024u            /* functions whose last run time is remembered */

enum call_state {
    CALL_NONE = 0,
    CALL_SUBMITTED,                   /* submitted, handler still running */
    CALL_SUSPENDED,                   /* connection suspended, waiting for on_finish */
    CALL_FINISHED,                    /* on_finish ran: msg holds the result */
    CALL_ABANDONED,                   /* connection ended first: on_finish frees */
};

struct listener {
    struct http_server *server;
    bool upload;
    struct MHD_Daemon *daemon;
    uint16_t port;
};

struct app {
    uint32_t app_id;                  /* 0: free slot */
    uint32_t count;
    uint32_t *ids;
};

struct http_server {
    struct http_config config;
    char store_dir[4096];
    char bind_address[64];
    struct listener invoke, upload;
    struct http_metrics *metrics;
    FILE *log;
    /* Log lines are appended here and written by the log thread every
     * LOG_FLUSH_MS (or when the buffer fills): a write(2) per call line
     * cost a fifth of the throughput of short calls. */
    pthread_mutex_t log_lock;
    pthread_cond_t log_cv;
    char *log_buf;
    size_t log_len;
    bool log_stop, log_started;
    pthread_t log_thread;
    _Atomic uint32_t in_flight;       /* requests being handled + async calls running */
    _Atomic uint32_t suspended;       /* connections suspended on a call */
    _Atomic uint64_t inline_calls;    /* sync calls run on an event thread */
    atomic_bool draining;
    pthread_mutex_t lock;             /* guards results ring and apps */
    uint32_t *results;                /* ring of async call ids kept for polls */
    uint32_t results_head, results_count;
    struct app apps[MAX_APPS];        /* ring of EXECUTE_BATCH apps */
    uint32_t apps_next;
    uint32_t next_app_id;
    /* Last run time of recent functions, for the inline decision: per slot
     * (by name hash) the hash's top 40 bits and the microseconds (24 bits)
     * in one word, so a racing update is never torn. */
    _Atomic uint64_t timing[TIMING_SLOTS];
};

struct request {
    struct listener *listener;
    struct MHD_Connection *connection;
    char *body;
    size_t len, cap;
    bool too_big;
    uint64_t start_ns;
    /* a sync call */
    _Atomic int call_state;
    uint32_t id;
    int await_rc;
    char await_error[256];
    struct exec_msg msg;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- logging --------------------------------------------------------------- */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* One line, written with a single fprintf (stderr is unbuffered, so lines of
 * concurrent threads never interleave). */
__attribute__((format(printf, 3, 4))) static void server_log(struct http_server *s,
                                                             enum http_log_level level,
                                                             const char *fmt, ...)
{
    if (level > s->config.log_level)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[600];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], text);
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    pthread_mutex_lock(&s->log_lock);
    if (!s->log_started || level <= HTTP_LOG_WARN || s->log_len + len > LOG_BUFFER_BYTES) {
        /* No log thread, a warning (rare, wanted at once), or the thread is
         * behind: write through, after what is buffered (in order). */
        fwrite(s->log_buf, 1, s->log_len, s->log);
        s->log_len = 0;
        fwrite(line, 1, len, s->log);
        fflush(s->log);
    } else {
        memcpy(s->log_buf + s->log_len, line, len);
        s->log_len += len;
    }
    pthread_mutex_unlock(&s->log_lock);
}

/* Writes out the buffered log lines. */
static void log_flush(struct http_server *s)
{
    pthread_mutex_lock(&s->log_lock);
    if (s->log_len) {
        fwrite(s->log_buf, 1, s->log_len, s->log);
        fflush(s->log);
        s->log_len = 0;
    }
    pthread_mutex_unlock(&s->log_lock);
}

static void *log_main(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->log_lock);
    while (!s->log_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + LOG_FLUSH_MS * 1000000ull;
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        pthread_cond_timedwait(&s->log_cv, &s->log_lock, &ts);
        if (s->log_len) {
            /* Writing under the lock keeps lines in order; appenders wait
             * at most one write. */
            fwrite(s->log_buf, 1, s->log_len, s->log);
            fflush(s->log);
            s->log_len = 0;
        }
    }
    pthread_mutex_unlock(&s->log_lock);
    return NULL;
}

/* ---- responses -------------------------------------------------------------- */

/* Queues a response taking ownership of body (malloc'd, may be NULL if len 0). */
static enum MHD_Result reply_owned(struct request *r, unsigned status, char *body, size_t len,
                                   const char *content_type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->listener->upload ? "GET, PUT" : "GET, POST");
    if (atomic_load(&r->listener->server->draining) || status == MHD_HTTP_CONTENT_TOO_LARGE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(r->connection, status, resp);
    MHD_destroy_response(resp);
    http_metrics_request(r->listener->server->metrics, r->listener->upload, status);
    return rc;
}

/* A one-line text answer (a newline is added). */
__attribute__((format(printf, 3, 4))) static enum MHD_Result reply_text(struct request *r,
                                                                        unsigned status,
                                                                        const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return MHD_NO;
    char *line = realloc(text, (size_t)n + 2);
    if (!line) {
        free(text);
        return MHD_NO;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return reply_owned(r, status, line, (size_t)n + 1, "text/plain; charset=utf-8");
}

/* A client error: answered, and logged as one line. */
__attribute__((format(printf, 5, 6))) static enum MHD_Result
reject(struct request *r, unsigned status, const char *method, const char *url, const char *fmt,
       ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    server_log(r->listener->server, HTTP_LOG_INFO, "request %s %.80s -> %u %s", method, url,
               status, text);
    return reply_text(r, status, "%s", text);
}

/* ---- calls ------------------------------------------------------------------- */

static enum http_outcome outcome_of(const struct exec_msg *m)
{
    if (m->status == EXEC_FAILED)
        return HTTP_OUTCOME_FAILED;
    return m->return_value ? HTTP_OUTCOME_ERROR : HTTP_OUTCOME_SUCCESS;
}

static double call_seconds(const struct exec_msg *m)
{
    return m->finish_ns > m->submit_ns ? (double)(m->finish_ns - m->submit_ns) / 1e9 : 0.0;
}

static uint64_t name_hash(const char *user, const char *function)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const char *p = user; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h = (h ^ '/') * 0x100000001b3ull;
    for (const char *p = function; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

#define TIMING_US_BITS 24
#define TIMING_US_MAX ((1u << TIMING_US_BITS) - 1)

static void timing_note(struct http_server *s, const struct exec_msg *m)
{
    uint64_t h = name_hash(m->user, m->function);
    uint64_t us = m->finish_ns > m->start_ns ? (m->finish_ns - m->start_ns) / 1000 : 0;
    if (us > TIMING_US_MAX || m->status == EXEC_FAILED)
        us = TIMING_US_MAX; /* a failure may have been a timeout: not inline next time */
    atomic_store_explicit(&s->timing[h % TIMING_SLOTS],
                          (h >> TIMING_US_BITS) << TIMING_US_BITS | us, memory_order_relaxed);
}

/* True if a sync call of user/function may run on the event thread. */
static bool timing_short(struct http_server *s, const char *user, const char *function)
{
    if (s->config.no_inline)
        return false;
    uint64_t h = name_hash(user, function);
    uint64_t v = atomic_load_explicit(&s->timing[h % TIMING_SLOTS], memory_order_relaxed);
    return v >> TIMING_US_BITS == h >> TIMING_US_BITS &&
           (v & TIMING_US_MAX) <= s->config.inline_us;
}

/* Metrics and the log line of one finished call. */
static void record_call(struct http_server *s, const struct exec_msg *m, const char *mode)
{
    timing_note(s, m);
    enum http_outcome o = outcome_of(m);
    double secs = call_seconds(m);
    http_metrics_call(s->metrics, m->user, m->function, o, secs);
    if (s->config.log_level < HTTP_LOG_INFO)
        return;
    if (o == HTTP_OUTCOME_FAILED)
        server_log(s, HTTP_LOG_INFO, "call %u %s/%s %s failed rv=%d %.3fms: %.*s", m->id,
                   m->user, m->function, mode, m->return_value, secs * 1e3,
                   (int)(m->output_len > 200 ? 200 : m->output_len), (const char *)m->output);
    else
        server_log(s, HTTP_LOG_INFO, "call %u %s/%s %s %s rv=%d %.3fms out=%zuB", m->id, m->user,
                   m->function, mode, o == HTTP_OUTCOME_SUCCESS ? "ok" : "error",
                   m->return_value, secs * 1e3, m->output_len);
}

static void free_request(struct request *r)
{
    exec_msg_fini(&r->msg);
    free(r->body);
    free(r);
}

/* on_finish of a sync call: fetch the result and wake the connection. */
static void sync_finished(void *data, uint32_t id)
{
    struct request *r = data;
    struct http_server *s = r->listener->server;
    struct fl_error err;
    fl_error_clear(&err);
    r->await_rc = exec_await(s->config.exec, id, 0, &r->msg, &err);
    if (r->await_rc)
        snprintf(r->await_error, sizeof r->await_error, "%s", err.msg);
    exec_release(s->config.exec, id);
    if (r->await_rc == FL_OK)
        record_call(s, &r->msg, "sync");
    int old = atomic_exchange(&r->call_state, CALL_FINISHED);
    if (old == CALL_SUSPENDED) {
        atomic_fetch_sub(&s->suspended, 1);
        MHD_resume_connection(r->connection);
    } else if (old == CALL_ABANDONED) {
        free_request(r);
    }
}

/* on_finish of an async or batch call: metrics, log line, in-flight count. */
static void async_finished(void *data, uint32_t id)
{
    struct http_server *s = data;
    struct exec_msg m;
    struct fl_error err;
    if (exec_await(s->config.exec, id, 0, &m, &err) == FL_OK) {
        record_call(s, &m, "async");
        exec_msg_fini(&m);
    }
    atomic_fetch_sub(&s->in_flight, 1);
}

/* Keeps an async call's result for polls, dropping the oldest beyond the limit. */
static void keep_result(struct http_server *s, uint32_t id)
{
    uint32_t drop = 0;
    pthread_mutex_lock(&s->lock);
    uint32_t cap = s->config.max_results;
    if (s->results_count == cap) {
        drop = s->results[s->results_head];
        s->results_head = (s->results_head + 1) % cap;
        s->results_count--;
    }
    s->results[(s->results_head + s->results_count) % cap] = id;
    s->results_count++;
    pthread_mutex_unlock(&s->lock);
    if (drop)
        exec_release(s->config.exec, drop);
}

static bool function_exists(struct http_server *s, const char *user, const char *function)
{
    char path[4096 + 2 * FAASLET_MAX_NAME + 32];
    snprintf(path, sizeof path, "%s/%s/%s/function.wasm", s->store_dir, user, function);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static uint32_t submit(struct http_server *s, const struct http_message *m, uint32_t app_id,
                       void (*on_finish)(void *, uint32_t), void *data, bool inline_call,
                       struct fl_error *err)
{
    struct exec_request req = {
        .user = m->user,
        .function = m->function,
        .input = m->input,
        .input_len = m->input_len,
        .cmdline = m->cmdline,
        .func_ptr = -1,
        .app_id = app_id,
        .on_finish = on_finish,
        .on_finish_data = data,
    };
    return inline_call ? exec_submit_inline(s->config.exec, &req, err)
                       : exec_submit(s->config.exec, &req, err);
}

/* The answer to a finished sync call: output, 500 if it failed or returned
 * non-zero. */
static enum MHD_Result reply_call(struct request *r)
{
    if (r->await_rc)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "call %u: %s", r->id,
                          r->await_error);
    struct exec_msg *m = &r->msg;
    unsigned status = m->status == EXEC_DONE && m->return_value == 0
                          ? MHD_HTTP_OK
                          : MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (m->status == EXEC_FAILED) /* a reason of ours: one line, like other errors */
        return reply_text(r, status, "%.*s", (int)m->output_len, (const char *)m->output);
    char *out = (char *)m->output;
    size_t len = m->output_len;
    m->output = NULL;
    m->output_len = 0;
    return reply_owned(r, status, out, len, "text/plain");
}

static enum MHD_Result invoke_message(struct request *r, const char *url,
                                      struct http_message *m)
{
    struct http_server *s = r->listener->server;
    struct fl_error err;
    fl_error_clear(&err);
    if (m->status) {
        struct exec_msg res;
        int rc = exec_await(s->config.exec, m->id, 0, &res, &err);
        if (rc == FL_ERR_LIMIT)
            return reply_text(r, MHD_HTTP_OK, "RUNNING");
        if (rc == FL_OK && ((m->user[0] && strcmp(m->user, res.user)) ||
                            (m->function[0] && strcmp(m->function, res.function)))) {
            exec_msg_fini(&res);
            rc = FL_ERR_NOT_FOUND;
        }
        if (rc == FL_ERR_NOT_FOUND)
            return reject(r, MHD_HTTP_NOT_FOUND, "POST", url,
                          "no call %u (unknown id, another function's, or its result was "
                          "dropped)",
                          m->id);
        if (rc)
            return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
        /* "SUCCESS: " or "FAILED: " and the output, byte for byte */
        bool ok = res.status == EXEC_DONE && res.return_value == 0;
        const char *prefix = ok ? "SUCCESS: " : "FAILED: ";
        size_t plen = strlen(prefix);
        char *text = malloc(plen + res.output_len + 1);
        if (text) {
            memcpy(text, prefix, plen);
            if (res.output_len)
                memcpy(text + plen, res.output, res.output_len);
        }
        size_t len = plen + res.output_len;
        exec_msg_fini(&res);
        if (!text)
            return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return reply_owned(r, ok ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR, text, len,
                           "text/plain");
    }
    /* A function whose last call ran short was in the store then; uploads
     * reset that, so only a file removed behind our back skips the check
     * (its call then fails with the loader's reason). */
    bool inline_call = !m->async && timing_short(s, m->user, m->function);
    if (!inline_call && !function_exists(s, m->user, m->function))
        return reject(r, MHD_HTTP_NOT_FOUND, "POST", url, "no function %s/%s in the store",
                      m->user, m->function);
    if (m->async) {
        atomic_fetch_add(&s->in_flight, 1);
        uint32_t id = submit(s, m, m->app_id, async_finished, s, false, &err);
        if (!id) {
            atomic_fetch_sub(&s->in_flight, 1);
            return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
        }
        keep_result(s, id);
        return reply_text(r, MHD_HTTP_OK, "%u", id);
    }
    atomic_store(&r->call_state, CALL_SUBMITTED);
    /* A short call runs right here: its on_finish has run when this returns
     * (unless it blocked, awaiting a chained call: then a worker finishes it). */
    if (inline_call)
        atomic_fetch_add_explicit(&s->inline_calls, 1, memory_order_relaxed);
    r->id = submit(s, m, m->app_id, sync_finished, r, inline_call, &err);
    if (!r->id) {
        atomic_store(&r->call_state, CALL_NONE);
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    }
    if (atomic_load(&r->call_state) == CALL_FINISHED)
        return reply_call(r); /* finished already: no need to suspend */
    atomic_fetch_add(&s->suspended, 1);
    MHD_suspend_connection(r->connection);
    int expected = CALL_SUBMITTED;
    if (!atomic_compare_exchange_strong(&r->call_state, &expected, CALL_SUSPENDED)) {
        /* on_finish ran between the check and the suspension */
        atomic_fetch_sub(&s->suspended, 1);
        MHD_resume_connection(r->connection);
    }
    return MHD_YES;
}

/* ---- EXECUTE_BATCH ----------------------------------------------------------- */

static struct app *find_app(struct http_server *s, uint32_t app_id)
{
    for (uint32_t i = 0; i < MAX_APPS; i++)
        if (s->apps[i].app_id == app_id)
            return &s->apps[i];
    return NULL;
}

static enum MHD_Result execute_batch(struct request *r, const char *url,
                                     struct http_request_body *b)
{
    struct http_server *s = r->listener->server;
    for (uint32_t i = 0; i < b->count; i++)
        if (!function_exists(s, b->batch[i].user, b->batch[i].function))
            return reject(r, MHD_HTTP_NOT_FOUND, "POST", url,
                          "EXECUTE_BATCH message %u: no function %s/%s in the store", i,
                          b->batch[i].user, b->batch[i].function);
    uint32_t *ids = calloc(b->count, sizeof *ids);
    if (!ids)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    /* Claim the app's slot first, so a poll never sees half a batch as whole. */
    pthread_mutex_lock(&s->lock);
    uint32_t app_id = b->app_id;
    if (app_id && find_app(s, app_id)) {
        pthread_mutex_unlock(&s->lock);
        free(ids);
        return reject(r, MHD_HTTP_BAD_REQUEST, "POST", url, "EXECUTE_BATCH: appId %u is in use",
                      app_id);
    }
    while (!app_id) {
        app_id = ++s->next_app_id;
        if (find_app(s, app_id))
            app_id = 0;
    }
    struct app *slot = &s->apps[s->apps_next];
    s->apps_next = (s->apps_next + 1) % MAX_APPS;
    uint32_t *old_ids = slot->ids, old_count = slot->count;
    slot->app_id = app_id;
    slot->ids = ids;
    slot->count = 0;
    pthread_mutex_unlock(&s->lock);
    for (uint32_t i = 0; i < old_count; i++)
        exec_release(s->config.exec, old_ids[i]);
    free(old_ids);

    struct fl_error err;
    fl_error_clear(&err);
    uint32_t n = 0;
    for (; n < b->count; n++) {
        atomic_fetch_add(&s->in_flight, 1);
        uint32_t id = submit(s, &b->batch[n], app_id, async_finished, s, false, &err);
        if (!id) {
            atomic_fetch_sub(&s->in_flight, 1);
            break;
        }
        pthread_mutex_lock(&s->lock);
        ids[n] = id;
        slot->count = n + 1;
        pthread_mutex_unlock(&s->lock);
    }
    if (n < b->count)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "EXECUTE_BATCH: submitted %u of %u messages: %s", n, b->count, err.msg);
    char *json = http_batch_status_json(app_id, NULL, 0, b->count, false);
    if (!json)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return reply_owned(r, MHD_HTTP_OK, json, strlen(json), "application/json");
}

static enum MHD_Result execute_batch_status(struct request *r, const char *url,
                                            struct http_request_body *b)
{
    struct http_server *s = r->listener->server;
    pthread_mutex_lock(&s->lock);
    struct app *app = find_app(s, b->app_id);
    uint32_t count = app ? app->count : 0;
    uint32_t *ids = count ? malloc(count * sizeof *ids) : NULL;
    if (ids)
        memcpy(ids, app->ids, count * sizeof *ids);
    pthread_mutex_unlock(&s->lock);
    if (!app) {
        server_log(s, HTTP_LOG_INFO, "request POST %.80s -> 404 app %u not registered", url,
                   b->app_id);
        /* faasmctl recognises this exact text as "not registered yet" */
        return reply_owned(r, MHD_HTTP_NOT_FOUND, strdup("App not registered in results"), 29,
                           "text/plain");
    }
    if (count && !ids)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    struct exec_msg *msgs = calloc(count ? count : 1, sizeof *msgs);
    const struct exec_msg **done = calloc(count ? count : 1, sizeof *done);
    uint32_t n = 0;
    for (uint32_t i = 0; msgs && done && i < count; i++) {
        struct fl_error err;
        if (exec_await(s->config.exec, ids[i], 0, &msgs[n], &err) == FL_OK) {
            done[n] = &msgs[n];
            n++;
        }
    }
    uint32_t expected = b->expected ? b->expected : count;
    char *json = msgs && done ? http_batch_status_json(b->app_id, done, n, expected, n >= expected)
                              : NULL;
    for (uint32_t i = 0; i < n; i++)
        exec_msg_fini(&msgs[i]);
    free(msgs);
    free(done);
    free(ids);
    if (!json)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return reply_owned(r, MHD_HTTP_OK, json, strlen(json), "application/json");
}

static enum MHD_Result invoke(struct request *r, const char *url)
{
    struct http_request_body b;
    struct fl_error err;
    fl_error_clear(&err);
    if (http_request_body_parse(r->body, r->len, &b, &err))
        return reject(r, err.code == FL_ERR_LIMIT ? MHD_HTTP_CONTENT_TOO_LARGE
                                                  : err.code == FL_ERR_NOMEM
                                                        ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                        : MHD_HTTP_BAD_REQUEST,
                      "POST", url, "%s", err.msg);
    enum MHD_Result rc;
    if (b.http_type == HTTP_TYPE_EXECUTE_BATCH)
        rc = execute_batch(r, url, &b);
    else if (b.http_type == HTTP_TYPE_EXECUTE_BATCH_STATUS)
        rc = execute_batch_status(r, url, &b);
    else
        rc = invoke_message(r, url, &b.msg);
    http_request_body_fini(&b);
    return rc;
}

/* ---- upload listener ------------------------------------------------------- */

/* Splits "<a>/<b>" (the part of the path after "/f/" or "/s/") at its
 * first '/'; false if there is none. */
static bool split_path(const char *rest, char *a, size_t a_size, const char **b)
{
    const char *slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) >= a_size)
        return false;
    memcpy(a, rest, (size_t)(slash - rest));
    a[slash - rest] = '\0';
    *b = slash + 1;
    return true;
}

static enum MHD_Result upload_function(struct request *r, const char *method, const char *url)
{
    struct http_server *s = r->listener->server;
    char user[FAASLET_MAX_NAME + 2];
    const char *function;
    if (!split_path(url + 3, user, sizeof user, &function))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "expected /f/<user>/<function> with valid names");
    if (!faaslet_name_valid(user))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "bad user name: use 1-%d of [A-Za-z0-9_.-], not starting with '.'",
                      FAASLET_MAX_NAME);
    if (!faaslet_name_valid(function))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "bad function name: use 1-%d of [A-Za-z0-9_.-], not starting with '.'",
                      FAASLET_MAX_NAME);
    struct fl_error err;
    fl_error_clear(&err);
    if (!strcmp(method, "GET")) {
        uint8_t *wasm = NULL;
        size_t len = 0;
        int rc = faaslet_store_read(s->store_dir, user, function, &wasm, &len, &err);
        if (rc == FL_ERR_NOT_FOUND)
            return reject(r, MHD_HTTP_NOT_FOUND, method, url, "no function %s/%s in the store",
                          user, function);
        if (rc)
            return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
        return reply_owned(r, MHD_HTTP_OK, (char *)wasm, len, "application/wasm");
    }
    if (r->len == 0)
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "empty body: expected a WebAssembly module");
    int rc = faaslet_store_upload(s->store_dir, user, function, (const uint8_t *)r->body, r->len,
                                  &err);
    if (rc == FL_ERR_IO || rc == FL_ERR_NOMEM)
        return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "upload %s/%s: %s", user, function,
                          err.msg);
    if (rc)
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url, "invalid module for %s/%s: %s", user,
                      function, err.msg);
    exec_forget_function(s->config.exec, user, function);
    /* The new code's run time is unknown: its first call goes to a worker. */
    atomic_store(&s->timing[name_hash(user, function) % TIMING_SLOTS], 0);
    server_log(s, HTTP_LOG_INFO, "upload %s/%s %zu bytes stored", user, function, r->len);
    return reply_text(r, MHD_HTTP_OK, "uploaded %s/%s (%zu bytes)", user, function, r->len);
}

/* A state tier that failed: 503 when its backend is unreachable (Redis
 * down: the request may be retried), 500 otherwise; logged as one line. */
static enum MHD_Result state_failure(struct request *r, const char *method, const char *url,
                                     const char *user, const char *key, int rc,
                                     const struct fl_error *err)
{
    unsigned status =
        rc == FL_ERR_IO ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR;
    server_log(r->listener->server, HTTP_LOG_WARN, "request %s %.80s -> %u state %s/%s: %s",
               method, url, status, user, key, err->msg);
    return reply_text(r, status, "state %s/%s: %s", user, key, err->msg);
}

static enum MHD_Result state_request(struct request *r, const char *method, const char *url)
{
    struct http_server *s = r->listener->server;
    char user[FAASLET_MAX_NAME + 2];
    const char *key;
    if (!split_path(url + 3, user, sizeof user, &key))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "expected /s/<user>/<key> with valid names");
    if (!faaslet_name_valid(user))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "bad user name: use 1-%d of [A-Za-z0-9_.-], not starting with '.'",
                      FAASLET_MAX_NAME);
    if (!http_key_valid(key, strlen(key)))
        return reject(r, MHD_HTTP_BAD_REQUEST, method, url,
                      "bad state key: use 1-%u bytes without '/' or control characters, not "
                      "'.' or '..'",
                      HTTP_MAX_KEY);
    if (!s->config.state)
        return reject(r, MHD_HTTP_NOT_IMPLEMENTED, method, url, "this server has no state store");
    struct state_global *g = state_store_global(s->config.state);
    struct state_value *local = state_value_find(s->config.state, user, key);
    struct fl_error err;
    fl_error_clear(&err);
    if (!strcmp(method, "PUT")) {
        int rc;
        /* A value this host has open is replaced in place (Faaslets mapping
         * it see the new bytes) and pushed; otherwise only the global tier. */
        if (local) {
            rc = state_value_replace(local, (const uint8_t *)r->body, r->len, &err);
            if (rc == FL_OK)
                rc = state_value_push(local, &err);
        } else {
            rc = g->ops->set(g, user, key, (const uint8_t *)r->body, r->len, &err);
        }
        if (rc == FL_ERR_ARG || rc == FL_ERR_LIMIT)
            return reject(r, MHD_HTTP_BAD_REQUEST, method, url, "state %s/%s: %s", user, key,
                          err.msg);
        if (rc)
            return state_failure(r, method, url, user, key, rc, &err);
        return reply_text(r, MHD_HTTP_OK, "stored %s/%s (%zu bytes)", user, key, r->len);
    }
    /* As Faasm's upload server (which pulls, then reads): the global
     * tier's value, so that servers sharing a tier (--redis) agree; a local
     * copy may hold a function's unpushed writes, which stay private. */
    uint8_t *data = NULL;
    uint64_t len = 0;
    int rc = g->ops->get(g, user, key, &data, &len, &err);
    if (rc == FL_ERR_NOT_FOUND) {
        free(data);
        return reject(r, MHD_HTTP_NOT_FOUND, method, url, "no state value %s/%s", user, key);
    }
    if (rc) {
        free(data);
        return state_failure(r, method, url, user, key, rc, &err);
    }
    return reply_owned(r, MHD_HTTP_OK, (char *)data, (size_t)len, "application/octet-stream");
}

/* ---- routing ---------------------------------------------------------------- */

static enum MHD_Result route(struct request *r, const char *url, const char *method)
{
    struct http_server *s = r->listener->server;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(url, "/ping"))
        return get ? reply_text(r, MHD_HTTP_OK, "PONG")
                   : reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "use GET for /ping");
    if (!strcmp(url, "/healthz"))
        return get ? reply_text(r, MHD_HTTP_OK, "ok")
                   : reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "use GET for /healthz");
    if (!strcmp(url, "/metrics")) {
        if (!get)
            return reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "use GET for /metrics");
        char *metrics = http_metrics_render(s->metrics, s->config.exec, atomic_load(&s->in_flight));
        char *text = NULL;
        if (!metrics ||
            asprintf(&text,
                     "%s# HELP faaslet_http_inline_calls_total Sync calls run on an HTTP event "
                     "thread (short functions).\n"
                     "# TYPE faaslet_http_inline_calls_total counter\n"
                     "faaslet_http_inline_calls_total %" PRIu64 "\n",
                     metrics, atomic_load(&s->inline_calls)) < 0)
            text = NULL;
        free(metrics);
        if (!text)
            return reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return reply_owned(r, MHD_HTTP_OK, text, strlen(text), "text/plain; version=0.0.4");
    }
    if (!r->listener->upload) {
        if (!strcmp(url, "/"))
            return !strcmp(method, "POST")
                       ? invoke(r, url)
                       : reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, method, url,
                                "use POST with a message JSON to invoke");
        return reject(r, MHD_HTTP_NOT_FOUND, method, url,
                      "no such endpoint (invoke server: POST /, GET /ping /healthz /metrics)");
    }
    bool f = !strncmp(url, "/f/", 3), st = !strncmp(url, "/s/", 3);
    if (f || st) {
        if (!get && strcmp(method, "PUT"))
            return reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "use PUT or GET for %.3s",
                          url);
        return f ? upload_function(r, method, url) : state_request(r, method, url);
    }
    return reject(r, MHD_HTTP_NOT_FOUND, method, url,
                  "no such endpoint (upload server: PUT|GET /f/<user>/<function>, "
                  "PUT|GET /s/<user>/<key>, GET /ping)");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct listener *l = cls;
    struct http_server *s = l->server;
    struct request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->listener = l;
        r->connection = connection;
        r->start_ns = now_ns();
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = r;
        const char *cl =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || n > s->config.max_body) {
                r->too_big = true;
                /* Answer before reading the body (MHD closes the connection). */
                return reject(r, MHD_HTTP_CONTENT_TOO_LARGE, method, url,
                              "request body of %s bytes is over the limit of %zu bytes", cl,
                              s->config.max_body);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big)
            return MHD_YES;
        if (n > s->config.max_body - r->len) {
            r->too_big = true; /* keep reading (chunked body) and answer 413 at the end */
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n)
                cap *= 2;
            if (cap > s->config.max_body)
                cap = s->config.max_body;
            char *body = realloc(r->body, cap + 1);
            if (!body)
                return MHD_NO;
            r->body = body;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    int state = atomic_load(&r->call_state);
    if (state == CALL_FINISHED)
        return reply_call(r);
    if (state != CALL_NONE)
        return MHD_YES; /* spurious: still waiting for the call */
    if (r->too_big)
        return reject(r, MHD_HTTP_CONTENT_TOO_LARGE, method, url,
                      "request body is over the limit of %zu bytes", s->config.max_body);
    if (atomic_load(&s->draining))
        return reply_text(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server is shutting down");
    if (r->body)
        r->body[r->len] = '\0';
    return route(r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)connection;
    (void)toe;
    struct listener *l = cls;
    struct request *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    int old = atomic_exchange(&r->call_state, CALL_ABANDONED);
    if (old == CALL_SUBMITTED || old == CALL_SUSPENDED) {
        /* The call outlives its connection: its on_finish frees r. */
        server_log(l->server, HTTP_LOG_INFO, "call %u: client went away before the result",
                   r->id);
    } else {
        free_request(r);
    }
    atomic_fetch_sub(&l->server->in_flight, 1);
}

static int b16(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescapes %XX in the URL; a %00 becomes 0x01 so that name checks reject
 * it instead of the path being cut short. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = b16(p[1])) >= 0 && (lo = b16(p[2])) >= 0) {
            char v = (char)(hi << 4 | lo);
            *w++ = v ? v : '\x01';
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    if (s->config.log_level < HTTP_LOG_WARN)
        return;
    char text[400];
    vsnprintf(text, sizeof text, fmt, ap);
    server_log(s, HTTP_LOG_WARN, "libmicrohttpd: %s", text);
}

/* ---- life ------------------------------------------------------------------- */

static int start_listener(struct http_server *s, struct listener *l, uint16_t port,
                          struct fl_error *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, s->bind_address, &addr.sin_addr) != 1)
        return fl_error_set(err, FL_ERR_ARG, "bad bind address '%s' (an IPv4 address)",
                            s->bind_address);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    unsigned pool = 0;
    if (l->upload) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    } else {
        flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
        pool = s->config.threads;
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, l},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {pool > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger goes first so that MHD never prints on its own. */
    l->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, l, MHD_OPTION_EXTERNAL_LOGGER,
                                 mhd_log, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!l->daemon)
        return fl_error_set(err, FL_ERR_IO, "cannot listen on %s:%u (%s server): in use?",
                            s->bind_address, port, l->upload ? "upload" : "invoke");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
    l->port = info ? info->port : port;
    return FL_OK;
}

struct http_server *http_server_create(const struct http_config *config, struct fl_error *err)
{
    if (!config->exec || !config->store_dir) {
        fl_error_set(err, FL_ERR_ARG, "http: an executor and a store are required");
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) {
        fl_error_set(err, FL_ERR_NOMEM, "http: out of memory");
        return NULL;
    }
    s->config = *config;
    struct http_config *c = &s->config;
    if (!c->threads)
        c->threads = 2;
    if (!c->max_body)
        c->max_body = HTTP_DEFAULT_MAX_BODY;
    if (!c->max_results)
        c->max_results = HTTP_DEFAULT_MAX_RESULTS;
    if (!c->inline_us)
        c->inline_us = HTTP_DEFAULT_INLINE_US;
    snprintf(s->store_dir, sizeof s->store_dir, "%s", c->store_dir);
    snprintf(s->bind_address, sizeof s->bind_address, "%s",
             c->bind_address ? c->bind_address : "127.0.0.1");
    c->store_dir = s->store_dir;
    c->bind_address = s->bind_address;
    s->log = c->log ? c->log : stderr;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_cond_init(&s->log_cv, NULL);
    s->log_buf = malloc(LOG_BUFFER_BYTES);
    if (s->log_buf && pthread_create(&s->log_thread, NULL, log_main, s) == 0)
        s->log_started = true;
    s->metrics = http_metrics_create();
    s->results = calloc(c->max_results, sizeof *s->results);
    s->invoke.server = s->upload.server = s;
    s->upload.upload = true;
    if (!s->metrics || !s->results || !s->log_buf) {
        fl_error_set(err, FL_ERR_NOMEM, "http: out of memory");
        http_server_destroy(s);
        return NULL;
    }
    if (start_listener(s, &s->invoke, c->port, err) ||
        start_listener(s, &s->upload, c->upload_port, err)) {
        http_server_destroy(s);
        return NULL;
    }
    server_log(s, HTTP_LOG_INFO, "listening: invoke http://%s:%u/ upload http://%s:%u/ store %s",
               s->bind_address, s->invoke.port, s->bind_address, s->upload.port, s->store_dir);
    return s;
}

uint16_t http_server_port(const struct http_server *s, bool upload)
{
    return upload ? s->upload.port : s->invoke.port;
}

uint32_t http_server_drain(struct http_server *s, int timeout_ms)
{
    atomic_store(&s->draining, true);
    struct listener *ls[] = {&s->invoke, &s->upload};
    for (int i = 0; i < 2; i++)
        if (ls[i]->daemon) {
            MHD_socket fd = MHD_quiesce_daemon(ls[i]->daemon);
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
        }
    uint64_t deadline = now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
    uint32_t n;
    while ((n = atomic_load(&s->in_flight)) != 0 && (timeout_ms < 0 || now_ns() < deadline)) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    server_log(s, HTTP_LOG_INFO, n ? "drain: gave up with %u requests/calls in flight"
                                   : "drain: %u requests/calls in flight",
               n);
    log_flush(s);
    return n;
}

void http_server_destroy(struct http_server *s)
{
    if (!s)
        return;
    /* Stopping a daemon with suspended connections is undefined in MHD:
     * after a drain that gave up, leave them to the process's exit. */
    bool stoppable = atomic_load(&s->suspended) == 0;
    if (stoppable && s->invoke.daemon)
        MHD_stop_daemon(s->invoke.daemon);
    if (s->upload.daemon)
        MHD_stop_daemon(s->upload.daemon);
    if (s->log_started) {
        pthread_mutex_lock(&s->log_lock);
        s->log_stop = true;
        pthread_cond_signal(&s->log_cv);
        pthread_mutex_unlock(&s->log_lock);
        pthread_join(s->log_thread, NULL);
        s->log_started = false;
    }
    if (s->log_buf)
        log_flush(s);
    if (!stoppable)
        return;
    free(s->log_buf);
    pthread_mutex_destroy(&s->log_lock);
    pthread_cond_destroy(&s->log_cv);
    for (uint32_t i = 0; i < MAX_APPS; i++)
        free(s->apps[i].ids);
    free(s->results);
    http_metrics_destroy(s->metrics);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
