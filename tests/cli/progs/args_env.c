/* args_env.c: argv and the environment as given on the command line. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    const char *names[] = {"FOO", "EMPTY", "WITH_EQ", "MISSING"};
    for (int i = 0; i < 4; i++) {
        const char *v = getenv(names[i]);
        printf("%s=%s\n", names[i], v ? v : "(unset)");
    }
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    printf("environ count=%d\n", n);
    return 0;
}
