/* wasi_fd.c: the fd_* functions of wasi_snapshot_preview1: reads and writes
 * through guest iovecs, seeking, stat, flags and rights, directory listing,
 * preopen discovery, renumbering. Every guest pointer goes through wasi_mem. */
#define _GNU_SOURCE
#include "wasi/wasi_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOVS 128u /* more is legal: the guest then sees a short read/write */

#define ARG32(i) ((uint32_t)cells[i])
#define CTX ((struct wasi_ctx *)host_data)
#define GET_FD(var, i)                                  \
    struct wasi_fd *var = wasi_fd_get(CTX, ARG32(i));   \
    if (!var)                                           \
        WASI_RETURN(WASI_EBADF)

/* Copies the guest's iovec array into host iovecs, each bounds-checked. */
static int gather_iovs(struct runtime_instance *caller, uint32_t iovs, uint32_t count,
                       struct iovec *out, int *out_count)
{
    if (count > MAX_IOVS)
        count = MAX_IOVS;
    const uint8_t *p = wasi_mem(caller, iovs, (uint64_t)count * WASI_IOVEC_SIZE);
    if (!p)
        return WASI_EFAULT;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t addr = wasi_get_u32(p + i * WASI_IOVEC_SIZE);
        uint32_t len = wasi_get_u32(p + i * WASI_IOVEC_SIZE + 4);
        void *buf = wasi_mem(caller, addr, len);
        if (!buf)
            return WASI_EFAULT;
        out[i].iov_base = buf;
        out[i].iov_len = len;
    }
    *out_count = (int)count;
    return 0;
}

/* The shared body of fd_read/fd_write/fd_pread/fd_pwrite. */
static int do_io(struct runtime_instance *caller, struct wasi_fd *f, uint32_t iovs,
                 uint32_t count, bool write, bool positioned, uint64_t offset, uint32_t result)
{
    struct iovec iov[MAX_IOVS];
    int n = 0;
    int rc = gather_iovs(caller, iovs, count, iov, &n);
    if (rc)
        return rc;
    if (!wasi_mem(caller, result, 4))
        return WASI_EFAULT; /* before the I/O, so no data is lost */
    if (positioned && offset > INT64_MAX)
        return WASI_EINVAL;
    ssize_t done;
    if (positioned)
        done = write ? pwritev(f->host_fd, iov, n, (off_t)offset)
                     : preadv(f->host_fd, iov, n, (off_t)offset);
    else
        done = write ? writev(f->host_fd, iov, n) : readv(f->host_fd, iov, n);
    if (done < 0)
        return wasi_errno_from_host(errno);
    return wasi_store_u32(caller, result, (uint32_t)done);
}

WASI_HOST_FN(fd_read)
{
    (void)exec;
    GET_FD(f, 0);
    WASI_RETURN(do_io(caller, f, ARG32(1), ARG32(2), false, false, 0, ARG32(3)));
}

WASI_HOST_FN(fd_write)
{
    (void)exec;
    GET_FD(f, 0);
    WASI_RETURN(do_io(caller, f, ARG32(1), ARG32(2), true, false, 0, ARG32(3)));
}

WASI_HOST_FN(fd_pread)
{
    (void)exec;
    GET_FD(f, 0);
    WASI_RETURN(do_io(caller, f, ARG32(1), ARG32(2), false, true, cells[3], ARG32(4)));
}

WASI_HOST_FN(fd_pwrite)
{
    (void)exec;
    GET_FD(f, 0);
    WASI_RETURN(do_io(caller, f, ARG32(1), ARG32(2), true, true, cells[3], ARG32(4)));
}

WASI_HOST_FN(fd_seek)
{
    (void)exec;
    GET_FD(f, 0);
    int64_t offset = (int64_t)cells[1];
    uint32_t whence = ARG32(2);
    int host_whence = whence == 0 ? SEEK_SET : whence == 1 ? SEEK_CUR : whence == 2 ? SEEK_END : -1;
    if (host_whence < 0)
        WASI_RETURN(WASI_EINVAL);
    if (!wasi_mem(caller, ARG32(3), 8))
        WASI_RETURN(WASI_EFAULT);
    off_t pos = lseek(f->host_fd, (off_t)offset, host_whence);
    if (pos < 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(wasi_store_u64(caller, ARG32(3), (uint64_t)pos));
}

WASI_HOST_FN(fd_tell)
{
    (void)exec;
    GET_FD(f, 0);
    if (!wasi_mem(caller, ARG32(1), 8))
        WASI_RETURN(WASI_EFAULT);
    off_t pos = lseek(f->host_fd, 0, SEEK_CUR);
    if (pos < 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(wasi_store_u64(caller, ARG32(1), (uint64_t)pos));
}

WASI_HOST_FN(fd_close)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    wasi_fd_release(f);
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_fdstat_get)
{
    (void)exec;
    GET_FD(f, 0);
    uint8_t *out = wasi_mem(caller, ARG32(1), WASI_FDSTAT_SIZE);
    if (!out)
        WASI_RETURN(WASI_EFAULT);
    struct stat st;
    if (fstat(f->host_fd, &st) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    int fl = fcntl(f->host_fd, F_GETFL);
    if (fl < 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    uint16_t flags = 0;
    if (fl & O_APPEND)
        flags |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK)
        flags |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        flags |= WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC;
    else if (fl & O_DSYNC)
        flags |= WASI_FDFLAG_DSYNC;
    memset(out, 0, WASI_FDSTAT_SIZE);
    out[0] = wasi_filetype_from_mode(st.st_mode);
    wasi_put_u16(out + 2, flags);
    /* wasi-libc's isatty() is "a character device without seek/tell rights",
     * which decides whether stdout is line-buffered. */
    uint64_t base = f->rights_base;
    if (S_ISCHR(st.st_mode) && isatty(f->host_fd))
        base &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
    wasi_put_u64(out + 8, base);
    wasi_put_u64(out + 16, f->rights_inheriting);
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_fdstat_set_flags)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    uint32_t flags = ARG32(1);
    if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        WASI_RETURN(WASI_ENOTSUP); /* Linux cannot change these after open */
    int fl = fcntl(f->host_fd, F_GETFL);
    if (fl < 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND)
        fl |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK)
        fl |= O_NONBLOCK;
    if (fcntl(f->host_fd, F_SETFL, fl) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_fdstat_set_rights)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    uint64_t base = cells[1], inheriting = cells[2];
    /* Rights can only be dropped, never gained. */
    if ((base & ~f->rights_base) || (inheriting & ~f->rights_inheriting))
        WASI_RETURN(WASI_ENOTCAPABLE);
    f->rights_base = base;
    f->rights_inheriting = inheriting;
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_filestat_get)
{
    (void)exec;
    GET_FD(f, 0);
    uint8_t *out = wasi_mem(caller, ARG32(1), WASI_FILESTAT_SIZE);
    if (!out)
        WASI_RETURN(WASI_EFAULT);
    struct stat st;
    if (fstat(f->host_fd, &st) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    wasi_filestat_encode(out, &st);
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_filestat_set_size)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    if (cells[1] > INT64_MAX)
        WASI_RETURN(WASI_EFBIG);
    if (ftruncate(f->host_fd, (off_t)cells[1]) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(0);
}

/* Fills ts[2] for futimens/utimensat from preview1 times and fstflags. */
int wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2])
{
    if ((fst & WASI_FSTFLAG_ATIM && fst & WASI_FSTFLAG_ATIM_NOW) ||
        (fst & WASI_FSTFLAG_MTIM && fst & WASI_FSTFLAG_MTIM_NOW) || fst > 0xF)
        return WASI_EINVAL;
    uint64_t t[2] = {atim, mtim};
    uint32_t set[2] = {WASI_FSTFLAG_ATIM, WASI_FSTFLAG_MTIM};
    uint32_t now[2] = {WASI_FSTFLAG_ATIM_NOW, WASI_FSTFLAG_MTIM_NOW};
    for (int i = 0; i < 2; i++) {
        ts[i].tv_sec = 0;
        if (fst & now[i]) {
            ts[i].tv_nsec = UTIME_NOW;
        } else if (fst & set[i]) {
            ts[i].tv_sec = (time_t)(t[i] / 1000000000ull);
            ts[i].tv_nsec = (long)(t[i] % 1000000000ull);
        } else {
            ts[i].tv_nsec = UTIME_OMIT;
        }
    }
    return 0;
}

WASI_HOST_FN(fd_filestat_set_times)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    struct timespec ts[2];
    int rc = wasi_times_from_flags(cells[1], cells[2], ARG32(3), ts);
    if (rc)
        WASI_RETURN(rc);
    if (futimens(f->host_fd, ts) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_advise)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint32_t a = ARG32(3);
    if (a >= sizeof advice / sizeof advice[0] || cells[1] > INT64_MAX || cells[2] > INT64_MAX)
        WASI_RETURN(WASI_EINVAL);
    int e = posix_fadvise(f->host_fd, (off_t)cells[1], (off_t)cells[2], advice[a]);
    WASI_RETURN(wasi_errno_from_host(e));
}

WASI_HOST_FN(fd_allocate)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    if (cells[1] > INT64_MAX || cells[2] > INT64_MAX || cells[1] + cells[2] > INT64_MAX)
        WASI_RETURN(WASI_EFBIG);
    int e = posix_fallocate(f->host_fd, (off_t)cells[1], (off_t)cells[2]);
    WASI_RETURN(wasi_errno_from_host(e));
}

WASI_HOST_FN(fd_datasync)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    WASI_RETURN(fdatasync(f->host_fd) == 0 ? 0 : wasi_errno_from_host(errno));
}

WASI_HOST_FN(fd_sync)
{
    (void)exec;
    (void)caller;
    GET_FD(f, 0);
    WASI_RETURN(fsync(f->host_fd) == 0 ? 0 : wasi_errno_from_host(errno));
}

WASI_HOST_FN(fd_prestat_get)
{
    (void)exec;
    GET_FD(f, 0);
    if (!f->preopen_name)
        WASI_RETURN(WASI_EBADF);
    uint8_t *out = wasi_mem(caller, ARG32(1), WASI_PRESTAT_SIZE);
    if (!out)
        WASI_RETURN(WASI_EFAULT);
    memset(out, 0, WASI_PRESTAT_SIZE);
    out[0] = 0; /* preopentype dir */
    wasi_put_u32(out + 4, (uint32_t)strlen(f->preopen_name));
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_prestat_dir_name)
{
    (void)exec;
    GET_FD(f, 0);
    if (!f->preopen_name)
        WASI_RETURN(WASI_EBADF);
    size_t len = strlen(f->preopen_name);
    if (ARG32(2) < len)
        WASI_RETURN(WASI_ENAMETOOLONG);
    uint8_t *out = wasi_mem(caller, ARG32(1), len);
    if (!out)
        WASI_RETURN(WASI_EFAULT);
    memcpy(out, f->preopen_name, len);
    WASI_RETURN(0);
}

WASI_HOST_FN(fd_renumber)
{
    (void)exec;
    (void)caller;
    GET_FD(from, 0);
    GET_FD(to, 1);
    if (from == to)
        WASI_RETURN(0);
    wasi_fd_release(to);
    *to = *from;
    memset(from, 0, sizeof *from);
    from->host_fd = -1;
    WASI_RETURN(0);
}

static uint8_t dirent_type(DIR *dir, const struct dirent *de)
{
    switch (de->d_type) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return wasi_filetype_from_mode(st.st_mode);
        return WASI_FILETYPE_UNKNOWN;
    }
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

/* Cookies are entry indices. The stream's position (dir_pos) normally equals
 * the cookie the guest continues from; any other cookie rewinds and skips. */
WASI_HOST_FN(fd_readdir)
{
    (void)exec;
    GET_FD(f, 0);
    uint32_t buf_len = ARG32(2);
    uint64_t cookie = cells[3];
    uint8_t *buf = wasi_mem(caller, ARG32(1), buf_len);
    if (!buf || !wasi_mem(caller, ARG32(4), 4))
        WASI_RETURN(WASI_EFAULT);
    if (!f->dir) {
        /* A descriptor of its own, so the stream's offset is independent. */
        int d = openat(f->host_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
            WASI_RETURN(wasi_errno_from_host(errno));
        f->dir = fdopendir(d);
        if (!f->dir) {
            int e = errno;
            close(d);
            WASI_RETURN(wasi_errno_from_host(e));
        }
        f->dir_pos = 0;
    }
    DIR *dir = f->dir;
    if (cookie == 0 || cookie != f->dir_pos) {
        rewinddir(dir);
        f->dir_pos = 0;
        while (f->dir_pos < cookie && readdir(dir))
            f->dir_pos++;
    }
    uint32_t used = 0;
    while (used < buf_len) {
        long loc = telldir(dir);
        errno = 0;
        struct dirent *de = readdir(dir);
        if (!de) {
            if (errno)
                WASI_RETURN(wasi_errno_from_host(errno));
            break;
        }
        uint8_t entry[WASI_DIRENT_SIZE + NAME_CAP];
        size_t namlen = strnlen(de->d_name, NAME_CAP - 1);
        memset(entry, 0, WASI_DIRENT_SIZE);
        wasi_put_u64(entry, f->dir_pos + 1);
        wasi_put_u64(entry + 8, (uint64_t)de->d_ino);
        wasi_put_u32(entry + 16, (uint32_t)namlen);
        entry[20] = dirent_type(dir, de);
        memcpy(entry + WASI_DIRENT_SIZE, de->d_name, namlen);
        size_t total = WASI_DIRENT_SIZE + namlen;
        size_t room = buf_len - used;
        memcpy(buf + used, entry, total < room ? total : room);
        if (total > room) {
            /* Truncated: the guest retries this entry with a bigger buffer. */
            seekdir(dir, loc);
            used = buf_len;
            break;
        }
        used += (uint32_t)total;
        f->dir_pos++;
    }
    WASI_RETURN(wasi_store_u32(caller, ARG32(4), used));
}
