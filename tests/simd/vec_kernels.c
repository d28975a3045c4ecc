/* vec_kernels.c: loops clang auto-vectorises with -msimd128 -O3 (dot
 * products, saxpy, a byte histogram, min/max and sum reductions, saturating
 * and widening byte arithmetic, float conversions). Built both natively and
 * for wasm32-wasi; the test compares the two outputs line by line. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 4099 /* not a multiple of the vector width: the scalar tails run too */

static uint32_t seed = 12345u;
static uint32_t next_random(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

static int32_t ia[N], ib[N];
static int16_t sa[N], sb[N];
static uint8_t ua[N], ub[N], uc[N];
static int8_t ca[N];
static float fx[N], fy[N];
static double dx[N], dy[N];

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

__attribute__((noinline)) static int64_t dot_i32(const int32_t *a, const int32_t *b, int n)
{
    uint32_t s = 0; /* wraps like wasm's i32.add; signed overflow would be UB */
    for (int i = 0; i < n; i++)
        s += (uint32_t)(a[i] * b[i]);
    return (int32_t)s;
}

__attribute__((noinline)) static int32_t dot_i16(const int16_t *a, const int16_t *b, int n)
{
    uint32_t s = 0; /* wraps like wasm's i32.add; signed overflow would be UB */
    for (int i = 0; i < n; i++)
        s += (uint32_t)((int32_t)a[i] * b[i]);
    return (int32_t)s;
}

/* Float sums keep their order without -ffast-math, so both builds agree. */
__attribute__((noinline)) static float dot_f32(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

__attribute__((noinline)) static void saxpy(float a, const float *x, float *y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

__attribute__((noinline)) static void daxpy(double a, const double *x, double *y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

__attribute__((noinline)) static void histogram(const uint8_t *p, int n, uint32_t *h)
{
    memset(h, 0, 256 * sizeof *h);
    for (int i = 0; i < n; i++)
        h[p[i]]++;
}

__attribute__((noinline)) static void minmax_i32(const int32_t *a, int n, int32_t *lo, int32_t *hi)
{
    int32_t mn = a[0], mx = a[0];
    for (int i = 1; i < n; i++) {
        mn = a[i] < mn ? a[i] : mn;
        mx = a[i] > mx ? a[i] : mx;
    }
    *lo = mn;
    *hi = mx;
}

__attribute__((noinline)) static void minmax_u8(const uint8_t *a, int n, uint8_t *lo, uint8_t *hi)
{
    uint8_t mn = 255, mx = 0;
    for (int i = 0; i < n; i++) {
        mn = a[i] < mn ? a[i] : mn;
        mx = a[i] > mx ? a[i] : mx;
    }
    *lo = mn;
    *hi = mx;
}

__attribute__((noinline)) static uint32_t sum_u8(const uint8_t *a, int n)
{
    uint32_t s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}

__attribute__((noinline)) static uint32_t sad_u8(const uint8_t *a, const uint8_t *b, int n)
{
    uint32_t s = 0;
    for (int i = 0; i < n; i++)
        s += (uint32_t)(a[i] > b[i] ? a[i] - b[i] : b[i] - a[i]);
    return s;
}

__attribute__((noinline)) static void add_sat_u8(const uint8_t *a, const uint8_t *b, uint8_t *c,
                                                 int n)
{
    for (int i = 0; i < n; i++) {
        unsigned s = (unsigned)a[i] + b[i];
        c[i] = (uint8_t)(s > 255 ? 255 : s);
    }
}

__attribute__((noinline)) static void avg_u8(const uint8_t *a, const uint8_t *b, uint8_t *c, int n)
{
    for (int i = 0; i < n; i++)
        c[i] = (uint8_t)((a[i] + b[i] + 1) >> 1);
}

__attribute__((noinline)) static void shifts(int32_t *a, int n, int k)
{
    for (int i = 0; i < n; i++)
        a[i] = (a[i] >> k) ^ (int32_t)((uint32_t)a[i] << (k + 1)) ^ (int32_t)((uint32_t)a[i] >> 3);
}

__attribute__((noinline)) static int64_t widen_sum(const int8_t *a, const int32_t *b, int n)
{
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s += (int64_t)a[i] * b[i];
    return s;
}

__attribute__((noinline)) static void to_int(const float *x, int32_t *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (int32_t)x[i];
}

__attribute__((noinline)) static void to_float(const int32_t *x, float *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (float)x[i] * 0.5f;
}

__attribute__((noinline)) static void fmin_max(const float *x, const float *y, float *lo, float *hi,
                                               int n)
{
    for (int i = 0; i < n; i++) {
        lo[i] = x[i] < y[i] ? x[i] : y[i];
        hi[i] = x[i] > y[i] ? x[i] : y[i];
    }
}

__attribute__((noinline)) static int count_eq(const uint8_t *p, int n, uint8_t c)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

__attribute__((noinline)) static void mul_i16(const int16_t *a, const int16_t *b, int16_t *c, int n)
{
    for (int i = 0; i < n; i++)
        c[i] = (int16_t)(a[i] * b[i]);
}

__attribute__((noinline)) static uint64_t mul_i64(const int32_t *a, const int32_t *b, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s ^= (uint64_t)((int64_t)a[i] * b[i]) + (uint64_t)i;
    return s;
}

static uint32_t checksum_u8(const uint8_t *p, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        ia[i] = (int32_t)(next_random() % 200001) - 100000;
        ib[i] = (int32_t)(next_random() % 2001) - 1000;
        sa[i] = (int16_t)(next_random() & 0xFFFF);
        sb[i] = (int16_t)(next_random() & 0xFFFF);
        ua[i] = (uint8_t)next_random();
        ub[i] = (uint8_t)(next_random() % 97);
        ca[i] = (int8_t)next_random();
        fx[i] = (float)((int)(next_random() % 20001) - 10000) / 128.0f;
        fy[i] = (float)((int)(next_random() % 20001) - 10000) / 64.0f;
        dx[i] = fx[i] * 1.000001;
        dy[i] = fy[i] / 3.0;
    }
    printf("dot_i32 %lld\n", (long long)dot_i32(ia, ib, N));
    printf("dot_i16 %d\n", dot_i16(sa, sb, N));
    printf("dot_f32 %08x\n", f32_bits(dot_f32(fx, fy, N)));

    saxpy(1.5f, fx, fy, N);
    uint32_t hy = 0;
    for (int i = 0; i < N; i++)
        hy = hy * 31u + f32_bits(fy[i]);
    printf("saxpy %08x y[7]=%a\n", hy, (double)fy[7]);
    daxpy(-0.25, dx, dy, N);
    uint64_t hd = 0;
    for (int i = 0; i < N; i++)
        hd = hd * 31u + f64_bits(dy[i]);
    printf("daxpy %016llx\n", (unsigned long long)hd);

    uint32_t h[256];
    histogram(ua, N, h);
    uint32_t hh = 0;
    for (int i = 0; i < 256; i++)
        hh = hh * 131u + h[i];
    printf("histogram %08x h[0]=%u h[255]=%u\n", hh, h[0], h[255]);

    int32_t lo, hi;
    minmax_i32(ia, N, &lo, &hi);
    printf("minmax_i32 %d %d\n", lo, hi);
    uint8_t blo, bhi;
    minmax_u8(ub, N, &blo, &bhi);
    printf("minmax_u8 %u %u\n", blo, bhi);
    printf("sum_u8 %u\n", sum_u8(ua, N));
    printf("sad_u8 %u\n", sad_u8(ua, ub, N));
    add_sat_u8(ua, ub, uc, N);
    printf("add_sat_u8 %08x\n", checksum_u8(uc, N));
    avg_u8(ua, ub, uc, N);
    printf("avg_u8 %08x\n", checksum_u8(uc, N));
    printf("widen_sum %lld\n", (long long)widen_sum(ca, ia, N));
    printf("count_eq %d\n", count_eq(ua, N, 7));
    printf("mul_i64 %016llx\n", (unsigned long long)mul_i64(ia, ib, N));

    static int16_t sc[N];
    mul_i16(sa, sb, sc, N);
    printf("mul_i16 %08x\n", checksum_u8((const uint8_t *)sc, (int)sizeof sc));

    static int32_t conv[N];
    to_int(fy, conv, N);
    printf("to_int %08x\n", checksum_u8((const uint8_t *)conv, (int)sizeof conv));
    static float back[N];
    to_float(ia, back, N);
    printf("to_float %08x\n", checksum_u8((const uint8_t *)back, (int)sizeof back));
    static float mn[N], mx[N];
    fmin_max(fx, fy, mn, mx, N);
    printf("fmin_max %08x %08x\n", checksum_u8((const uint8_t *)mn, (int)sizeof mn),
           checksum_u8((const uint8_t *)mx, (int)sizeof mx));
    shifts(ia, N, 3);
    printf("shifts %08x\n", checksum_u8((const uint8_t *)ia, (int)sizeof ia));
    return 0;
}
