/* clock.c: monotonic and realtime clocks are sane, and sleeping takes time. */
#include <stdio.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void)
{
    struct timespec a, b, r, res;
    if (clock_gettime(CLOCK_MONOTONIC, &a) || clock_gettime(CLOCK_REALTIME, &r) ||
        clock_getres(CLOCK_MONOTONIC, &res)) {
        printf("clock_gettime failed\n");
        return 1;
    }
    printf("realtime after 2020: %s\n", r.tv_sec > 1577836800 ? "yes" : "no");
    printf("resolution <= 1ms: %s\n", res.tv_sec == 0 && res.tv_nsec <= 1000000 ? "yes" : "no");
    long long prev = ns(a);
    int monotonic = 1;
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(b) < prev)
            monotonic = 0;
        prev = ns(b);
    }
    printf("monotonic: %s\n", monotonic ? "yes" : "no");
    struct timespec d = {0, 20 * 1000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long slept = ns(b) - ns(a);
    printf("nanosleep 20ms took >= 20ms: %s\n", slept >= 20000000 ? "yes" : "no");
    printf("and < 2s: %s\n", slept < 2000000000LL ? "yes" : "no");
    time_t t = time(NULL);
    printf("time() after 2020: %s\n", t > 1577836800 ? "yes" : "no");
    return 0;
}
