#!/usr/bin/env python3
"""rvdiff: run rvgen's random programs on umbra and on QEMU and compare.

For each seed: rvgen writes the program, riscv64-unknown-elf-gcc links it
with rt.S, and both machines run it with `-bios none -kernel prog.elf`:

    qemu-system-riscv64 -machine virt -bios none -nographic -kernel prog.elf
    umbra -bios none -kernel prog.elf

each under `timeout`. rt.S prints x1..x31, f0..f31, fcsr and the scratch
buffer on the UART; the two dumps must be equal. On a disagreement the
program is cut after fewer and fewer items (rvgen --stop) to find the first
item after which the states differ; the report names the seed, the
differing registers, that item's source and operand values, and its
disassembly. Exit status: 0 if every seed agrees, 1 otherwise, 2 on usage or
tool errors.

--qemu-only validates the generator when umbra cannot run yet: each program
runs twice on QEMU; the dumps must be well formed and identical.
--mutate K plants a known difference (a store to the scratch canary before
item K) in umbra's copy of each program; with --expect-culprit K the run
succeeds only if the search names item K. That checks the checker.

Seeds: N, A-B (inclusive), or @FILE (regressions.txt format: "SEED [n=ITEMS]
[mix=G=W,...] # comment" per line). --mix passes group weights to rvgen.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SCRATCH_DWORDS = 1027           # rvgen.c: SCRATCH_BYTES / 8 (scratch, canary, log)
LINE_RE = re.compile(r"^(x\d\d|f\d\d|fcsr|m[0-9a-f]{4}) ([0-9a-f]{16})$")
TRAP_RE = re.compile(r"^trap ([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16})$")
SPEC_RE = re.compile(r"^(spec_\d+_\d+):\n\t[^\n]*# expect trap; spec mcause ([0-9|]+);", re.M)
EXPECTED_KEYS = ([f"x{i:02d}" for i in range(1, 32)] + [f"f{i:02d}" for i in range(32)]
                 + ["fcsr"] + [f"m{8 * i:04x}" for i in range(SCRATCH_DWORDS)])

MCAUSE_NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault",
    2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
    5: "load access fault", 6: "store/AMO address misaligned",
    7: "store/AMO access fault", 11: "ecall from M-mode",
}


class ToolError(Exception):
    pass


class Run:
    """One machine's run of one program: its dump, or why there is none."""

    def __init__(self, status, stdout, stderr):
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.state = {}
        self.traps = []             # (mcause, mepc, mtval) in order
        self.overflow = False
        self.complete = False
        for line in stdout.splitlines():
            line = line.strip("\r")
            m = LINE_RE.match(line)
            if m:
                self.state[m.group(1)] = int(m.group(2), 16)
                continue
            m = TRAP_RE.match(line)
            if m:
                self.traps.append(tuple(int(g, 16) for g in m.groups()))
            elif line == "traps overflow":
                self.overflow = True
            elif line == "end":
                self.complete = True

    def problem(self):
        """Why this run is not a well-formed dump, or None."""
        if self.status == 124:
            return "timed out"
        if self.status != 0:
            return f"exit status {self.status}"
        if not self.complete:
            return "no 'end' line"
        missing = [k for k in EXPECTED_KEYS if k not in self.state]
        if missing:
            return f"{len(missing)} values missing (first: {missing[0]})"
        return None

    def describe(self):
        text = self.problem() or "ok"
        if self.traps:
            text += f"; {len(self.traps)} traps" + (" (overflow)" if self.overflow else "")
        return text


def trap_list(run, spec, is_ref):
    """run's traps as [(cause, mepc)], with the instructions where the spec,
    not the reference, decides (rvgen's emit_spec_trap) put in as the
    spec's causes: for the reference, whether it trapped there or not; for
    umbra, when it trapped there with one of those causes."""
    out, seen = [], set()
    for cause, epc, _ in run.traps:
        if epc in spec:
            seen.add(epc)
            if is_ref or cause in spec[epc]:
                out.append(("|".join(map(str, sorted(spec[epc]))), epc))
                continue
        out.append((cause, epc))
    if is_ref:
        # with an overflow, only the spec instructions before the last trap ran
        limit = max(e for _, e, _ in run.traps) if run.overflow and run.traps else None
        for addr, causes in spec.items():
            if addr not in seen and (limit is None or addr <= limit):
                out.append(("|".join(map(str, sorted(causes))), addr))
    return sorted(out, key=lambda t: t[1])


def differences(ref, dut, spec=None, dut_is_reference=False):
    """[(key, ref value, dut value)] over the compared state.

    Traps are compared by mcause and mepc; mtval is left out because what it
    holds for an illegal instruction or a breakpoint (0, the instruction
    bits, the pc) is partly the implementation's choice (priv. spec 3.1.16).
    spec: {address: causes} where the spec's causes replace the reference's
    (and the second run's too, when it is the reference again, --qemu-only)."""
    diffs = []
    spec = spec or {}
    ref_traps, dut_traps = trap_list(ref, spec, True), trap_list(dut, spec, dut_is_reference)
    for i in range(max(len(ref_traps), len(dut_traps))):
        a = ref_traps[i] if i < len(ref_traps) else None
        b = dut_traps[i] if i < len(dut_traps) else None
        if a != b:
            diffs.append((f"trap{i}", a, b))
    if ref.overflow != dut.overflow:
        diffs.append(("traps", "overflow" if ref.overflow else "ok", "overflow" if dut.overflow else "ok"))
    for k in EXPECTED_KEYS:
        a, b = ref.state.get(k), dut.state.get(k)
        if a != b:
            diffs.append((k, a, b))
    if ref.problem() or dut.problem():
        diffs.append(("run", ref.describe(), dut.describe()))
    return diffs


def fmt(v):
    if v is None:
        return "(none)"
    if isinstance(v, int):
        return f"{v:016x}"
    if isinstance(v, tuple) and isinstance(v[0], str):
        return "mcause %s (by the spec) mepc %#x" % v
    if isinstance(v, tuple):
        return "mcause %d (%s) mepc %#x" % (v[0], MCAUSE_NAMES.get(v[0], "?"), v[1])
    return str(v)


class Tools:
    def __init__(self, args):
        self.args = args
        self.mix = None             # rvgen --mix of the seed being run
        self.work = args.workdir or tempfile.mkdtemp(prefix="rvdiff-")
        os.makedirs(self.work, exist_ok=True)
        self.rt_obj = os.path.join(self.work, "rt.o")
        self.check([args.cc, "-march=rv64gc", "-mabi=lp64d", "-c", "-o", self.rt_obj,
                    os.path.join(args.src, "rt.S")])

    def check(self, cmd, **kw):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
        if p.returncode != 0:
            raise ToolError(f"{' '.join(cmd)} failed:\n{p.stderr}")
        return p.stdout

    def build(self, seed, items, stop=None, mutate=None, tag=""):
        """Generate and link one program; return the ELF path."""
        base = os.path.join(self.work, f"s{seed}{tag}")
        gen = [self.args.rvgen, "-n", str(items), str(seed)]
        if self.mix:
            gen += ["--mix", self.mix]
        if stop is not None:
            gen += ["--stop", str(stop)]
        if mutate is not None:
            gen += ["--mutate", str(mutate)]
        with open(base + ".S", "w") as f:
            f.write(self.check(gen))
        self.check([self.args.cc, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib",
                    "-nostartfiles", "-Wl,--no-warn-rwx-segments", "-T",
                    os.path.join(self.args.src, "link.ld"), "-o", base + ".elf", self.rt_obj,
                    base + ".S"])
        return base + ".elf"

    def run(self, cmd):
        t = str(self.args.timeout)
        p = subprocess.run(["timeout", "-k", "2", t] + cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return Run(p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1"))

    def run_ref(self, elf):
        return self.run([self.args.qemu, "-machine", "virt", "-bios", "none", "-nographic",
                         "-kernel", elf])

    def run_dut(self, elf):
        if self.args.qemu_only:
            return self.run_ref(elf)
        return self.run([self.args.umbra, "-bios", "none", "-kernel", elf])

    def compare(self, seed, items, stop=None):
        """Run one program (cut after `stop` items) on both; return (ref, dut, diffs)."""
        cut = "" if stop is None else f"-cut{stop}"
        ref_elf = self.build(seed, items, stop, tag=cut)
        dut_elf = ref_elf
        if self.args.mutate is not None:
            dut_elf = self.build(seed, items, stop, self.args.mutate, tag=cut + "-dut")
        ref, dut = self.run_ref(ref_elf), self.run_dut(dut_elf)
        return ref, dut, differences(ref, dut, self.spec_traps(ref_elf), self.args.qemu_only)

    def symbols(self, elf):
        """{name: address} from the ELF's symbol table."""
        out = {}
        for line in self.check([self.args.objdump, "-t", elf]).splitlines():
            f = line.split()
            if len(f) >= 2 and re.match(r"^[0-9a-f]{16}$", f[0]):
                out[f[-1]] = int(f[0], 16)
        return out

    def spec_traps(self, elf):
        """{address: causes} of the instructions rvgen marked spec_<k>_<n>:
        there the spec's causes stand in for the reference's behaviour."""
        with open(elf[:-4] + ".S") as f:
            causes = {m.group(1): frozenset(int(c) for c in m.group(2).split("|"))
                      for m in SPEC_RE.finditer(f.read())}
        if not causes:
            return {}
        return {addr: causes[name] for name, addr in self.symbols(elf).items() if name in causes}

    def disassembly(self, elf, first, last):
        """objdump lines from <item_first> up to (not including) <item_last+1>."""
        text = self.check([self.args.objdump, "-d", elf])
        out, inside = [], False
        for line in text.splitlines():
            m = re.match(r"^[0-9a-f]+ <item_(\d+)>:", line)
            if m:
                k = int(m.group(1))
                inside = first <= k <= last
            if inside and line.strip():
                out.append(line)
        return out


def item_addresses(tools, elf):
    """{address: k} of the item_k labels."""
    return {addr: int(name[5:]) for name, addr in tools.symbols(elf).items()
            if re.match(r"^item_\d+$", name)}


def item_at(addresses, pc):
    """The item whose code holds pc, or None (rt.S, the initialisation)."""
    best = None
    for addr in sorted(addresses):
        if addr <= pc:
            best = addresses[addr]
    return best


def unexpected_traps(tools, seed, items, run):
    """Traps on the reference at items rvgen did not mark "expect trap"."""
    elf = os.path.join(tools.work, f"s{seed}.elf")
    asm = os.path.join(tools.work, f"s{seed}.S")
    addresses = item_addresses(tools, elf)
    bad = []
    for cause, epc, _ in run.traps:
        k = item_at(addresses, epc)
        if k is None or not any("expect trap" in l for l in item_source(asm, k)):
            bad.append((cause, epc, k))
    return bad


def item_source(asm_path, k):
    """The assembler text of item k."""
    lines, inside = [], False
    with open(asm_path) as f:
        for line in f:
            if line.startswith("item_"):
                inside = line.startswith(f"item_{k}:")
                continue
            if inside:
                if line.startswith("\t.option") or not line.strip():
                    continue
                lines.append(line.rstrip())
    return lines


def operand_values(source_lines, state):
    """Values, before the item, of the registers its source names."""
    regs = []
    for line in source_lines:
        for name in re.findall(r"\b(x\d+|f\d+|s0|sp)\b", line):
            num = {"s0": 8, "sp": 2}.get(name)
            key = f"x{num:02d}" if num is not None else f"{name[0]}{int(name[1:]):02d}"
            if key not in regs and key != "x00":
                regs.append(key)
    if "fcsr" not in regs:
        regs.append("fcsr")
    return [(k, state.get(k)) for k in regs]


def find_culprit(tools, seed, items):
    """Binary search over cut points for an item k such that the program cut
    after items 0..k-1 agrees and the one cut after items 0..k disagrees:
    the same state went into item k on both machines and different state
    came out. Returns (k, (ref, dut, diffs) before it, the same after it),
    or (None, the runs of the bare initialisation, None) if even that
    disagrees."""
    lo, hi = 0, items          # cut after lo agrees (checked below), cut after hi disagrees
    ref0, dut0, d0 = tools.compare(seed, items, 0)
    if d0:
        return None, (ref0, dut0, d0), None
    before = (ref0, dut0, d0)
    after = None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        r = tools.compare(seed, items, mid)
        if r[2]:
            hi, after = mid, r
        else:
            lo, before = mid, r
    if after is None:
        after = tools.compare(seed, items, hi)
    return hi - 1, before, after


def report_mismatch(tools, seed, items, ref, dut, diffs):
    args = tools.args
    ref_name = "qemu"
    dut_name = "qemu#2" if args.qemu_only else "umbra"
    mix = f", mix {tools.mix}" if tools.mix else ""
    print(f"MISMATCH seed {seed} ({items} items{mix}): {len(diffs)} values differ")
    print(f"  {ref_name}: {ref.describe()}")
    print(f"  {dut_name}: {dut.describe()}")
    addresses = item_addresses(tools, os.path.join(tools.work, f"s{seed}.elf"))
    for k, a, b in diffs[:40]:
        where = ""
        if k.startswith("trap") and (a or b):
            where = f"   (at item_{item_at(addresses, (a or b)[1])})"
        print(f"    {k:6s} {ref_name} {fmt(a)}   {dut_name} {fmt(b)}{where}")
    if len(diffs) > 40:
        print(f"    ... {len(diffs) - 40} more")
    if args.no_bisect:
        return None
    k, before, after = find_culprit(tools, seed, items)
    if k is None:
        print("  the programs disagree before the first item (initialisation or rt.S frame)")
        return None
    asm = os.path.join(tools.work, f"s{seed}.S")
    src = item_source(asm, k)
    print(f"  first disagreeing item: item_{k}")
    for line in src:
        print(f"      {line.strip()}")
    print("  operands before it (both machines agree):")
    for key, v in operand_values(src, before[0].state):
        print(f"      {key:6s} {fmt(v)}")
    print("  after it:")
    for key, a, b in after[2][:20]:
        print(f"      {key:6s} {ref_name} {fmt(a)}   {dut_name} {fmt(b)}")
    print("  disassembly:")
    for line in tools.disassembly(os.path.join(tools.work, f"s{seed}.elf"), max(0, k - 1), k):
        print(f"      {line}")
    here = os.path.dirname(os.path.abspath(__file__))
    mix = f" --mix {tools.mix}" if tools.mix else ""
    print(f"  program: {asm}; reproduce: {os.path.join(here, 'rvdiff.py')} -n {items}{mix} {seed}")
    return k


def parse_seeds(specs, default_items, default_mix):
    """[(seed, items, mix)] from N, A-B and @FILE arguments."""
    out = []
    for spec in specs:
        if spec.startswith("@"):
            with open(spec[1:]) as f:
                for line in f:
                    line = line.split("#", 1)[0].split()
                    if not line:
                        continue
                    items, mix = default_items, default_mix
                    for word in line[1:]:
                        if word.startswith("n="):
                            items = int(word[2:])
                        elif word.startswith("mix="):
                            mix = word[4:]
                    out.append((int(line[0]), items, mix))
        elif re.match(r"^\d+-\d+$", spec):
            a, b = map(int, spec.split("-"))
            out += [(s, default_items, default_mix) for s in range(a, b + 1)]
        else:
            out.append((int(spec), default_items, default_mix))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seeds", nargs="+")
    ap.add_argument("-n", "--items", type=int, default=300, help="items per program (300)")
    ap.add_argument("--mix", help="rvgen group weights, e.g. fcvt=60,rvc=0")
    ap.add_argument("--rvgen", default=os.environ.get("RVGEN", "rvgen"))
    ap.add_argument("--umbra", default=os.environ.get("UMBRA", "umbra"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--cc", default="riscv64-unknown-elf-gcc")
    ap.add_argument("--objdump", default="riscv64-unknown-elf-objdump")
    ap.add_argument("--src", default=here, help="directory of rt.S and link.ld")
    ap.add_argument("--timeout", type=int, default=10, help="seconds per run (10)")
    ap.add_argument("--workdir", help="keep programs and dumps here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--qemu-only", action="store_true", help="compare QEMU with itself")
    ap.add_argument("-v", "--verbose", action="store_true", help="say so for every seed")
    ap.add_argument("--no-bisect", action="store_true", help="do not search for the first bad item")
    ap.add_argument("--mutate", type=int, help="plant a difference before item K in umbra's copy")
    ap.add_argument("--expect-culprit", type=int,
                    help="succeed only if every seed disagrees and item K is named")
    args = ap.parse_args()
    for tool in (args.rvgen, args.cc, args.objdump, args.qemu) + (() if args.qemu_only else (args.umbra,)):
        if not shutil.which(tool):
            print(f"rvdiff: {tool} not found", file=sys.stderr)
            return 2

    try:
        tools = Tools(args)
        seeds = parse_seeds(args.seeds, args.items, args.mix)
        failures, culprits = [], []
        for seed, items, mix in seeds:
            tools.mix = mix
            ref_elf = tools.build(seed, items)
            dut_elf = tools.build(seed, items, mutate=args.mutate, tag="-dut") if args.mutate is not None else ref_elf
            ref = tools.run_ref(ref_elf)
            if ref.problem():
                print(f"seed {seed}: the reference run is not a well-formed dump: {ref.describe()}")
                print(ref.stdout[-2000:], ref.stderr[-2000:])
                failures.append(seed)
                continue
            bad = unexpected_traps(tools, seed, items, ref)
            if bad:
                for cause, epc, k in bad:
                    print(f"seed {seed}: the reference trapped where rvgen expected no trap: "
                          f"mcause {cause} ({MCAUSE_NAMES.get(cause, '?')}) at {epc:#x}, item_{k}")
                failures.append(seed)
                continue
            dut = tools.run_dut(dut_elf)
            diffs = differences(ref, dut, tools.spec_traps(ref_elf), args.qemu_only)
            if diffs:
                failures.append(seed)
                culprits.append(report_mismatch(tools, seed, items, ref, dut, diffs))
            elif args.verbose:
                print(f"seed {seed}: agree")
        print(f"rvdiff: {len(seeds) - len(failures)} of {len(seeds)} seeds agree"
              + (f"; disagreeing: {' '.join(map(str, failures))}" if failures else ""))
        if args.expect_culprit is not None:
            ok = len(failures) == len(seeds) and all(c == args.expect_culprit for c in culprits)
            print(f"rvdiff: planted difference at item_{args.expect_culprit} "
                  + ("found" if ok else f"NOT found (found {culprits})"))
            return 0 if ok else 1
        return 1 if failures else 0
    except ToolError as e:
        print(f"rvdiff: {e}", file=sys.stderr)
        return 2
    finally:
        # a disagreement's programs stay for whoever reads the report
        if 'tools' in locals() and not args.workdir and not args.keep:
            if 'failures' in locals() and failures and args.expect_culprit is None:
                print(f"rvdiff: programs kept in {tools.work}")
            else:
                shutil.rmtree(tools.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
