/* files.c: file and directory operations inside the preopened directory
 * given as argv[1]: create, write, read back, seek, stat, readdir, rename,
 * unlink, mkdir, rmdir. Prints what it sees, so runtimes can be compared. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static char path_buf[4][256];

static const char *P(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *name)
{
    DIR *d = opendir(name);
    if (!d) {
        printf("opendir %s: %s\n", name, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp);
    printf("listing:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    dir = argv[1];
    FILE *f = fopen(P(0, "hello.txt"), "w");
    if (!f) {
        printf("fopen: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < 100; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);

    int fd = open(P(0, "hello.txt"), O_RDWR);
    struct stat st;
    fstat(fd, &st);
    printf("size after write: %lld, regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    char buf[64] = {0};
    lseek(fd, 7 * 10, SEEK_SET); /* lines 0-9 are 7 bytes each */
    ssize_t n = read(fd, buf, 7);
    printf("read at 70: %zd [%.*s]\n", n, (int)(n > 0 ? n : 0), buf);
    off_t end = lseek(fd, 0, SEEK_END);
    printf("seek end: %lld\n", (long long)end);
    write(fd, "tail\n", 5);
    off_t cur = lseek(fd, -5, SEEK_CUR);
    memset(buf, 0, sizeof buf);
    n = pread(fd, buf, 4, cur);
    printf("pread tail: [%s]\n", buf);
    ftruncate(fd, 10);
    fstat(fd, &st);
    printf("size after truncate: %lld\n", (long long)st.st_size);
    close(fd);

    printf("mkdir sub: %d\n", mkdir(P(0, "sub"), 0755));
    printf("mkdir sub again: %s\n", mkdir(P(0, "sub"), 0755) == 0 ? "ok" : strerror(errno));
    FILE *g = fopen(P(0, "sub/inner.txt"), "w");
    fputs("inner", g);
    fclose(g);
    list(dir);
    list(P(1, "sub"));

    printf("rename: %d\n", rename(P(0, "hello.txt"), P(1, "sub/moved.txt")));
    printf("stat old name: %s\n", stat(P(0, "hello.txt"), &st) == 0 ? "exists" : strerror(errno));
    printf("stat new name: %s size %lld\n", stat(P(0, "sub/moved.txt"), &st) == 0 ? "ok" : "missing",
           (long long)st.st_size);
    printf("is dir: %d\n", stat(P(0, "sub"), &st) == 0 && S_ISDIR(st.st_mode));
    list(P(1, "sub"));
    printf("rmdir non-empty: %s\n", rmdir(P(0, "sub")) == 0 ? "ok" : strerror(errno));
    printf("unlink moved: %d\n", unlink(P(0, "sub/moved.txt")));
    printf("unlink inner: %d\n", unlink(P(0, "sub/inner.txt")));
    printf("unlink missing: %s\n", unlink(P(0, "sub/nothing")) == 0 ? "ok" : strerror(errno));
    printf("rmdir: %d\n", rmdir(P(0, "sub")));
    printf("open missing: %s\n", open(P(0, "missing"), O_RDONLY) >= 0 ? "ok" : strerror(errno));
    list(dir);
    return 0;
}
