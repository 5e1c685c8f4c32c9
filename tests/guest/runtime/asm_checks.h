/* asm_checks.h: check macros for the assembly guest test programs.
 *
 * A program's main keeps the number of the check being made in gp; every
 * failing check jumps to rt_asm_fail_eq (in asm_checks.S), which calls
 * fail_eq(gp, a1, a2), so the run ends with the check's number as exit code
 * and prints the value got (a1) and the value expected (a2).
 * Registers s1..s4 carry operands and results; t5, t6 are scratch.
 */
#ifndef UMBRA_GUEST_ASM_CHECKS_H
#define UMBRA_GUEST_ASM_CHECKS_H
#include "rt_defs.h"

/* Check n: register reg holds the constant expected. */
#define CHECK_REG(n, reg, expected) \
    li gp, n; mv a1, reg; li a2, expected; beq a1, a2, 9f; j rt_asm_fail_eq; 9:

/* Check n: registers r1 and r2 hold the same value. */
#define CHECK_SAME(n, r1, r2) \
    li gp, n; mv a1, r1; mv a2, r2; beq a1, a2, 9f; j rt_asm_fail_eq; 9:

/* Check n: register-register operation op(v1, v2) gives expected. */
#define TEST_RR(n, op, expected, v1, v2) \
    li s1, v1; li s2, v2; op s3, s1, s2; CHECK_REG(n, s3, expected)

/* Check n: register-immediate operation op(v1, imm) gives expected. */
#define TEST_RI(n, op, expected, v1, imm) \
    li s1, v1; op s3, s1, imm; CHECK_REG(n, s3, expected)

/* Check n: conditional branch op(v1, v2) is taken exactly when taken = 1. */
#define TEST_BRANCH(n, op, v1, v2, taken) \
    li s1, v1; li s2, v2; li s3, 0; op s1, s2, 1f; j 2f; 1: li s3, 1; 2: CHECK_REG(n, s3, taken)

#endif
