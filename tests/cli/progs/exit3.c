/* exit3.c: exit(3) after output; the status and buffered output survive. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("before exit\n");
    exit(3);
}
