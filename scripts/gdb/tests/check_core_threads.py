"""Checks of ptshim_gdb/core_threads.py on a real core (run by scripts/gdb/check-core-threads.sh).

  python3 check_core_threads.py PROGRAM CORE SCRATCH_DIR

CORE is a core of PROGRAM (scripts/gdb/tests/parked-and-crash.c): thread 1
aborted in crash_in_known_place, thread 2 blocks in parked_in_known_place.
Thread 2's registers, as gdb reads them from CORE, are given to two new
threads (all of them; only what a saved user context holds), and gdb must
show each new thread with thread 2's backtrace and leave threads 1 and 2 as
they were. Then the same across PN_XNUM, and refused inputs. Prints ok/FAIL
lines; exit status 1 if any failed.
"""

import importlib.util
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "core_threads", os.path.join(HERE, "..", "ptshim_gdb", "core_threads.py"))
core_threads = importlib.util.module_from_spec(spec)
spec.loader.exec_module(core_threads)

program, core, scratch = sys.argv[1:4]
failed = 0


def ok(name):
    print("ok   " + name)


def bad(name, *details):
    global failed
    failed += 1
    print("FAIL " + name)
    for d in details:
        for line in str(d).splitlines() or [""]:
            print("     " + line)


def check(name, condition, *details):
    ok(name) if condition else bad(name, *details)


def gdb(corefile, *commands):
    """gdb -batch on PROGRAM and corefile; stdout and stderr together, as a user sees them."""
    argv = ["gdb", "-batch", "-nx", "-ex", "set debuginfod enabled off", "-ex", "set pagination off",
            "-ex", "set width 0"]
    for c in commands:
        argv += ["-ex", c]
    argv += [program, corefile]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=60).stdout


def views(corefile, threads, *extra):
    """One gdb run: (info threads, {thread: its bt, registers and extra commands}, all of it)."""
    commands = ["info threads", "echo <end>\\n"]
    for t in threads:
        commands += ["thread %d" % t, "echo <bt>\\n", "bt", "echo </bt>\\n", "info registers " + REGS]
        commands += list(extra) + ["echo <end>\\n"]
    text = gdb(corefile, *commands)
    parts = text.split("<end>\n")
    return parts[0], dict(zip(threads, parts[1:])), text


def functions(output):
    """The function of each frame of the bt between views' markers, outermost last."""
    bt = output.partition("<bt>\n")[2].partition("</bt>")[0]
    return re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", bt, re.M)


def registers(output):
    return {m.group(1): int(m.group(2), 16)
            for m in re.finditer(r"^(\w+)\s+0x([0-9a-f]+)\b", output, re.M)}


def thread_count(output):
    return len(re.findall(r"^[ *] +\d+ +(?:Thread|LWP|process)", output, re.M))


REGS = " ".join(core_threads.REGISTERS)


def warnings(output):
    return set(line for line in output.splitlines() if "warning" in line.lower())


threads_before, original, original_text = views(core, (1, 2))
parked = registers(original[2])
parked_bt = functions(original[2])
crash_bt = functions(original[1])
if len(parked) != 27 or "parked_in_known_place" not in parked_bt or "crash_in_known_place" not in crash_bt:
    bad("original-core", "the core is not the one expected (2 threads in known places)",
        threads_before, original[1], original[2])
    sys.exit(1)
ok("original-core: thread 2 in " + " <- ".join(parked_bt))

# What a user thread's saved context holds: callee-saved registers, rsp, rip,
# and the thread pointer (TLS); the rest defaults (cs, ss, eflags from thread 1).
SAVED = ("rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15", "fs_base")
FULL, PARTIAL = 0x40000001, 0x40000002


def check_augmented(label, augmented, first_new):
    """gdb sees threads 1, 2 as in the original, first_new and first_new+1 as thread 2."""
    out, thread, text = views(augmented, (1, 2, first_new))
    _, partial, partial_text = views(augmented, (first_new + 1,), "info locals", "p $xmm0")
    expected = first_new + 1
    check(label + ": info threads shows %d threads" % expected, thread_count(out) == expected, out)
    check(label + ": new threads carry their LWPs",
          "LWP %d" % FULL in out and "LWP %d" % PARTIAL in out, out)
    check(label + ": still terminated by the original signal",
          "Program terminated with signal SIGABRT" in out, out)
    new_warnings = (warnings(text) | warnings(partial_text)) - warnings(original_text)
    check(label + ": no new gdb warnings", not new_warnings, *sorted(new_warnings))
    for t in (1, 2):
        now = thread[t]
        check(label + ": thread %d unchanged (bt, registers)" % t,
              functions(now) == functions(original[t]) and registers(now) == registers(original[t]),
              now)
    full = thread[first_new]
    check(label + ": thread %d (all registers) has thread 2's bt" % first_new,
          functions(full) == parked_bt, full)
    check(label + ": thread %d has thread 2's registers" % first_new,
          registers(full) == parked, full)
    part = partial[first_new + 1]
    got = registers(part)
    check(label + ": thread %d (saved context only) has thread 2's bt" % (first_new + 1),
          functions(part) == parked_bt, part)
    defaults_right = (all(got.get(r) == parked[r] for r in SAVED + ("cs", "ss", "eflags"))
                      and got.get("rax") == 0 and got.get("orig_rax") == 0)
    check(label + ": thread %d: given registers, cs/ss/eflags of thread 1, others 0" % (first_new + 1),
          defaults_right, part)
    check(label + ": thread %d: FP registers unavailable, no error" % (first_new + 1),
          "<unavailable>" in part and "rror" not in part, part)


new_threads = [(FULL, parked), (PARTIAL, {r: parked[r] for r in SAVED})]
augmented = os.path.join(scratch, "augmented.core")
core_threads.write_core_with_threads(core, augmented, new_threads)
check_augmented("augmented", augmented, 3)
src_blocks, dst_blocks = os.stat(core).st_blocks, os.stat(augmented).st_blocks
check("augmented: sparse as the original (%d vs %d blocks)" % (dst_blocks, src_blocks),
      dst_blocks <= src_blocks + 64)


def padded_to(src, dst, phnum):
    """dst: src with PT_NULL program headers up to phnum entries (a table moved to the end)."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phnum, = struct.unpack_from("<H", data, 56)
    table = bytes(data[e_phoff:e_phoff + 56 * e_phnum]) + bytes(56 * (phnum - e_phnum))
    data += bytes(-len(data) % 8)
    struct.pack_into("<Q", data, 32, len(data))
    struct.pack_into("<H", data, 56, phnum)
    with open(dst, "wb") as f:
        f.write(data + table)


# PN_XNUM: a core with 0xfffe program headers gets its 0xffff-th, so the count
# moves to section header 0; a second round extends one already in PN_XNUM.
many = os.path.join(scratch, "many.core")
padded_to(core, many, 0xFFFE)
xnum = os.path.join(scratch, "xnum.core")
core_threads.write_core_with_threads(many, xnum, new_threads[:1])
with open(xnum, "rb") as f:
    head = f.read(64)
check("pn_xnum: e_phnum is PN_XNUM", struct.unpack_from("<H", head, 56)[0] == 0xFFFF)
xnum2 = os.path.join(scratch, "xnum2.core")
core_threads.write_core_with_threads(xnum, xnum2, new_threads[1:])
check_augmented("pn_xnum", xnum2, 3)

# Refused inputs: clear errors, no output left behind.
garbage = os.path.join(scratch, "garbage")
with open(garbage, "wb") as f:
    f.write(b"not an ELF file at all" * 10)
for name, src, threads, error, words in (
        ("garbage", garbage, new_threads, core_threads.CoreFileError, "not an ELF"),
        ("executable", program, new_threads, core_threads.CoreFileError, "not a core"),
        ("lwp-taken", core, [(FULL, parked), (FULL, parked)], ValueError, "already"),
        ("lwp-zero", core, [(0, parked)], ValueError, "LWP 0"),
        ("unknown-register", core, [(FULL, {"xmm0": 1})], ValueError, "xmm0")):
    dst = os.path.join(scratch, "refused." + name)
    try:
        core_threads.write_core_with_threads(src, dst, threads)
        bad("refuses " + name, "no exception")
    except error as e:
        check("refuses " + name + ": " + str(e), words in str(e) and not os.path.exists(dst))

sys.exit(1 if failed else 0)
