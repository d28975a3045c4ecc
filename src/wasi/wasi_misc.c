/* wasi_misc.c: the preview1 functions that are not about files: argv and
 * environment, clocks, randomness, poll_oneoff, process exit, scheduling and
 * the (unsupported) socket calls. */
#define _GNU_SOURCE
#include "wasi/wasi_internal.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ARG32(i) ((uint32_t)cells[i])
#define CTX ((struct wasi_ctx *)host_data)
#define MAX_SUBSCRIPTIONS 4096u
#define POLL_SLICE_NS 20000000ull /* re-check for interrupts this often while sleeping */

/* Writes count pointers at ptrs and the strings, NUL-terminated, at buf. */
static int put_strings(struct runtime_instance *caller, char **strings, uint32_t count,
                       uint32_t bytes, uint32_t ptrs, uint32_t buf)
{
    uint8_t *p = wasi_mem(caller, ptrs, (uint64_t)count * 4);
    uint8_t *b = wasi_mem(caller, buf, bytes);
    if (!p || !b)
        return WASI_EFAULT;
    uint32_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t len = strlen(strings[i]) + 1;
        memcpy(b + off, strings[i], len);
        wasi_put_u32(p + i * 4, buf + off);
        off += (uint32_t)len;
    }
    return 0;
}

static int put_sizes(struct runtime_instance *caller, uint32_t count, uint32_t bytes,
                     uint32_t count_ptr, uint32_t bytes_ptr)
{
    if (!wasi_mem(caller, count_ptr, 4) || !wasi_mem(caller, bytes_ptr, 4))
        return WASI_EFAULT;
    wasi_store_u32(caller, count_ptr, count);
    return wasi_store_u32(caller, bytes_ptr, bytes);
}

WASI_HOST_FN(args_get)
{
    (void)exec;
    WASI_RETURN(put_strings(caller, CTX->args, CTX->arg_count, CTX->args_bytes, ARG32(0), ARG32(1)));
}

WASI_HOST_FN(args_sizes_get)
{
    (void)exec;
    WASI_RETURN(put_sizes(caller, CTX->arg_count, CTX->args_bytes, ARG32(0), ARG32(1)));
}

WASI_HOST_FN(environ_get)
{
    (void)exec;
    WASI_RETURN(put_strings(caller, CTX->env, CTX->env_count, CTX->env_bytes, ARG32(0), ARG32(1)));
}

WASI_HOST_FN(environ_sizes_get)
{
    (void)exec;
    WASI_RETURN(put_sizes(caller, CTX->env_count, CTX->env_bytes, ARG32(0), ARG32(1)));
}

/* Host clock for a preview1 clock id, or -1. */
static clockid_t host_clock(uint32_t id)
{
    switch (id) {
    case 0: return CLOCK_REALTIME;
    case 1: return CLOCK_MONOTONIC;
    case 2: return CLOCK_PROCESS_CPUTIME_ID;
    case 3: return CLOCK_THREAD_CPUTIME_ID;
    default: return (clockid_t)-1;
    }
}

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

WASI_HOST_FN(clock_res_get)
{
    (void)exec;
    (void)host_data;
    clockid_t c = host_clock(ARG32(0));
    if (c == (clockid_t)-1)
        WASI_RETURN(WASI_EINVAL);
    struct timespec ts;
    if (clock_getres(c, &ts) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(wasi_store_u64(caller, ARG32(1), ts_ns(&ts)));
}

WASI_HOST_FN(clock_time_get)
{
    (void)exec;
    (void)host_data;
    clockid_t c = host_clock(ARG32(0));
    if (c == (clockid_t)-1)
        WASI_RETURN(WASI_EINVAL);
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        WASI_RETURN(wasi_errno_from_host(errno));
    WASI_RETURN(wasi_store_u64(caller, ARG32(2), ts_ns(&ts)));
}

WASI_HOST_FN(random_get)
{
    (void)exec;
    (void)host_data;
    uint32_t len = ARG32(1);
    uint8_t *buf = wasi_mem(caller, ARG32(0), len);
    if (!buf)
        WASI_RETURN(WASI_EFAULT);
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            WASI_RETURN(wasi_errno_from_host(errno));
        }
        done += (uint32_t)n;
    }
    WASI_RETURN(0);
}

/* One parsed subscription. */
struct sub {
    uint64_t userdata;
    uint8_t type;        /* 0 clock, 1 fd_read, 2 fd_write */
    uint16_t error;      /* nonzero: answer at once with this errno */
    uint64_t remain_ns;  /* clock: time to wait from the start of the call */
    int poll_index;      /* fd: index into the pollfd array */
};

static void put_event(uint8_t *out, const struct sub *s, uint16_t error, uint64_t nbytes,
                      uint16_t flags)
{
    memset(out, 0, WASI_EVENT_SIZE);
    wasi_put_u64(out, s->userdata);
    wasi_put_u16(out + 8, error);
    out[10] = s->type;
    wasi_put_u64(out + 16, nbytes);
    wasi_put_u16(out + 24, flags);
}

/* Waits for the first of the subscriptions: clocks sleep (in slices, so an
 * interrupt still stops the call), fds are polled for readiness. */
WASI_HOST_FN(poll_oneoff)
{
    uint32_t nsubs = ARG32(2);
    if (nsubs == 0)
        WASI_RETURN(WASI_EINVAL);
    if (nsubs > MAX_SUBSCRIPTIONS)
        WASI_RETURN(WASI_ENOTSUP);
    const uint8_t *in = wasi_mem(caller, ARG32(0), (uint64_t)nsubs * WASI_SUBSCRIPTION_SIZE);
    uint8_t *out = wasi_mem(caller, ARG32(1), (uint64_t)nsubs * WASI_EVENT_SIZE);
    if (!in || !out || !wasi_mem(caller, ARG32(3), 4))
        WASI_RETURN(WASI_EFAULT);
    struct sub *subs = calloc(nsubs, sizeof *subs);
    struct pollfd *pfds = calloc(nsubs, sizeof *pfds);
    if (!subs || !pfds) {
        free(subs);
        free(pfds);
        WASI_RETURN(WASI_ENOMEM);
    }
    int npoll = 0;
    bool immediate = false, any_clock = false;
    uint64_t wait_ns = UINT64_MAX;
    for (uint32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = in + (size_t)i * WASI_SUBSCRIPTION_SIZE;
        struct sub *sb = &subs[i];
        sb->userdata = wasi_get_u64(s);
        sb->type = s[8];
        sb->poll_index = -1;
        if (sb->type == 0) {
            clockid_t c = host_clock(wasi_get_u32(s + 16));
            uint64_t timeout = wasi_get_u64(s + 24);
            uint16_t flags = wasi_get_u16(s + 40);
            struct timespec now;
            if (c == (clockid_t)-1 || clock_gettime(c, &now) != 0) {
                sb->error = WASI_EINVAL;
                immediate = true;
                continue;
            }
            if (flags & 1) /* absolute */
                sb->remain_ns = timeout > ts_ns(&now) ? timeout - ts_ns(&now) : 0;
            else
                sb->remain_ns = timeout;
            any_clock = true;
            if (sb->remain_ns < wait_ns)
                wait_ns = sb->remain_ns;
        } else if (sb->type == 1 || sb->type == 2) {
            struct wasi_fd *f = wasi_fd_get(CTX, wasi_get_u32(s + 16));
            if (!f) {
                sb->error = WASI_EBADF;
                immediate = true;
                continue;
            }
            sb->poll_index = npoll;
            pfds[npoll].fd = f->host_fd;
            pfds[npoll].events = sb->type == 1 ? POLLIN : POLLOUT;
            npoll++;
        } else {
            sb->error = WASI_EINVAL;
            immediate = true;
        }
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint32_t nevents = 0;
    int trap = RUNTIME_OK;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t elapsed = ts_ns(&now) - ts_ns(&start);
        uint64_t slice = 0;
        if (!immediate) {
            slice = !any_clock ? POLL_SLICE_NS
                    : wait_ns > elapsed ? wait_ns - elapsed : 0;
            if (slice > POLL_SLICE_NS)
                slice = POLL_SLICE_NS;
        }
        struct timespec ts = {(time_t)(slice / 1000000000ull), (long)(slice % 1000000000ull)};
        int ready = ppoll(npoll ? pfds : NULL, (nfds_t)npoll, &ts, NULL);
        if (ready < 0 && errno != EINTR) {
            free(subs);
            free(pfds);
            WASI_RETURN(wasi_errno_from_host(errno));
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = ts_ns(&now) - ts_ns(&start);
        for (uint32_t i = 0; i < nsubs; i++) {
            struct sub *sb = &subs[i];
            uint8_t *ev = out + (size_t)nevents * WASI_EVENT_SIZE;
            if (sb->error) {
                put_event(ev, sb, sb->error, 0, 0);
                nevents++;
            } else if (sb->type == 0) {
                if (elapsed >= sb->remain_ns) {
                    put_event(ev, sb, 0, 0, 0);
                    nevents++;
                }
            } else if (ready > 0 && pfds[sb->poll_index].revents) {
                short re = pfds[sb->poll_index].revents;
                int avail = 0;
                if (sb->type == 1 && ioctl(pfds[sb->poll_index].fd, FIONREAD, &avail) != 0)
                    avail = 0;
                uint16_t err = (re & POLLNVAL) ? WASI_EBADF : 0;
                put_event(ev, sb, err, avail > 0 ? (uint64_t)avail : 0,
                          (re & POLLHUP) ? 1 : 0);
                nevents++;
            }
        }
        if (nevents > 0)
            break;
        if (exec && atomic_load(&exec->interrupt)) {
            trap = RUNTIME_TRAP_INTERRUPTED;
            break;
        }
    }
    free(subs);
    free(pfds);
    if (trap)
        return trap;
    WASI_RETURN(wasi_store_u32(caller, ARG32(3), nevents));
}

WASI_HOST_FN(proc_exit)
{
    (void)caller;
    CTX->exit_code = (int)ARG32(0);
    CTX->exited = true;
    if (exec)
        exec->exit_code = (int)ARG32(0);
    return RUNTIME_TRAP_EXIT;
}

WASI_HOST_FN(proc_raise)
{
    (void)exec;
    (void)caller;
    (void)host_data;
    WASI_RETURN(WASI_ENOSYS);
}

WASI_HOST_FN(sched_yield)
{
    (void)exec;
    (void)caller;
    (void)host_data;
    sched_yield();
    WASI_RETURN(0);
}

/* No sockets are ever handed to the guest, so every socket call fails. */
static int no_socket(struct wasi_ctx *ctx, uint32_t fd)
{
    return wasi_fd_get(ctx, fd) ? WASI_ENOTSUP : WASI_EBADF;
}

WASI_HOST_FN(sock_accept)
{
    (void)exec;
    (void)caller;
    WASI_RETURN(no_socket(CTX, ARG32(0)));
}

WASI_HOST_FN(sock_recv)
{
    (void)exec;
    (void)caller;
    WASI_RETURN(no_socket(CTX, ARG32(0)));
}

WASI_HOST_FN(sock_send)
{
    (void)exec;
    (void)caller;
    WASI_RETURN(no_socket(CTX, ARG32(0)));
}

WASI_HOST_FN(sock_shutdown)
{
    (void)exec;
    (void)caller;
    WASI_RETURN(no_socket(CTX, ARG32(0)));
}
