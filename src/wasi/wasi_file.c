/* wasi_file.c: the path_* functions of wasi_snapshot_preview1. Each resolves
 * its guest path(s) beneath the given directory fd (wasi_path_resolve) and
 * finishes with a *at call on the last component that never follows links. */
#define _GNU_SOURCE
#include "wasi/wasi_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARG32(i) ((uint32_t)cells[i])
#define CTX ((struct wasi_ctx *)host_data)
#define LINK_CAP 4096u /* longest symlink target we create or read back */

/* Resolves guest path (addr, len) beneath guest directory fd. */
static int resolve(struct wasi_ctx *ctx, struct runtime_instance *caller, uint32_t fd,
                   uint32_t addr, uint32_t len, bool follow, int *pfd, char name[NAME_CAP])
{
    struct wasi_fd *f = wasi_fd_get(ctx, fd);
    if (!f)
        return WASI_EBADF;
    const char *path = (const char *)wasi_mem(caller, addr, len);
    if (!path)
        return WASI_EFAULT;
    return wasi_path_resolve(f->host_fd, path, len, follow, ctx->no_openat2, pfd, name, NAME_CAP);
}

#define RESOLVE(fdi, addri, leni, follow)                                                  \
    int pfd;                                                                               \
    char name[NAME_CAP];                                                                   \
    do {                                                                                   \
        int rc_ = resolve(CTX, caller, ARG32(fdi), ARG32(addri), ARG32(leni), follow, &pfd, \
                          name);                                                           \
        if (rc_)                                                                           \
            WASI_RETURN(rc_);                                                              \
    } while (0)

/* Closes pfd and answers with the errno of a host call's result. */
static int finish(int pfd, int host_rc)
{
    int e = host_rc < 0 ? errno : 0;
    close(pfd);
    return wasi_errno_from_host(e);
}

WASI_HOST_FN(path_open)
{
    (void)exec;
    uint32_t dirflags = ARG32(1), oflags = ARG32(4), fdflags = ARG32(7), out = ARG32(8);
    uint64_t base = cells[5], inheriting = cells[6];
    struct wasi_fd *dirf = wasi_fd_get(CTX, ARG32(0));
    if (!dirf)
        WASI_RETURN(WASI_EBADF);
    if (!wasi_mem(caller, out, 4))
        WASI_RETURN(WASI_EFAULT);
    if (oflags > 0xF)
        WASI_RETURN(WASI_EINVAL);
    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    if (oflags & WASI_OFLAG_CREAT)
        flags |= O_CREAT;
    if (oflags & WASI_OFLAG_DIRECTORY)
        flags |= O_DIRECTORY;
    if (oflags & WASI_OFLAG_EXCL)
        flags |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC)
        flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_NONBLOCK)
        flags |= O_NONBLOCK;
    if (fdflags & WASI_FDFLAG_DSYNC)
        flags |= O_DSYNC;
    if (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC))
        flags |= O_SYNC;
    /* The access mode follows the rights asked for, as wasi-libc encodes
     * O_RDONLY/O_WRONLY into rights. */
    const uint64_t write_rights = WASI_RIGHT_FD_WRITE | (1ull << 8) /* allocate */ |
                                  (1ull << 22) /* filestat_set_size */;
    bool want_write = base & write_rights;
    bool want_read = base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
    flags |= want_write ? (want_read ? O_RDWR : O_WRONLY) : O_RDONLY;
    RESOLVE(0, 2, 3, dirflags & WASI_LOOKUP_SYMLINK_FOLLOW);
    int fd = openat(pfd, name, flags, 0666);
    int e = errno;
    close(pfd);
    if (fd < 0)
        WASI_RETURN(wasi_errno_from_host(e));
    uint32_t slot;
    int rc = wasi_fd_insert(CTX, fd, base & dirf->rights_inheriting,
                            inheriting & dirf->rights_inheriting, &slot);
    if (rc) {
        close(fd);
        WASI_RETURN(rc);
    }
    WASI_RETURN(wasi_store_u32(caller, out, slot));
}

WASI_HOST_FN(path_filestat_get)
{
    (void)exec;
    uint8_t *out = wasi_mem(caller, ARG32(4), WASI_FILESTAT_SIZE);
    if (!out)
        WASI_RETURN(WASI_EFAULT);
    RESOLVE(0, 2, 3, ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW);
    struct stat st;
    int rc = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW);
    rc = finish(pfd, rc);
    if (rc == 0)
        wasi_filestat_encode(out, &st);
    WASI_RETURN(rc);
}

WASI_HOST_FN(path_filestat_set_times)
{
    (void)exec;
    struct timespec ts[2];
    int rc = wasi_times_from_flags(cells[4], cells[5], ARG32(6), ts);
    if (rc)
        WASI_RETURN(rc);
    RESOLVE(0, 2, 3, ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW);
    WASI_RETURN(finish(pfd, utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW)));
}

WASI_HOST_FN(path_create_directory)
{
    (void)exec;
    RESOLVE(0, 1, 2, false);
    WASI_RETURN(finish(pfd, mkdirat(pfd, name, 0777)));
}

WASI_HOST_FN(path_remove_directory)
{
    (void)exec;
    RESOLVE(0, 1, 2, false);
    WASI_RETURN(finish(pfd, unlinkat(pfd, name, AT_REMOVEDIR)));
}

WASI_HOST_FN(path_unlink_file)
{
    (void)exec;
    RESOLVE(0, 1, 2, false);
    WASI_RETURN(finish(pfd, unlinkat(pfd, name, 0)));
}

WASI_HOST_FN(path_rename)
{
    (void)exec;
    RESOLVE(0, 1, 2, false);
    int pfd2;
    char name2[NAME_CAP];
    int rc = resolve(CTX, caller, ARG32(3), ARG32(4), ARG32(5), false, &pfd2, name2);
    if (rc) {
        close(pfd);
        WASI_RETURN(rc);
    }
    rc = renameat(pfd, name, pfd2, name2);
    close(pfd2);
    WASI_RETURN(finish(pfd, rc));
}

WASI_HOST_FN(path_link)
{
    (void)exec;
    RESOLVE(0, 2, 3, ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW);
    int pfd2;
    char name2[NAME_CAP];
    int rc = resolve(CTX, caller, ARG32(4), ARG32(5), ARG32(6), false, &pfd2, name2);
    if (rc) {
        close(pfd);
        WASI_RETURN(rc);
    }
    rc = linkat(pfd, name, pfd2, name2, 0);
    close(pfd2);
    WASI_RETURN(finish(pfd, rc));
}

/* The link's text is stored as given: resolution never follows it outside the
 * sandbox, so even "../../etc" or "/etc" is harmless to the host. */
WASI_HOST_FN(path_symlink)
{
    (void)exec;
    uint32_t tlen = ARG32(1);
    const char *src = (const char *)wasi_mem(caller, ARG32(0), tlen);
    if (!src)
        WASI_RETURN(WASI_EFAULT);
    if (tlen >= LINK_CAP)
        WASI_RETURN(WASI_ENAMETOOLONG);
    char target[LINK_CAP];
    memcpy(target, src, tlen);
    target[tlen] = '\0';
    if (memchr(target, '\0', tlen))
        WASI_RETURN(WASI_EILSEQ);
    RESOLVE(2, 3, 4, false);
    WASI_RETURN(finish(pfd, symlinkat(target, pfd, name)));
}

WASI_HOST_FN(path_readlink)
{
    (void)exec;
    uint32_t buf_len = ARG32(4);
    uint8_t *buf = wasi_mem(caller, ARG32(3), buf_len);
    if (!buf || !wasi_mem(caller, ARG32(5), 4))
        WASI_RETURN(WASI_EFAULT);
    RESOLVE(0, 1, 2, false);
    char target[LINK_CAP];
    ssize_t n = readlinkat(pfd, name, target, sizeof target);
    int rc = finish(pfd, n < 0 ? -1 : 0);
    if (rc)
        WASI_RETURN(rc);
    uint32_t copy = (uint32_t)n < buf_len ? (uint32_t)n : buf_len;
    memcpy(buf, target, copy);
    WASI_RETURN(wasi_store_u32(caller, ARG32(5), copy));
}
