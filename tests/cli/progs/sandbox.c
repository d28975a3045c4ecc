/* sandbox.c: every way out of the preopened directory (argv[1]) is refused:
 * `..`, absolute paths, symlinks pointing outside (absolute and relative),
 * and renames/links/mkdirs that would land outside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static int escaped;

static const char *P(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", dir, name);
    return buf;
}

static void try_open(const char *what, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        printf("ESCAPED: %s (%s)\n", what, path);
        escaped++;
        close(fd);
    } else {
        printf("refused: %s: %s\n", what, strerror(errno));
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    dir = argv[1];
    char a[256], b[256];
    try_open("dotdot", P(a, "../../../../etc/passwd"));
    try_open("absolute", "/etc/passwd");
    try_open("dotdot after subdir", P(a, "sub/../../x"));
    symlink("/etc", P(a, "abs_link"));
    try_open("absolute symlink", P(a, "abs_link/passwd"));
    symlink("../../../../../../etc/passwd", P(a, "rel_link"));
    try_open("relative symlink", P(a, "rel_link"));
    symlink("..", P(a, "up"));
    try_open("symlink to parent", P(a, "up/etc/passwd"));
    mkdir(P(a, "sub"), 0755);
    symlink("../up/..", P(a, "sub/chain"));
    try_open("chained symlinks", P(a, "sub/chain/etc/passwd"));
    struct stat st;
    printf("stat through symlink: %s\n", stat(P(a, "abs_link/passwd"), &st) == 0 ? "ESCAPED" : "refused");
    printf("mkdir outside: %s\n", mkdir(P(a, "up/evil"), 0755) == 0 ? "ESCAPED" : "refused");
    FILE *f = fopen(P(a, "inside.txt"), "w");
    if (f) {
        fputs("x", f);
        fclose(f);
    }
    printf("rename outside: %s\n", rename(P(a, "inside.txt"), P(b, "up/moved.txt")) == 0 ? "ESCAPED" : "refused");
    printf("link outside: %s\n", link(P(a, "inside.txt"), P(b, "../linked.txt")) == 0 ? "ESCAPED" : "refused");
    printf("create through symlink: %s\n", open(P(a, "abs_link/evil"), O_WRONLY | O_CREAT, 0644) >= 0 ? "ESCAPED" : "refused");
    /* Staying inside still works, symlinks included. */
    symlink("inside.txt", P(a, "good_link"));
    int fd = open(P(a, "good_link"), O_RDONLY);
    printf("symlink inside: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0)
        close(fd);
    fd = open(P(a, "sub/../inside.txt"), O_RDONLY);
    printf("dotdot inside: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(P(a, "good_link"));
    unlink(P(a, "inside.txt"));
    unlink(P(a, "sub/chain"));
    rmdir(P(a, "sub"));
    unlink(P(a, "up"));
    unlink(P(a, "rel_link"));
    unlink(P(a, "abs_link"));
    printf("%s\n", escaped ? "SANDBOX BROKEN" : "sandbox held");
    return escaped ? 1 : 0;
}
