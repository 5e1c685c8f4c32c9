# A bare-metal guest that never stops: every hart counts in t0 for ever.
# Only the host can end the run (tests/integration/signal.sh).
    .globl _start
_start:
1:  addi t0, t0, 1
    j 1b
