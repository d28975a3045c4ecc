/* wasi_path.c: resolves guest paths beneath a preopened directory.
 * Directories are opened with openat2(RESOLVE_BENEATH) where the kernel has it
 * (Linux 5.6+), else by walking one component at a time with O_NOFOLLOW and
 * expanding symlinks ourselves; either way nothing outside the root is reached.
 * The last component is handed back to the caller for a no-follow *at call. */
#define _GNU_SOURCE
#include "wasi/wasi.h"
#include "wasi/wasi_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#define PATH_CAP 8192u       /* working buffer for a path with symlinks spliced in */
#define MAX_SYMLINKS 40u     /* as Linux: deeper chains are ELOOP */
#define MAX_WALK_DEPTH 256u  /* directories the fallback walker keeps open for `..` */

/* Opens dir (NUL-terminated, relative) beneath root with openat2; returns the
 * fd, or -1 with errno set; errno ENOSYS means "use the walker". */
static int open_beneath_openat2(int root, const char *dir)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 8; attempt++) {
        long fd = syscall(SYS_openat2, root, dir, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        /* EAGAIN: a concurrent rename raced with `..`; the kernel asks to retry. */
        if (errno != EAGAIN)
            break;
    }
    /* E2BIG: this kernel's open_how is older than ours. */
    if (errno == E2BIG)
        errno = ENOSYS;
    return -1;
#else
    (void)root;
    (void)dir;
    errno = ENOSYS;
    return -1;
#endif
}

/* Walks dir component by component from root. Every step opens one name with
 * O_NOFOLLOW|O_DIRECTORY; symlinks are read and spliced into the remaining
 * path, absolute ones refused; `..` returns to the previous directory and
 * refuses to leave root. Returns a WASI errno; *out is the directory fd. */
static int open_beneath_walk(int root, const char *dir, int *out)
{
    char *rest = malloc(PATH_CAP);
    char *target = malloc(PATH_CAP);
    int stack[MAX_WALK_DEPTH];
    uint32_t depth = 0, links = 0;
    int rc = 0;
    int cur = -1;
    if (!rest || !target) {
        rc = WASI_ENOMEM;
        goto out;
    }
    size_t dlen = strlen(dir);
    if (dlen >= PATH_CAP) {
        rc = WASI_ENAMETOOLONG;
        goto out;
    }
    memcpy(rest, dir, dlen + 1);
    cur = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0) {
        rc = wasi_errno_from_host(errno);
        goto out;
    }
    size_t pos = 0;
    for (;;) {
        while (rest[pos] == '/')
            pos++;
        if (rest[pos] == '\0')
            break;
        size_t start = pos;
        while (rest[pos] != '/' && rest[pos] != '\0')
            pos++;
        size_t clen = pos - start;
        char comp[NAME_CAP];
        if (clen >= sizeof comp) {
            rc = WASI_ENAMETOOLONG;
            goto out;
        }
        memcpy(comp, rest + start, clen);
        comp[clen] = '\0';
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            if (depth == 0) {
                rc = WASI_ENOTCAPABLE;
                goto out;
            }
            close(cur);
            cur = stack[--depth];
            continue;
        }
        ssize_t n = readlinkat(cur, comp, target, PATH_CAP);
        if (n >= 0) {
            if (++links > MAX_SYMLINKS) {
                rc = WASI_ELOOP;
                goto out;
            }
            if ((size_t)n >= PATH_CAP) {
                rc = WASI_ENAMETOOLONG;
                goto out;
            }
            if (n == 0 || target[0] == '/') {
                rc = n == 0 ? WASI_ENOENT : WASI_ENOTCAPABLE;
                goto out;
            }
            /* New remaining path: target, '/', what followed the link. */
            size_t tail = strlen(rest + pos);
            if ((size_t)n + 1 + tail >= PATH_CAP) {
                rc = WASI_ENAMETOOLONG;
                goto out;
            }
            memmove(rest + n + 1, rest + pos, tail + 1);
            memcpy(rest, target, (size_t)n);
            rest[n] = '/';
            pos = 0;
            continue;
        }
        if (depth == MAX_WALK_DEPTH) {
            rc = WASI_ENAMETOOLONG;
            goto out;
        }
        /* O_NOFOLLOW|O_DIRECTORY: if the name turned into a symlink after
         * readlinkat looked, this fails instead of following it. */
        int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            rc = wasi_errno_from_host(errno == ELOOP ? ENOTDIR : errno);
            goto out;
        }
        stack[depth++] = cur;
        cur = next;
    }
out:
    while (depth > 0)
        close(stack[--depth]);
    if (rc == 0)
        *out = cur;
    else if (cur >= 0)
        close(cur);
    free(rest);
    free(target);
    return rc;
}

/* Opens directory dir beneath root: openat2 if it works, else the walker. */
static int open_beneath(int root, const char *dir, bool no_openat2, int *out)
{
    if (!no_openat2) {
        int fd = open_beneath_openat2(root, dir);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        if (errno == EXDEV)
            return WASI_ENOTCAPABLE;
        if (errno != ENOSYS)
            return wasi_errno_from_host(errno);
    }
    return open_beneath_walk(root, dir, out);
}

int wasi_path_resolve(int root, const char *path, uint32_t len, bool follow, bool no_openat2,
                      int *parent_fd, char *name, uint32_t cap)
{
    if (len == 0)
        return WASI_ENOENT;
    if (len >= PATH_CAP / 2)
        return WASI_ENAMETOOLONG;
    char *work = malloc(PATH_CAP);
    char *target = malloc(PATH_CAP);
    if (!work || !target) {
        free(work);
        free(target);
        return WASI_ENOMEM;
    }
    /* Checks run on our copy: another guest thread may rewrite the original. */
    memcpy(work, path, len);
    work[len] = '\0';
    int bad = memchr(work, '\0', len) ? WASI_EILSEQ : work[0] == '/' ? WASI_ENOTCAPABLE : 0;
    if (bad) {
        free(work);
        free(target);
        return bad;
    }
    uint32_t links = 0;
    int rc;
    for (;;) {
        size_t wlen = strlen(work);
        bool trailing = false;
        while (wlen > 1 && work[wlen - 1] == '/') {
            work[--wlen] = '\0';
            trailing = true;
        }
        /* Split into directory part and last component. */
        char *slash = strrchr(work, '/');
        const char *last = slash ? slash + 1 : work;
        bool dot = strcmp(last, ".") == 0 || strcmp(last, "..") == 0;
        char dirbuf[2] = ".";
        const char *dir;
        if (dot) {
            dir = work; /* the whole path names a directory */
            last = ".";
        } else if (slash) {
            *slash = '\0';
            dir = work[0] ? work : ".";
        } else {
            dir = dirbuf;
        }
        if (strlen(last) >= cap) {
            rc = WASI_ENAMETOOLONG;
            break;
        }
        int pfd;
        rc = open_beneath(root, dir, no_openat2, &pfd);
        if (rc != 0)
            break;
        if ((follow || trailing) && !dot) {
            ssize_t n = readlinkat(pfd, last, target, PATH_CAP);
            if (n >= 0) {
                close(pfd);
                if (++links > MAX_SYMLINKS) {
                    rc = WASI_ELOOP;
                    break;
                }
                if (n == 0) {
                    rc = WASI_ENOENT;
                    break;
                }
                if (target[0] == '/') {
                    rc = WASI_ENOTCAPABLE;
                    break;
                }
                /* Continue from "<dir>/<target>[/]". */
                size_t dl = slash ? strlen(dir) : 1;
                if (dl + 1 + (size_t)n + 2 >= PATH_CAP) {
                    rc = WASI_ENAMETOOLONG;
                    break;
                }
                if (!slash || work[0] == '\0') {
                    work[0] = '.';
                    dl = 1;
                }
                work[dl] = '/';
                memcpy(work + dl + 1, target, (size_t)n);
                size_t end = dl + 1 + (size_t)n;
                if (trailing)
                    work[end++] = '/';
                work[end] = '\0';
                continue;
            }
        }
        memcpy(name, last, strlen(last) + 1);
        *parent_fd = pfd;
        rc = 0;
        break;
    }
    free(work);
    free(target);
    return rc;
}
