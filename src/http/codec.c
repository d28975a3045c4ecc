/* codec.c: the JSON codec of Faasm's messages (cJSON), base64 and name
 * checks. A plain POST / body is Faasm's Message JSON ("user", "function",
 * "input_data" as text, "async", "cmdline", "status", "id"); a planner
 * request is an HttpMessage ({"http_type": 10|11, "payloadJson": "..."})
 * whose payload is a BatchExecuteRequest (messages' input_data in base64, as
 * protobuf's JSON mapping writes bytes) or a BatchExecuteRequestStatus. */
#include "http/http_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool http_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > HTTP_MAX_KEY || strlen(key) != len)
        return false;
    if (!strcmp(key, ".") || !strcmp(key, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f || c == '/')
            return false;
    }
    return true;
}

/* ---- base64 -------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int http_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len,
                       struct fl_error *err)
{
    while (len && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return fl_error_set(err, FL_ERR_ARG, "input_data: bad base64 length");
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    if (!buf)
        return fl_error_set(err, FL_ERR_NOMEM, "out of memory");
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0) {
            free(buf);
            return fl_error_set(err, FL_ERR_ARG, "input_data: bad base64 character at %zu", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = n;
    return FL_OK;
}

char *http_base64_encode(const uint8_t *data, size_t len)
{
    char *s = malloc((len + 2) / 3 * 4 + 1);
    if (!s)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = b64_alphabet[(v >> 6) & 63];
        s[o++] = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        s[o++] = '=';
    }
    s[o] = '\0';
    return s;
}

/* ---- parsing --------------------------------------------------------------- */

/* Copies at most 40 bytes of s for an error message, control bytes as '?'. */
static const char *printable(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 4 < n && i < 40; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (s[i] && i + 4 < n)
        memcpy(buf + i, "...", 3), i += 3;
    buf[i] = '\0';
    return buf;
}

static const cJSON *field(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, a);
    if (!f && b)
        f = cJSON_GetObjectItemCaseSensitive(obj, b);
    return f && !cJSON_IsNull(f) ? f : NULL;
}

/* An unsigned 32-bit integer field given as a JSON number or a decimal
 * string (protobuf's JSON mapping writes int64 as strings). */
static int get_u32(const cJSON *obj, const char *a, const char *b, uint32_t *out, bool *present,
                   struct fl_error *err)
{
    const cJSON *f = field(obj, a, b);
    *present = f != NULL;
    if (!f)
        return FL_OK;
    double v;
    if (cJSON_IsNumber(f)) {
        v = f->valuedouble;
    } else if (cJSON_IsString(f)) {
        char *end;
        v = strtod(f->valuestring, &end);
        if (end == f->valuestring || *end)
            return fl_error_set(err, FL_ERR_ARG, "field '%s' must be a number", a);
    } else {
        return fl_error_set(err, FL_ERR_ARG, "field '%s' must be a number", a);
    }
    if (!(v >= 0 && v <= UINT32_MAX) || floor(v) != v)
        return fl_error_set(err, FL_ERR_ARG, "field '%s' must be an integer in 0..4294967295", a);
    *out = (uint32_t)v;
    return FL_OK;
}

static int get_bool(const cJSON *obj, const char *name, bool *out, struct fl_error *err)
{
    const cJSON *f = field(obj, name, NULL);
    if (!f)
        return FL_OK;
    if (cJSON_IsBool(f))
        *out = cJSON_IsTrue(f);
    else if (cJSON_IsNumber(f))
        *out = f->valuedouble != 0;
    else
        return fl_error_set(err, FL_ERR_ARG, "field '%s' must be true or false", name);
    return FL_OK;
}

static int get_name(const cJSON *obj, const char *name, char *out, bool required,
                    struct fl_error *err)
{
    const cJSON *f = field(obj, name, NULL);
    if (!f) {
        if (required)
            return fl_error_set(err, FL_ERR_ARG, "missing field '%s'", name);
        return FL_OK;
    }
    if (!cJSON_IsString(f))
        return fl_error_set(err, FL_ERR_ARG, "field '%s' must be a string", name);
    if (!faaslet_name_valid(f->valuestring)) {
        char buf[48];
        return fl_error_set(err, FL_ERR_ARG,
                            "bad %s name '%s': use 1-%d of [A-Za-z0-9_.-], not starting with '.'",
                            name, printable(f->valuestring, buf, sizeof buf), FAASLET_MAX_NAME);
    }
    snprintf(out, FAASLET_MAX_NAME + 1, "%s", f->valuestring);
    return FL_OK;
}

/* Fills msg from one Message object; base64: input_data is base64 (planner). */
static int parse_message(const cJSON *obj, struct http_message *msg, bool base64,
                         struct fl_error *err)
{
    memset(msg, 0, sizeof *msg);
    if (!cJSON_IsObject(obj))
        return fl_error_set(err, FL_ERR_ARG, "a message must be a JSON object");
    bool present = false;
    int rc;
    if ((rc = get_bool(obj, "status", &msg->status, err)) ||
        (rc = get_bool(obj, "async", &msg->async, err)) ||
        (rc = get_u32(obj, "id", NULL, &msg->id, &present, err)) ||
        (rc = get_u32(obj, "appId", "app_id", &msg->app_id, &present, err)))
        return rc;
    if (msg->status && !msg->id)
        return fl_error_set(err, FL_ERR_ARG, "a status request needs a non-zero 'id'");
    /* A poll names the call by id; user and function are optional then. */
    if ((rc = get_name(obj, "user", msg->user, !msg->status, err)) ||
        (rc = get_name(obj, "function", msg->function, !msg->status, err)))
        return rc;
    const cJSON *in = field(obj, "input_data", "inputData");
    if (in) {
        if (!cJSON_IsString(in))
            return fl_error_set(err, FL_ERR_ARG, "field 'input_data' must be a string");
        size_t n = strlen(in->valuestring);
        if (base64) {
            if ((rc = http_base64_decode(in->valuestring, n, &msg->input, &msg->input_len, err)))
                return rc;
        } else if (n) {
            msg->input = malloc(n);
            if (!msg->input)
                return fl_error_set(err, FL_ERR_NOMEM, "out of memory");
            memcpy(msg->input, in->valuestring, n);
            msg->input_len = n;
        }
    }
    const cJSON *cmd = field(obj, "cmdline", NULL);
    if (cmd) {
        if (!cJSON_IsString(cmd))
            return fl_error_set(err, FL_ERR_ARG, "field 'cmdline' must be a string");
        if (cmd->valuestring[0] && !(msg->cmdline = strdup(cmd->valuestring)))
            return fl_error_set(err, FL_ERR_NOMEM, "out of memory");
    }
    return FL_OK;
}

/* Offset of the first \u0000 escape inside a JSON string, or -1. cJSON
 * would cut the string there, silently changing a name or an input. */
static long find_nul_escape(const char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = text[i] == '"';
            continue;
        }
        if (text[i] == '"') {
            in_string = false;
        } else if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && !strncmp(text + i + 2, "0000", 4))
                return (long)i;
            i++; /* the escaped character */
        }
    }
    return -1;
}

static cJSON *parse_json(const char *text, size_t len, const char *what, struct fl_error *err)
{
    long nul = find_nul_escape(text, len);
    if (nul >= 0) {
        fl_error_set(err, FL_ERR_ARG,
                     "%s: \\u0000 at byte %ld: NUL characters are not allowed in strings", what,
                     nul);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        fl_error_set(err, FL_ERR_ARG, "malformed JSON in %s at byte %zu", what, at);
        return NULL;
    }
    /* Anything but whitespace after the value is an error too. */
    for (const char *p = end; p && p < text + len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            cJSON_Delete(root);
            fl_error_set(err, FL_ERR_ARG, "malformed JSON in %s at byte %zu: trailing data",
                         what, (size_t)(p - text));
            return NULL;
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        fl_error_set(err, FL_ERR_ARG, "%s must be a JSON object", what);
        return NULL;
    }
    return root;
}

static int parse_http_type(const cJSON *root, int *out, struct fl_error *err)
{
    const cJSON *t = field(root, "http_type", "type");
    *out = 0;
    if (!t)
        return FL_OK;
    if (cJSON_IsNumber(t)) {
        if (t->valuedouble != HTTP_TYPE_EXECUTE_BATCH &&
            t->valuedouble != HTTP_TYPE_EXECUTE_BATCH_STATUS && t->valuedouble != 0)
            return fl_error_set(err, FL_ERR_ARG,
                                "unsupported http_type %g (10 EXECUTE_BATCH, 11 "
                                "EXECUTE_BATCH_STATUS)",
                                t->valuedouble);
        *out = (int)t->valuedouble;
        return FL_OK;
    }
    if (cJSON_IsString(t)) {
        /* protobuf's JSON mapping writes enums by name */
        if (!strcmp(t->valuestring, "EXECUTE_BATCH"))
            *out = HTTP_TYPE_EXECUTE_BATCH;
        else if (!strcmp(t->valuestring, "EXECUTE_BATCH_STATUS"))
            *out = HTTP_TYPE_EXECUTE_BATCH_STATUS;
        else if (strcmp(t->valuestring, "NO_TYPE")) {
            char buf[48];
            return fl_error_set(err, FL_ERR_ARG, "unsupported http_type '%s'",
                                printable(t->valuestring, buf, sizeof buf));
        }
        return FL_OK;
    }
    return fl_error_set(err, FL_ERR_ARG, "field 'http_type' must be a number");
}

static int parse_planner(const cJSON *root, struct http_request_body *out, struct fl_error *err)
{
    const cJSON *p = field(root, "payloadJson", "payload_json");
    if (!p)
        return fl_error_set(err, FL_ERR_ARG, "missing field 'payloadJson'");
    if (!cJSON_IsString(p))
        return fl_error_set(err, FL_ERR_ARG, "field 'payloadJson' must be a string");
    cJSON *payload = parse_json(p->valuestring, strlen(p->valuestring), "payloadJson", err);
    if (!payload)
        return err->code;
    bool present;
    int rc = get_u32(payload, "appId", "app_id", &out->app_id, &present, err);
    if (rc)
        goto out;
    if (out->http_type == HTTP_TYPE_EXECUTE_BATCH_STATUS) {
        if (!out->app_id) {
            rc = fl_error_set(err, FL_ERR_ARG, "EXECUTE_BATCH_STATUS needs a non-zero 'appId'");
            goto out;
        }
        rc = get_u32(payload, "expectedNumMessages", "expected_num_messages", &out->expected,
                     &present, err);
        goto out;
    }
    const cJSON *msgs = field(payload, "messages", NULL);
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        rc = fl_error_set(err, FL_ERR_ARG, "EXECUTE_BATCH needs a non-empty 'messages' array");
        goto out;
    }
    int n = cJSON_GetArraySize(msgs);
    if (n > (int)HTTP_MAX_BATCH) {
        rc = fl_error_set(err, FL_ERR_LIMIT, "EXECUTE_BATCH: %d messages, at most %u", n,
                          HTTP_MAX_BATCH);
        goto out;
    }
    out->batch = calloc((size_t)n, sizeof *out->batch);
    if (!out->batch) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "out of memory");
        goto out;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        struct http_message *msg = &out->batch[out->count];
        rc = parse_message(m, msg, true, err);
        out->count++;
        if (rc == FL_OK && msg->status)
            rc = fl_error_set(err, FL_ERR_ARG, "EXECUTE_BATCH message %u is a status request",
                              out->count - 1);
        if (rc) {
            char text[sizeof err->msg];
            snprintf(text, sizeof text, "%s", err->msg);
            fl_error_set(err, rc, "EXECUTE_BATCH message %u: %s", out->count - 1, text);
            goto out;
        }
    }
out:
    cJSON_Delete(payload);
    return rc;
}

int http_request_body_parse(const char *body, size_t len, struct http_request_body *out,
                            struct fl_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return fl_error_set(err, FL_ERR_ARG, "empty request body: expected a message JSON");
    cJSON *root = parse_json(body, len, "request body", err);
    if (!root)
        return err->code;
    int rc = parse_http_type(root, &out->http_type, err);
    if (rc == FL_OK)
        rc = out->http_type ? parse_planner(root, out, err)
                            : parse_message(root, &out->msg, false, err);
    cJSON_Delete(root);
    if (rc)
        http_request_body_fini(out);
    return rc;
}

void http_message_fini(struct http_message *msg)
{
    free(msg->input);
    free(msg->cmdline);
    memset(msg, 0, sizeof *msg);
}

void http_request_body_fini(struct http_request_body *body)
{
    http_message_fini(&body->msg);
    for (uint32_t i = 0; i < body->count; i++)
        http_message_fini(&body->batch[i]);
    free(body->batch);
    memset(body, 0, sizeof *body);
}

/* ---- encoding ---------------------------------------------------------------- */

/* One finished message as Faasm's Message JSON (bytes in base64). */
static cJSON *message_json(const struct exec_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char *in = http_base64_encode(m->input, m->input_len);
    char *outb = http_base64_encode(m->output, m->output_len);
    char ts[24];
    bool ok = in && outb && cJSON_AddNumberToObject(o, "id", m->id) &&
              cJSON_AddNumberToObject(o, "appId", m->app_id) &&
              cJSON_AddStringToObject(o, "user", m->user) &&
              cJSON_AddStringToObject(o, "function", m->function) &&
              cJSON_AddStringToObject(o, "input_data", in) &&
              cJSON_AddStringToObject(o, "output_data", outb) &&
              cJSON_AddNumberToObject(o, "returnValue", m->return_value) &&
              cJSON_AddStringToObject(o, "executedHost", m->executing_host);
    if (ok) {
        /* int64 fields are strings in protobuf's JSON mapping */
        snprintf(ts, sizeof ts, "%" PRIu64, m->submit_ns / 1000000u);
        ok = cJSON_AddStringToObject(o, "timestamp", ts) != NULL;
        snprintf(ts, sizeof ts, "%" PRIu64, m->finish_ns / 1000000u);
        ok = ok && cJSON_AddStringToObject(o, "finish", ts) != NULL;
    }
    if (ok && m->cmdline)
        ok = cJSON_AddStringToObject(o, "cmdline", m->cmdline) != NULL;
    free(in);
    free(outb);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *http_batch_status_json(uint32_t app_id, const struct exec_msg *const *msgs, uint32_t n,
                             uint32_t expected, bool finished)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = cJSON_AddNumberToObject(o, "appId", app_id) &&
              cJSON_AddBoolToObject(o, "finished", finished) &&
              cJSON_AddNumberToObject(o, "expectedNumMessages", expected);
    cJSON *arr = ok ? cJSON_AddArrayToObject(o, "messageResults") : NULL;
    for (uint32_t i = 0; arr && ok && i < n; i++) {
        cJSON *m = message_json(msgs[i]);
        ok = m && cJSON_AddItemToArray(arr, m);
    }
    char *s = ok && arr ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}
