/* test_decode: the RV64GC decoder against encodings built from the spec.
 *
 * Instructions are assembled here from the spec's format diagrams: each
 * scattered immediate is placed with the notation the spec prints above the
 * field (e.g. C.ADDI4SPN's "nzuimm[5:4|9:6|2|3]" in inst[12:5]), parsed by
 * place() below, so the test shares no bit-shuffling code with decode.c.
 * Every compressed form is checked against the decode of its 32-bit
 * expansion (unprivileged spec ch. 16, RVC tables), reserved encodings must
 * decode to OP_ILLEGAL, and the total number of illegal 16-bit encodings must
 * match the count worked out from the RVC opcode map.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/decode.h"

/* ------------------------------------------------------------ assembling */

/* Scatter the bits of imm into an instruction, starting at instruction bit
 * `hi` and going down, in the order given by the spec's field notation:
 * "5:4|9:6|2|3" means imm[5:4] first, then imm[9:6], then imm[2], imm[3]. */
static uint32_t place(uint32_t imm, const char *fmt, int hi)
{
    uint32_t out = 0;
    const char *s = fmt;
    int pos = hi;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        s = end;
        if (*s == ':') {
            b = strtol(s + 1, &end, 10);
            s = end;
        }
        for (long bit = a; bit >= b; bit--, pos--)
            out |= ((imm >> bit) & 1u) << pos;
        if (*s == '|')
            s++;
    }
    return out;
}

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned opc)
{
    uint32_t u = (uint32_t)imm;
    return place(u, "11:5", 31) | rs2 << 20 | rs1 << 15 | f3 << 12 | place(u, "4:0", 11) | opc;
}

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return place(u, "12|10:5", 31) | rs2 << 20 | rs1 << 15 | f3 << 12 | place(u, "4:1|11", 11) | 0x63;
}

static uint32_t enc_u(uint32_t imm, unsigned rd, unsigned opc) { return (imm & 0xfffff000u) | rd << 7 | opc; }

static uint32_t enc_j(int32_t imm, unsigned rd)
{
    return place((uint32_t)imm, "20|10:1|11|19:12", 31) | rd << 7 | 0x6f;
}

/* Base opcodes (spec opcode map) */
#define LOAD 0x03
#define LOAD_FP 0x07
#define MISC_MEM 0x0f
#define OP_IMM 0x13
#define AUIPC 0x17
#define OP_IMM_32 0x1b
#define STORE 0x23
#define STORE_FP 0x27
#define AMO 0x2f
#define OPC_OP 0x33
#define LUI 0x37
#define OP_32 0x3b
#define OP_FP 0x53
#define JALR 0x67
#define SYSTEM 0x73

/* The 32-bit encodings that compressed forms expand to. */
static uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, OP_IMM); }
static uint32_t addiw(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, OP_IMM_32); }
static uint32_t slli(unsigned rd, unsigned rs1, unsigned sh) { return enc_i((int32_t)sh, rs1, 1, rd, OP_IMM); }
static uint32_t srli(unsigned rd, unsigned rs1, unsigned sh) { return enc_i((int32_t)sh, rs1, 5, rd, OP_IMM); }
static uint32_t srai(unsigned rd, unsigned rs1, unsigned sh) { return enc_i((int32_t)(0x400 | sh), rs1, 5, rd, OP_IMM); }
static uint32_t andi(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, 7, rd, OP_IMM); }
static uint32_t load(unsigned f3, unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, f3, rd, LOAD); }
static uint32_t fload(unsigned f3, unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, f3, rd, LOAD_FP); }
static uint32_t store(unsigned f3, unsigned rs2, unsigned rs1, int32_t imm) { return enc_s(imm, rs2, rs1, f3, STORE); }
static uint32_t fstore(unsigned f3, unsigned rs2, unsigned rs1, int32_t imm) { return enc_s(imm, rs2, rs1, f3, STORE_FP); }

/* Compressed register numbers x8..x15 are 0..7 in the 3-bit fields. */
#define CR(r) ((unsigned)(r) - 8)

/* ------------------------------------------------------------- comparing */

enum { F_RD = 1, F_RS1 = 2, F_RS2 = 4, F_IMM = 8 };

static int mismatches;

/* c must decode like its expansion e in the fields its format has. */
static void expect_expansion(uint16_t c, uint32_t e, unsigned fields, const char *what)
{
    struct insn ci, ei;
    decode(c, &ci);
    decode(e, &ei);
    bool same = ci.op == ei.op && ci.op != OP_ILLEGAL && ci.len == 2 && ci.raw == c &&
                (!(fields & F_RD) || ci.rd == ei.rd) &&
                (!(fields & F_RS1) || ci.rs1 == ei.rs1) &&
                (!(fields & F_RS2) || ci.rs2 == ei.rs2) &&
                (!(fields & F_IMM) || ci.imm == ei.imm);
    if (!same && mismatches++ < 20)
        fprintf(stderr, "%s: c=0x%04x decodes to %s rd=%u rs1=%u rs2=%u imm=%lld; "
                "expansion 0x%08x is %s rd=%u rs1=%u rs2=%u imm=%lld\n", what, c,
                insn_name(ci.op), ci.rd, ci.rs1, ci.rs2, (long long)ci.imm, e,
                insn_name(ei.op), ei.rd, ei.rs1, ei.rs2, (long long)ei.imm);
    CHECK(same);
}

static void expect_illegal(uint32_t raw, const char *what)
{
    struct insn in;
    decode(raw, &in);
    if (in.op != OP_ILLEGAL)
        fprintf(stderr, "%s: 0x%08x decodes to %s, expected illegal\n", what, raw, insn_name(in.op));
    CHECK_EQ(in.op, OP_ILLEGAL);
    CHECK_EQ(in.raw, raw);
    CHECK_EQ(in.len, (raw & 3) == 3 ? 4 : 2);
}

static void expect_op(uint32_t raw, enum insn_op op, const char *what)
{
    struct insn in;
    decode(raw, &in);
    if (in.op != op)
        fprintf(stderr, "%s: 0x%08x decodes to %s, expected %s\n", what, raw,
                insn_name(in.op), insn_name(op));
    CHECK_EQ(in.op, op);
}

/* --------------------------------------------- compressed, quadrant 0 */

static void test_c_quadrant0(void)
{
    for (unsigned rd = 8; rd < 16; rd++)
        for (uint32_t nz = 4; nz < 1024; nz += 4) {     /* C.ADDI4SPN: nzuimm[9:2] */
            uint16_t c = (uint16_t)(0 << 13 | place(nz, "5:4|9:6|2|3", 12) | CR(rd) << 2 | 0);
            expect_expansion(c, addi(rd, 2, (int32_t)nz), F_RD | F_RS1 | F_IMM, "c.addi4spn");
        }
    for (unsigned rd = 8; rd < 16; rd += 3)
        for (unsigned rs1 = 8; rs1 < 16; rs1++) {
            for (uint32_t u = 0; u < 128; u += 4) {     /* C.LW / C.SW: uimm[6:2] */
                uint32_t f = place(u, "5:3", 12) | CR(rs1) << 7 | place(u, "2|6", 6) | CR(rd) << 2;
                expect_expansion((uint16_t)(2 << 13 | f), load(2, rd, rs1, (int32_t)u),
                                 F_RD | F_RS1 | F_IMM, "c.lw");
                expect_expansion((uint16_t)(6 << 13 | f), store(2, rd, rs1, (int32_t)u),
                                 F_RS1 | F_RS2 | F_IMM, "c.sw");
            }
            for (uint32_t u = 0; u < 256; u += 8) {     /* C.LD/SD/FLD/FSD: uimm[7:3] */
                uint32_t f = place(u, "5:3", 12) | CR(rs1) << 7 | place(u, "7:6", 6) | CR(rd) << 2;
                expect_expansion((uint16_t)(1 << 13 | f), fload(3, rd, rs1, (int32_t)u),
                                 F_RD | F_RS1 | F_IMM, "c.fld");
                expect_expansion((uint16_t)(3 << 13 | f), load(3, rd, rs1, (int32_t)u),
                                 F_RD | F_RS1 | F_IMM, "c.ld");
                expect_expansion((uint16_t)(5 << 13 | f), fstore(3, rd, rs1, (int32_t)u),
                                 F_RS1 | F_RS2 | F_IMM, "c.fsd");
                expect_expansion((uint16_t)(7 << 13 | f), store(3, rd, rs1, (int32_t)u),
                                 F_RS1 | F_RS2 | F_IMM, "c.sd");
            }
        }
}

/* --------------------------------------------- compressed, quadrant 1 */

static uint16_t c_ci(unsigned f3, unsigned rd, uint32_t imm6, unsigned quadrant)
{
    return (uint16_t)(f3 << 13 | place(imm6, "5", 12) | rd << 7 | place(imm6, "4:0", 6) | quadrant);
}

static void test_c_quadrant1_immediates(void)
{
    for (unsigned rd = 0; rd < 32; rd++)
        for (int32_t imm = -32; imm < 32; imm++) {
            expect_expansion(c_ci(0, rd, (uint32_t)imm, 1), addi(rd, rd, imm),
                             F_RD | F_RS1 | F_IMM, "c.addi");
            expect_expansion(c_ci(2, rd, (uint32_t)imm, 1), addi(rd, 0, imm),
                             F_RD | F_RS1 | F_IMM, "c.li");
            if (rd != 0)
                expect_expansion(c_ci(1, rd, (uint32_t)imm, 1), addiw(rd, rd, imm),
                                 F_RD | F_RS1 | F_IMM, "c.addiw");
            if (rd != 2 && imm != 0) {  /* C.LUI: nzimm[17:12] */
                uint16_t c = (uint16_t)(3 << 13 | place((uint32_t)imm << 12, "17", 12) | rd << 7 |
                                        place((uint32_t)imm << 12, "16:12", 6) | 1);
                expect_expansion(c, enc_u((uint32_t)imm << 12, rd, LUI), F_RD | F_IMM, "c.lui");
            }
        }
    for (int32_t nz = -512; nz < 512; nz += 16) {       /* C.ADDI16SP: nzimm[9:4] */
        if (nz == 0)
            continue;
        uint16_t c = (uint16_t)(3 << 13 | place((uint32_t)nz, "9", 12) | 2 << 7 |
                                place((uint32_t)nz, "4|6|8:7|5", 6) | 1);
        expect_expansion(c, addi(2, 2, nz), F_RD | F_RS1 | F_IMM, "c.addi16sp");
    }
}

static void test_c_quadrant1_alu(void)
{
    static const struct { unsigned bit12, funct2; uint32_t f7, f3, opc; const char *name; } rr[] = {
        { 0, 0, 0x20, 0, OPC_OP, "c.sub" }, { 0, 1, 0x00, 4, OPC_OP, "c.xor" },
        { 0, 2, 0x00, 6, OPC_OP, "c.or" }, { 0, 3, 0x00, 7, OPC_OP, "c.and" },
        { 1, 0, 0x20, 0, OP_32, "c.subw" }, { 1, 1, 0x00, 0, OP_32, "c.addw" },
    };
    for (unsigned rd = 8; rd < 16; rd++) {
        for (unsigned sh = 0; sh < 64; sh++) {
            uint32_t f = 4u << 13 | place(sh, "5", 12) | CR(rd) << 7 | place(sh, "4:0", 6) | 1;
            expect_expansion((uint16_t)(f | 0u << 10), srli(rd, rd, sh), F_RD | F_RS1 | F_IMM, "c.srli");
            expect_expansion((uint16_t)(f | 1u << 10), srai(rd, rd, sh), F_RD | F_RS1 | F_IMM, "c.srai");
        }
        for (int32_t imm = -32; imm < 32; imm++) {
            uint32_t u = (uint32_t)imm;
            uint16_t c = (uint16_t)(4u << 13 | place(u, "5", 12) | 2u << 10 | CR(rd) << 7 |
                                    place(u, "4:0", 6) | 1);
            expect_expansion(c, andi(rd, rd, imm), F_RD | F_RS1 | F_IMM, "c.andi");
        }
        for (unsigned rs2 = 8; rs2 < 16; rs2++)
            for (unsigned i = 0; i < sizeof rr / sizeof rr[0]; i++) {
                uint16_t c = (uint16_t)(4u << 13 | rr[i].bit12 << 12 | 3u << 10 | CR(rd) << 7 |
                                        rr[i].funct2 << 5 | CR(rs2) << 2 | 1);
                expect_expansion(c, enc_r(rr[i].f7, rs2, rd, rr[i].f3, rd, rr[i].opc),
                                 F_RD | F_RS1 | F_RS2, rr[i].name);
            }
    }
}

static void test_c_quadrant1_control(void)
{
    for (int32_t off = -2048; off < 2048; off += 2) {   /* C.J: offset[11:1] */
        uint16_t c = (uint16_t)(5u << 13 | place((uint32_t)off, "11|4|9:8|10|6|7|3:1|5", 12) | 1);
        expect_expansion(c, enc_j(off, 0), F_RD | F_IMM, "c.j");
    }
    for (unsigned rs1 = 8; rs1 < 16; rs1++)
        for (int32_t off = -256; off < 256; off += 2) { /* C.BEQZ/BNEZ: offset[8:1] */
            uint32_t f = place((uint32_t)off, "8|4:3", 12) | CR(rs1) << 7 |
                         place((uint32_t)off, "7:6|2:1|5", 6) | 1;
            expect_expansion((uint16_t)(6u << 13 | f), enc_b(off, 0, rs1, 0),
                             F_RS1 | F_RS2 | F_IMM, "c.beqz");
            expect_expansion((uint16_t)(7u << 13 | f), enc_b(off, 0, rs1, 1),
                             F_RS1 | F_RS2 | F_IMM, "c.bnez");
        }
}

/* --------------------------------------------- compressed, quadrant 2 */

static void test_c_quadrant2(void)
{
    for (unsigned rd = 0; rd < 32; rd++) {
        for (unsigned sh = 0; sh < 64; sh++)
            expect_expansion(c_ci(0, rd, sh, 2), slli(rd, rd, sh), F_RD | F_RS1 | F_IMM, "c.slli");
        for (uint32_t u = 0; u < 512; u += 8) {         /* C.LDSP/FLDSP: uimm[8:3] */
            uint16_t f = (uint16_t)(place(u, "5", 12) | rd << 7 | place(u, "4:3|8:6", 6) | 2);
            expect_expansion((uint16_t)(1u << 13 | f), fload(3, rd, 2, (int32_t)u),
                             F_RD | F_RS1 | F_IMM, "c.fldsp");
            if (rd != 0)
                expect_expansion((uint16_t)(3u << 13 | f), load(3, rd, 2, (int32_t)u),
                                 F_RD | F_RS1 | F_IMM, "c.ldsp");
            uint16_t s = (uint16_t)(place(u, "5:3|8:6", 12) | rd << 2 | 2);
            expect_expansion((uint16_t)(5u << 13 | s), fstore(3, rd, 2, (int32_t)u),
                             F_RS1 | F_RS2 | F_IMM, "c.fsdsp");
            expect_expansion((uint16_t)(7u << 13 | s), store(3, rd, 2, (int32_t)u),
                             F_RS1 | F_RS2 | F_IMM, "c.sdsp");
        }
        for (uint32_t u = 0; u < 256; u += 4) {         /* C.LWSP/SWSP: uimm[7:2] */
            if (rd != 0) {
                uint16_t c = (uint16_t)(2u << 13 | place(u, "5", 12) | rd << 7 | place(u, "4:2|7:6", 6) | 2);
                expect_expansion(c, load(2, rd, 2, (int32_t)u), F_RD | F_RS1 | F_IMM, "c.lwsp");
            }
            uint16_t s = (uint16_t)(6u << 13 | place(u, "5:2|7:6", 12) | rd << 2 | 2);
            expect_expansion(s, store(2, rd, 2, (int32_t)u), F_RS1 | F_RS2 | F_IMM, "c.swsp");
        }
        for (unsigned rs2 = 0; rs2 < 32; rs2++) {
            uint16_t lo = (uint16_t)(4u << 13 | rd << 7 | rs2 << 2 | 2);
            uint16_t hi = (uint16_t)(lo | 1u << 12);
            if (rs2 != 0) {
                expect_expansion(lo, enc_r(0, rs2, 0, 0, rd, OPC_OP), F_RD | F_RS1 | F_RS2, "c.mv");
                expect_expansion(hi, enc_r(0, rs2, rd, 0, rd, OPC_OP), F_RD | F_RS1 | F_RS2, "c.add");
            } else if (rd != 0) {
                expect_expansion(lo, enc_i(0, rd, 0, 0, JALR), F_RD | F_RS1 | F_IMM, "c.jr");
                expect_expansion(hi, enc_i(0, rd, 0, 1, JALR), F_RD | F_RS1 | F_IMM, "c.jalr");
            }
        }
    }
    expect_expansion(0x9002, 0x00100073, 0, "c.ebreak");
}

/* A few complete encodings, assembled by hand from the RVC tables. */
static void test_c_literals(void)
{
    static const struct { uint16_t c; enum insn_op op; uint8_t rd, rs1, rs2; int64_t imm; } v[] = {
        { 0x1fe0, OP_ADDI, 8, 2, 0, 1020 },     /* c.addi4spn s0, sp, 1020 */
        { 0x657d, OP_LUI, 10, 0, 0, 31 << 12 }, /* c.lui a0, 31 */
        { 0xb001, OP_JAL, 0, 0, 0, -2048 },     /* c.j -2048 */
        { 0x7101, OP_ADDI, 2, 2, 0, -512 },     /* c.addi16sp sp, -512 */
        { 0x557e, OP_LW, 10, 2, 0, 252 },       /* c.lwsp a0, 252(sp) */
        { 0xffbe, OP_SD, 0, 2, 15, 504 },       /* c.sdsp a5, 504(sp) */
        { 0xd381, OP_BEQ, 0, 15, 0, -256 },     /* c.beqz a5, -256 */
        { 0x977d, OP_SRAI, 14, 14, 0, 63 },     /* c.srai a4, 63 */
        { 0x2422, OP_FLD, 8, 2, 0, 8 },         /* c.fldsp fs0, 8(sp) */
        { 0x9d0d, OP_SUBW, 10, 10, 11, 0 },     /* c.subw a0, a1 */
        { 0x9782, OP_JALR, 1, 15, 0, 0 },       /* c.jalr a5 */
        { 0x8082, OP_JALR, 0, 1, 0, 0 },        /* c.jr ra (ret) */
        { 0x0001, OP_ADDI, 0, 0, 0, 0 },        /* c.nop */
    };
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct insn in;
        decode(v[i].c, &in);
        CHECK_EQ(in.op, v[i].op);
        CHECK_EQ(in.rd, v[i].rd);
        CHECK_EQ(in.rs1, v[i].rs1);
        CHECK_EQ(in.rs2, v[i].rs2);
        CHECK_EQ(in.imm, (uint64_t)v[i].imm);
        CHECK_EQ(in.len, 2);
    }
}

/* ------------------------------------------------- reserved encodings */

static void test_c_reserved(void)
{
    expect_illegal(0x0000, "all-zero");
    for (unsigned rd = 8; rd < 16; rd++)
        expect_illegal(CR(rd) << 2, "c.addi4spn nzuimm=0");
    expect_illegal(4u << 13 | 0x5a5u << 2, "quadrant 0 funct3 100");
    for (unsigned bits = 0; bits < 64; bits++)
        expect_illegal(c_ci(1, 0, bits, 1), "c.addiw rd=0");
    expect_illegal(c_ci(3, 2, 0, 1), "c.addi16sp nzimm=0");
    for (unsigned rd = 0; rd < 32; rd++)
        if (rd != 2)
            expect_illegal(c_ci(3, rd, 0, 1), "c.lui nzimm=0");
    for (unsigned funct2 = 2; funct2 < 4; funct2++)
        expect_illegal(4u << 13 | 1u << 12 | 3u << 10 | 1u << 7 | funct2 << 5 | 2u << 2 | 1,
                       "reserved c.subw-group slot");
    for (unsigned u = 0; u < 64; u++) {
        expect_illegal(c_ci(2, 0, u, 2), "c.lwsp rd=0");
        expect_illegal(c_ci(3, 0, u, 2), "c.ldsp rd=0");
    }
    expect_illegal(0x8002, "c.jr rs1=0");
    /* RV32-only forms are absent: C.JAL's encoding is C.ADDIW (rd=0 illegal,
     * checked above), C.FLW/C.FSW's are C.LD/C.SD. */
    expect_op(0x6000, OP_LD, "c.ld where RV32 has c.flw");
}

/* Every 16-bit encoding: the reserved ones per the RVC opcode map are
 *   Q0: C.ADDI4SPN nzuimm=0 (8: any rd'), funct3 100 (2048)       = 2056
 *   Q1: C.ADDIW rd=0 (64), C.ADDI16SP/C.LUI imm=0 (32 rd values),
 *       inst[12]=1 funct2 10/11 in the ALU group (2 x 64)         = 224
 *   Q2: C.LWSP rd=0 (64), C.LDSP rd=0 (64), C.JR rs1=0 (1)        = 129 */
static void test_c_illegal_count(void)
{
    unsigned illegal[3] = { 0, 0, 0 };
    for (uint32_t c = 0; c < 0x10000; c++) {
        if ((c & 3) == 3)
            continue;
        struct insn in;
        decode(c | 0xabcd0000u, &in);     /* upper bits must be ignored */
        if (in.op == OP_ILLEGAL)
            illegal[c & 3]++;
        CHECK(in.len == 2 && in.raw == c);
    }
    CHECK_EQ(illegal[0], 2056);
    CHECK_EQ(illegal[1], 224);
    CHECK_EQ(illegal[2], 129);
}

/* -------------------------------------------------------- 32-bit forms */

static void test_rv64i(void)
{
    struct insn in;
    decode(enc_u(0xfffff000u, 5, LUI), &in);
    CHECK_EQ(in.op, OP_LUI);
    CHECK_EQ(in.imm, (uint64_t)(int64_t)-4096);
    CHECK_EQ(in.rd, 5);
    decode(enc_u(0x12345000u, 7, AUIPC), &in);
    CHECK_EQ(in.op, OP_AUIPC);
    CHECK_EQ(in.imm, 0x12345000);
    decode(enc_j(-1048576, 1), &in);
    CHECK_EQ(in.op, OP_JAL);
    CHECK_EQ(in.imm, (uint64_t)(int64_t)-1048576);
    decode(enc_j(0x7fffe, 1), &in);
    CHECK_EQ(in.imm, 0x7fffe);
    decode(enc_b(-4096, 3, 4, 7), &in);
    CHECK_EQ(in.op, OP_BGEU);
    CHECK_EQ(in.imm, (uint64_t)(int64_t)-4096);
    CHECK_EQ(in.rs1, 4);
    CHECK_EQ(in.rs2, 3);
    decode(enc_s(-2048, 9, 10, 3, STORE), &in);
    CHECK_EQ(in.op, OP_SD);
    CHECK_EQ(in.imm, (uint64_t)(int64_t)-2048);
    CHECK_EQ(in.rs2, 9);
    CHECK_EQ(in.len, 4);
    decode(0x00150513, &in);                    /* addi a0, a0, 1 */
    CHECK(in.op == OP_ADDI && in.rd == 10 && in.rs1 == 10 && in.imm == 1);
    decode(0x00008067, &in);                    /* ret = jalr x0, 0(ra) */
    CHECK(in.op == OP_JALR && in.rd == 0 && in.rs1 == 1 && in.imm == 0);

    static const enum insn_op loads[8] = { OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL };
    for (unsigned f3 = 0; f3 < 8; f3++)
        expect_op(load(f3, 1, 2, -1), loads[f3], "load funct3");
    for (unsigned f3 = 4; f3 < 8; f3++)
        expect_op(store(f3, 1, 2, 0), OP_ILLEGAL, "store funct3 >= 4");
    expect_op(enc_b(8, 1, 2, 2), OP_ILLEGAL, "branch funct3 2");
    expect_op(enc_b(8, 1, 2, 3), OP_ILLEGAL, "branch funct3 3");
    expect_op(enc_i(0, 1, 1, 0, JALR), OP_ILLEGAL, "jalr funct3 1");

    /* shifts: RV64 shamt is 6 bits; funct6 must be 000000 or 010000 */
    decode(slli(3, 4, 63), &in);
    CHECK(in.op == OP_SLLI && in.imm == 63);
    decode(srai(3, 4, 33), &in);
    CHECK(in.op == OP_SRAI && in.imm == 33);
    expect_op(enc_i(0x800 | 3, 4, 5, 3, OP_IMM), OP_ILLEGAL, "srli funct6 100000");
    expect_op(enc_i(0x400 | 3, 4, 1, 3, OP_IMM), OP_ILLEGAL, "slli funct6 010000");
    expect_op(enc_i(0x020 | 3, 4, 5, 3, OP_IMM), OP_SRLI, "srli shamt[5]");
    expect_op(enc_i(0x040 | 3, 4, 5, 3, OP_IMM), OP_ILLEGAL, "srli funct6 000001");

    /* W forms: shamt[5] set is reserved */
    expect_op(enc_i(0x01f, 4, 1, 3, OP_IMM_32), OP_SLLIW, "slliw 31");
    expect_op(enc_i(0x020, 4, 1, 3, OP_IMM_32), OP_ILLEGAL, "slliw shamt[5]");
    expect_op(enc_i(0x020, 4, 5, 3, OP_IMM_32), OP_ILLEGAL, "srliw shamt[5]");
    expect_op(enc_i(0x420, 4, 5, 3, OP_IMM_32), OP_ILLEGAL, "sraiw shamt[5]");
    expect_op(enc_i(0x41f, 4, 5, 3, OP_IMM_32), OP_SRAIW, "sraiw 31");
    for (unsigned f3 = 2; f3 < 8; f3++)
        if (f3 != 5)
            expect_op(enc_i(0, 1, f3, 1, OP_IMM_32), OP_ILLEGAL, "op-imm-32 funct3");

    /* OP and OP-32 by funct7/funct3 */
    static const enum insn_op op0[8] = { OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND };
    for (unsigned f3 = 0; f3 < 8; f3++) {
        expect_op(enc_r(0, 1, 2, f3, 3, OPC_OP), op0[f3], "op funct7 0");
        expect_op(enc_r(0x20, 1, 2, f3, 3, OPC_OP),
                  f3 == 0 ? OP_SUB : f3 == 5 ? OP_SRA : OP_ILLEGAL, "op funct7 0x20");
        expect_op(enc_r(0x02, 1, 2, f3, 3, OPC_OP), OP_ILLEGAL, "op funct7 0x02");
    }
    expect_op(enc_r(0, 1, 2, 0, 3, OP_32), OP_ADDW, "addw");
    expect_op(enc_r(0x20, 1, 2, 0, 3, OP_32), OP_SUBW, "subw");
    expect_op(enc_r(0, 1, 2, 1, 3, OP_32), OP_SLLW, "sllw");
    expect_op(enc_r(0, 1, 2, 5, 3, OP_32), OP_SRLW, "srlw");
    expect_op(enc_r(0x20, 1, 2, 5, 3, OP_32), OP_SRAW, "sraw");
    expect_op(enc_r(0, 1, 2, 2, 3, OP_32), OP_ILLEGAL, "op-32 funct3 2");
    expect_op(enc_r(0x20, 1, 2, 1, 3, OP_32), OP_ILLEGAL, "op-32 0x20/1");
}

static void test_m(void)
{
    static const enum insn_op ops[8] = { OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU };
    static const enum insn_op opsw[8] = { OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW };
    for (unsigned f3 = 0; f3 < 8; f3++) {
        expect_op(enc_r(1, 5, 6, f3, 7, OPC_OP), ops[f3], "M");
        expect_op(enc_r(1, 5, 6, f3, 7, OP_32), opsw[f3], "M W");
    }
}

static void test_a(void)
{
    static const struct { unsigned funct5; enum insn_op w; } amo[] = {
        { 0x02, OP_LR_W }, { 0x03, OP_SC_W }, { 0x01, OP_AMOSWAP_W }, { 0x00, OP_AMOADD_W },
        { 0x04, OP_AMOXOR_W }, { 0x0c, OP_AMOAND_W }, { 0x08, OP_AMOOR_W }, { 0x10, OP_AMOMIN_W },
        { 0x14, OP_AMOMAX_W }, { 0x18, OP_AMOMINU_W }, { 0x1c, OP_AMOMAXU_W },
    };
    for (unsigned i = 0; i < sizeof amo / sizeof amo[0]; i++)
        for (unsigned aqrl = 0; aqrl < 4; aqrl++) {
            unsigned rs2 = amo[i].w == OP_LR_W ? 0 : 11;
            struct insn in;
            decode(enc_r(amo[i].funct5 << 2 | aqrl, rs2, 12, 2, 10, AMO), &in);
            CHECK_EQ(in.op, amo[i].w);
            CHECK_EQ(in.rm, aqrl);
            CHECK(in.rd == 10 && in.rs1 == 12 && in.rs2 == rs2);
            decode(enc_r(amo[i].funct5 << 2 | aqrl, rs2, 12, 3, 10, AMO), &in);
            CHECK_EQ(in.op, amo[i].w + (OP_LR_D - OP_LR_W));
            CHECK_EQ(in.rm, aqrl);
        }
    CHECK_EQ(OP_AMOMAXU_D - OP_LR_D, OP_AMOMAXU_W - OP_LR_W);
    expect_op(0x0eb6252f, OP_AMOSWAP_W, "amoswap.w.aqrl a0, a1, (a2)");
    expect_op(enc_r(0x02 << 2, 1, 12, 2, 10, AMO), OP_ILLEGAL, "lr.w rs2 != 0");
    expect_op(enc_r(0x05 << 2, 1, 12, 2, 10, AMO), OP_ILLEGAL, "amo funct5 00101");
    expect_op(enc_r(0x01 << 2, 1, 12, 1, 10, AMO), OP_ILLEGAL, "amo funct3 1");
    expect_op(enc_r(0x01 << 2, 1, 12, 4, 10, AMO), OP_ILLEGAL, "amo funct3 4 (.q)");
}

static void test_fd(void)
{
    struct insn in;
    decode(fload(2, 3, 4, -8), &in);
    CHECK(in.op == OP_FLW && in.rd == 3 && in.rs1 == 4 && in.imm == -8);
    expect_op(fload(3, 3, 4, 0), OP_FLD, "fld");
    expect_op(fload(1, 3, 4, 0), OP_ILLEGAL, "flh (Zfh absent)");
    expect_op(fstore(2, 3, 4, 0), OP_FSW, "fsw");
    expect_op(fstore(3, 3, 4, 0), OP_FSD, "fsd");
    expect_op(fstore(4, 3, 4, 0), OP_ILLEGAL, "fsq");

    /* R4: fmadd.d f1, f2, f3, f4, rtz */
    decode(4u << 27 | 1u << 25 | 3u << 20 | 2u << 15 | 1u << 12 | 1u << 7 | 0x43, &in);
    CHECK(in.op == OP_FMADD_D && in.rd == 1 && in.rs1 == 2 && in.rs2 == 3 && in.rs3 == 4 && in.rm == 1);
    expect_op(4u << 27 | 0u << 25 | 0x4f, OP_FNMADD_S, "fnmadd.s");
    expect_op(4u << 27 | 0u << 25 | 0x47, OP_FMSUB_S, "fmsub.s");
    expect_op(4u << 27 | 1u << 25 | 0x4b, OP_FNMSUB_D, "fnmsub.d");
    expect_op(4u << 27 | 2u << 25 | 0x43, OP_ILLEGAL, "fmadd.h");

    /* OP-FP by funct7 (spec listings), rm in funct3 */
    decode(enc_r(0x01, 3, 2, 7, 1, OP_FP), &in);
    CHECK(in.op == OP_FADD_D && in.rm == 7);
    expect_op(enc_r(0x04, 3, 2, 0, 1, OP_FP), OP_FSUB_S, "fsub.s");
    expect_op(enc_r(0x09, 3, 2, 0, 1, OP_FP), OP_FMUL_D, "fmul.d");
    expect_op(enc_r(0x0c, 3, 2, 0, 1, OP_FP), OP_FDIV_S, "fdiv.s");
    expect_op(enc_r(0x2c, 0, 2, 0, 1, OP_FP), OP_FSQRT_S, "fsqrt.s");
    expect_op(enc_r(0x2d, 1, 2, 0, 1, OP_FP), OP_ILLEGAL, "fsqrt.d rs2 != 0");
    expect_op(enc_r(0x10, 3, 2, 2, 1, OP_FP), OP_FSGNJX_S, "fsgnjx.s");
    expect_op(enc_r(0x11, 3, 2, 1, 1, OP_FP), OP_FSGNJN_D, "fsgnjn.d");
    expect_op(enc_r(0x10, 3, 2, 3, 1, OP_FP), OP_ILLEGAL, "fsgnj funct3 3");
    expect_op(enc_r(0x15, 3, 2, 1, 1, OP_FP), OP_FMAX_D, "fmax.d");
    expect_op(enc_r(0x14, 3, 2, 2, 1, OP_FP), OP_ILLEGAL, "fmin funct3 2");
    expect_op(enc_r(0x20, 1, 2, 0, 1, OP_FP), OP_FCVT_S_D, "fcvt.s.d");
    expect_op(enc_r(0x21, 0, 2, 0, 1, OP_FP), OP_FCVT_D_S, "fcvt.d.s");
    expect_op(enc_r(0x20, 0, 2, 0, 1, OP_FP), OP_ILLEGAL, "fcvt.s.s");
    expect_op(enc_r(0x50, 3, 2, 0, 1, OP_FP), OP_FLE_S, "fle.s");
    expect_op(enc_r(0x51, 3, 2, 1, 1, OP_FP), OP_FLT_D, "flt.d");
    expect_op(enc_r(0x51, 3, 2, 2, 1, OP_FP), OP_FEQ_D, "feq.d");
    expect_op(enc_r(0x50, 3, 2, 3, 1, OP_FP), OP_ILLEGAL, "fcmp funct3 3");
    expect_op(enc_r(0x60, 3, 2, 0, 1, OP_FP), OP_FCVT_LU_S, "fcvt.lu.s");
    expect_op(enc_r(0x61, 1, 2, 0, 1, OP_FP), OP_FCVT_WU_D, "fcvt.wu.d");
    expect_op(enc_r(0x61, 4, 2, 0, 1, OP_FP), OP_ILLEGAL, "fcvt.?.d rs2 4");
    expect_op(enc_r(0x68, 2, 2, 0, 1, OP_FP), OP_FCVT_S_L, "fcvt.s.l");
    expect_op(enc_r(0x69, 0, 2, 0, 1, OP_FP), OP_FCVT_D_W, "fcvt.d.w");
    expect_op(enc_r(0x70, 0, 2, 0, 1, OP_FP), OP_FMV_X_W, "fmv.x.w");
    expect_op(enc_r(0x71, 0, 2, 1, 1, OP_FP), OP_FCLASS_D, "fclass.d");
    expect_op(enc_r(0x70, 0, 2, 2, 1, OP_FP), OP_ILLEGAL, "fmv.x.w funct3 2");
    expect_op(enc_r(0x78, 0, 2, 0, 1, OP_FP), OP_FMV_W_X, "fmv.w.x");
    expect_op(enc_r(0x79, 0, 2, 0, 1, OP_FP), OP_FMV_D_X, "fmv.d.x");
    expect_op(enc_r(0x79, 0, 2, 1, 1, OP_FP), OP_ILLEGAL, "fmv.d.x funct3 1");
    expect_op(enc_r(0x02, 3, 2, 0, 1, OP_FP), OP_ILLEGAL, "fadd.h");
    expect_op(enc_r(0x03, 3, 2, 0, 1, OP_FP), OP_ILLEGAL, "fadd.q");
}

static void test_system_and_fence(void)
{
    struct insn in;
    expect_op(0x00000073, OP_ECALL, "ecall");
    expect_op(0x00100073, OP_EBREAK, "ebreak");
    expect_op(0x10200073, OP_SRET, "sret");
    expect_op(0x30200073, OP_MRET, "mret");
    expect_op(0x10500073, OP_WFI, "wfi");
    expect_op(0x00000073 | 1u << 7, OP_ILLEGAL, "ecall rd != 0");
    expect_op(0x00200073, OP_ILLEGAL, "uret (N absent)");
    expect_op(0x7b200073, OP_ILLEGAL, "dret");
    decode(enc_r(0x09, 6, 5, 0, 0, SYSTEM), &in);
    CHECK(in.op == OP_SFENCE_VMA && in.rs1 == 5 && in.rs2 == 6);
    expect_op(enc_r(0x09, 6, 5, 0, 1, SYSTEM), OP_ILLEGAL, "sfence.vma rd != 0");
    expect_op(enc_r(0x0b, 6, 5, 0, 0, SYSTEM), OP_ILLEGAL, "sinval.vma (Svinval absent)");

    decode(0xf1402573, &in);                    /* csrr a0, mhartid */
    CHECK(in.op == OP_CSRRS && in.rd == 10 && in.rs1 == 0 && in.imm == 0xf14);
    decode(enc_i(0x300, 31, 7, 1, SYSTEM), &in);    /* csrrci ra, mstatus, 31 */
    CHECK(in.op == OP_CSRRCI && in.rs1 == 31 && in.imm == 0x300);
    decode(enc_i((int32_t)0xfff, 1, 1, 1, SYSTEM), &in);
    CHECK(in.op == OP_CSRRW && in.imm == 0xfff);    /* CSR number is unsigned */
    expect_op(enc_i(0x300, 1, 4, 1, SYSTEM), OP_ILLEGAL, "system funct3 4");

    decode(0x0ff0000f, &in);                    /* fence iorw, iorw */
    CHECK(in.op == OP_FENCE && in.imm == 0xff && in.rm == 0);
    decode(0x8330000f, &in);                    /* fence.tso */
    CHECK(in.op == OP_FENCE && in.imm == 0x33 && in.rm == 8);
    expect_op(0x0100000f, OP_FENCE, "pause");
    expect_op(0x5ff5050f, OP_FENCE, "fence with reserved fm 0101, rs1/rd set");
    expect_op(0x0000100f, OP_FENCE_I, "fence.i");
    expect_op(0xfff5150f, OP_FENCE_I, "fence.i with imm/rs1/rd set");
    expect_op(0x0000200f, OP_ILLEGAL, "misc-mem funct3 2");
    expect_op(0x0000000b, OP_ILLEGAL, "custom-0");
    expect_op(0xffffffff, OP_ILLEGAL, "all ones");
    expect_illegal(0x00000057, "OP-V");
}

static void test_names(void)
{
    CHECK(strcmp(insn_name(OP_ADDI), "addi") == 0);
    CHECK(strcmp(insn_name(OP_FCVT_W_S), "fcvt.w.s") == 0);
    CHECK(strcmp(insn_name(OP_SFENCE_VMA), "sfence.vma") == 0);
    CHECK(strcmp(insn_name(OP_AMOMAXU_D), "amomaxu.d") == 0);
    CHECK(strcmp(insn_name(OP_ILLEGAL), "illegal") == 0);
    for (unsigned op = 0; op < OP_COUNT; op++)
        CHECK(insn_name((enum insn_op)op)[0] != '\0');
}

int main(void)
{
    test_c_quadrant0();
    test_c_quadrant1_immediates();
    test_c_quadrant1_alu();
    test_c_quadrant1_control();
    test_c_quadrant2();
    test_c_literals();
    test_c_reserved();
    test_c_illegal_count();
    test_rv64i();
    test_m();
    test_a();
    test_fd();
    test_system_and_fence();
    test_names();
    return check_summary();
}
