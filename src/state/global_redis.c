/* global_redis.c: the global state tier on Redis (hiredis), shared by every
 * faaslet process that names the same Redis. Values are strings, appends a
 * list, locks a key with a lease; multi-command writes run in MULTI/EXEC so
 * readers never see half a push. Connections come from a small pool. */
#include "state/state_redis.h"
#include "state/state_internal.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Room for a Redis key: each name byte escapes to at most 3 bytes. */
#define REDIS_KEY_CAP (2 * 3 * STATE_MAX_KEY_BYTES + 16)
#define REDIS_MAX_ARGS 6

struct redis_conn {
    struct redis_conn *next;     /* idle list; guarded by the pool lock */
    redisContext *ctx;
};

struct redis_global {
    struct state_global base;
    struct state_redis_config cfg; /* immutable; cfg.host points at host */
    char *host;                  /* immutable */
    char addr[300];              /* "host:port" for messages; immutable */
    uint64_t token_seed;         /* immutable */
    pthread_mutex_t mu;          /* guards idle, idle_count, token_count */
    struct redis_conn *idle;
    uint32_t idle_count;
    uint64_t token_count;
    _Atomic uint64_t sets, range_writes, chunk_writes, bytes_written, gets, bytes_read, appends;
};

/* One command of a pipeline: arguments are borrowed, not copied. */
struct redis_cmd {
    int argc;
    const char *argv[REDIS_MAX_ARGS];
    size_t len[REDIS_MAX_ARGS];
};

/* ---- Lua scripts (run atomically by Redis) ---- */

/* Size of a value, -1 if absent. */
static const char size_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "return redis.call('STRLEN', KEYS[1])";

/* Makes the value exactly ARGV[1] bytes (creating, zero-extending or
 * cutting); used first in a MULTI before the chunk writes. */
static const char resize_script[] =
    "local k, n = KEYS[1], tonumber(ARGV[1]) "
    "local cur = redis.call('STRLEN', k) "
    "if cur > n then "
    "  if n == 0 then redis.call('SET', k, '') "
    "  else redis.call('SET', k, redis.call('GETRANGE', k, 0, n - 1)) end "
    "elseif cur < n then redis.call('SETRANGE', k, n - 1, '\\0') "
    "elseif cur == 0 and redis.call('EXISTS', k) == 0 then redis.call('SET', k, '') end "
    "return cur";

/* Makes the value at least ARGV[1] bytes (set_range of 0 bytes). */
static const char extend_script[] =
    "local k, n = KEYS[1], tonumber(ARGV[1]) "
    "local cur = redis.call('STRLEN', k) "
    "if cur < n then redis.call('SETRANGE', k, n - 1, '\\0') "
    "elseif cur == 0 and redis.call('EXISTS', k) == 0 then redis.call('SET', k, '') end "
    "return 0";

/* Deletes the lock only if ARGV[1] still holds it. */
static const char unlock_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

/* ---- Key layout ---- */

/* Appends name to out at *n, escaping the bytes in `special` as %XX. */
static bool key_escape(const char *name, const char *special, char *out, size_t cap, size_t *n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const char *s = name; *s; s++) {
        if (strchr(special, *s)) {
            if (*n + 3 >= cap)
                return false;
            out[(*n)++] = '%';
            out[(*n)++] = hex[(uint8_t)*s >> 4];
            out[(*n)++] = hex[(uint8_t)*s & 15];
        } else {
            if (*n + 1 >= cap)
                return false;
            out[(*n)++] = *s;
        }
    }
    return true;
}

size_t state_redis_key(const char *user, const char *key, const char *suffix, char *out,
                       size_t cap)
{
    /* Faasm's "<user>_<key>", made unambiguous: the user escapes '_' so the
     * first '_' separates, and neither name keeps a ':' so suffixes cannot
     * be forged by a key ending in ":append". Ordinary names are unchanged. */
    size_t n = 0;
    if (!key_escape(user, "%_:", out, cap, &n) || n + 1 >= cap)
        return 0;
    out[n++] = '_';
    if (!key_escape(key, "%:", out, cap, &n))
        return 0;
    size_t sl = strlen(suffix);
    if (n + sl >= cap)
        return 0;
    memcpy(out + n, suffix, sl);
    n += sl;
    out[n] = '\0';
    return n;
}

/* ---- Connections ---- */

/* Fills err from a context's error: "redis HOST:PORT: connection refused". */
static int conn_error(struct redis_global *r, redisContext *c, struct fl_error *err)
{
    char what[128];
    const char *s = c ? c->errstr : "cannot allocate a connection";
    if (c && c->err == REDIS_ERR_IO && strstr(s, "temporarily unavailable")) {
        snprintf(what, sizeof what, "no reply within %u ms", r->cfg.command_timeout_ms);
    } else if (c && c->err == REDIS_ERR_EOF) {
        snprintf(what, sizeof what, "connection closed by the server");
    } else {
        snprintf(what, sizeof what, "%s", s[0] ? s : "i/o error");
        what[0] = (char)tolower((unsigned char)what[0]);
    }
    return fl_error_set(err, FL_ERR_IO, "redis %s: %s", r->addr, what);
}

static struct timeval ms_to_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* A fresh connection with the timeouts set; NULL with err on failure. */
static redisContext *conn_open(struct redis_global *r, struct fl_error *err)
{
    redisContext *c = redisConnectWithTimeout(r->host, r->cfg.port,
                                              ms_to_tv(r->cfg.connect_timeout_ms));
    if (!c || c->err) {
        conn_error(r, c, err);
        if (c)
            redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, ms_to_tv(r->cfg.command_timeout_ms)) != REDIS_OK) {
        conn_error(r, c, err);
        redisFree(c);
        return NULL;
    }
    redisEnableKeepAlive(c);
    return c;
}

/* An idle pooled connection still open, or a new one. An idle connection
 * that is readable has been closed by the server (restart, timeout): a
 * request must not be sent on it, since its failure could not tell whether
 * the request was carried out. */
static redisContext *conn_get(struct redis_global *r, struct fl_error *err)
{
    for (;;) {
        pthread_mutex_lock(&r->mu);
        struct redis_conn *k = r->idle;
        if (k) {
            r->idle = k->next;
            r->idle_count--;
        }
        pthread_mutex_unlock(&r->mu);
        if (!k)
            return conn_open(r, err);
        redisContext *c = k->ctx;
        free(k);
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 0)
            return c;
        redisFree(c);
    }
}

/* Returns c to the pool, or closes it if it failed or the pool is full. */
static void conn_put(struct redis_global *r, redisContext *c)
{
    if (!c)
        return;
    if (!c->err) {
        struct redis_conn *k = malloc(sizeof *k);
        if (k) {
            k->ctx = c;
            pthread_mutex_lock(&r->mu);
            if (r->idle_count < r->cfg.max_idle_connections) {
                k->next = r->idle;
                r->idle = k;
                r->idle_count++;
                c = NULL;
            }
            pthread_mutex_unlock(&r->mu);
            if (c)
                free(k);
        }
    }
    if (c)
        redisFree(c);
}

/* Room for the protocol text around one argument ("$<len>\r\n" ... "\r\n"). */
#define ARG_HEAD_CAP 24

/* Sends the iovecs with sendmsg(MSG_NOSIGNAL): a server that went away is an
 * error, not a SIGPIPE that kills the process. Partial sends resume. */
static int send_all(struct redis_global *r, redisContext *c, struct iovec *iov, size_t niov,
                    struct fl_error *err)
{
    while (niov) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = niov < 1024 ? niov : 1024 /* Linux UIO_MAXIOV */};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            c->err = REDIS_ERR_IO;
            if (e == EAGAIN || e == EWOULDBLOCK)
                return fl_error_set(err, FL_ERR_IO, "redis %s: send timed out after %u ms",
                                    r->addr, r->cfg.command_timeout_ms);
            char what[64];
            snprintf(what, sizeof what, "%s", strerror(e));
            what[0] = (char)tolower((unsigned char)what[0]);
            return fl_error_set(err, FL_ERR_IO, "redis %s: %s", r->addr, what);
        }
        size_t left = (size_t)w;
        while (niov && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            niov--;
        }
        if (niov) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Sends n commands in one pipeline and collects their n replies into
 * replies (caller frees each with freeReplyObject). FL_ERR_IO if Redis
 * cannot be reached or the connection fails; replies are then all NULL. An
 * error reply is a reply, for the caller to look at. Commands are written
 * straight from the callers' buffers (hiredis would copy a 64 MiB value
 * twice, and those copies' page faults cost more than the send); hiredis
 * only parses the replies. */
static int run(struct redis_global *r, const struct redis_cmd *cmds, size_t n,
               redisReply **replies, struct fl_error *err)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    size_t nargs = 0;
    for (size_t i = 0; i < n; i++)
        nargs += (size_t)cmds[i].argc;
    /* Per command a "*<argc>" head; per argument "$<len>\r\n", bytes, "\r\n". */
    struct iovec *iov = malloc((n + 3 * nargs) * sizeof *iov);
    char *heads = malloc((n + nargs) * ARG_HEAD_CAP);
    if (!iov || !heads) {
        free(iov);
        free(heads);
        return fl_error_set(err, FL_ERR_NOMEM, "redis %s: out of memory", r->addr);
    }
    size_t niov = 0;
    char *h = heads;
    for (size_t i = 0; i < n; i++) {
        int l = snprintf(h, ARG_HEAD_CAP, "*%d\r\n", cmds[i].argc);
        iov[niov++] = (struct iovec){h, (size_t)l};
        h += ARG_HEAD_CAP;
        for (int a = 0; a < cmds[i].argc; a++) {
            l = snprintf(h, ARG_HEAD_CAP, "$%zu\r\n", cmds[i].len[a]);
            iov[niov++] = (struct iovec){h, (size_t)l};
            h += ARG_HEAD_CAP;
            if (cmds[i].len[a])
                iov[niov++] = (struct iovec){(void *)cmds[i].argv[a], cmds[i].len[a]};
            iov[niov++] = (struct iovec){(void *)"\r\n", 2};
        }
    }
    redisContext *c = conn_get(r, err);
    int rc = c ? send_all(r, c, iov, niov, err) : FL_ERR_IO;
    free(iov);
    free(heads);
    for (size_t i = 0; i < n && rc == 0; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK || !reply)
            rc = conn_error(r, c, err);
        replies[i] = reply;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            if (replies[i])
                freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
        if (c && !c->err)
            c->err = REDIS_ERR_OTHER; /* unread replies would desynchronise it */
    }
    conn_put(r, c);
    return rc;
}

/* FL_ERR_IO naming the error reply's text. */
static int reply_error(struct redis_global *r, const redisReply *reply, struct fl_error *err)
{
    if (reply && reply->type == REDIS_REPLY_ERROR)
        return fl_error_set(err, FL_ERR_IO, "redis %s: %.*s", r->addr,
                            (int)(reply->len > 200 ? 200 : reply->len), reply->str);
    return fl_error_set(err, FL_ERR_IO, "redis %s: unexpected reply type %d", r->addr,
                        reply ? reply->type : -1);
}

/* ---- Command building ---- */

static void cmd1(struct redis_cmd *c, const char *a)
{
    c->argc = 1;
    c->argv[0] = a;
    c->len[0] = strlen(a);
}

static void cmd_add(struct redis_cmd *c, const void *data, size_t len)
{
    c->argv[c->argc] = data;
    c->len[c->argc] = len;
    c->argc++;
}

static void cmd_adds(struct redis_cmd *c, const char *s)
{
    cmd_add(c, s, strlen(s));
}

/* The names as a Redis key; FL_ERR_ARG if they are invalid. */
static int make_key(const char *user, const char *key, const char *suffix, char *out,
                    struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    if (!state_redis_key(user, key, suffix, out, REDIS_KEY_CAP))
        return fl_error_set(err, FL_ERR_ARG, "state %s: key too long for redis", user);
    return 0;
}

static int check_len(uint64_t offset, uint64_t len, struct fl_error *err)
{
    if (offset > STATE_REDIS_MAX_VALUE_BYTES || len > STATE_REDIS_MAX_VALUE_BYTES - offset)
        return fl_error_set(err, FL_ERR_LIMIT,
                            "%" PRIu64 " bytes at offset %" PRIu64
                            " is over redis's string limit of %llu bytes",
                            len, offset, STATE_REDIS_MAX_VALUE_BYTES);
    return 0;
}

/* Reads an EXEC reply: an array of n replies, none an error. */
static int exec_reply(struct redis_global *r, const redisReply *reply, size_t n,
                      struct fl_error *err)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
        return reply_error(r, reply, err);
    for (size_t i = 0; i < n; i++) {
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            return reply_error(r, reply->element[i], err);
    }
    return 0;
}

static void free_replies(redisReply **replies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (replies[i])
            freeReplyObject(replies[i]);
    }
}

/* ---- Operations ---- */

static int redis_size(struct state_global *g, const char *user, const char *key, uint64_t *size,
                      struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (rc)
        return rc;
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "EVAL");
    cmd_adds(&cmd, size_script);
    cmd_adds(&cmd, "1");
    cmd_adds(&cmd, k);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_INTEGER)
        rc = reply_error(r, reply, err);
    else if (reply->integer < 0)
        rc = FL_ERR_NOT_FOUND;
    else
        *size = (uint64_t)reply->integer;
    freeReplyObject(reply);
    return rc;
}

static int redis_get(struct state_global *g, const char *user, const char *key, uint8_t **data,
                     uint64_t *len, struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    *data = NULL;
    *len = 0;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (rc)
        return rc;
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "GET");
    cmd_adds(&cmd, k);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_NIL) {
        rc = FL_ERR_NOT_FOUND;
    } else if (reply->type != REDIS_REPLY_STRING) {
        rc = reply_error(r, reply, err);
    } else if (reply->len) {
        *data = malloc(reply->len);
        if (*data) {
            memcpy(*data, reply->str, reply->len);
            *len = reply->len;
        } else {
            rc = fl_error_set(err, FL_ERR_NOMEM, "redis %s: out of memory", r->addr);
        }
    }
    freeReplyObject(reply);
    if (rc == 0) {
        atomic_fetch_add(&r->gets, 1);
        atomic_fetch_add(&r->bytes_read, *len);
    }
    return rc;
}

static int redis_get_range(struct state_global *g, const char *user, const char *key,
                           uint64_t offset, uint8_t *buf, uint64_t len, uint64_t *size,
                           struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (!rc)
        rc = check_len(offset, len, err);
    if (rc)
        return rc;
    /* Existence, size and bytes from one snapshot of the value. */
    char from[24], to[24];
    snprintf(from, sizeof from, "%" PRIu64, offset);
    snprintf(to, sizeof to, "%" PRIu64, offset + len - 1);
    struct redis_cmd cmds[5] = {{0}};
    size_t n = 0;
    cmd1(&cmds[n++], "MULTI");
    cmd_adds(&cmds[n], "EXISTS");
    cmd_adds(&cmds[n++], k);
    cmd_adds(&cmds[n], "STRLEN");
    cmd_adds(&cmds[n++], k);
    if (len) {
        cmd_adds(&cmds[n], "GETRANGE");
        cmd_adds(&cmds[n], k);
        cmd_adds(&cmds[n], from);
        cmd_adds(&cmds[n++], to);
    }
    cmd1(&cmds[n++], "EXEC");
    redisReply *replies[5];
    rc = run(r, cmds, n, replies, err);
    if (rc)
        return rc;
    redisReply *ex = replies[n - 1];
    rc = exec_reply(r, ex, n - 2, err);
    uint64_t have = 0;
    if (rc == 0 && ex->element[0]->integer == 0) {
        rc = FL_ERR_NOT_FOUND;
    } else if (rc == 0) {
        if (len) {
            const redisReply *bytes = ex->element[2];
            have = bytes->len < len ? bytes->len : len;
            if (have)
                memcpy(buf, bytes->str, have);
            if (len > have)
                memset(buf + have, 0, len - have);
        }
        if (size)
            *size = (uint64_t)ex->element[1]->integer;
    }
    free_replies(replies, n);
    if (rc == 0) {
        atomic_fetch_add(&r->gets, 1);
        atomic_fetch_add(&r->bytes_read, have);
    }
    return rc;
}

static int redis_set(struct state_global *g, const char *user, const char *key,
                     const uint8_t *data, uint64_t len, struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (!rc)
        rc = check_len(0, len, err);
    if (rc)
        return rc;
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "SET");
    cmd_adds(&cmd, k);
    cmd_add(&cmd, len ? (const char *)data : "", len);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_STATUS)
        rc = reply_error(r, reply, err);
    freeReplyObject(reply);
    if (rc == 0) {
        atomic_fetch_add(&r->sets, 1);
        atomic_fetch_add(&r->bytes_written, len);
    }
    return rc;
}

static int redis_set_range(struct state_global *g, const char *user, const char *key,
                           uint64_t offset, const uint8_t *data, uint64_t len,
                           struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (!rc)
        rc = check_len(offset, len, err);
    if (rc)
        return rc;
    char off[24];
    snprintf(off, sizeof off, "%" PRIu64, offset);
    struct redis_cmd cmd = {0};
    if (len) {
        cmd_adds(&cmd, "SETRANGE"); /* creates and zero-extends by itself */
        cmd_adds(&cmd, k);
        cmd_adds(&cmd, off);
        cmd_add(&cmd, data, len);
    } else {
        cmd_adds(&cmd, "EVAL");
        cmd_adds(&cmd, extend_script);
        cmd_adds(&cmd, "1");
        cmd_adds(&cmd, k);
        cmd_adds(&cmd, off);
    }
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_INTEGER)
        rc = reply_error(r, reply, err);
    freeReplyObject(reply);
    if (rc == 0) {
        atomic_fetch_add(&r->range_writes, 1);
        atomic_fetch_add(&r->bytes_written, len);
    }
    return rc;
}

/* A MULTI that resizes the value to total_len, then writes `runs` byte runs
 * (offset/length pairs) of data, then EXECs: readers see all or nothing. */
static int write_runs(struct redis_global *r, const char *k, const uint8_t *data,
                      uint64_t total_len, const uint64_t *runs, size_t nruns,
                      struct fl_error *err)
{
    size_t n = nruns + 3;
    struct redis_cmd *cmds = calloc(n, sizeof *cmds);
    redisReply **replies = calloc(n, sizeof *replies);
    char *offs = calloc(nruns + 1, 24);
    if (!cmds || !replies || !offs) {
        free(cmds);
        free(replies);
        free(offs);
        return fl_error_set(err, FL_ERR_NOMEM, "redis %s: out of memory", r->addr);
    }
    snprintf(offs, 24, "%" PRIu64, total_len);
    cmd1(&cmds[0], "MULTI");
    cmd_adds(&cmds[1], "EVAL");
    cmd_adds(&cmds[1], resize_script);
    cmd_adds(&cmds[1], "1");
    cmd_adds(&cmds[1], k);
    cmd_adds(&cmds[1], offs);
    for (size_t i = 0; i < nruns; i++) {
        char *o = offs + (i + 1) * 24;
        snprintf(o, 24, "%" PRIu64, runs[2 * i]);
        struct redis_cmd *c = &cmds[i + 2];
        cmd_adds(c, "SETRANGE");
        cmd_adds(c, k);
        cmd_adds(c, o);
        cmd_add(c, data + runs[2 * i], runs[2 * i + 1]);
    }
    cmd1(&cmds[n - 1], "EXEC");
    int rc = run(r, cmds, n, replies, err);
    if (rc == 0) {
        for (size_t i = 0; i + 1 < n && rc == 0; i++) {
            if (replies[i]->type == REDIS_REPLY_ERROR) /* refused when queued */
                rc = reply_error(r, replies[i], err);
        }
        if (rc == 0)
            rc = exec_reply(r, replies[n - 1], n - 2, err);
    }
    free_replies(replies, n);
    free(cmds);
    free(replies);
    free(offs);
    return rc;
}

static int redis_set_chunks(struct state_global *g, const char *user, const char *key,
                            const uint8_t *data, uint64_t total_len, const uint8_t *dirty,
                            struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (!rc)
        rc = check_len(0, total_len, err);
    if (rc)
        return rc;
    uint64_t nchunks = (total_len + STATE_CHUNK_SIZE - 1) / STATE_CHUNK_SIZE, ndirty = 0;
    for (uint64_t i = 0; i < nchunks; i++)
        ndirty += dirty[i] != 0;
    uint64_t *runs = malloc((ndirty ? ndirty : 1) * 2 * sizeof *runs);
    if (!runs)
        return fl_error_set(err, FL_ERR_NOMEM, "redis %s: out of memory", r->addr);
    /* One SETRANGE per dirty chunk (not merged): Redis's own command counts
     * then show exactly which chunks a push sent. */
    size_t nruns = 0;
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < nchunks; i++) {
        if (!dirty[i])
            continue;
        uint64_t off = i * STATE_CHUNK_SIZE;
        uint64_t l = total_len - off < STATE_CHUNK_SIZE ? total_len - off : STATE_CHUNK_SIZE;
        runs[2 * nruns] = off;
        runs[2 * nruns + 1] = l;
        nruns++;
        bytes += l;
    }
    rc = write_runs(r, k, data, total_len, runs, nruns, err);
    free(runs);
    if (rc == 0) {
        atomic_fetch_add(&r->chunk_writes, nruns);
        atomic_fetch_add(&r->bytes_written, bytes);
    }
    return rc;
}

static int redis_set_masked(struct state_global *g, const char *user, const char *key,
                            const uint8_t *data, const uint8_t *mask, uint64_t len,
                            struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, "", k, err);
    if (!rc)
        rc = check_len(0, len, err);
    if (rc)
        return rc;
    size_t nruns = 0, cap = 16;
    uint64_t bytes = 0;
    uint64_t *runs = malloc(cap * 2 * sizeof *runs);
    for (uint64_t i = 0; runs && i < len;) {
        if (!mask[i]) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < len && mask[j])
            j++;
        if (nruns == cap) {
            cap *= 2;
            uint64_t *more = realloc(runs, cap * 2 * sizeof *runs);
            if (!more) {
                free(runs);
                runs = NULL;
                break;
            }
            runs = more;
        }
        runs[2 * nruns] = i;
        runs[2 * nruns + 1] = j - i;
        nruns++;
        bytes += j - i;
        i = j;
    }
    if (!runs)
        return fl_error_set(err, FL_ERR_NOMEM, "redis %s: out of memory", r->addr);
    rc = write_runs(r, k, data, len, runs, nruns, err);
    free(runs);
    if (rc == 0) {
        atomic_fetch_add(&r->range_writes, 1);
        atomic_fetch_add(&r->bytes_written, bytes);
    }
    return rc;
}

static int redis_append(struct state_global *g, const char *user, const char *key,
                        const uint8_t *data, uint64_t len, struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, ":append", k, err);
    if (!rc)
        rc = check_len(0, len, err);
    if (rc)
        return rc;
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "RPUSH");
    cmd_adds(&cmd, k);
    cmd_add(&cmd, len ? (const char *)data : "", len);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_INTEGER)
        rc = reply_error(r, reply, err);
    freeReplyObject(reply);
    if (rc == 0)
        atomic_fetch_add(&r->appends, 1);
    return rc;
}

static int redis_read_appended(struct state_global *g, const char *user, const char *key,
                               uint64_t n, uint8_t *buf, uint64_t cap, uint64_t *used,
                               struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    *used = 0;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, ":append", k, err);
    if (rc || n == 0)
        return rc;
    char last[24];
    uint64_t end = n - 1 > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : n - 1;
    snprintf(last, sizeof last, "%" PRIu64, end);
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "LRANGE");
    cmd_adds(&cmd, k);
    cmd_adds(&cmd, "0");
    cmd_adds(&cmd, last);
    redisReply *list;
    rc = run(r, &cmd, 1, &list, err);
    if (rc)
        return rc;
    if (list->type != REDIS_REPLY_ARRAY) {
        rc = reply_error(r, list, err);
    } else if (list->elements < n) {
        rc = fl_error_set(err, FL_ERR_LIMIT, "%" PRIu64 " elements asked, %zu appended", n,
                          list->elements);
    } else {
        uint64_t bytes = 0;
        for (size_t i = 0; i < list->elements; i++)
            bytes += list->element[i]->len;
        if (bytes > cap) {
            rc = fl_error_set(err, FL_ERR_LIMIT,
                              "%" PRIu64 " appended elements take %" PRIu64
                              " bytes, buffer has %" PRIu64,
                              n, bytes, cap);
        } else {
            for (size_t i = 0; i < list->elements; i++) {
                if (list->element[i]->len)
                    memcpy(buf + *used, list->element[i]->str, list->element[i]->len);
                *used += list->element[i]->len;
            }
        }
    }
    freeReplyObject(list);
    return rc;
}

static int redis_clear_appended(struct state_global *g, const char *user, const char *key,
                                struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, ":append", k, err);
    if (rc)
        return rc;
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "DEL");
    cmd_adds(&cmd, k);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_INTEGER)
        rc = reply_error(r, reply, err);
    freeReplyObject(reply);
    return rc;
}

/* A token no other holder of any process is likely to have (random seed per
 * backend, mixed with a counter), never 0. */
static uint64_t next_token(struct redis_global *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t z = r->token_seed + 0x9e3779b97f4a7c15ull * ++r->token_count;
    pthread_mutex_unlock(&r->mu);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z ? z : 1;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int redis_lock(struct state_global *g, const char *user, const char *key, uint64_t lease_ms,
                      uint64_t wait_ms, uint64_t *token, struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, ":lock", k, err);
    if (rc)
        return rc;
    uint64_t t = next_token(r);
    char tok[24], px[24];
    snprintf(tok, sizeof tok, "%" PRIu64, t);
    /* Redis wants a positive lease; the lease holds the lock's fate if this
     * holder dies, so nobody waits on it past lease_ms. */
    snprintf(px, sizeof px, "%" PRIu64, lease_ms ? lease_ms : 1);
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "SET");
    cmd_adds(&cmd, k);
    cmd_adds(&cmd, tok);
    cmd_adds(&cmd, "NX");
    cmd_adds(&cmd, "PX");
    cmd_adds(&cmd, px);
    uint64_t deadline = state_now_ms() + wait_ms, pause = 1;
    for (;;) {
        redisReply *reply;
        rc = run(r, &cmd, 1, &reply, err);
        if (rc)
            return rc;
        bool got = reply->type == REDIS_REPLY_STATUS;
        if (!got && reply->type != REDIS_REPLY_NIL)
            rc = reply_error(r, reply, err);
        freeReplyObject(reply);
        if (rc)
            return rc;
        if (got) {
            *token = t;
            return 0;
        }
        uint64_t now = state_now_ms();
        if (now >= deadline)
            return fl_error_set(err, FL_ERR_LIMIT, "global lock still held after %" PRIu64 " ms",
                                wait_ms);
        sleep_ms(pause < deadline - now ? pause : deadline - now);
        if (pause < 16)
            pause *= 2;
    }
}

static int redis_unlock(struct state_global *g, const char *user, const char *key, uint64_t token,
                        struct fl_error *err)
{
    struct redis_global *r = (struct redis_global *)g;
    char k[REDIS_KEY_CAP];
    int rc = make_key(user, key, ":lock", k, err);
    if (rc)
        return rc;
    char tok[24];
    snprintf(tok, sizeof tok, "%" PRIu64, token);
    struct redis_cmd cmd = {0};
    cmd_adds(&cmd, "EVAL");
    cmd_adds(&cmd, unlock_script);
    cmd_adds(&cmd, "1");
    cmd_adds(&cmd, k);
    cmd_adds(&cmd, tok);
    redisReply *reply;
    rc = run(r, &cmd, 1, &reply, err);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_INTEGER)
        rc = reply_error(r, reply, err);
    else if (reply->integer == 0)
        rc = fl_error_set(err, FL_ERR_NOT_FOUND,
                          "global lock not held by this holder (lease expired?)");
    freeReplyObject(reply);
    return rc;
}

static void redis_stats(struct state_global *g, struct state_global_stats *out)
{
    struct redis_global *r = (struct redis_global *)g;
    out->sets = atomic_load(&r->sets);
    out->range_writes = atomic_load(&r->range_writes);
    out->chunk_writes = atomic_load(&r->chunk_writes);
    out->bytes_written = atomic_load(&r->bytes_written);
    out->gets = atomic_load(&r->gets);
    out->bytes_read = atomic_load(&r->bytes_read);
    out->appends = atomic_load(&r->appends);
}

static void redis_destroy(struct state_global *g)
{
    struct redis_global *r = (struct redis_global *)g;
    if (!r)
        return;
    while (r->idle) {
        struct redis_conn *k = r->idle;
        r->idle = k->next;
        redisFree(k->ctx);
        free(k);
    }
    pthread_mutex_destroy(&r->mu);
    free(r->host);
    free(r);
}

static const struct state_global_ops redis_ops = {
    .name = "redis",
    .size = redis_size,
    .get = redis_get,
    .get_range = redis_get_range,
    .set = redis_set,
    .set_range = redis_set_range,
    .set_chunks = redis_set_chunks,
    .set_masked = redis_set_masked,
    .append = redis_append,
    .read_appended = redis_read_appended,
    .clear_appended = redis_clear_appended,
    .lock = redis_lock,
    .unlock = redis_unlock,
    .stats = redis_stats,
    .destroy = redis_destroy,
};

struct state_global *state_global_redis_create_with(const struct state_redis_config *cfg,
                                                    struct fl_error *err)
{
    if (!cfg || !cfg->host || !cfg->host[0] || strlen(cfg->host) > 255 || cfg->port < 1 ||
        cfg->port > 65535) {
        fl_error_set(err, FL_ERR_ARG, "redis: need a host name and a port in 1..65535");
        return NULL;
    }
    struct redis_global *r = calloc(1, sizeof *r);
    if (!r || !(r->host = strdup(cfg->host))) {
        free(r);
        fl_error_set(err, FL_ERR_NOMEM, "redis: out of memory");
        return NULL;
    }
    r->base.ops = &redis_ops;
    r->cfg = *cfg;
    r->cfg.host = r->host;
    if (!r->cfg.connect_timeout_ms)
        r->cfg.connect_timeout_ms = STATE_REDIS_CONNECT_TIMEOUT_MS;
    if (!r->cfg.command_timeout_ms)
        r->cfg.command_timeout_ms = STATE_REDIS_COMMAND_TIMEOUT_MS;
    if (!r->cfg.max_idle_connections)
        r->cfg.max_idle_connections = 8;
    snprintf(r->addr, sizeof r->addr, strchr(r->host, ':') ? "[%s]:%d" : "%s:%d", r->host,
             cfg->port);
    pthread_mutex_init(&r->mu, NULL);
    if (getrandom(&r->token_seed, sizeof r->token_seed, 0) != (ssize_t)sizeof r->token_seed)
        r->token_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)r;
    redisContext *c = conn_open(r, err);
    if (!c) {
        redis_destroy(&r->base);
        return NULL;
    }
    conn_put(r, c);
    return &r->base;
}

struct state_global *state_global_redis_create(const char *host, int port, struct fl_error *err)
{
    struct state_redis_config cfg = {.host = host, .port = port};
    return state_global_redis_create_with(&cfg, err);
}

struct state_global *state_global_redis_create_addr(const char *addr, struct fl_error *err)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    char host[256];
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') { /* [v6]:port */
        addr++;
        hl -= 2;
    }
    if (!colon || hl == 0 || hl >= sizeof host || !colon[1] || *end || port < 1 || port > 65535) {
        fl_error_set(err, FL_ERR_ARG, "redis: bad address '%s' (want HOST:PORT)",
                     addr ? addr : "");
        return NULL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    return state_global_redis_create(host, (int)port, err);
}
