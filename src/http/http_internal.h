/* http_internal.h: pieces of the HTTP part shared between its files: the
 * JSON codec of Faasm's messages (codec.c), base64 and name checks, the
 * metrics registry (metrics.c). */
#ifndef FL_HTTP_HTTP_INTERNAL_H
#define FL_HTTP_HTTP_INTERNAL_H

#include "http/http.h"

#include "exec/exec.h"
#include "faaslet/faaslet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_KEY 255u             /* state key bytes */
#define HTTP_MAX_BATCH 1024u          /* messages in one EXECUTE_BATCH */

/* Faasm's planner HttpMessage types this server understands. */
#define HTTP_TYPE_EXECUTE_BATCH 10
#define HTTP_TYPE_EXECUTE_BATCH_STATUS 11

/* ---- names and base64 (codec.c) ----------------------------------------- */

/* True if key is a usable state key: 1..HTTP_MAX_KEY bytes, no '/', no
 * control characters, not "." or "..". */
bool http_key_valid(const char *key, size_t len);

/* Decodes standard base64 (padding optional, no whitespace) into a malloc'd
 * buffer (caller frees). FL_ERR_ARG on a bad character or length. */
int http_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len,
                       struct fl_error *err);

/* Encodes into a malloc'd NUL-terminated string (caller frees); NULL on OOM. */
char *http_base64_encode(const uint8_t *data, size_t len);

/* ---- messages (codec.c) ------------------------------------------------- */

/* One message of a POST / body (Faasm's Message JSON). Owns input/cmdline. */
struct http_message {
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    uint8_t *input;
    size_t input_len;
    char *cmdline;                    /* NULL if absent or empty */
    bool async;
    bool status;                      /* a status poll of id */
    uint32_t id;
    uint32_t app_id;
};

/* A POST / body: a message, or a planner request (http_type != 0). */
struct http_request_body {
    int http_type;                    /* 0: plain message */
    struct http_message msg;          /* http_type 0 */
    struct http_message *batch;       /* EXECUTE_BATCH: count messages */
    uint32_t count;
    uint32_t app_id;                  /* EXECUTE_BATCH(_STATUS): 0 if absent */
    uint32_t expected;                /* EXECUTE_BATCH_STATUS: expectedNumMessages */
};

/* Parses a POST / body. Checks required fields and names (a plain call
 * needs user and function, a poll needs id); FL_ERR_ARG with one line
 * naming what was wrong. Free with http_request_body_fini. */
int http_request_body_parse(const char *body, size_t len, struct http_request_body *out,
                            struct fl_error *err);
void http_request_body_fini(struct http_request_body *body);
void http_message_fini(struct http_message *msg);

/* BatchExecuteRequestStatus JSON for app_id with the finished messages
 * (running ones omitted); malloc'd (caller frees), NULL on OOM. */
char *http_batch_status_json(uint32_t app_id, const struct exec_msg *const *msgs, uint32_t n,
                             uint32_t expected, bool finished);

/* ---- metrics (metrics.c) ------------------------------------------------ */

enum http_outcome {
    HTTP_OUTCOME_SUCCESS = 0,         /* return value 0 */
    HTTP_OUTCOME_ERROR,               /* ran, non-zero return value */
    HTTP_OUTCOME_FAILED,              /* trapped, timed out, could not start */
    HTTP_OUTCOME_COUNT
};

struct http_metrics;

/* The registry; NULL on OOM. Thread-safe. */
struct http_metrics *http_metrics_create(void);
void http_metrics_destroy(struct http_metrics *m);

/* Counts one finished call of user/function taking seconds. */
void http_metrics_call(struct http_metrics *m, const char *user, const char *function,
                       enum http_outcome outcome, double seconds);

/* Counts one HTTP request answered with status on listener ("invoke" or "upload"). */
void http_metrics_request(struct http_metrics *m, bool upload, unsigned status);

/* Prometheus text exposition of everything, plus the executor's counters
 * and the process's memory. malloc'd (caller frees); NULL on OOM. */
char *http_metrics_render(struct http_metrics *m, struct exec *exec, uint32_t in_flight);

#endif
