/* wasi_internal.h: what the wasi_*.c files share: preview1 constants and
 * layouts, guest-memory access (bounds-checked, little-endian), the fd table
 * and host errno translation. Not for use outside src/wasi. */
#ifndef FL_WASI_WASI_INTERNAL_H
#define FL_WASI_WASI_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "runtime/runtime.h"
#include "wasi/wasi.h"

#define NAME_CAP 256u /* a path component, NUL included (NAME_MAX + 1) */

/* Errno values of wasi_snapshot_preview1 not in wasi.h's short list. */
enum {
    WASI_E2BIG = 1,
    WASI_EACCES = 2,
    WASI_EAGAIN = 6,
    WASI_EBUSY = 10,
    WASI_EDQUOT = 19,
    WASI_EFBIG = 22,
    WASI_EILSEQ = 25,
    WASI_EINTR = 27,
    WASI_EIO = 29,
    WASI_EISDIR = 31,
    WASI_EMFILE = 33,
    WASI_EMLINK = 34,
    WASI_ENAMETOOLONG = 37,
    WASI_ENFILE = 41,
    WASI_ENODEV = 43,
    WASI_ENOMEM = 48,
    WASI_ENOSPC = 51,
    WASI_ENOTEMPTY = 55,
    WASI_ENOTSOCK = 57,
    WASI_ENOTTY = 59,
    WASI_ENXIO = 60,
    WASI_EOVERFLOW = 61,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_ERANGE = 68,
    WASI_EROFS = 69,
    WASI_ESPIPE = 70,
    WASI_ETIMEDOUT = 73,
    WASI_ETXTBSY = 74,
    WASI_EXDEV = 75,
};

enum {
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4,
    WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6,
    WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

#define WASI_FDFLAG_APPEND 0x1u
#define WASI_FDFLAG_DSYNC 0x2u
#define WASI_FDFLAG_NONBLOCK 0x4u
#define WASI_FDFLAG_RSYNC 0x8u
#define WASI_FDFLAG_SYNC 0x10u

#define WASI_OFLAG_CREAT 0x1u
#define WASI_OFLAG_DIRECTORY 0x2u
#define WASI_OFLAG_EXCL 0x4u
#define WASI_OFLAG_TRUNC 0x8u

#define WASI_LOOKUP_SYMLINK_FOLLOW 0x1u

#define WASI_FSTFLAG_ATIM 0x1u
#define WASI_FSTFLAG_ATIM_NOW 0x2u
#define WASI_FSTFLAG_MTIM 0x4u
#define WASI_FSTFLAG_MTIM_NOW 0x8u

#define WASI_RIGHT_FD_READ (1ull << 1)
#define WASI_RIGHT_FD_SEEK (1ull << 2)
#define WASI_RIGHT_FD_TELL (1ull << 5)
#define WASI_RIGHT_FD_WRITE (1ull << 6)
#define WASI_RIGHT_FD_READDIR (1ull << 14)
#define WASI_RIGHTS_ALL ((1ull << 30) - 1) /* bits 0..29 are defined */

/* Guest-visible byte sizes of preview1 structures. */
#define WASI_FDSTAT_SIZE 24u
#define WASI_FILESTAT_SIZE 64u
#define WASI_DIRENT_SIZE 24u
#define WASI_PRESTAT_SIZE 8u
#define WASI_IOVEC_SIZE 8u
#define WASI_SUBSCRIPTION_SIZE 48u
#define WASI_EVENT_SIZE 32u

/* Pointer to guest bytes [addr, addr+len) of the caller's memory 0, or NULL
 * if out of bounds or the caller has no memory. len 0 still needs addr <= size. */
static inline uint8_t *wasi_mem(struct runtime_instance *caller, uint64_t addr, uint64_t len)
{
    if (!caller || !caller->module || caller->module->memory_count == 0 || !caller->memories)
        return NULL;
    return runtime_memory_ptr(caller->memories[0], addr, len);
}

static inline void wasi_put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void wasi_put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wasi_put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t wasi_get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t wasi_get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t wasi_get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Stores a u32/u64 result at guest addr; WASI_EFAULT if out of bounds. */
int wasi_store_u32(struct runtime_instance *caller, uint32_t addr, uint32_t v);
int wasi_store_u64(struct runtime_instance *caller, uint32_t addr, uint64_t v);

/* WASI errno for a host errno value. */
int wasi_errno_from_host(int host_errno);

/* The open slot for guest fd, or NULL (then the call answers EBADF). */
struct wasi_fd *wasi_fd_get(struct wasi_ctx *ctx, uint32_t fd);

/* Puts host_fd (owned) in the lowest free slot >= 3; WASI_EMFILE if full.
 * On failure host_fd is left to the caller. */
int wasi_fd_insert(struct wasi_ctx *ctx, int host_fd, uint64_t rights_base,
                   uint64_t rights_inheriting, uint32_t *out);

/* Closes a slot's host resources and marks it free. */
void wasi_fd_release(struct wasi_fd *slot);

/* WASI filetype of a host st_mode. */
uint8_t wasi_filetype_from_mode(uint32_t mode);

/* Writes a preview1 filestat (64 bytes) for a host struct stat. */
struct stat;
void wasi_filestat_encode(uint8_t *out, const struct stat *st);

/* Fills ts[2] for futimens/utimensat from preview1 times and fstflags. */
struct timespec;
int wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

/* Host functions, one per import (cells per runtime.h). */
#define WASI_HOST_FN(name)                                                              \
    int wasi_##name(struct runtime_exec *exec, struct runtime_instance *caller,        \
                    uint64_t *cells, void *host_data)
WASI_HOST_FN(args_get);
WASI_HOST_FN(args_sizes_get);
WASI_HOST_FN(environ_get);
WASI_HOST_FN(environ_sizes_get);
WASI_HOST_FN(clock_res_get);
WASI_HOST_FN(clock_time_get);
WASI_HOST_FN(random_get);
WASI_HOST_FN(poll_oneoff);
WASI_HOST_FN(proc_exit);
WASI_HOST_FN(proc_raise);
WASI_HOST_FN(sched_yield);
WASI_HOST_FN(sock_accept);
WASI_HOST_FN(sock_recv);
WASI_HOST_FN(sock_send);
WASI_HOST_FN(sock_shutdown);
WASI_HOST_FN(fd_advise);
WASI_HOST_FN(fd_allocate);
WASI_HOST_FN(fd_close);
WASI_HOST_FN(fd_datasync);
WASI_HOST_FN(fd_fdstat_get);
WASI_HOST_FN(fd_fdstat_set_flags);
WASI_HOST_FN(fd_fdstat_set_rights);
WASI_HOST_FN(fd_filestat_get);
WASI_HOST_FN(fd_filestat_set_size);
WASI_HOST_FN(fd_filestat_set_times);
WASI_HOST_FN(fd_pread);
WASI_HOST_FN(fd_prestat_get);
WASI_HOST_FN(fd_prestat_dir_name);
WASI_HOST_FN(fd_pwrite);
WASI_HOST_FN(fd_read);
WASI_HOST_FN(fd_readdir);
WASI_HOST_FN(fd_renumber);
WASI_HOST_FN(fd_seek);
WASI_HOST_FN(fd_sync);
WASI_HOST_FN(fd_tell);
WASI_HOST_FN(fd_write);
WASI_HOST_FN(path_create_directory);
WASI_HOST_FN(path_filestat_get);
WASI_HOST_FN(path_filestat_set_times);
WASI_HOST_FN(path_link);
WASI_HOST_FN(path_open);
WASI_HOST_FN(path_readlink);
WASI_HOST_FN(path_remove_directory);
WASI_HOST_FN(path_rename);
WASI_HOST_FN(path_symlink);
WASI_HOST_FN(path_unlink_file);

/* Host functions return an errno through cell 0 with this. */
#define WASI_RETURN(e)                  \
    do {                                \
        cells[0] = (uint32_t)(e);       \
        return RUNTIME_OK;              \
    } while (0)

#endif
