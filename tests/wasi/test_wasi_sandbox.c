/* test_wasi_sandbox.c: wasi_path_resolve keeps every guest path beneath its
 * root, with openat2 and with the portable walker: `..`, absolute paths and
 * symlinks (absolute, relative, chained, looping) are refused when they would
 * leave, and resolve correctly when they stay inside. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi.h"

static int failures;
static char base[256];

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                 \
            fprintf(stderr, "\n");                        \
            failures++;                                   \
        }                                                 \
    } while (0)

static void must(int rc, const char *what)
{
    if (rc != 0) {
        perror(what);
        exit(2);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* Resolves path and expects errno `want`; on success reads the file (or
 * stats the directory) and compares with the expectation. */
static void expect(int root, const char *path, bool follow, bool walk, int want,
                   const char *want_content)
{
    int pfd = -1;
    char name[256];
    int rc = wasi_path_resolve(root, path, (uint32_t)strlen(path), follow, walk, &pfd, name,
                               sizeof name);
    CHECK(rc == want, "%s %s (follow=%d): got errno %d, want %d", walk ? "walker" : "openat2",
          path, follow, rc, want);
    if (rc != 0) {
        CHECK(pfd == -1, "fd set on failure");
        return;
    }
    if (want_content) {
        int fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW);
        char buf[64] = {0};
        CHECK(fd >= 0, "%s: open %s: %s", path, name, strerror(errno));
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            CHECK(n >= 0 && strcmp(buf, want_content) == 0, "%s: read '%s', want '%s'", path, buf,
                  want_content);
            close(fd);
        }
    }
    close(pfd);
}

/* Like expect, but checks the resolved (parent, name) is the given host path. */
static void expect_target(int root, const char *path, bool follow, bool walk, const char *host)
{
    int pfd = -1;
    char name[256];
    int rc = wasi_path_resolve(root, path, (uint32_t)strlen(path), follow, walk, &pfd, name,
                               sizeof name);
    CHECK(rc == 0, "%s: errno %d", path, rc);
    if (rc)
        return;
    struct stat a, b;
    int sa = fstatat(pfd, name, &a, AT_SYMLINK_NOFOLLOW);
    int sb = lstat(host, &b);
    CHECK(sa == 0 && sb == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev,
          "%s resolved to %s, not %s", path, name, host);
    close(pfd);
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/fl-wasi-sandbox-%d", (int)getpid());
    char p[512];
    must(mkdir(base, 0755), "mkdir base");
    snprintf(p, sizeof p, "%s/root", base);
    must(mkdir(p, 0755), "mkdir root");
    snprintf(p, sizeof p, "%s/root/sub", base);
    must(mkdir(p, 0755), "mkdir sub");
    snprintf(p, sizeof p, "%s/secret.txt", base);
    write_file(p, "secret");
    snprintf(p, sizeof p, "%s/root/inside.txt", base);
    write_file(p, "inside");
    snprintf(p, sizeof p, "%s/root/sub/file", base);
    write_file(p, "subfile");
    struct { const char *target, *link; } links[] = {
        {"/etc", "root/abs"},
        {"/etc/passwd", "root/abs_file"},
        {"..", "root/up"},
        {"../secret.txt", "root/up_file"},
        {"../..", "root/sub/upup"},
        {"..", "root/sub/up1"},
        {"sub/file", "root/rel"},
        {"rel", "root/chain"},
        {"loop", "root/loop"},
        {"missing", "root/dangling"},
        {"sub/upup/secret.txt", "root/via_sub"},
        {base, "root/abs_base"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base, links[i].link);
        must(symlink(links[i].target, p), "symlink");
    }
    snprintf(p, sizeof p, "%s/root", base);
    int root = open(p, O_RDONLY | O_DIRECTORY);
    must(root < 0, "open root");

    for (int walk = 0; walk <= 1; walk++) {
        /* Escapes. */
        expect(root, "../secret.txt", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "..", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "/etc/passwd", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "/", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "sub/../../secret.txt", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "sub/../sub/../../secret.txt", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "abs/passwd", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "abs/passwd", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "abs_file", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "abs_base/secret.txt", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "up/secret.txt", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "up_file", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "sub/upup/secret.txt", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "via_sub", true, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "up/", false, walk, WASI_ENOTCAPABLE, NULL);
        expect(root, "loop", true, walk, WASI_ELOOP, NULL);
        expect(root, "loop/x", false, walk, WASI_ELOOP, NULL);
        /* Bad input. */
        expect(root, "", false, walk, WASI_ENOENT, NULL);
        {
            int pfd = -1;
            char name[256];
            int rc = wasi_path_resolve(root, "sub\0x", 5, false, walk, &pfd, name, sizeof name);
            CHECK(rc == 25 /* EILSEQ */, "embedded NUL: errno %d", rc);
        }
        expect(root, "nodir/x", false, walk, WASI_ENOENT, NULL);
        expect(root, "inside.txt/x", false, walk, WASI_ENOTDIR, NULL);
        /* Paths that stay inside. */
        expect(root, "inside.txt", false, walk, 0, "inside");
        expect(root, "sub/../inside.txt", false, walk, 0, "inside");
        expect(root, "./sub/./file", false, walk, 0, "subfile");
        expect(root, "sub//file", false, walk, 0, "subfile");
        expect(root, "sub/up1/inside.txt", false, walk, 0, "inside");
        expect(root, "rel", true, walk, 0, "subfile");
        expect(root, "chain", true, walk, 0, "subfile");
        snprintf(p, sizeof p, "%s/root/sub/file", base);
        expect_target(root, "chain", true, walk, p);
        /* Without follow the final symlink itself is named (never followed). */
        snprintf(p, sizeof p, "%s/root/abs", base);
        expect_target(root, "abs", false, walk, p);
        snprintf(p, sizeof p, "%s/root/up_file", base);
        expect_target(root, "up_file", false, walk, p);
        /* A dangling link names its (missing) target inside the root. */
        {
            int pfd = -1;
            char name[256];
            int rc = wasi_path_resolve(root, "dangling", 8, true, walk, &pfd, name, sizeof name);
            CHECK(rc == 0 && strcmp(name, "missing") == 0, "dangling: %d %s", rc, name);
            if (rc == 0)
                close(pfd);
        }
        snprintf(p, sizeof p, "%s/root", base);
        expect_target(root, ".", false, walk, p);
        expect_target(root, "sub/..", false, walk, p);
        snprintf(p, sizeof p, "%s/root/sub", base);
        expect_target(root, "sub/", false, walk, p);
    }
    close(root);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", base);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("sandbox: all escapes refused, inside paths resolved (openat2 and walker)\n");
    return 0;
}
