/* link.c: a native object -> shared object, linked by ld.lld in a private
 * temporary folder; and aot_compile, compile + link in one call. No LLVM
 * library here: the compiler itself is the module compiler.c loads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aot/aot_internal.h"

extern char **environ;

void aot_options_default(struct aot_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->opt_level = 2;
    opts->interrupt_checks = true;
    /* For experiments and benchmarks without a flag in every front end:
     * FAASLET_AOT_FLAGS="O3 no-interrupt-checks bounds-checks". */
    const char *env = getenv("FAASLET_AOT_FLAGS");
    if (!env)
        return;
    if (strstr(env, "no-interrupt-checks"))
        opts->interrupt_checks = false;
    if (strstr(env, "bounds-checks"))
        opts->bounds_checks = true;
    if (strstr(env, "jit"))
        opts->link_in_process = true;
    const char *o = strstr(env, "O");
    if (o && o[1] >= '0' && o[1] <= '3')
        opts->opt_level = o[1] - '0';
}

static int write_file(const char *path, const uint8_t *data, size_t n, struct fl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fl_error_set(err, FL_ERR_IO, "aot: cannot create %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return fl_error_set(err, FL_ERR_IO, "aot: cannot write %s: %s", path, strerror(errno));
        }
        done += (size_t)w;
    }
    if (close(fd) != 0)
        return fl_error_set(err, FL_ERR_IO, "aot: cannot write %s: %s", path, strerror(errno));
    return FL_OK;
}

/* First line of a (small) file into buf, for linker messages. */
static void first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)n, f)) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
    }
    fclose(f);
}

static int run_linker(const char *lld, const char *obj_path, const char *so_path,
                      const char *log_path, int *status)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {(char *)lld, "-shared", "--hash-style=gnu", "-z", "noexecstack",
                    "-o", (char *)so_path, (char *)obj_path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, lld, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return rc;
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

int aot_link_shared(const uint8_t *obj, size_t obj_size, const char *so_path, struct fl_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/faaslet-aot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return fl_error_set(err, FL_ERR_IO, "aot: cannot create a temporary folder in %s: %s",
                            tmp && *tmp ? tmp : "/tmp", strerror(errno));
    char obj_path[4200], log_path[4200];
    snprintf(obj_path, sizeof obj_path, "%s/module.o", dir);
    snprintf(log_path, sizeof log_path, "%s/ld.log", dir);
    int rc = write_file(obj_path, obj, obj_size, err);
    if (!rc) {
        /* Debian installs lld as ld.lld-14 (and ld.lld with the lld package). */
        const char *lld = getenv("FAASLET_LLD");
        int status = 0, spawn_rc;
        if (lld && *lld) {
            spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
        } else {
            lld = "ld.lld-14";
            spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
            if (spawn_rc == ENOENT) {
                lld = "ld.lld";
                spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
            }
        }
        if (spawn_rc != 0) {
            rc = fl_error_set(err, FL_ERR_IO, "aot: cannot run the linker %s: %s (install lld-14)", lld,
                              strerror(spawn_rc));
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char line[160];
            first_line(log_path, line, sizeof line);
            rc = fl_error_set(err, FL_ERR_INTERNAL, "aot: %s failed: %s", lld, line[0] ? line : "no message");
        }
    }
    unlink(obj_path);
    unlink(log_path);
    rmdir(dir);
    return rc;
}

int aot_compile(const struct wasm_module *module, const struct aot_options *opts,
                const char *so_path, struct fl_error *err)
{
    uint8_t *obj = NULL;
    size_t n = 0;
    int rc = aot_compile_object(module, opts, &obj, &n, err);
    if (!rc)
        rc = aot_link_shared(obj, n, so_path, err);
    free(obj);
    return rc;
}
