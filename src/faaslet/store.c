/* store.c: the function store, a directory of <user>/<function>/function.wasm
 * files, each with its compiled objects (KEY.so + KEY.meta from aot's cache).
 * Names are checked so they can never leave the store, and uploads are
 * atomic (code generated first, then temp file + rename), so a reader sees
 * the old module or the new one, never a part; an invalid module, or one
 * code generation rejects, is never stored. */
#define _GNU_SOURCE
#include "faaslet/faaslet.h"
#include "aot/aot.h"
#include "wasm/wasm.h"

#include <dirent.h>
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

bool faaslet_tier_parse(const char *s, enum faaslet_tier *out)
{
    if (!s)
        return false;
    if (!strcmp(s, "auto"))
        *out = FAASLET_TIER_AUTO;
    else if (!strcmp(s, "aot"))
        *out = FAASLET_TIER_AOT;
    else if (!strcmp(s, "interp"))
        *out = FAASLET_TIER_INTERP;
    else
        return false;
    return true;
}

enum faaslet_tier faaslet_tier_resolve(enum faaslet_tier tier)
{
    if (tier != FAASLET_TIER_DEFAULT)
        return tier;
    enum faaslet_tier t;
    return faaslet_tier_parse(getenv("FAASLET_TIER"), &t) ? t : FAASLET_TIER_AUTO;
}

int faaslet_store_function_dir(const char *store, const char *user, const char *function,
                               char *buf, size_t n, struct fl_error *err)
{
    int rc = check_names(user, function, err);
    if (rc)
        return rc;
    int len = snprintf(buf, n, "%s/%s/%s", store, user, function);
    if (len < 0 || (size_t)len >= n)
        return fl_error_set(err, FL_ERR_ARG, "store: path too long");
    return FL_OK;
}

/* Removes compiled objects in dir other than key's (earlier uploads'). */
static void drop_other_objects(const char *dir, const char *key)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    size_t klen = strlen(key);
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        bool so = n > 3 && !strcmp(de->d_name + n - 3, ".so");
        bool meta = n > 5 && !strcmp(de->d_name + n - 5, ".meta");
        if ((!so && !meta) || de->d_name[0] == '.' || !strncmp(de->d_name, key, klen))
            continue;
        char path[4400];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
            unlink(path);
    }
    closedir(d);
}

int faaslet_store_upload(const char *store, const char *user, const char *function,
                         const uint8_t *wasm, size_t len, struct fl_error *err)
{
    return faaslet_store_upload_opts(store, user, function, wasm, len, NULL, err);
}

int faaslet_store_upload_opts(const char *store, const char *user, const char *function,
                              const uint8_t *wasm, size_t len,
                              const struct faaslet_upload_options *opts, struct fl_error *err)
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

    char user_dir[4096], dir[4096], tmp[4200], final[4200];
    if (snprintf(user_dir, sizeof user_dir, "%s/%s", store, user) >= (int)sizeof user_dir ||
        snprintf(dir, sizeof dir, "%s/%s/%s", store, user, function) >= (int)sizeof dir) {
        wasm_module_destroy(module);
        return fl_error_set(err, FL_ERR_ARG, "store: path too long");
    }
    struct stat st;
    bool had_user = stat(user_dir, &st) == 0, had_dir = stat(dir, &st) == 0;
    rc = make_dirs(dir, err);
    if (rc) {
        wasm_module_destroy(module);
        return rc;
    }
    /* Code first: the module is only stored once its code exists, so a
     * function in the store always has a valid object (unless the tier was
     * off at upload, or the object was removed or tampered with since). */
    char key[65] = "";
    enum faaslet_tier tier = faaslet_tier_resolve(opts ? opts->tier : FAASLET_TIER_DEFAULT);
    if (tier != FAASLET_TIER_INTERP) {
        struct aot_options aopts;
        aot_options_default(&aopts);
        aopts.bounds_checks = opts && opts->bounds_checks;
        aopts.cache_dir = dir;
        char so[4200];
        rc = aot_cache_ensure(module, &aopts, so, sizeof so, NULL, err);
        if (!rc)
            rc = aot_cache_key(module, &aopts, key, err);
        if (rc) {
            fl_error_prefix(err, "code generation failed");
            if (!had_dir)
                rmdir(dir);
            if (!had_user)
                rmdir(user_dir);
            wasm_module_destroy(module);
            return rc;
        }
    }
    wasm_module_destroy(module);
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
    else if (key[0])
        drop_other_objects(dir, key);
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
