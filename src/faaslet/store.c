/* store.c: the function store, a directory of <user>/<function>/function.wasm
 * files. Names are checked so they can never leave the store, and uploads
 * are atomic (temp file + rename), so a reader sees the old module or the
 * new one, never a part; an invalid module is never stored. */
#define _GNU_SOURCE
#include "faaslet/faaslet.h"
#include "wasm/wasm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool faaslet_name_valid(const char *name)
{
    if (!name || !name[0] || name[0] == '.')
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok || n >= FAASLET_MAX_NAME)
            return false;
    }
    return true;
}

int faaslet_store_dir(const char *dir, char *buf, size_t n, struct fl_error *err)
{
    int len;
    const char *env;
    if (dir && dir[0])
        len = snprintf(buf, n, "%s", dir);
    else if ((env = getenv("FAASLET_STORE")) && env[0])
        len = snprintf(buf, n, "%s", env);
    else if ((env = getenv("XDG_DATA_HOME")) && env[0])
        len = snprintf(buf, n, "%s/faaslet", env);
    else if ((env = getenv("HOME")) && env[0])
        len = snprintf(buf, n, "%s/.local/share/faaslet", env);
    else
        return fl_error_set(err, FL_ERR_ARG, "store: no --store, FAASLET_STORE, XDG_DATA_HOME or HOME");
    if (len < 0 || (size_t)len >= n)
        return fl_error_set(err, FL_ERR_ARG, "store: directory path too long");
    return FL_OK;
}

static int check_names(const char *user, const char *function, struct fl_error *err)
{
    if (!faaslet_name_valid(user))
        return fl_error_set(err, FL_ERR_ARG,
                            "bad user name '%.64s': use 1-%d characters of A-Z a-z 0-9 _ . - "
                            "not starting with '.'", user ? user : "", FAASLET_MAX_NAME);
    if (!faaslet_name_valid(function))
        return fl_error_set(err, FL_ERR_ARG,
                            "bad function name '%.64s': use 1-%d characters of A-Z a-z 0-9 _ . - "
                            "not starting with '.'", function ? function : "", FAASLET_MAX_NAME);
    return FL_OK;
}

/* mkdir -p for the store's own directories (already-existing is fine). */
static int make_dirs(char *path, struct fl_error *err)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = saved;
        if (rc != 0 && e != EEXIST)
            return fl_error_set(err, FL_ERR_IO, "store: cannot create %s: %s", path, strerror(e));
        if (saved == '\0')
            return FL_OK;
    }
}

int faaslet_store_upload(const char *store, const char *user, const char *function,
                         const uint8_t *wasm, size_t len, struct fl_error *err)
{
    int rc = check_names(user, function, err);
    if (rc)
        return rc;
    struct wasm_module *module = NULL;
    rc = wasm_module_load(wasm, len, &module, err);
    if (rc) {
        fl_error_prefix(err, "invalid module (%s)", fl_error_name(rc));
        return rc;
    }
    wasm_module_destroy(module);

    char dir[4096], tmp[4200], final[4200];
    if (snprintf(dir, sizeof dir, "%s/%s/%s", store, user, function) >= (int)sizeof dir)
        return fl_error_set(err, FL_ERR_ARG, "store: path too long");
    rc = make_dirs(dir, err);
    if (rc)
        return rc;
    snprintf(final, sizeof final, "%s/function.wasm", dir);
    snprintf(tmp, sizeof tmp, "%s/.function.wasm.XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return fl_error_set(err, FL_ERR_IO, "store: cannot create a file in %s: %s", dir,
                            strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, wasm + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = fl_error_set(err, FL_ERR_IO, "store: write %s: %s", tmp, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (!rc && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
        rc = fl_error_set(err, FL_ERR_IO, "store: sync %s: %s", tmp, strerror(errno));
    close(fd);
    if (!rc && rename(tmp, final) != 0)
        rc = fl_error_set(err, FL_ERR_IO, "store: rename to %s: %s", final, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

int faaslet_read_file(const char *path, uint8_t **out, size_t *len, struct fl_error *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fl_error_set(err, errno == ENOENT ? FL_ERR_NOT_FOUND : FL_ERR_IO, "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fl_error_set(err, FL_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > WASM_MAX_MODULE_SIZE) {
        close(fd);
        return fl_error_set(err, FL_ERR_LIMIT, "%s: %lld bytes, more than the %u-byte limit", path,
                            (long long)st.st_size, WASM_MAX_MODULE_SIZE);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return fl_error_set(err, FL_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, buf + done, size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    close(fd);
    if (done != size) {
        free(buf);
        return fl_error_set(err, FL_ERR_IO, "%s: short read", path);
    }
    *out = buf;
    *len = size;
    return FL_OK;
}

int faaslet_store_read(const char *store, const char *user, const char *function,
                       uint8_t **out, size_t *len, struct fl_error *err)
{
    *out = NULL;
    *len = 0;
    int rc = check_names(user, function, err);
    if (rc)
        return rc;
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s/%s/function.wasm", store, user, function) >=
        (int)sizeof path)
        return fl_error_set(err, FL_ERR_ARG, "store: path too long");
    rc = faaslet_read_file(path, out, len, err);
    if (rc == FL_ERR_NOT_FOUND)
        fl_error_set(err, FL_ERR_NOT_FOUND, "no function %s/%s in the store", user, function);
    return rc;
}
