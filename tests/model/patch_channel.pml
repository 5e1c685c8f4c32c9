/*
 * The patch channel's in-use-flag protocol (claims 55-56), checked
 * exhaustively with spin for a small ring.
 *
 * One producer and one consumer share N slots. A patch has two payload words
 * written and read one at a time, so a torn patch (words from two different
 * patches) would be visible. The producer writes the payload, then sets the
 * slot's in-use flag; the consumer reads the flag, then the payload, then
 * clears the flag. Neither side has any other shared state.
 *
 * Properties (asserts):
 *  - no torn patch: both payload words of every patch read are equal;
 *  - no duplicate and no reordering: sequence numbers arrive increasing;
 *  - no silent loss: with -DRETRY every patch arrives; without it a full
 *    ring makes the producer drop the patch and raise `resync`, and the
 *    consumer only ever sees a gap after resync was raised;
 *  - the run ends (no deadlock): valid end states only.
 *
 * Spin explores interleavings under sequential consistency. The C code
 * (src/coherence/patch_channel.c) gets the same orderings from a release
 * store of the flag and an acquire load of it on both sides, which is all
 * this message-passing pattern needs.
 *
 * -DBROKEN_PRODUCER sets the flag before writing the payload, and
 * -DBROKEN_CONSUMER clears it before reading the payload; spin must find a
 * torn patch in both (the model's own must-fail checks).
 */
#ifndef N
#define N 2
#endif
#ifndef M
#define M 5
#endif

byte flag[N];
byte word0[N];
byte word1[N];
bool resync = false;
bool consumer_done = false;

active proctype producer()
{
    byte head = 0;
    byte seq = 1;
    do
    :: seq > M -> break
    :: else ->
        if
        :: flag[head] == 0 ->
#ifdef BROKEN_PRODUCER
            flag[head] = 1;
            word0[head] = seq;
            word1[head] = seq;
#else
            word0[head] = seq;
            word1[head] = seq;
            flag[head] = 1;
#endif
            head = (head + 1) % N;
            seq++
        :: flag[head] == 1 ->
#ifdef RETRY
            skip
#else
            resync = true;      /* full: drop the patch, ask for a resync */
            seq++
#endif
        fi
    od
}

active proctype consumer()
{
    byte tail = 0;
    byte expect = 1;
    byte a, b;
    do
    :: flag[tail] == 1 ->
#ifdef BROKEN_CONSUMER
        flag[tail] = 0;
        a = word0[tail];
        b = word1[tail];
#else
        a = word0[tail];
        b = word1[tail];
        flag[tail] = 0;
#endif
        assert(a == b);                     /* not torn */
        assert(a >= expect);                /* not duplicated, not reordered */
        assert(a == expect || resync);      /* a gap is always signalled */
        expect = a + 1;
        tail = (tail + 1) % N
    :: expect > M -> break
#ifndef RETRY
    /* With drops, the consumer may also stop once the producer is done and
     * the ring is empty. */
    :: timeout -> break
#endif
    od;
#ifdef RETRY
    assert(expect == M + 1);                /* every patch arrived */
#endif
    consumer_done = true
}
