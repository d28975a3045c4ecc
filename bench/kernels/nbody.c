/* nbody.c: gravitational n-body simulation (double precision, softened
 * forces, leapfrog-style update) of pseudo-random bodies. Only + - * / and
 * sqrt, which IEEE 754 rounds identically everywhere, so the printed energy
 * and state hash match across platforms. Usage: nbody [scale%]. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODIES 64
#define BASE_STEPS 50000

struct body {
    double x, y, z, vx, vy, vz, mass;
};

static uint32_t lcg_state = 2024u;

static double lcg_unit(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (lcg_state >> 8) / 16777216.0;
}

static int scale_reps(int argc, char **argv, int base)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    if (scale < 1)
        scale = 1;
    if (scale > 100000)
        scale = 100000;
    long reps = (base * scale + 99) / 100;
    return reps < 1 ? 1 : (int)reps;
}

static double energy(const struct body *b, int n)
{
    double e = 0.0;
    for (int i = 0; i < n; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
        }
    }
    return e;
}

static void step(struct body *b, int n, double dt)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz + 0.01;
            double mag = dt / (d2 * sqrt(d2));
            double mi = b[i].mass * mag, mj = b[j].mass * mag;
            b[i].vx -= dx * mj;
            b[i].vy -= dy * mj;
            b[i].vz -= dz * mj;
            b[j].vx += dx * mi;
            b[j].vy += dy * mi;
            b[j].vz += dz * mi;
        }
    }
    for (int i = 0; i < n; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv)
{
    int steps = scale_reps(argc, argv, BASE_STEPS);
    struct body *b = malloc(sizeof(struct body) * BODIES);
    if (!b) {
        fprintf(stderr, "nbody: out of memory\n");
        return 1;
    }
    for (int i = 0; i < BODIES; i++) {
        b[i].x = lcg_unit() * 10.0 - 5.0;
        b[i].y = lcg_unit() * 10.0 - 5.0;
        b[i].z = lcg_unit() * 10.0 - 5.0;
        b[i].vx = lcg_unit() - 0.5;
        b[i].vy = lcg_unit() - 0.5;
        b[i].vz = lcg_unit() - 0.5;
        b[i].mass = 0.5 + lcg_unit();
    }
    double e0 = energy(b, BODIES);
    for (int s = 0; s < steps; s++)
        step(b, BODIES, 0.001);
    double e1 = energy(b, BODIES);
    uint64_t hash = 1469598103934665603ull;
    for (int i = 0; i < BODIES; i++) {
        double v[6] = {b[i].x, b[i].y, b[i].z, b[i].vx, b[i].vy, b[i].vz};
        for (int k = 0; k < 6; k++) {
            uint64_t bits;
            memcpy(&bits, &v[k], sizeof bits);
            hash = (hash ^ bits) * 1099511628211ull;
        }
    }
    printf("nbody bodies=%d steps=%d e0=%.9f e1=%.9f hash=%016llx\n", BODIES, steps, e0, e1,
           (unsigned long long)hash);
    free(b);
    return 0;
}
