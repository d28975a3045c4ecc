/* return7.c: main's return value is the exit status. */
#include <stdio.h>

int main(void)
{
    printf("returning 7\n");
    return 7;
}
