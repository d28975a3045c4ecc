/* wasi.c: the WASI context (args, env, fd table, preopens), shared helpers
 * (errno translation, filestat encoding) and the table that defines every
 * wasi_snapshot_preview1 import into a runtime linker. */
#define _GNU_SOURCE
#include "wasi/wasi.h"
#include "wasi/wasi_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies n strings into a new array; *bytes gets the total with NULs. */
static char **copy_strings(uint32_t n, const char *const *src, uint32_t *bytes)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(src[i]);
        total += len + 1;
        out[i] = total <= WASI_MAX_ARGS_BYTES ? strdup(src[i]) : NULL;
        if (!out[i]) {
            while (i > 0)
                free(out[--i]);
            free(out);
            return NULL;
        }
    }
    *bytes = (uint32_t)total;
    return out;
}

static void free_strings(char **s, uint32_t n)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

struct wasi_ctx *wasi_ctx_create(uint32_t argc, const char *const *argv, uint32_t envc,
                                 const char *const *env, struct fl_error *err)
{
    struct wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        fl_error_set(err, FL_ERR_NOMEM, "wasi: out of memory");
        return NULL;
    }
    ctx->args = copy_strings(argc, argv, &ctx->args_bytes);
    ctx->arg_count = argc;
    ctx->env = copy_strings(envc, env, &ctx->env_bytes);
    ctx->env_count = envc;
    ctx->fds = calloc(3, sizeof *ctx->fds);
    if (!ctx->args || !ctx->env || !ctx->fds) {
        fl_error_set(err, FL_ERR_LIMIT, "wasi: arguments and environment too large (max %u bytes) "
                     "or out of memory", WASI_MAX_ARGS_BYTES);
        if (!ctx->args)
            ctx->arg_count = 0;
        if (!ctx->env)
            ctx->env_count = 0;
        wasi_ctx_destroy(ctx);
        return NULL;
    }
    ctx->fd_count = 3;
    for (int i = 0; i < 3; i++) {
        ctx->fds[i].host_fd = i;
        ctx->fds[i].owned = false;
        ctx->fds[i].rights_base = WASI_RIGHTS_ALL;
        ctx->fds[i].rights_inheriting = WASI_RIGHTS_ALL;
    }
    return ctx;
}

void wasi_fd_release(struct wasi_fd *slot)
{
    /* The DIR stream has a descriptor of its own (see fd_readdir). */
    if (slot->dir)
        closedir(slot->dir);
    if (slot->host_fd >= 0 && slot->owned)
        close(slot->host_fd);
    free(slot->preopen_name);
    memset(slot, 0, sizeof *slot);
    slot->host_fd = -1;
}

void wasi_ctx_destroy(struct wasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->fd_count; i++)
        if (ctx->fds[i].host_fd >= 0)
            wasi_fd_release(&ctx->fds[i]);
    free(ctx->fds);
    free_strings(ctx->args, ctx->arg_count);
    free_strings(ctx->env, ctx->env_count);
    free(ctx);
}

int wasi_ctx_set_stdio(struct wasi_ctx *ctx, int which, int host_fd, bool owned,
                       struct fl_error *err)
{
    if (which < 0 || which > 2 || host_fd < 0)
        return fl_error_set(err, FL_ERR_ARG, "wasi: bad stdio mapping %d -> %d", which, host_fd);
    struct wasi_fd *slot = &ctx->fds[which];
    if (slot->host_fd >= 0)
        wasi_fd_release(slot);
    slot->host_fd = host_fd;
    slot->owned = owned;
    slot->rights_base = WASI_RIGHTS_ALL;
    slot->rights_inheriting = WASI_RIGHTS_ALL;
    return 0;
}

struct wasi_fd *wasi_fd_get(struct wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->fd_count || ctx->fds[fd].host_fd < 0)
        return NULL;
    return &ctx->fds[fd];
}

int wasi_fd_insert(struct wasi_ctx *ctx, int host_fd, uint64_t rights_base,
                   uint64_t rights_inheriting, uint32_t *out)
{
    uint32_t i = 3;
    while (i < ctx->fd_count && ctx->fds[i].host_fd >= 0)
        i++;
    if (i == ctx->fd_count) {
        if (ctx->fd_count >= WASI_MAX_FDS)
            return WASI_EMFILE;
        uint32_t cap = ctx->fd_count * 2 < WASI_MAX_FDS ? ctx->fd_count * 2 : WASI_MAX_FDS;
        struct wasi_fd *fds = realloc(ctx->fds, cap * sizeof *fds);
        if (!fds)
            return WASI_ENOMEM;
        for (uint32_t j = ctx->fd_count; j < cap; j++) {
            memset(&fds[j], 0, sizeof fds[j]);
            fds[j].host_fd = -1;
        }
        ctx->fds = fds;
        ctx->fd_count = cap;
    }
    struct wasi_fd *slot = &ctx->fds[i];
    memset(slot, 0, sizeof *slot);
    slot->host_fd = host_fd;
    slot->owned = true;
    slot->rights_base = rights_base;
    slot->rights_inheriting = rights_inheriting;
    *out = i;
    return 0;
}

int wasi_ctx_add_preopen(struct wasi_ctx *ctx, const char *host_path, const char *guest_path,
                         struct fl_error *err)
{
    int fd = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fl_error_set(err, FL_ERR_IO, "cannot open directory %s: %s", host_path,
                            strerror(errno));
    char *name = strdup(guest_path);
    uint32_t slot;
    int rc = name ? wasi_fd_insert(ctx, fd, WASI_RIGHTS_ALL, WASI_RIGHTS_ALL, &slot) : WASI_ENOMEM;
    if (rc != 0) {
        free(name);
        close(fd);
        return fl_error_set(err, rc == WASI_EMFILE ? FL_ERR_LIMIT : FL_ERR_NOMEM,
                            "cannot preopen %s: too many descriptors or out of memory",
                            host_path);
    }
    ctx->fds[slot].preopen_name = name;
    return 0;
}

int wasi_store_u32(struct runtime_instance *caller, uint32_t addr, uint32_t v)
{
    uint8_t *p = wasi_mem(caller, addr, 4);
    if (!p)
        return WASI_EFAULT;
    wasi_put_u32(p, v);
    return 0;
}

int wasi_store_u64(struct runtime_instance *caller, uint32_t addr, uint64_t v)
{
    uint8_t *p = wasi_mem(caller, addr, 8);
    if (!p)
        return WASI_EFAULT;
    wasi_put_u64(p, v);
    return 0;
}

uint8_t wasi_filetype_from_mode(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN; /* FIFOs have no preview1 type */
    }
}

static uint64_t timespec_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

void wasi_filestat_encode(uint8_t *out, const struct stat *st)
{
    memset(out, 0, WASI_FILESTAT_SIZE);
    wasi_put_u64(out + 0, (uint64_t)st->st_dev);
    wasi_put_u64(out + 8, (uint64_t)st->st_ino);
    out[16] = wasi_filetype_from_mode(st->st_mode);
    wasi_put_u64(out + 24, (uint64_t)st->st_nlink);
    wasi_put_u64(out + 32, (uint64_t)st->st_size);
    wasi_put_u64(out + 40, timespec_ns(&st->st_atim));
    wasi_put_u64(out + 48, timespec_ns(&st->st_mtim));
    wasi_put_u64(out + 56, timespec_ns(&st->st_ctim));
}

/* Signature strings: 'i' = i32, 'I' = i64; after ':' the results. */
static const struct {
    const char *name;
    const char *sig;
    runtime_host_fn fn;
} wasi_imports[] = {
    {"args_get", "ii:i", wasi_args_get},
    {"args_sizes_get", "ii:i", wasi_args_sizes_get},
    {"environ_get", "ii:i", wasi_environ_get},
    {"environ_sizes_get", "ii:i", wasi_environ_sizes_get},
    {"clock_res_get", "ii:i", wasi_clock_res_get},
    {"clock_time_get", "iIi:i", wasi_clock_time_get},
    {"fd_advise", "iIIi:i", wasi_fd_advise},
    {"fd_allocate", "iII:i", wasi_fd_allocate},
    {"fd_close", "i:i", wasi_fd_close},
    {"fd_datasync", "i:i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii:i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii:i", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII:i", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii:i", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI:i", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi:i", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi:i", wasi_fd_pread},
    {"fd_prestat_get", "ii:i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii:i", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi:i", wasi_fd_pwrite},
    {"fd_read", "iiii:i", wasi_fd_read},
    {"fd_readdir", "iiiIi:i", wasi_fd_readdir},
    {"fd_renumber", "ii:i", wasi_fd_renumber},
    {"fd_seek", "iIii:i", wasi_fd_seek},
    {"fd_sync", "i:i", wasi_fd_sync},
    {"fd_tell", "ii:i", wasi_fd_tell},
    {"fd_write", "iiii:i", wasi_fd_write},
    {"path_create_directory", "iii:i", wasi_path_create_directory},
    {"path_filestat_get", "iiiii:i", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi:i", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii:i", wasi_path_link},
    {"path_open", "iiiiiIIii:i", wasi_path_open},
    {"path_readlink", "iiiiii:i", wasi_path_readlink},
    {"path_remove_directory", "iii:i", wasi_path_remove_directory},
    {"path_rename", "iiiiii:i", wasi_path_rename},
    {"path_symlink", "iiiii:i", wasi_path_symlink},
    {"path_unlink_file", "iii:i", wasi_path_unlink_file},
    {"poll_oneoff", "iiii:i", wasi_poll_oneoff},
    {"proc_exit", "i:", wasi_proc_exit},
    {"proc_raise", "i:i", wasi_proc_raise},
    {"sched_yield", ":i", wasi_sched_yield},
    {"random_get", "ii:i", wasi_random_get},
    {"sock_accept", "iii:i", wasi_sock_accept},
    {"sock_recv", "iiiiii:i", wasi_sock_recv},
    {"sock_send", "iiiii:i", wasi_sock_send},
    {"sock_shutdown", "ii:i", wasi_sock_shutdown},
};

int wasi_define_imports(struct runtime_linker *linker, struct runtime_store *store,
                        struct wasi_ctx *ctx, struct fl_error *err)
{
    for (size_t i = 0; i < sizeof wasi_imports / sizeof wasi_imports[0]; i++) {
        uint8_t types[16];
        struct wasm_functype type = {0, 0, types};
        uint32_t n = 0;
        bool results = false;
        for (const char *s = wasi_imports[i].sig; *s; s++) {
            if (*s == ':') {
                results = true;
                continue;
            }
            types[n++] = *s == 'I' ? WASM_TYPE_I64 : WASM_TYPE_I32;
            if (results)
                type.result_count++;
            else
                type.param_count++;
        }
        struct runtime_func *f =
            runtime_host_func_create(store, &type, wasi_imports[i].fn, ctx, wasi_imports[i].name);
        if (!f)
            return fl_error_set(err, FL_ERR_NOMEM, "wasi: cannot create host function %s",
                                wasi_imports[i].name);
        struct runtime_extern ext = {.kind = WASM_EXTERN_FUNC, .as.func = f};
        int rc = runtime_linker_define(linker, WASI_MODULE_NAME, wasi_imports[i].name, &ext);
        if (rc != 0)
            return fl_error_set(err, rc, "wasi: cannot define %s.%s", WASI_MODULE_NAME,
                                wasi_imports[i].name);
    }
    return 0;
}
