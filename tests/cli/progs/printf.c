/* printf.c: integer and floating-point formatting through wasi-libc. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    printf("ints: %d %d %u %x %X %o %5d|%-5d|%05d\n", 0, -42, 4000000000u, 255, 48879, 8, 7, 7, 7);
    printf("long long: %lld %llu %llx\n", -9000000000000000000LL, 18446744073709551615ULL,
           0x123456789abcdefULL);
    printf("floats: %f %.2f %.0f %10.3f|%-10.3f|\n", 3.14159, 2.71828, 0.5, -1.5, 1.25);
    printf("g: %g %g %g %g %g %g\n", 0.0001, 123456.0, 1234567.0, 1e-10, 100.0, 0.1 + 0.2);
    printf("e: %e %.3e %E\n", 12345.678, -0.000123, 6.02214076e23);
    printf("special: %f %f %g\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 * 0);
    printf("string: [%s] [%10s] [%-10s] [%.3s] char %c\n", "abc", "right", "left", "truncate", 'Z');
    double acc = 0;
    for (int i = 1; i <= 1000; i++)
        acc += 1.0 / ((double)i * i);
    printf("sum 1/i^2 = %.12f\n", acc);
    int32_t m = INT32_MIN;
    printf("int32 min %d, ptr-size %zu\n", m, sizeof(void *));
    return 0;
}
