/* test_wasi_host.c: the preview1 host functions called directly on a real
 * runtime memory (no module needed): results land at the right offsets, bad
 * guest pointers answer EFAULT instead of crashing, file operations work in a
 * preopened directory and escapes are refused. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi.h"
#include "wasi/wasi_internal.h"

static int failures;
static struct runtime_instance inst;
static struct runtime_exec exec;
static struct wasi_ctx *ctx;
static uint8_t *mem;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
            failures++;                                          \
        }                                                        \
    } while (0)

#define BAD 0xFFFFFFF0u /* beyond the one-page memory */

/* Calls host function fn with up to 9 arguments; returns its errno. */
static int call(runtime_host_fn fn, int n, const uint64_t *args)
{
    uint64_t cells[10] = {0};
    memcpy(cells, args, (size_t)n * sizeof *cells);
    int trap = fn(&exec, &inst, cells, ctx);
    CHECK(trap == RUNTIME_OK, "unexpected trap %d", trap);
    return (int)(uint32_t)cells[0];
}
#define CALL(fn, ...) call(wasi_##fn, (int)(sizeof((uint64_t[]){__VA_ARGS__}) / 8), (uint64_t[]){__VA_ARGS__})

static uint32_t put_str(uint32_t at, const char *s)
{
    memcpy(mem + at, s, strlen(s));
    return (uint32_t)strlen(s);
}

static void set_iov(uint32_t at, uint32_t buf, uint32_t len)
{
    wasi_put_u32(mem + at, buf);
    wasi_put_u32(mem + at + 4, len);
}

/* Opens path in the preopen (fd 3) for read+write, creating it; returns fd. */
static uint32_t open_rw(const char *path, uint32_t oflags)
{
    uint32_t len = put_str(0x2000, path);
    uint64_t rights = WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | (1ull << 2) | (1ull << 5);
    int e = CALL(path_open, 3, 0, 0x2000, len, oflags, rights, 0, 0, 0x3000);
    CHECK(e == 0, "path_open %s: errno %d", path, e);
    return wasi_get_u32(mem + 0x3000);
}

static void test_args_and_memory_faults(void)
{
    CHECK(CALL(args_sizes_get, 0x10, 0x14) == 0, "args_sizes_get");
    CHECK(wasi_get_u32(mem + 0x10) == 3 && wasi_get_u32(mem + 0x14) == 13, "argc %u bytes %u",
          wasi_get_u32(mem + 0x10), wasi_get_u32(mem + 0x14));
    CHECK(CALL(args_get, 0x20, 0x40) == 0, "args_get");
    CHECK(wasi_get_u32(mem + 0x24) == 0x45 && strcmp((char *)mem + 0x45, "one") == 0,
          "argv[1] at %#x", wasi_get_u32(mem + 0x24));
    CHECK(CALL(args_get, BAD, 0x40) == WASI_EFAULT, "args_get bad argv");
    CHECK(CALL(args_get, 0x20, 0xFFFA) == WASI_EFAULT, "args_get buf past the end");
    CHECK(CALL(environ_sizes_get, 0x10, 0x14) == 0 && wasi_get_u32(mem + 0x10) == 1,
          "environ count");
    CHECK(CALL(environ_get, 0x20, 0x40) == 0 && strcmp((char *)mem + 0x40, "K=V") == 0, "environ");
    CHECK(CALL(clock_time_get, 1, 0, BAD) == WASI_EFAULT, "clock bad ptr");
    CHECK(CALL(random_get, 0xFFC0, 0x80) == WASI_EFAULT, "random past the end");
    CHECK(CALL(fd_write, 1, BAD, 1, 0x10) == WASI_EFAULT, "fd_write bad iovs");
    set_iov(0x100, BAD, 4);
    CHECK(CALL(fd_write, 1, 0x100, 1, 0x10) == WASI_EFAULT, "fd_write bad buffer");
    CHECK(CALL(fd_write, 1, 0x100, 0x10000000, 0x10) == WASI_EFAULT, "fd_write huge iov count");
    CHECK(CALL(fd_write, 99, 0x100, 1, 0x10) == WASI_EBADF, "fd_write bad fd");
    CHECK(CALL(path_open, 3, 0, BAD, 4, 0, 0, 0, 0, 0x10) == WASI_EFAULT, "path_open bad path");
    CHECK(CALL(path_open, 3, 0, 0x10, 0xFFFFFFFF, 0, 0, 0, 0, 0x10) == WASI_EFAULT,
          "path_open huge length");
    CHECK(CALL(poll_oneoff, BAD, 0x10, 1, 0x20) == WASI_EFAULT, "poll bad subscriptions");
    /* A guest instance without memory gets EFAULT too, not a crash. */
    struct wasm_module nomem = {0};
    const struct wasm_module *saved = inst.module;
    inst.module = &nomem;
    CHECK(CALL(args_sizes_get, 0x10, 0x14) == WASI_EFAULT, "no memory");
    inst.module = saved;
}

static void test_pipe_io(void)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(2);
    }
    struct fl_error err;
    CHECK(wasi_ctx_set_stdio(ctx, 1, p[1], true, &err) == 0, "set stdout");
    uint32_t n1 = put_str(0x200, "hello ");
    uint32_t n2 = put_str(0x300, "world");
    set_iov(0x100, 0x200, n1);
    set_iov(0x108, 0x300, n2);
    /* nwritten out of bounds: nothing may be written. */
    CHECK(CALL(fd_write, 1, 0x100, 2, BAD) == WASI_EFAULT, "fd_write bad nwritten");
    CHECK(CALL(fd_write, 1, 0x100, 2, 0x10) == 0, "fd_write");
    CHECK(wasi_get_u32(mem + 0x10) == 11, "nwritten %u", wasi_get_u32(mem + 0x10));
    char buf[32] = {0};
    ssize_t n = read(p[0], buf, sizeof buf);
    CHECK(n == 11 && memcmp(buf, "hello world", 11) == 0, "pipe got '%s'", buf);
    CHECK(CALL(fd_seek, 1, 0, 0, 0x10) == 70 /* ESPIPE */, "seek on a pipe");
    CHECK(CALL(fd_close, 1) == 0 && CALL(fd_close, 1) == WASI_EBADF, "close twice");
    close(p[0]);
}

static void test_files(void)
{
    CHECK(CALL(fd_prestat_get, 3, 0x10) == 0 && mem[0x10] == 0 && wasi_get_u32(mem + 0x14) == 4,
          "prestat");
    CHECK(CALL(fd_prestat_dir_name, 3, 0x20, 4) == 0 && memcmp(mem + 0x20, "/sbx", 4) == 0,
          "prestat name");
    CHECK(CALL(fd_prestat_dir_name, 3, 0x20, 2) == WASI_ENAMETOOLONG, "short name buffer");
    CHECK(CALL(fd_prestat_get, 4, 0x10) == WASI_EBADF, "no fd 4");
    CHECK(CALL(fd_prestat_get, 0, 0x10) == WASI_EBADF, "stdin is no preopen");

    uint32_t fd = open_rw("a.txt", WASI_OFLAG_CREAT | WASI_OFLAG_TRUNC);
    uint32_t n = put_str(0x200, "0123456789");
    set_iov(0x100, 0x200, n);
    CHECK(CALL(fd_write, fd, 0x100, 1, 0x10) == 0 && wasi_get_u32(mem + 0x10) == 10, "write");
    CHECK(CALL(fd_tell, fd, 0x18) == 0 && wasi_get_u64(mem + 0x18) == 10, "tell");
    CHECK(CALL(fd_seek, fd, (uint64_t)-4, 1, 0x18) == 0 && wasi_get_u64(mem + 0x18) == 6, "seek cur");
    set_iov(0x100, 0x400, 100);
    CHECK(CALL(fd_read, fd, 0x100, 1, 0x10) == 0 && wasi_get_u32(mem + 0x10) == 4 &&
              memcmp(mem + 0x400, "6789", 4) == 0, "read after seek");
    CHECK(CALL(fd_pread, fd, 0x100, 1, 2, 0x10) == 0 && wasi_get_u32(mem + 0x10) == 8 &&
              memcmp(mem + 0x400, "23456789", 8) == 0, "pread");
    CHECK(CALL(fd_seek, fd, 0, 7, 0x18) == WASI_EINVAL, "bad whence");
    CHECK(CALL(fd_filestat_get, fd, 0x500) == 0 && mem[0x500 + 16] == WASI_FILETYPE_REGULAR_FILE &&
              wasi_get_u64(mem + 0x500 + 32) == 10, "filestat");
    CHECK(CALL(fd_filestat_get, fd, 0xFFF0) == WASI_EFAULT, "filestat past the end");
    CHECK(CALL(fd_fdstat_get, fd, 0x500) == 0 && mem[0x500] == WASI_FILETYPE_REGULAR_FILE,
          "fdstat");
    CHECK(CALL(fd_fdstat_get, 3, 0x500) == 0 && mem[0x500] == WASI_FILETYPE_DIRECTORY,
          "fdstat dir");
    CHECK(CALL(fd_filestat_set_size, fd, 3) == 0 && CALL(fd_filestat_get, fd, 0x500) == 0 &&
              wasi_get_u64(mem + 0x500 + 32) == 3, "truncate");
    CHECK(CALL(fd_fdstat_set_rights, fd, WASI_RIGHTS_ALL, 0) == WASI_ENOTCAPABLE, "gain rights");
    CHECK(CALL(fd_close, fd) == 0, "close");

    uint32_t len = put_str(0x2000, "d");
    CHECK(CALL(path_create_directory, 3, 0x2000, len) == 0, "mkdir");
    CHECK(CALL(path_create_directory, 3, 0x2000, len) == WASI_EEXIST, "mkdir again");
    /* List the preopen with a tiny buffer, following cookies. */
    uint64_t cookie = 0;
    int seen_a = 0, seen_d = 0, rounds = 0;
    for (;;) {
        CHECK(CALL(fd_readdir, 3, 0x600, 40, cookie, 0x10) == 0, "readdir");
        uint32_t used = wasi_get_u32(mem + 0x10), off = 0;
        while (off + WASI_DIRENT_SIZE <= used) {
            uint32_t namlen = wasi_get_u32(mem + 0x600 + off + 16);
            if (off + WASI_DIRENT_SIZE + namlen > used)
                break;
            const char *nm = (const char *)mem + 0x600 + off + WASI_DIRENT_SIZE;
            uint8_t type = mem[0x600 + off + 20];
            if (namlen == 5 && !memcmp(nm, "a.txt", 5))
                seen_a += type == WASI_FILETYPE_REGULAR_FILE;
            if (namlen == 1 && nm[0] == 'd')
                seen_d += type == WASI_FILETYPE_DIRECTORY;
            cookie = wasi_get_u64(mem + 0x600 + off);
            off += WASI_DIRENT_SIZE + namlen;
        }
        if (used < 40 || ++rounds > 50)
            break;
    }
    CHECK(seen_a == 1 && seen_d == 1, "readdir saw a.txt %d d %d", seen_a, seen_d);

    uint32_t l1 = put_str(0x2000, "a.txt"), l2 = put_str(0x2100, "d/b.txt");
    CHECK(CALL(path_rename, 3, 0x2000, l1, 3, 0x2100, l2) == 0, "rename");
    CHECK(CALL(path_filestat_get, 3, 0, 0x2100, l2, 0x500) == 0 &&
              wasi_get_u64(mem + 0x500 + 32) == 3, "stat renamed");
    CHECK(CALL(path_filestat_get, 3, 0, 0x2000, l1, 0x500) == WASI_ENOENT, "old name gone");
    l1 = put_str(0x2000, "../../etc");
    l2 = put_str(0x2100, "esc");
    CHECK(CALL(path_symlink, 0x2000, l1, 3, 0x2100, l2) == 0, "symlink");
    CHECK(CALL(path_readlink, 3, 0x2100, l2, 0x700, 64, 0x10) == 0 &&
              wasi_get_u32(mem + 0x10) == l1 && memcmp(mem + 0x700, "../../etc", l1) == 0,
          "readlink");
    l2 = put_str(0x2100, "esc/passwd");
    CHECK(CALL(path_open, 3, 1, 0x2100, l2, 0, 2, 0, 0, 0x10) == WASI_ENOTCAPABLE,
          "open through escaping symlink");
    l2 = put_str(0x2100, "esc");
    CHECK(CALL(path_open, 3, 0, 0x2100, l2, 0, 2, 0, 0, 0x10) == WASI_ELOOP,
          "open symlink without follow");
    CHECK(CALL(path_unlink_file, 3, 0x2100, l2) == 0, "unlink symlink");
    l1 = put_str(0x2000, "../outside");
    CHECK(CALL(path_create_directory, 3, 0x2000, l1) == WASI_ENOTCAPABLE, "mkdir outside");
    l1 = put_str(0x2000, "/tmp/x");
    CHECK(CALL(path_open, 3, 0, 0x2000, l1, 1, 2, 0, 0, 0x10) == WASI_ENOTCAPABLE, "absolute");
    l1 = put_str(0x2000, "d");
    CHECK(CALL(path_remove_directory, 3, 0x2000, l1) == 55 /* ENOTEMPTY */, "rmdir non-empty");
    l2 = put_str(0x2100, "d/b.txt");
    CHECK(CALL(path_unlink_file, 3, 0x2100, l2) == 0, "unlink");
    CHECK(CALL(path_remove_directory, 3, 0x2000, l1) == 0, "rmdir");

    /* renumber: the new fd takes over, the old one is gone. */
    uint32_t f1 = open_rw("r1", WASI_OFLAG_CREAT), f2 = open_rw("r2", WASI_OFLAG_CREAT);
    CHECK(CALL(fd_renumber, f1, f2) == 0, "renumber");
    CHECK(CALL(fd_close, f1) == WASI_EBADF && CALL(fd_close, f2) == 0, "after renumber");
    CHECK(CALL(fd_renumber, 3, 77) == WASI_EBADF, "renumber to a closed fd");
}

static void test_clocks_poll_exit(void)
{
    CHECK(CALL(clock_time_get, 1, 0, 0x10) == 0, "monotonic");
    uint64_t t1 = wasi_get_u64(mem + 0x10);
    CHECK(CALL(clock_time_get, 0, 0, 0x18) == 0 && wasi_get_u64(mem + 0x18) > 1600000000ull * 1000000000ull,
          "realtime");
    CHECK(CALL(clock_time_get, 9, 0, 0x18) == WASI_EINVAL, "bad clock");
    CHECK(CALL(clock_res_get, 1, 0x18) == 0 && wasi_get_u64(mem + 0x18) > 0, "resolution");
    memset(mem + 0x800, 0, 48);
    wasi_put_u64(mem + 0x800, 0xABCDEF);           /* userdata */
    mem[0x808] = 0;                                /* clock */
    wasi_put_u32(mem + 0x810, 1);                  /* monotonic */
    wasi_put_u64(mem + 0x818, 20 * 1000000ull);    /* 20 ms */
    CHECK(CALL(poll_oneoff, 0x800, 0x900, 1, 0x10) == 0 && wasi_get_u32(mem + 0x10) == 1,
          "poll clock");
    CHECK(wasi_get_u64(mem + 0x900) == 0xABCDEF && mem[0x90A] == 0, "event");
    CHECK(CALL(clock_time_get, 1, 0, 0x10) == 0 && wasi_get_u64(mem + 0x10) - t1 >= 20000000ull,
          "slept %llu ns", (unsigned long long)(wasi_get_u64(mem + 0x10) - t1));
    CHECK(CALL(poll_oneoff, 0x800, 0x900, 0, 0x10) == WASI_EINVAL, "poll nothing");
    mem[0x808] = 2;                                /* fd_write on stderr: ready */
    wasi_put_u32(mem + 0x810, 2);
    CHECK(CALL(poll_oneoff, 0x800, 0x900, 1, 0x10) == 0 && mem[0x90A] == 2, "poll fd");
    CHECK(CALL(random_get, 0x1000, 64) == 0, "random");
    CHECK(CALL(sched_yield) == 0 && CALL(proc_raise, 6) == WASI_ENOSYS, "yield/raise");
    CHECK(CALL(sock_shutdown, 3, 0) == WASI_ENOTSUP && CALL(sock_accept, 50, 0, 0) == WASI_EBADF,
          "sockets");
    uint64_t cells[1] = {5};
    CHECK(wasi_proc_exit(&exec, &inst, cells, ctx) == RUNTIME_TRAP_EXIT && exec.exit_code == 5 &&
              ctx->exit_code == 5, "proc_exit");
}

int main(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/fl-wasi-host-%d", (int)getpid());
    if (mkdir(dir, 0755) != 0) {
        perror(dir);
        return 2;
    }
    struct fl_error err;
    struct runtime_store *store = runtime_store_create();
    struct wasm_limits limits = {.min = 1, .max = 1, .has_max = true};
    struct runtime_memory *memory = store ? runtime_memory_create(store, &limits, &err) : NULL;
    if (!memory) {
        fprintf(stderr, "cannot create memory\n");
        return 2;
    }
    mem = memory->base;
    struct wasm_module module = {0};
    module.memory_count = 1;
    struct runtime_memory *mems[1] = {memory};
    inst.module = &module;
    inst.memories = mems;
    const char *argv[] = {"prog", "one", "two"};
    const char *env[] = {"K=V"};
    ctx = wasi_ctx_create(3, argv, 1, env, &err);
    if (!ctx || wasi_ctx_add_preopen(ctx, dir, "/sbx", &err) != 0) {
        fprintf(stderr, "ctx: %s\n", err.msg);
        return 2;
    }
    CHECK(wasi_ctx_add_preopen(ctx, "/nonexistent-dir", "x", &err) == FL_ERR_IO, "bad preopen");

    test_args_and_memory_faults();
    test_pipe_io();
    test_files();
    test_clocks_poll_exit();

    wasi_ctx_destroy(ctx);
    runtime_store_destroy(store);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("wasi host functions: ok\n");
    return 0;
}
