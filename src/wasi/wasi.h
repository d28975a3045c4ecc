/* wasi.h: WASI preview1 (wasi_snapshot_preview1) for one guest instance.
 * A struct wasi_ctx holds what the guest sees of the host: argv, environment,
 * a fd table (stdio + preopened directories + what the guest opens) and the
 * exit code. wasi_define_imports() puts every preview1 function into a linker.
 * Paths from the guest are always resolved beneath a preopened directory:
 * `..`, absolute paths and symlinks never reach the rest of the host. */
#ifndef FL_WASI_WASI_H
#define FL_WASI_WASI_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "util/error.h"

#define WASI_MODULE_NAME "wasi_snapshot_preview1"
#define WASI_MAX_FDS 4096u        /* guest-visible descriptors per context */
#define WASI_MAX_ARGS_BYTES (1u << 20) /* argv and environ, each, NULs included */

/* One guest descriptor. host_fd < 0 marks a free slot. */
struct wasi_fd {
    int host_fd;
    bool owned;                  /* close host_fd when the slot is closed */
    uint64_t rights_base;
    uint64_t rights_inheriting;
    char *preopen_name;          /* guest path of a preopened dir, else NULL */
    void *dir;                   /* DIR * for fd_readdir, opened lazily */
    uint64_t dir_pos;            /* entries already read from dir */
};

/* Not thread-safe: one thread at a time uses a context (the Faaslet's). */
struct wasi_ctx {
    char **args;                 /* arg_count strings, owned */
    uint32_t arg_count;
    uint32_t args_bytes;         /* sum of strlen + 1 */
    char **env;                  /* "K=V" strings, owned */
    uint32_t env_count;
    uint32_t env_bytes;
    struct wasi_fd *fds;         /* fd_count slots */
    uint32_t fd_count;
    int exit_code;               /* set by proc_exit */
    bool exited;
    bool no_openat2;             /* force the portable path walker (tests) */
};

/* Creates a context with argv[0..argc) and env[0..envc) ("K=V") copied, and
 * guest fds 0,1,2 mapped to the host's stdin/stdout/stderr (not owned, never
 * closed). Destroy with wasi_ctx_destroy. NULL + err on failure. */
struct wasi_ctx *wasi_ctx_create(uint32_t argc, const char *const *argv, uint32_t envc,
                                 const char *const *env, struct fl_error *err);

/* Closes every owned host fd and frees the context. NULL is fine. */
void wasi_ctx_destroy(struct wasi_ctx *ctx);

/* Maps guest fd 0..2 (which) to host_fd. owned: the context closes it. */
int wasi_ctx_set_stdio(struct wasi_ctx *ctx, int which, int host_fd, bool owned,
                       struct fl_error *err);

/* Opens host_path (a directory) and gives it to the guest as guest_path on the
 * next free fd (3, 4, ...). FL_ERR_IO if the directory cannot be opened. */
int wasi_ctx_add_preopen(struct wasi_ctx *ctx, const char *host_path, const char *guest_path,
                         struct fl_error *err);

/* Defines every wasi_snapshot_preview1 function in linker, with ctx as their
 * host data; the functions live in store. ctx must outlive their use. */
int wasi_define_imports(struct runtime_linker *linker, struct runtime_store *store,
                        struct wasi_ctx *ctx, struct fl_error *err);

/* WASI errno numbers used outside this part (tests, embedders). */
enum wasi_errno {
    WASI_ESUCCESS = 0,
    WASI_EBADF = 8,
    WASI_EEXIST = 20,
    WASI_EFAULT = 21,
    WASI_EINVAL = 28,
    WASI_ELOOP = 32,
    WASI_ENOENT = 44,
    WASI_ENOSYS = 52,
    WASI_ENOTDIR = 54,
    WASI_ENOTSUP = 58,
    WASI_ENOTCAPABLE = 76,
};

/* Sandboxed resolution of guest path (len bytes, not NUL-terminated) beneath
 * the host directory fd root. On success *parent_fd is a new O_PATH directory
 * fd (caller closes) beneath root and name (cap bytes) holds the last
 * component, which the caller must use with *at calls that never follow
 * symlinks; "." stands for the directory itself. follow: a symlink in last
 * position is resolved too. Returns a WASI errno (0 = ok). */
int wasi_path_resolve(int root, const char *path, uint32_t len, bool follow, bool no_openat2,
                      int *parent_fd, char *name, uint32_t cap);

#endif
