/*
 * umbra compute benchmark guest: single-thread integer, memory and
 * floating-point kernels, each timed with CLOCK_MONOTONIC in the guest and
 * each checked against the same result computed another way (untimed):
 *
 *   int  CRC-32 of 256 KiB with a lookup table, checked against the
 *        bit-at-a-time CRC; merge sort of 64 Ki words, checked for order
 *        and for the same multiset (sum and xor of a mixing function);
 *   mem  streaming copy of 4 MiB, checked with memcmp; pointer chase
 *        round a single random cycle over 4 MiB (Sattolo's shuffle), which
 *        must come back to its start after exactly its length and visit
 *        every index once (sum of the indices);
 *   fp   128x128 double matrix multiply, checked by Freivalds' test:
 *        (A B) x against A (B x) for a random vector x.
 *
 * The amount of work is scaled by umbra.scale=N on the kernel command line
 * (default 1). Prints "UMBRA-COMPUTE PASS score=<X> int_ms=.. mem_ms=..
 * fp_ms=.." where score = 1000 * scale / (int + mem + fp seconds), so twice
 * as fast is twice the score; or "UMBRA-COMPUTE FAIL <reason>". As PID 1 it
 * then powers the machine off.
 *
 * Build: riscv64-linux-gnu-gcc -O2 -static -o compute compute.c
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest_init.h"

#define CRC_BYTES (256u << 10)
#define CRC_PASSES 4
#define SORT_WORDS (64u << 10)
#define SORT_PASSES 1
#define COPY_WORDS ((4u << 20) / 8)
#define COPY_PASSES 4
#define CHASE_WORDS ((4u << 20) / 4)
#define CHASE_PASSES 2
#define MAT_N 128
#define MAT_PASSES 1

static int failures;

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (failures++ == 0)
        printf("UMBRA-COMPUTE FAIL %s\n", msg);
}

static double now_ms(void) { return guest_now_seconds() * 1e3; }

/* xorshift64*: the same inputs on every run and every machine */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* -------------------------------------------------------------- integer */
#define CRC_POLY 0xedb88320u    /* reflected IEEE 802.3 polynomial */

static uint8_t crc_data[CRC_BYTES];
static uint32_t crc_table[256];

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = ~0u;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (CRC_POLY & (0u - (crc & 1)));
    }
    return ~crc;
}

static void __attribute__((noinline)) crc_make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (CRC_POLY & (0u - (c & 1)));
        crc_table[i] = c;
    }
}

static uint32_t __attribute__((noinline)) crc_table_driven(const uint8_t *p, size_t n)
{
    uint32_t crc = ~0u;
    for (size_t i = 0; i < n; i++)
        crc = (crc >> 8) ^ crc_table[(crc ^ p[i]) & 0xff];
    return ~crc;
}

static uint32_t sort_keys[SORT_WORDS], sort_tmp[SORT_WORDS];

static void merge_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    memcpy(a, tmp, k * sizeof *a);      /* the rest of a[j..n) is in place */
}

static uint64_t mix(uint32_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    return z ^ (z >> 31);
}

static void multiset(const uint32_t *a, size_t n, uint64_t *sum, uint64_t *xr)
{
    *sum = *xr = 0;
    for (size_t i = 0; i < n; i++) {
        *sum += mix(a[i]);
        *xr ^= mix(a[i]) * 3;
    }
}

static double kernel_int(int scale)
{
    for (size_t i = 0; i < CRC_BYTES; i++)
        crc_data[i] = (uint8_t)rng();
    uint32_t want = crc_bitwise(crc_data, CRC_BYTES);
    double t0 = now_ms(), sort_ms = 0;
    crc_make_table();
    for (int p = 0; p < CRC_PASSES * scale; p++) {
        uint32_t got = crc_table_driven(crc_data, CRC_BYTES);
        if (got != want)
            fail("crc32: table-driven 0x%08x, bitwise 0x%08x", got, want);
    }
    double crc_ms = now_ms() - t0;
    for (int p = 0; p < SORT_PASSES * scale; p++) {
        for (size_t i = 0; i < SORT_WORDS; i++)
            sort_keys[i] = (uint32_t)rng();
        uint64_t sum0, xr0, sum1, xr1;
        multiset(sort_keys, SORT_WORDS, &sum0, &xr0);
        t0 = now_ms();
        merge_sort(sort_keys, sort_tmp, SORT_WORDS);
        sort_ms += now_ms() - t0;
        for (size_t i = 1; i < SORT_WORDS; i++)
            if (sort_keys[i - 1] > sort_keys[i]) {
                fail("sort: keys %zu and %zu out of order", i - 1, i);
                break;
            }
        multiset(sort_keys, SORT_WORDS, &sum1, &xr1);
        if (sum0 != sum1 || xr0 != xr1)
            fail("sort: the sorted keys are not the input keys");
    }
    return crc_ms + sort_ms;
}

/* --------------------------------------------------------------- memory */
static uint64_t copy_src[COPY_WORDS], copy_dst[COPY_WORDS];
static uint32_t chase_next[CHASE_WORDS];

static void __attribute__((noinline)) stream_copy(uint64_t *dst, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i += 4) {
        dst[i] = src[i];
        dst[i + 1] = src[i + 1];
        dst[i + 2] = src[i + 2];
        dst[i + 3] = src[i + 3];
    }
}

/* Walks n links from 0; returns where it ends and the sum of the indices
 * it left from. */
static uint32_t __attribute__((noinline)) chase(const uint32_t *next, size_t n, uint64_t *sum)
{
    uint32_t at = 0;
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        s += at;
        at = next[at];
    }
    *sum = s;
    return at;
}

static double kernel_mem(int scale)
{
    double ms = 0, copy_ms;
    memset(copy_dst, 0, sizeof copy_dst);      /* fault the pages in untimed */
    for (int p = 0; p < COPY_PASSES * scale; p++) {
        for (size_t i = 0; i < COPY_WORDS; i += 512)      /* new data, few instructions */
            copy_src[i] = rng();
        double t0 = now_ms();
        stream_copy(copy_dst, copy_src, COPY_WORDS);
        ms += now_ms() - t0;
        if (memcmp(copy_dst, copy_src, sizeof copy_src) != 0)
            fail("copy: pass %d differs from its source", p);
    }
    copy_ms = ms;
    /* Sattolo's shuffle of the identity permutation gives one cycle
     * through every index. */
    for (uint32_t i = 0; i < CHASE_WORDS; i++)
        chase_next[i] = i;
    for (uint32_t i = CHASE_WORDS - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng() % i);
        uint32_t t = chase_next[i];
        chase_next[i] = chase_next[j];
        chase_next[j] = t;
    }
    const uint64_t want_sum = (uint64_t)CHASE_WORDS * (CHASE_WORDS - 1) / 2;
    for (int p = 0; p < CHASE_PASSES * scale; p++) {
        uint64_t sum;
        double t0 = now_ms();
        uint32_t end = chase(chase_next, CHASE_WORDS, &sum);
        ms += now_ms() - t0;
        if (end != 0 || sum != want_sum)
            fail("chase: ended at %u with index sum %llu, expected 0 and %llu", end,
                 (unsigned long long)sum, (unsigned long long)want_sum);
    }
    printf("compute: mem: copy %.1f ms, chase %.1f ms\n", copy_ms, ms - copy_ms);
    return ms;
}

/* --------------------------------------------------------- floating point */
static double mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static void __attribute__((noinline)) matmul(void)
{
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++)
            mat_c[i][j] = 0;
        for (int k = 0; k < MAT_N; k++) {
            double a = mat_a[i][k];
            for (int j = 0; j < MAT_N; j++)
                mat_c[i][j] += a * mat_b[k][j];
        }
    }
}

static double frand(void)
{
    return (double)(rng() >> 11) * 0x1p-53 * 2.0 - 1.0;     /* [-1, 1) */
}

static double fabs_(double x)
{
    return x < 0 ? -x : x;
}

/* Freivalds: y = C x must equal z = A (B x) up to rounding. */
static void freivalds(int pass)
{
    double x[MAT_N], bx[MAT_N];
    for (int i = 0; i < MAT_N; i++)
        x[i] = frand();
    for (int i = 0; i < MAT_N; i++) {
        bx[i] = 0;
        for (int j = 0; j < MAT_N; j++)
            bx[i] += mat_b[i][j] * x[j];
    }
    for (int i = 0; i < MAT_N; i++) {
        double y = 0, z = 0, mag = 0;
        for (int j = 0; j < MAT_N; j++) {
            y += mat_c[i][j] * x[j];
            z += mat_a[i][j] * bx[j];
            mag += fabs_(mat_c[i][j] * x[j]);
        }
        /* entries are sums of 128 products of [-1,1) values: 1e-10 of the
         * magnitude is far above rounding and far below any wrong entry */
        if (fabs_(y - z) > 1e-10 * (mag + 1)) {
            fail("matmul: pass %d row %d: (AB)x = %.17g, A(Bx) = %.17g", pass, i, y, z);
            return;
        }
    }
}

static double kernel_fp(int scale)
{
    double ms = 0;
    for (int p = 0; p < MAT_PASSES * scale; p++) {
        for (int i = 0; i < MAT_N; i++)
            for (int j = 0; j < MAT_N; j++) {
                mat_a[i][j] = frand();
                mat_b[i][j] = frand();
            }
        double t0 = now_ms();
        matmul();
        ms += now_ms() - t0;
        freivalds(p);
    }
    return ms;
}

/* ---------------------------------------------------------------- driver */
static int read_scale(void)
{
    long s = guest_cmdline_long("umbra.scale", 1);
    return s > 0 && s <= 1000 ? (int)s : 1;
}

static int run_all(void)
{
    int scale = read_scale();
    printf("compute: scale %d\n", scale);
    double int_ms = kernel_int(scale);
    double mem_ms = kernel_mem(scale);
    double fp_ms = kernel_fp(scale);
    if (failures)
        return 1;
    double total_s = (int_ms + mem_ms + fp_ms) / 1e3;
    if (total_s <= 0) {
        printf("UMBRA-COMPUTE FAIL the guest clock did not advance\n");
        return 1;
    }
    printf("UMBRA-COMPUTE PASS score=%.1f int_ms=%.1f mem_ms=%.1f fp_ms=%.1f\n",
           1000.0 * scale / total_s, int_ms, mem_ms, fp_ms);
    return 0;
}


int main(void)
{
    return guest_main("UMBRA-COMPUTE", run_all);
}
