/* test_codec.c: unit tests of the HTTP part's codec (src/http/codec.c):
 * base64, state key checks, message and planner request parsing, and the
 * BatchExecuteRequestStatus encoder. One ctest per test function. */
#include "http/http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

static int parse(const char *json, struct http_request_body *b, struct fl_error *err)
{
    fl_error_clear(err);
    return http_request_body_parse(json, strlen(json), b, err);
}

/* Parses json, expects FL_ERR_ARG with a message containing `reason`. */
static void expect_bad(const char *json, const char *reason)
{
    struct http_request_body b;
    struct fl_error err;
    int rc = parse(json, &b, &err);
    if (rc == FL_OK || !strstr(err.msg, reason)) {
        fprintf(stderr, "body %s: rc %d, message '%s', wanted '%s'\n", json, rc, err.msg, reason);
        failures++;
    }
    if (rc == FL_OK)
        http_request_body_fini(&b);
    CHECK(strchr(err.msg, '\n') == NULL);
}

static void test_base64_round_trips_every_length(void)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof data; len++) {
        char *text = http_base64_encode(data, len);
        CHECK(text && strlen(text) == (len + 2) / 3 * 4);
        uint8_t *back = NULL;
        size_t back_len = 0;
        struct fl_error err;
        CHECK(http_base64_decode(text, strlen(text), &back, &back_len, &err) == FL_OK);
        CHECK(back_len == len && (len == 0 || memcmp(back, data, len) == 0));
        free(back);
        free(text);
    }
    char *hi = http_base64_encode((const uint8_t *)"hi", 2);
    CHECK(hi && !strcmp(hi, "aGk="));
    free(hi);
}

static void test_base64_rejects_bad_text(void)
{
    const char *bad[] = {"a", "ab!d", "ab cd", "abcde", "a\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *out = NULL;
        size_t n = 0;
        struct fl_error err;
        fl_error_clear(&err);
        CHECK(http_base64_decode(bad[i], strlen(bad[i]), &out, &n, &err) == FL_ERR_ARG);
        CHECK(out == NULL);
    }
    /* unpadded and URL-safe input decodes too */
    uint8_t *out = NULL;
    size_t n = 0;
    struct fl_error err;
    CHECK(http_base64_decode("aGk", 3, &out, &n, &err) == FL_OK && n == 2 && !memcmp(out, "hi", 2));
    free(out);
}

static void test_state_keys(void)
{
    CHECK(http_key_valid("visits", 6));
    CHECK(http_key_valid("a.b-c_d e", 9));
    CHECK(!http_key_valid("", 0));
    CHECK(!http_key_valid(".", 1));
    CHECK(!http_key_valid("..", 2));
    CHECK(!http_key_valid("a/b", 3));
    CHECK(!http_key_valid("a\nb", 3));
    CHECK(!http_key_valid("a\x7f", 2));
    CHECK(!http_key_valid("ab", 3)); /* length says there is a NUL inside */
    char big[HTTP_MAX_KEY + 2];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(!http_key_valid(big, HTTP_MAX_KEY + 1));
    big[HTTP_MAX_KEY] = '\0';
    CHECK(http_key_valid(big, HTTP_MAX_KEY));
}

static void test_plain_message_fields(void)
{
    struct http_request_body b;
    struct fl_error err;
    CHECK(parse("{\"user\":\"demo\",\"function\":\"echo\",\"input_data\":\"hi \\u00e9\","
                "\"async\":true,\"cmdline\":\"a b\",\"mpi\":false,\"python\":false}",
                &b, &err) == FL_OK);
    CHECK(b.http_type == 0 && !strcmp(b.msg.user, "demo") && !strcmp(b.msg.function, "echo"));
    CHECK(b.msg.input_len == 5 && !memcmp(b.msg.input, "hi \xc3\xa9", 5));
    CHECK(b.msg.async && !b.msg.status && b.msg.cmdline && !strcmp(b.msg.cmdline, "a b"));
    http_request_body_fini(&b);

    CHECK(parse(" {\"status\":true,\"id\":\"42\"}\n", &b, &err) == FL_OK);
    CHECK(b.msg.status && b.msg.id == 42 && b.msg.user[0] == '\0');
    http_request_body_fini(&b);

    CHECK(parse("{\"user\":\"u\",\"function\":\"f\",\"cmdline\":\"\",\"input_data\":\"\"}", &b,
                &err) == FL_OK);
    CHECK(b.msg.cmdline == NULL && b.msg.input_len == 0);
    http_request_body_fini(&b);
}

static void test_bad_messages_name_the_problem(void)
{
    expect_bad("", "empty request body");
    expect_bad("{", "malformed JSON in request body at byte");
    expect_bad("{}x", "trailing data");
    expect_bad("null", "JSON object");
    expect_bad("{\"function\":\"f\"}", "missing field 'user'");
    expect_bad("{\"user\":\"u\"}", "missing field 'function'");
    expect_bad("{\"user\":[],\"function\":\"f\"}", "'user' must be a string");
    expect_bad("{\"user\":\"a/b\",\"function\":\"f\"}", "bad user name 'a/b'");
    expect_bad("{\"user\":\"u\",\"function\":\"..\"}", "bad function name");
    expect_bad("{\"user\":\"u\",\"function\":\"a\\u0001\"}", "bad function name 'a?'");
    expect_bad("{\"user\":\"u\",\"function\":\"a\\u0000b\"}", "NUL characters");
    expect_bad("{\"user\":\"u\",\"function\":\"f\",\"async\":\"yes\"}", "'async' must be");
    expect_bad("{\"user\":\"u\",\"function\":\"f\",\"input_data\":1}", "'input_data' must be");
    expect_bad("{\"status\":true}", "non-zero 'id'");
    expect_bad("{\"status\":true,\"id\":1.5}", "'id' must be an integer");
    expect_bad("{\"status\":true,\"id\":4294967296}", "'id' must be an integer");
    expect_bad("{\"status\":true,\"id\":\"x\"}", "'id' must be a number");
    /* an escaped backslash before u0000 is not a NUL */
    struct http_request_body b;
    struct fl_error err;
    CHECK(parse("{\"user\":\"u\",\"function\":\"f\",\"input_data\":\"\\\\u0000\"}", &b, &err) ==
          FL_OK);
    CHECK(b.msg.input_len == 6 && !memcmp(b.msg.input, "\\u0000", 6));
    http_request_body_fini(&b);
}

static void test_planner_requests(void)
{
    struct http_request_body b;
    struct fl_error err;
    CHECK(parse("{\"http_type\":10,\"payloadJson\":\"{\\\"appId\\\":7,\\\"messages\\\":["
                "{\\\"user\\\":\\\"u\\\",\\\"function\\\":\\\"f\\\",\\\"input_data\\\":\\\"aGk=\\\"},"
                "{\\\"user\\\":\\\"u\\\",\\\"function\\\":\\\"g\\\"}]}\"}",
                &b, &err) == FL_OK);
    CHECK(b.http_type == HTTP_TYPE_EXECUTE_BATCH && b.app_id == 7 && b.count == 2);
    CHECK(b.batch[0].input_len == 2 && !memcmp(b.batch[0].input, "hi", 2));
    CHECK(!strcmp(b.batch[1].function, "g") && b.batch[1].input_len == 0);
    http_request_body_fini(&b);

    CHECK(parse("{\"http_type\":\"EXECUTE_BATCH_STATUS\",\"payloadJson\":"
                "\"{\\\"appId\\\":\\\"9\\\",\\\"expectedNumMessages\\\":3}\"}",
                &b, &err) == FL_OK);
    CHECK(b.http_type == HTTP_TYPE_EXECUTE_BATCH_STATUS && b.app_id == 9 && b.expected == 3);
    http_request_body_fini(&b);

    expect_bad("{\"http_type\":4}", "unsupported http_type 4");
    expect_bad("{\"http_type\":\"RESET\"}", "unsupported http_type 'RESET'");
    expect_bad("{\"http_type\":10}", "missing field 'payloadJson'");
    expect_bad("{\"http_type\":10,\"payloadJson\":{}}", "'payloadJson' must be a string");
    expect_bad("{\"http_type\":10,\"payloadJson\":\"[\"}", "malformed JSON in payloadJson");
    expect_bad("{\"http_type\":10,\"payloadJson\":\"{}\"}", "non-empty 'messages'");
    expect_bad("{\"http_type\":11,\"payloadJson\":\"{}\"}", "non-zero 'appId'");
    expect_bad("{\"http_type\":10,\"payloadJson\":\"{\\\"messages\\\":[{\\\"user\\\":\\\"u\\\","
               "\\\"function\\\":\\\"f\\\",\\\"input_data\\\":\\\"***\\\"}]}\"}",
               "EXECUTE_BATCH message 0: input_data: bad base64");
    expect_bad("{\"http_type\":10,\"payloadJson\":\"{\\\"messages\\\":[{\\\"user\\\":\\\"u\\\","
               "\\\"function\\\":\\\"f\\\"},{\\\"user\\\":\\\"u/\\\",\\\"function\\\":\\\"f\\\"}]}\"}",
               "EXECUTE_BATCH message 1: bad user name");
    /* over the batch limit */
    size_t cap = 64 + (HTTP_MAX_BATCH + 1) * 64;
    char *big = malloc(cap);
    size_t n = (size_t)snprintf(big, cap, "{\"http_type\":10,\"payloadJson\":\"{\\\"messages\\\":[");
    for (unsigned i = 0; i <= HTTP_MAX_BATCH; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\\\"user\\\":\\\"u\\\",\\\"function\\\":\\\"f\\\"}",
                              i ? "," : "");
    snprintf(big + n, cap - n, "]}\"}");
    CHECK(parse(big, &b, &err) == FL_ERR_LIMIT && strstr(err.msg, "at most"));
    free(big);
}

static void test_batch_status_json(void)
{
    struct exec_msg m = {.id = 3, .app_id = 7, .return_value = 2};
    snprintf(m.user, sizeof m.user, "u");
    snprintf(m.function, sizeof m.function, "f");
    uint8_t in[] = {0, 1, 2}, out[] = {'o', 'k'};
    m.input = in;
    m.input_len = sizeof in;
    m.output = out;
    m.output_len = sizeof out;
    const struct exec_msg *msgs[] = {&m};
    char *json = http_batch_status_json(7, msgs, 1, 2, false);
    CHECK(json != NULL);
    if (json) {
        CHECK(strstr(json, "\"appId\":7") && strstr(json, "\"finished\":false"));
        CHECK(strstr(json, "\"expectedNumMessages\":2"));
        CHECK(strstr(json, "\"input_data\":\"AAEC\"") && strstr(json, "\"output_data\":\"b2s=\""));
        CHECK(strstr(json, "\"returnValue\":2") && strstr(json, "\"id\":3"));
    }
    free(json);
    json = http_batch_status_json(8, NULL, 0, 0, true);
    CHECK(json && strstr(json, "\"messageResults\":[]") && strstr(json, "\"finished\":true"));
    free(json);
}

#define T(name) {#name, name}
static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    T(test_base64_round_trips_every_length),
    T(test_base64_rejects_bad_text),
    T(test_state_keys),
    T(test_plain_message_fields),
    T(test_bad_messages_name_the_problem),
    T(test_planner_requests),
    T(test_batch_status_json),
};

int main(int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (argc < 2 || !strcmp(argv[1], tests[i].name)) {
            tests[i].fn();
            ran++;
        }
    if (!ran) {
        fprintf(stderr, "no test %s\n", argv[1]);
        return 2;
    }
    return failures ? 1 : 0;
}
