/* host_state.c: the `env.__faasm_*` state imports over src/state, with the
 * per-call bookkeeping (pointer mappings, local and global locks held) that
 * faaslet_state_call_end undoes. Contract: docs/GUEST-API.md, "State". */
#define _GNU_SOURCE
#include "faaslet/host_state.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state.h"
#include "wasi/wasi.h"

#define KEY_CAP 1024u          /* a guest string's NUL must lie within this many bytes */
#define WAIT_SLICE_MS 50u      /* lock waits re-check the call's interrupt this often */

struct held_mapping {
    struct state_value *value;
    struct runtime_memory *memory;
    uint64_t addr;             /* guest address of the first byte */
    uint64_t len;              /* bytes mapped (whole wasm pages) */
};

struct held_lock {
    struct state_value *value;
    bool write;
    uint32_t count;            /* nested read holds share one real hold */
};

struct held_global {
    char *user, *key;
    uint64_t token;
};

struct faaslet_state_call {
    struct held_mapping *maps;
    size_t map_count, map_cap;
    struct held_lock *locks;
    size_t lock_count, lock_cap;
    struct held_global *globals;
    size_t global_count, global_cap;
};

/* Grows a bookkeeping array by one slot; false on OOM. */
static bool grow_array(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, n * size);
    if (!p)
        return false;
    *items = p;
    *cap = n;
    return true;
}

int faaslet_state_ctx_init(struct faaslet_state_ctx *ctx, struct state_store *store,
                           struct wasi_ctx *wasi, struct fl_error *err)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->call = calloc(1, sizeof *ctx->call);
    if (!ctx->call)
        return fl_error_set(err, FL_ERR_NOMEM, "state: out of memory");
    ctx->store = store;
    ctx->wasi = wasi;
    return 0;
}

void faaslet_state_ctx_fini(struct faaslet_state_ctx *ctx)
{
    if (!ctx->call)
        return;
    faaslet_state_call_end(ctx, NULL);
    free(ctx->call->maps);
    free(ctx->call->locks);
    free(ctx->call->globals);
    free(ctx->call);
    ctx->call = NULL;
}

void faaslet_state_call_begin(struct faaslet_state_ctx *ctx, const char *user)
{
    ctx->user = user;
}

void faaslet_state_call_end(struct faaslet_state_ctx *ctx, struct runtime_memory *memory)
{
    struct faaslet_state_call *c = ctx->call;
    if (!c)
        return;
    for (size_t i = 0; i < c->lock_count; i++)
        state_value_unlock(c->locks[i].value, c->locks[i].write);
    c->lock_count = 0;
    for (size_t i = 0; i < c->global_count; i++) {
        /* A lease that ran out is released already; nothing more to do. */
        state_unlock_global(ctx->store, c->globals[i].user, c->globals[i].key,
                            c->globals[i].token, NULL);
        free(c->globals[i].user);
        free(c->globals[i].key);
    }
    c->global_count = 0;
    for (size_t i = 0; i < c->map_count; i++) {
        struct held_mapping *m = &c->maps[i];
        if (!memory || m->memory != memory)
            continue; /* that memory is gone (or going): nothing to detach */
        uint64_t size = atomic_load(&memory->size);
        uint64_t end = m->addr + m->len;
        uint64_t split = size <= m->addr ? m->addr : size >= end ? end : size;
        state_unmap_from(memory->base + m->addr, split - m->addr, true, NULL);
        state_unmap_from(memory->base + split, end - split, false, NULL);
    }
    c->map_count = 0;
    ctx->user = NULL;
}

/* ---- Helpers for host functions ---- */

#define ARG32(i) ((uint32_t)cells[i])
#define ARGS32(i) ((int32_t)(uint32_t)cells[i])

/* Fails the call with RUNTIME_TRAP_HOST and "import: message". */
__attribute__((format(printf, 3, 4))) static int trap(struct runtime_exec *exec,
                                                      const char *import, const char *fmt, ...)
{
    int n = snprintf(exec->trap_msg, sizeof exec->trap_msg, "%s: ", import);
    if (n < 0 || (size_t)n >= sizeof exec->trap_msg)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(exec->trap_msg + n, sizeof exec->trap_msg - (size_t)n, fmt, ap);
    va_end(ap);
    return RUNTIME_TRAP_HOST;
}

static int trap_err(struct runtime_exec *exec, const char *import, const struct fl_error *err)
{
    return trap(exec, import, "%s", err->msg);
}

/* What every state import starts from: the call's context and memory. */
struct call {
    struct runtime_exec *exec;
    const char *import;
    struct faaslet_state_ctx *ctx;
    struct runtime_memory *memory;
    struct fl_error err;
};

static int call_init(struct call *c, const char *import, struct runtime_exec *exec,
                     struct runtime_instance *caller, void *host_data)
{
    c->exec = exec;
    c->import = import;
    c->ctx = host_data;
    fl_error_clear(&c->err);
    if (!c->ctx || !c->ctx->user || !c->ctx->store || !c->ctx->call)
        return trap(exec, import, "no call is running in this Faaslet");
    if (!caller || caller->module->memory_count == 0)
        return trap(exec, import, "the module has no memory");
    c->memory = caller->memories[0];
    return RUNTIME_OK;
}

/* Copies the guest string at addr into out (KEY_CAP bytes). */
static int guest_string(struct call *c, uint32_t addr, const char *what, char *out)
{
    uint64_t size = atomic_load(&c->memory->size);
    if (addr >= size)
        return trap(c->exec, c->import, "%s pointer 0x%x is outside memory", what, addr);
    uint64_t avail = size - addr < KEY_CAP ? size - addr : KEY_CAP;
    const char *p = runtime_memory_ptr(c->memory, addr, avail);
    const char *nul = p ? memchr(p, 0, avail) : NULL;
    if (!nul)
        return trap(c->exec, c->import, "%s at 0x%x has no NUL within %llu bytes", what, addr,
                    (unsigned long long)avail);
    memcpy(out, p, (size_t)(nul - p) + 1);
    return RUNTIME_OK;
}

/* The guest buffer [addr, addr+len) (len checked non-negative). */
static int guest_buffer(struct call *c, uint32_t addr, int32_t len, const char *what,
                        uint8_t **out)
{
    if (len < 0)
        return trap(c->exec, c->import, "negative %s length %d", what, len);
    *out = runtime_memory_ptr(c->memory, addr, (uint64_t)len);
    if (!*out)
        return trap(c->exec, c->import, "%s [0x%x, +%d) is outside memory", what, addr, len);
    return RUNTIME_OK;
}

static int nonneg(struct call *c, int32_t v, const char *what)
{
    if (v < 0)
        return trap(c->exec, c->import, "negative %s %d", what, v);
    return RUNTIME_OK;
}

/* The local value of key with exactly total_len bytes (created if absent). */
static int open_exact(struct call *c, const char *key, int32_t total_len,
                      struct state_value **v)
{
    int rc = nonneg(c, total_len, "total length");
    if (rc)
        return rc;
    if (state_value_open(c->ctx->store, c->ctx->user, key, (uint64_t)total_len, 0, v, &c->err))
        return trap_err(c->exec, c->import, &c->err);
    return RUNTIME_OK;
}

static int check_range(struct call *c, const char *key, int32_t offset, int32_t len,
                       int32_t total_len)
{
    if (offset < 0 || len < 0 || offset > total_len || len > total_len - offset)
        return trap(c->exec, c->import,
                    "key %s: %d bytes at offset %d are outside the value (%d bytes)", key, len,
                    offset, total_len);
    return RUNTIME_OK;
}

/* Maps value (size bytes) into the call's memory once per call; *addr gets
 * the guest address of its first byte. */
static int map_value(struct call *c, struct state_value *v, uint64_t size, uint64_t *addr)
{
    struct faaslet_state_call *call = c->ctx->call;
    for (size_t i = 0; i < call->map_count; i++) {
        struct held_mapping *m = &call->maps[i];
        if (m->value == v && m->memory == c->memory && m->len >= size) {
            *addr = m->addr;
            return RUNTIME_OK;
        }
    }
    if (!grow_array((void **)&call->maps, &call->map_cap, call->map_count, sizeof *call->maps))
        return trap(c->exec, c->import, "out of memory");
    uint64_t pages = (size + WASM_PAGE_SIZE - 1) / WASM_PAGE_SIZE;
    if (pages == 0)
        pages = 1;
    int64_t old = runtime_memory_grow(c->memory, pages);
    if (old < 0)
        return trap(c->exec, c->import,
                    "key %s: cannot grow memory by %llu pages to map the value",
                    state_value_key(v), (unsigned long long)pages);
    uint64_t at = (uint64_t)old * WASM_PAGE_SIZE;
    if (state_map_into(v, c->memory->base + at, pages * WASM_PAGE_SIZE, &c->err))
        return trap_err(c->exec, c->import, &c->err);
    call->maps[call->map_count++] =
        (struct held_mapping){v, c->memory, at, pages * WASM_PAGE_SIZE};
    *addr = at;
    return RUNTIME_OK;
}

/* ---- Whole values ---- */

static int h_read_state(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_read_state", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t len = ARGS32(2);
    if ((rc = nonneg(&c, len, "length")))
        return rc;
    if (len == 0) {
        uint64_t size;
        if (state_size(c.ctx->store, c.ctx->user, key, &size, &c.err))
            return trap_err(exec, c.import, &c.err);
        cells[0] = (uint32_t)size;
        return RUNTIME_OK;
    }
    uint8_t *buf;
    if ((rc = guest_buffer(&c, ARG32(1), len, "buffer", &buf)))
        return rc;
    struct state_value *v;
    if (state_value_open(c.ctx->store, c.ctx->user, key, (uint64_t)len,
                         STATE_OPEN_SIZE_FROM_GLOBAL, &v, &c.err))
        return trap_err(exec, c.import, &c.err);
    uint64_t size = state_value_size(v);
    uint64_t n = size < (uint64_t)len ? size : (uint64_t)len;
    if (state_value_read(v, 0, buf, n, &c.err))
        return trap_err(exec, c.import, &c.err);
    cells[0] = (uint32_t)size;
    return RUNTIME_OK;
}

static int h_read_state_ptr(struct runtime_exec *exec, struct runtime_instance *caller,
                            uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_read_state_ptr", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t total = ARGS32(1);
    if (total <= 0)
        return trap(exec, c.import, "key %s: total length %d must be positive", key, total);
    struct state_value *v;
    if ((rc = open_exact(&c, key, total, &v)))
        return rc;
    if (state_value_ensure(v, 0, (uint64_t)total, &c.err))
        return trap_err(exec, c.import, &c.err);
    uint64_t addr;
    if ((rc = map_value(&c, v, (uint64_t)total, &addr)))
        return rc;
    cells[0] = (uint32_t)addr;
    return RUNTIME_OK;
}

static int h_write_state(struct runtime_exec *exec, struct runtime_instance *caller,
                         uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_write_state", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    uint8_t *data;
    if ((rc = guest_buffer(&c, ARG32(1), ARGS32(2), "data", &data)))
        return rc;
    struct state_value *v;
    if (state_value_open(c.ctx->store, c.ctx->user, key, (uint64_t)ARGS32(2),
                         STATE_OPEN_SIZE_FROM_GLOBAL, &v, &c.err) ||
        state_value_replace(v, data, (uint64_t)ARGS32(2), &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

/* Reads a file through the guest's WASI view: the preopen whose guest name is
 * the longest prefix of path, then a sandboxed walk beneath it. Returns a
 * malloc'd buffer (NULL + *len 0 when the file cannot be read). */
static uint8_t *read_guest_file(struct wasi_ctx *wasi, const char *path, uint64_t max,
                                uint64_t *len)
{
    *len = 0;
    if (!wasi)
        return NULL;
    const struct wasi_fd *best = NULL;
    size_t best_len = 0;
    const char *rest = NULL;
    for (uint32_t i = 0; i < wasi->fd_count; i++) {
        const struct wasi_fd *f = &wasi->fds[i];
        if (f->host_fd < 0 || !f->preopen_name)
            continue;
        const char *name = f->preopen_name;
        size_t n = strlen(name);
        while (n > 1 && name[n - 1] == '/')
            n--;
        const char *r = NULL;
        if (n == 1 && name[0] == '.' && path[0] != '/')
            r = path; /* relative paths resolve beneath "." */
        else if (n == 1 && name[0] == '/' && path[0] == '/')
            r = path + 1;
        else if (strncmp(path, name, n) == 0 && (path[n] == '/' || path[n] == '\0'))
            r = path + n;
        if (r && (!best || n > best_len)) {
            best = f;
            best_len = n;
            rest = r;
        }
    }
    if (!best)
        return NULL;
    while (*rest == '/')
        rest++;
    if (*rest == '\0')
        return NULL; /* the directory itself */
    int parent;
    char name[256];
    if (wasi_path_resolve(best->host_fd, rest, (uint32_t)strlen(rest), true, wasi->no_openat2,
                          &parent, name, sizeof name) != 0)
        return NULL;
    int fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    close(parent);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= max) {
        uint64_t size = (uint64_t)st.st_size;
        data = malloc(size ? size : 1);
        uint64_t got = 0;
        while (data && got < size) {
            ssize_t r = read(fd, data + got, size - got);
            if (r <= 0)
                break;
            got += (uint64_t)r;
        }
        if (data && got == size) {
            *len = size;
        } else {
            free(data);
            data = NULL;
        }
    }
    close(fd);
    return data;
}

static int h_write_state_from_file(struct runtime_exec *exec, struct runtime_instance *caller,
                                   uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_write_state_from_file", exec, caller, host_data);
    char key[KEY_CAP], path[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)) ||
        (rc = guest_string(&c, ARG32(1), "path", path)))
        return rc;
    uint64_t max = state_store_max_value_bytes(c.ctx->store);
    if (max > INT32_MAX)
        max = INT32_MAX; /* the result is an i32 */
    uint64_t len;
    uint8_t *data = read_guest_file(c.ctx->wasi, path, max, &len);
    cells[0] = 0;
    if (!data)
        return RUNTIME_OK; /* unreadable: 0, nothing written */
    struct state_value *v;
    if (state_value_open(c.ctx->store, c.ctx->user, key, len, STATE_OPEN_SIZE_FROM_GLOBAL, &v,
                         &c.err) ||
        state_value_replace(v, data, len, &c.err)) {
        free(data);
        return trap_err(exec, c.import, &c.err);
    }
    free(data);
    cells[0] = (uint32_t)len;
    return RUNTIME_OK;
}

/* ---- Chunks ---- */

static int h_read_state_offset(struct runtime_exec *exec, struct runtime_instance *caller,
                               uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_read_state_offset", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t total = ARGS32(1), offset = ARGS32(2), len = ARGS32(4);
    uint8_t *buf;
    struct state_value *v;
    if ((rc = guest_buffer(&c, ARG32(3), len, "buffer", &buf)) ||
        (rc = open_exact(&c, key, total, &v)) || (rc = check_range(&c, key, offset, len, total)))
        return rc;
    if (state_value_read(v, (uint64_t)offset, buf, (uint64_t)len, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

static int h_read_state_offset_ptr(struct runtime_exec *exec, struct runtime_instance *caller,
                                   uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_read_state_offset_ptr", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t total = ARGS32(1), offset = ARGS32(2), len = ARGS32(3);
    if (total <= 0)
        return trap(exec, c.import, "key %s: total length %d must be positive", key, total);
    struct state_value *v;
    if ((rc = open_exact(&c, key, total, &v)) || (rc = check_range(&c, key, offset, len, total)))
        return rc;
    if (state_value_ensure(v, (uint64_t)offset, (uint64_t)len, &c.err))
        return trap_err(exec, c.import, &c.err);
    uint64_t addr;
    if ((rc = map_value(&c, v, (uint64_t)total, &addr)))
        return rc;
    cells[0] = (uint32_t)(addr + (uint64_t)offset);
    return RUNTIME_OK;
}

static int h_write_state_offset(struct runtime_exec *exec, struct runtime_instance *caller,
                                uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_write_state_offset", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t total = ARGS32(1), offset = ARGS32(2), len = ARGS32(4);
    uint8_t *data;
    struct state_value *v;
    if ((rc = guest_buffer(&c, ARG32(3), len, "data", &data)) ||
        (rc = open_exact(&c, key, total, &v)) || (rc = check_range(&c, key, offset, len, total)))
        return rc;
    if (state_value_write(v, (uint64_t)offset, data, (uint64_t)len, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

static int h_flag_state_dirty(struct runtime_exec *exec, struct runtime_instance *caller,
                              uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_flag_state_dirty", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct state_value *v;
    if ((rc = open_exact(&c, key, ARGS32(1), &v)))
        return rc;
    if (state_value_flag_dirty(v, 0, (uint64_t)ARGS32(1), &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

static int h_flag_state_offset_dirty(struct runtime_exec *exec, struct runtime_instance *caller,
                                     uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_flag_state_offset_dirty", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    int32_t total = ARGS32(1), offset = ARGS32(2), len = ARGS32(3);
    struct state_value *v;
    if ((rc = open_exact(&c, key, total, &v)) || (rc = check_range(&c, key, offset, len, total)))
        return rc;
    if (state_value_flag_dirty(v, (uint64_t)offset, (uint64_t)len, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

/* ---- Appended values ---- */

static int h_append_state(struct runtime_exec *exec, struct runtime_instance *caller,
                          uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_append_state", exec, caller, host_data);
    char key[KEY_CAP];
    uint8_t *data;
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)) ||
        (rc = guest_buffer(&c, ARG32(1), ARGS32(2), "data", &data)))
        return rc;
    if (state_append(c.ctx->store, c.ctx->user, key, data, (uint64_t)ARGS32(2), &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

static int h_read_appended_state(struct runtime_exec *exec, struct runtime_instance *caller,
                                 uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_read_appended_state", exec, caller, host_data);
    char key[KEY_CAP];
    uint8_t *buf;
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)) ||
        (rc = guest_buffer(&c, ARG32(1), ARGS32(2), "buffer", &buf)) ||
        (rc = nonneg(&c, ARGS32(3), "element count")))
        return rc;
    uint64_t used;
    if (state_read_appended(c.ctx->store, c.ctx->user, key, (uint64_t)ARGS32(3), buf,
                            (uint64_t)ARGS32(2), &used, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

static int h_clear_appended_state(struct runtime_exec *exec, struct runtime_instance *caller,
                                  uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_clear_appended_state", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    if (state_clear_appended(c.ctx->store, c.ctx->user, key, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

/* ---- Push and pull ---- */

/* Shared by the three push imports: mode 0 whole, 1 dirty chunks, 2 masked. */
static int push(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                void *host_data, const char *import, int mode)
{
    struct call c;
    int rc = call_init(&c, import, exec, caller, host_data);
    char key[KEY_CAP], mask_key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)) ||
        (mode == 2 && (rc = guest_string(&c, ARG32(1), "mask key", mask_key))))
        return rc;
    struct state_value *v = state_value_find(c.ctx->store, c.ctx->user, key);
    if (!v)
        return RUNTIME_OK; /* nothing local to push */
    int err;
    if (mode == 0) {
        err = state_value_push(v, &c.err);
    } else if (mode == 1) {
        err = state_value_push_partial(v, &c.err);
    } else {
        struct state_value *mask;
        err = state_value_open(c.ctx->store, c.ctx->user, mask_key, state_value_size(v),
                               STATE_OPEN_SIZE_FROM_GLOBAL, &mask, &c.err);
        if (!err)
            err = state_value_push_masked(v, mask, &c.err);
    }
    return err ? trap_err(exec, import, &c.err) : RUNTIME_OK;
}

static int h_push_state(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *host_data)
{
    return push(exec, caller, cells, host_data, "__faasm_push_state", 0);
}

static int h_push_state_partial(struct runtime_exec *exec, struct runtime_instance *caller,
                                uint64_t *cells, void *host_data)
{
    return push(exec, caller, cells, host_data, "__faasm_push_state_partial", 1);
}

static int h_push_state_partial_mask(struct runtime_exec *exec,
                                     struct runtime_instance *caller, uint64_t *cells,
                                     void *host_data)
{
    return push(exec, caller, cells, host_data, "__faasm_push_state_partial_mask", 2);
}

static int h_pull_state(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_pull_state", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct state_value *v;
    if ((rc = open_exact(&c, key, ARGS32(1), &v)))
        return rc;
    if (state_value_pull(v, &c.err))
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

/* ---- Locks ---- */

static struct held_lock *find_lock(struct faaslet_state_call *call, struct state_value *v)
{
    for (size_t i = 0; i < call->lock_count; i++) {
        if (call->locks[i].value == v)
            return &call->locks[i];
    }
    return NULL;
}

static int lock_local(struct runtime_exec *exec, struct runtime_instance *caller,
                      uint64_t *cells, void *host_data, const char *import, bool write)
{
    struct call c;
    int rc = call_init(&c, import, exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct state_value *v;
    if (state_value_lockable(c.ctx->store, c.ctx->user, key, &v, &c.err))
        return trap_err(exec, import, &c.err);
    struct faaslet_state_call *call = c.ctx->call;
    struct held_lock *h = find_lock(call, v);
    if (h && !write && !h->write) {
        h->count++; /* a nested read: waiting behind a writer would deadlock */
        return RUNTIME_OK;
    }
    if (h)
        return trap(exec, import, "key %s: this call already holds its %s lock", key,
                    h->write ? "write" : "read");
    if (!grow_array((void **)&call->locks, &call->lock_cap, call->lock_count,
                    sizeof *call->locks))
        return trap(exec, import, "out of memory");
    while (state_value_lock(v, write, WAIT_SLICE_MS) != 0) {
        if (atomic_load(&exec->interrupt))
            return RUNTIME_TRAP_INTERRUPTED;
    }
    call->locks[call->lock_count++] = (struct held_lock){v, write, 1};
    return RUNTIME_OK;
}

static int unlock_local(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *host_data, const char *import, bool write)
{
    struct call c;
    int rc = call_init(&c, import, exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct faaslet_state_call *call = c.ctx->call;
    struct state_value *v = NULL;
    if (state_value_lockable(c.ctx->store, c.ctx->user, key, &v, &c.err))
        return trap_err(exec, import, &c.err);
    struct held_lock *h = find_lock(call, v);
    if (!h || h->write != write)
        return trap(exec, import, "key %s: this call does not hold its %s lock", key,
                    write ? "write" : "read");
    if (--h->count == 0) {
        state_value_unlock(v, write);
        *h = call->locks[--call->lock_count];
    }
    return RUNTIME_OK;
}

static int h_lock_state_read(struct runtime_exec *exec, struct runtime_instance *caller,
                             uint64_t *cells, void *host_data)
{
    return lock_local(exec, caller, cells, host_data, "__faasm_lock_state_read", false);
}

static int h_unlock_state_read(struct runtime_exec *exec, struct runtime_instance *caller,
                               uint64_t *cells, void *host_data)
{
    return unlock_local(exec, caller, cells, host_data, "__faasm_unlock_state_read", false);
}

static int h_lock_state_write(struct runtime_exec *exec, struct runtime_instance *caller,
                              uint64_t *cells, void *host_data)
{
    return lock_local(exec, caller, cells, host_data, "__faasm_lock_state_write", true);
}

static int h_unlock_state_write(struct runtime_exec *exec, struct runtime_instance *caller,
                                uint64_t *cells, void *host_data)
{
    return unlock_local(exec, caller, cells, host_data, "__faasm_unlock_state_write", true);
}

static struct held_global *find_global(struct faaslet_state_call *call, const char *user,
                                       const char *key)
{
    for (size_t i = 0; i < call->global_count; i++) {
        if (strcmp(call->globals[i].user, user) == 0 && strcmp(call->globals[i].key, key) == 0)
            return &call->globals[i];
    }
    return NULL;
}

static int h_lock_state_global(struct runtime_exec *exec, struct runtime_instance *caller,
                               uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_lock_state_global", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct faaslet_state_call *call = c.ctx->call;
    if (find_global(call, c.ctx->user, key))
        return trap(exec, c.import, "key %s: this call already holds its global lock", key);
    if (!grow_array((void **)&call->globals, &call->global_cap, call->global_count,
                    sizeof *call->globals))
        return trap(exec, c.import, "out of memory");
    char *u = strdup(c.ctx->user), *k = strdup(key);
    if (!u || !k) {
        free(u);
        free(k);
        return trap(exec, c.import, "out of memory");
    }
    uint64_t token;
    for (;;) {
        int e = state_lock_global(c.ctx->store, c.ctx->user, key, WAIT_SLICE_MS, &token, &c.err);
        if (e == 0)
            break;
        if (e != FL_ERR_LIMIT || atomic_load(&exec->interrupt)) {
            free(u);
            free(k);
            return e == FL_ERR_LIMIT ? RUNTIME_TRAP_INTERRUPTED : trap_err(exec, c.import, &c.err);
        }
        fl_error_clear(&c.err);
    }
    call->globals[call->global_count++] = (struct held_global){u, k, token};
    return RUNTIME_OK;
}

static int h_unlock_state_global(struct runtime_exec *exec, struct runtime_instance *caller,
                                 uint64_t *cells, void *host_data)
{
    struct call c;
    int rc = call_init(&c, "__faasm_unlock_state_global", exec, caller, host_data);
    char key[KEY_CAP];
    if (rc || (rc = guest_string(&c, ARG32(0), "key", key)))
        return rc;
    struct faaslet_state_call *call = c.ctx->call;
    struct held_global *h = find_global(call, c.ctx->user, key);
    if (!h)
        return trap(exec, c.import, "key %s: this call does not hold its global lock", key);
    int e = state_unlock_global(c.ctx->store, h->user, h->key, h->token, &c.err);
    free(h->user);
    free(h->key);
    *h = call->globals[--call->global_count];
    /* FL_ERR_NOT_FOUND: the lease ran out, so it is released already. */
    if (e && e != FL_ERR_NOT_FOUND)
        return trap_err(exec, c.import, &c.err);
    return RUNTIME_OK;
}

/* ---- Registration ---- */

static const struct {
    const char *name;
    const char *sig; /* params ':' results, 'i' = i32 */
    runtime_host_fn fn;
} state_imports[] = {
    {"__faasm_read_state", "iii:i", h_read_state},
    {"__faasm_read_state_ptr", "ii:i", h_read_state_ptr},
    {"__faasm_write_state", "iii:", h_write_state},
    {"__faasm_write_state_from_file", "ii:i", h_write_state_from_file},
    {"__faasm_read_state_offset", "iiiii:", h_read_state_offset},
    {"__faasm_read_state_offset_ptr", "iiii:i", h_read_state_offset_ptr},
    {"__faasm_write_state_offset", "iiiii:", h_write_state_offset},
    {"__faasm_flag_state_dirty", "ii:", h_flag_state_dirty},
    {"__faasm_flag_state_offset_dirty", "iiii:", h_flag_state_offset_dirty},
    {"__faasm_append_state", "iii:", h_append_state},
    {"__faasm_read_appended_state", "iiii:", h_read_appended_state},
    {"__faasm_clear_appended_state", "i:", h_clear_appended_state},
    {"__faasm_push_state", "i:", h_push_state},
    {"__faasm_push_state_partial", "i:", h_push_state_partial},
    {"__faasm_push_state_partial_mask", "ii:", h_push_state_partial_mask},
    {"__faasm_pull_state", "ii:", h_pull_state},
    {"__faasm_lock_state_read", "i:", h_lock_state_read},
    {"__faasm_unlock_state_read", "i:", h_unlock_state_read},
    {"__faasm_lock_state_write", "i:", h_lock_state_write},
    {"__faasm_unlock_state_write", "i:", h_unlock_state_write},
    {"__faasm_lock_state_global", "i:", h_lock_state_global},
    {"__faasm_unlock_state_global", "i:", h_unlock_state_global},
};

int faaslet_host_state_define(struct runtime_linker *linker, struct runtime_store *rstore,
                              struct faaslet_state_ctx *ctx, struct fl_error *err)
{
    for (size_t i = 0; i < sizeof state_imports / sizeof state_imports[0]; i++) {
        uint8_t types[8];
        struct wasm_functype type = {0, 0, types};
        bool results = false;
        uint32_t n = 0;
        for (const char *s = state_imports[i].sig; *s; s++) {
            if (*s == ':') {
                results = true;
                continue;
            }
            types[n++] = WASM_TYPE_I32;
            if (results)
                type.result_count++;
            else
                type.param_count++;
        }
        struct runtime_func *f = runtime_host_func_create(rstore, &type, state_imports[i].fn,
                                                          ctx, state_imports[i].name);
        if (!f)
            return fl_error_set(err, FL_ERR_NOMEM, "state: cannot create host function %s",
                                state_imports[i].name);
        struct runtime_extern ext = {.kind = WASM_EXTERN_FUNC, .as.func = f};
        int rc = runtime_linker_define(linker, "env", state_imports[i].name, &ext);
        if (rc != 0)
            return fl_error_set(err, rc, "state: cannot define env.%s", state_imports[i].name);
    }
    return 0;
}
