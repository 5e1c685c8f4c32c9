/* The patch channel and matrix on real threads: a producer and a consumer
 * running at once never lose, duplicate, reorder or tear a patch, across
 * many wrap-arounds; a full ring refuses a patch (overflow) without waiting
 * and accepts again once the consumer has read. Run under ThreadSanitizer
 * too (the tsan build), which checks the in-use protocol has no data race. */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"
#include "coherence/patch_channel.h"

#define STREAM_LEN 200000u

/* Each field is a different function of the sequence number, so a torn
 * slot (fields from two different patches) is detected. */
static struct patch patch_for(uint64_t seq)
{
    return (struct patch){ .pte_addr = seq * 8, .derived = seq ^ 0x5a5a5a5a5a5a5a5aull,
                           .token = ~seq };
}

static bool patch_is_whole(const struct patch *p, uint64_t *seq)
{
    *seq = p->pte_addr / 8;
    return p->derived == (*seq ^ 0x5a5a5a5a5a5a5a5aull) && p->token == ~*seq;
}

struct stream {
    struct patch_channel *ch;
    uint64_t full_seen;
    uint64_t bad;       /* consumer: torn, lost, duplicated or out-of-order patches */
};

static void *produce(void *arg)
{
    struct stream *s = arg;
    for (uint64_t seq = 1; seq <= STREAM_LEN; seq++) {
        struct patch p = patch_for(seq);
        while (!patch_channel_post(s->ch, &p))
            s->full_seen++;     /* the test retries; umbra's producer would resync instead */
    }
    return NULL;
}

static void *consume(void *arg)
{
    struct stream *s = arg;
    uint64_t expect = 1;
    while (expect <= STREAM_LEN) {
        struct patch p;
        uint64_t seq;
        if (!patch_channel_take(s->ch, &p))
            continue;
        if (!patch_is_whole(&p, &seq) || seq != expect)
            s->bad++;
        expect = seq + 1;
    }
    return NULL;
}

static void test_concurrent_stream(void)
{
    static struct patch_channel ch;
    patch_channel_init(&ch);
    struct stream prod = { .ch = &ch }, cons = { .ch = &ch };
    pthread_t tp, tc;
    pthread_create(&tc, NULL, consume, &cons);
    pthread_create(&tp, NULL, produce, &prod);
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    CHECK_EQ(cons.bad, 0);
    CHECK_EQ(ch.posted, STREAM_LEN);
    CHECK_EQ(ch.taken, STREAM_LEN);
    CHECK_EQ(ch.overflowed, prod.full_seen);
    struct patch p;
    CHECK(!patch_channel_take(&ch, &p));    /* nothing left, nothing duplicated */
}

static void test_full_ring_refuses_without_waiting(void)
{
    static struct patch_channel ch;
    patch_channel_init(&ch);
    for (uint64_t i = 0; i < PATCH_CHANNEL_SLOTS; i++) {
        struct patch p = patch_for(i + 1);
        CHECK(patch_channel_post(&ch, &p));
    }
    struct patch extra = patch_for(999999);
    CHECK(!patch_channel_post(&ch, &extra));
    CHECK_EQ(ch.overflowed, 1);
    struct patch got;
    uint64_t seq;
    CHECK(patch_channel_take(&ch, &got));
    CHECK(patch_is_whole(&got, &seq));
    CHECK_EQ(seq, 1);
    CHECK(patch_channel_post(&ch, &extra));     /* one slot free again */
    CHECK(!patch_channel_post(&ch, &extra));
}

static unsigned applied_count;
static uint64_t applied_last;
static void count_apply(void *ctx, const struct patch *p)
{
    (void)ctx;
    applied_count++;
    applied_last = p->pte_addr / 8;
}

static void test_drain_and_high_water(void)
{
    static struct patch_channel ch;
    patch_channel_init(&ch);
    for (uint64_t i = 1; i <= 10; i++) {
        struct patch p = patch_for(i);
        patch_channel_post(&ch, &p);
    }
    CHECK_EQ(patch_channel_drain(&ch, count_apply, NULL), 10);
    CHECK_EQ(applied_count, 10);
    CHECK_EQ(applied_last, 10);
    CHECK_EQ(ch.high_water, 10);
    for (uint64_t i = 11; i <= 13; i++) {
        struct patch p = patch_for(i);
        patch_channel_post(&ch, &p);
    }
    CHECK_EQ(patch_channel_drain(&ch, count_apply, NULL), 3);
    CHECK_EQ(ch.high_water, 10);        /* a high-water mark only rises */
    CHECK_EQ(applied_last, 13);
}

/* Every (producer, consumer) pair has its own channel, including the
 * diagonal and the device-DMA row; one patch posted to each of several
 * consumers (claim 61) arrives once in each. */
static void test_matrix(void)
{
    struct patch_matrix m;
    CHECK(patch_matrix_init(&m, 4));
    CHECK_EQ(m.nproducers, 5);
    for (unsigned p = 0; p < m.nproducers; p++)
        for (unsigned c = 0; c < m.nharts; c++)
            for (unsigned q = 0; q < m.nproducers; q++)
                for (unsigned d = 0; d < m.nharts; d++)
                    if (p != q || c != d)
                        CHECK(patch_matrix_channel(&m, p, c) != patch_matrix_channel(&m, q, d));
    struct patch one = patch_for(42);
    for (unsigned c = 0; c < m.nharts; c++)
        CHECK(patch_channel_post(patch_matrix_channel(&m, 2, c), &one));
    for (unsigned c = 0; c < m.nharts; c++) {
        struct patch got;
        uint64_t seq;
        CHECK(patch_channel_take(patch_matrix_channel(&m, 2, c), &got));
        CHECK(patch_is_whole(&got, &seq) && seq == 42);
        CHECK(!patch_channel_take(patch_matrix_channel(&m, 2, c), &got));
        CHECK(!patch_channel_take(patch_matrix_channel(&m, 1, c), &got));
    }
    patch_matrix_destroy(&m);
}

int main(void)
{
    test_full_ring_refuses_without_waiting();
    test_drain_and_high_water();
    test_matrix();
    test_concurrent_stream();
    return check_summary();
}
