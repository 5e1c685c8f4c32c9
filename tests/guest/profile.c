/* For guest/profile (profile.sh): two loops of known weight, in functions
 * of their own, so that --profile with the ELF's symbols must put
 * hot_loop first and cold_loop far behind. Each checks its own result. */
#include "rt.h"

#define HOT_ROUNDS 20000000u
#define COLD_ROUNDS 100000u

/* An LCG step count times: noinline and different multipliers, so that
 * neither is folded into main nor merged with the other. */
__attribute__((noinline)) uint64_t hot_loop(uint64_t rounds)
{
    uint64_t x = 1;
    for (uint64_t i = 0; i < rounds; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

__attribute__((noinline)) uint64_t cold_loop(uint64_t rounds)
{
    uint64_t x = 1;
    for (uint64_t i = 0; i < rounds; i++)
        x = x * 2862933555777941757ull + 3037000493ull;
    return x;
}

/* The same steps, unrolled by the closed form: x_n = a^n + c (a^n - 1) / (a - 1)
 * needs a division mod 2^64 by an even number, so check by a second,
 * differently ordered walk instead: two half-length runs composed. */
static uint64_t compose(uint64_t a, uint64_t c, uint64_t rounds)
{
    /* (A, C) for `rounds` steps of x -> a x + c, by squaring. */
    uint64_t A = 1, C = 0;
    while (rounds) {
        if (rounds & 1) {
            C = a * C + c;
            A = a * A;
        }
        c = a * c + c;
        a = a * a;
        rounds >>= 1;
    }
    return A + C;                       /* from x = 1 */
}

int main(void)
{
    CHECK(1, hot_loop(HOT_ROUNDS) == compose(6364136223846793005ull, 1442695040888963407ull,
                                             HOT_ROUNDS));
    CHECK(2, cold_loop(COLD_ROUNDS) == compose(2862933555777941757ull, 3037000493ull,
                                               COLD_ROUNDS));
    pass();
}
