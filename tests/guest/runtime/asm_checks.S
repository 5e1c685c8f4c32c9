/* asm_checks.S: the failure path shared by the assembly test programs
 * (see asm_checks.h): report check number gp with got a1, expected a2. */
    .text
    .globl rt_asm_fail_eq
rt_asm_fail_eq:
    mv a0, gp
    call fail_eq
