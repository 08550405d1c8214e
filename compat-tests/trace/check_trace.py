#!/usr/bin/env python3
"""usage: check_trace.py LIB PROGRAM [--native]

Runs compat-tests/trace/timeline.c preloaded with LIB and PTSHIM_TRACE (and
PTSHIM_STATS), and checks the trace against what the program did and what
--stats counted:
  - the file is strict JSON (the closing ']' written at exit);
  - running slices of all threads are disjoint (one kernel thread runs them),
    and no thread's running and wait slices overlap;
  - the running slices ended by a switch are as many as the switches --stats
    counts;
  - each wait slice names a real object: the addresses the program printed,
    the global names as reports name them ("mutex accounts (prog+0x...)"),
    the contended mutex's holder, the join's thread, the sleeps;
  - creation events carry the program's own site (main+0x.. (program)), and
    the renamed thread's track is renamed;
  - the program's own check of one kernel thread passed (exit status 0).
Then a crashing run (a null write in a thread) leaves strict JSON ending in
the crashed thread's running slice (main's join still under way), a
deadlocked one (SIGABRT after the report) strict JSON with the mutex wait
still under way and its holder, one that ends by _exit (no destructors)
strict JSON and its --stats block, and a SIGKILLed run leaves an
unterminated array that parses as speedscope and Chrome's trace viewer parse
it (trailing whitespace and comma dropped, ']' appended), and a second
process given the file while the first writes it writes FILE.<pid> instead.
--native: the same runs without LIB, which must fail (no trace is written).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

failures = []


def fail(what):
    failures.append(what)
    print("check_trace: " + what, file=sys.stderr)


def program_env(env_extra, lib, native):
    env = dict(os.environ)
    if not native:
        env["LD_PRELOAD"] = lib
    env.update(env_extra)
    return env


def run(env_extra, args, lib, native, timeout=30):
    env = program_env(env_extra, lib, native)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def load_strict(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode(), parse_float=Decimal)


def load_permissive(path):
    """As speedscope (src/import/utils.ts) and catapult's importer do."""
    with open(path, "rb") as f:
        text = f.read().decode().strip()
    if text.startswith("["):
        text = re.sub(r",\s*$", "", text)
        if not text.endswith("]"):
            text += "]"
    return json.loads(text, parse_float=Decimal)


def slices(events, name=None, cat=None):
    out = []
    for e in events:
        if e.get("ph") != "X":
            continue
        if name is not None and e.get("name") != name:
            continue
        if cat is not None and e.get("cat") != cat:
            continue
        out.append(e)
    return out


def check_disjoint(spans, what):
    spans = sorted(spans, key=lambda e: (e["ts"], e["ts"] + e["dur"]))
    for a, b in zip(spans, spans[1:]):
        if a["ts"] + a["dur"] > b["ts"]:
            fail("%s overlap: %s and %s" % (what, json.dumps(a, default=str), json.dumps(b, default=str)))
            return


def check_timeline(lib, program, native, work):
    trace = os.path.join(work, "timeline.json")
    r = run({"PTSHIM_TRACE": trace, "PTSHIM_STATS": "1"}, [program], lib, native)
    if r.returncode != 0 or "timeline: done" not in r.stdout:
        fail("timeline: exit status %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    if not os.path.exists(trace):
        fail("timeline: no trace file")
        return
    try:
        events = load_strict(trace)
    except ValueError as e:
        fail("timeline: not JSON: %s" % e)
        return
    objects = dict(re.findall(r"^object (\w+ \w+) (0x[0-9a-f]+)$", r.stdout, re.M))
    base = os.path.basename(program)

    running = slices(events, name="running")
    waits = slices(events, cat="wait")
    check_disjoint(running, "running slices")
    for tid in {e["tid"] for e in events}:
        check_disjoint([e for e in running + waits if e["tid"] == tid], "thread %s's slices" % tid)

    last = events[-1]
    if last.get("name") != "running" or last.get("args", {}).get("end") != "exit":
        fail("timeline: the last event is not the final running slice: %s" % last)
    by_switch = [e for e in running if "end" not in e.get("args", {})]
    m = re.search(r"^  switches: (\d+) ", r.stderr, re.M)
    if not m:
        fail("timeline: no --stats switches line")
    elif int(m.group(1)) != len(by_switch):
        fail("timeline: %d running slices ended by a switch, --stats counted %s switches"
             % (len(by_switch), m.group(1)))

    def wait_named(name):
        return [e for e in waits if e["name"] == name]

    for label, kind in (("mutex accounts", "mutex"), ("condvar handoff", "condvar")):
        found = wait_named(label)
        if not found:
            fail("timeline: no wait slice %r" % label)
            continue
        a = found[0]["args"]
        if a.get("kind") != kind or a.get("address") != objects.get(label):
            fail("timeline: %r names %s, the program's is %s" % (label, a, objects.get(label)))
        symbol = label.split()[1]
        if not re.fullmatch(r"%s %s \(%s\+0x[0-9a-f]+\)" % (kind, symbol, re.escape(base)),
                            a.get("object", "")):
            fail("timeline: %r's object is %r" % (label, a.get("object")))
    mutex = wait_named("mutex accounts")
    if mutex and mutex[0]["args"].get("holder") != "thread 2":
        fail("timeline: the mutex wait's holder is %r, want thread 2" % mutex[0]["args"].get("holder"))
    contention = [e for e in events if e.get("ph") == "i" and e.get("cat") == "contention"]
    if not any(e["name"] == "contended mutex accounts" and e["args"].get("holder") == "thread 2"
               for e in contention):
        fail("timeline: no contention instant on mutex accounts held by thread 2")
    if not any(re.fullmatch(r"join thread [234]", e["name"]) for e in waits):
        fail("timeline: no join wait slice")
    if len(wait_named("sleep")) < 3:
        fail("timeline: fewer than 3 sleep slices")
    for e in waits:
        if e["name"] != "sleep" and not e["name"].startswith("join"):
            if e["args"].get("address") not in objects.values():
                fail("timeline: a wait on an object the program did not print: %s" % e)

    creations = [e for e in events if e.get("ph") == "i" and e["name"].startswith("create thread")]
    if len(creations) != 3:
        fail("timeline: %d creation events, want 3" % len(creations))
    site = r"0x[0-9a-f]+ main\+0x[0-9a-f]+ \(%s\)( .*)?" % re.escape(base)
    for e in creations:
        if e["tid"] != 1 or not re.fullmatch(site, e["args"].get("site", "")):
            fail("timeline: creation site %r" % e["args"].get("site"))
    names = [e["args"]["name"] for e in events if e.get("ph") == "M" and e["name"] == "thread_name"]
    if 'thread 3 "renamed"' not in names or 'thread 3 "contender"' not in names:
        fail("timeline: thread 3's names: %s" % names)
    exits = [e for e in events if e.get("ph") == "i" and e["name"] == "exit"]
    if len(exits) != 3:
        fail("timeline: %d exit instants, want 3 (holder, contender, giver)" % len(exits))
    hows = sorted(e.get("args", {}).get("how", "") for e in exits)
    if hows != ["exited", "returned", "returned"]:
        fail("timeline: exits %s, want the giver's pthread_exit and two returns" % hows)
    sites = [e["args"].get("site", "") for e in exits if e.get("args", {}).get("how") == "exited"]
    if not sites or not re.search(r" giver\+0x[0-9a-f]+ ", sites[0]):
        fail("timeline: the pthread_exit's site does not name giver: %s" % sites)


def trace_of_death(lib, program, native, work, mode, sig):
    """Runs `program mode`, which ptshim ends by `sig` (a report's), and
    returns its trace's events, strict JSON; None when there is none."""
    trace = os.path.join(work, mode + ".json")
    try:
        # Natively a deadlock is a hang: a few seconds tell it.
        r = run({"PTSHIM_TRACE": trace}, [program, mode], lib, native, timeout=3 if native else 30)
    except subprocess.TimeoutExpired:
        fail("%s: the program hung (no report, no trace)" % mode)
        return None
    if r.returncode != -sig:
        fail("%s: exit status %d, want death by %s" % (mode, r.returncode, signal.Signals(sig).name))
    try:
        return load_strict(trace)
    except (OSError, ValueError) as e:
        fail("%s: the trace does not parse: %s" % (mode, e))
        return None


def check_crash(lib, program, native, work):
    events = trace_of_death(lib, program, native, work, "crash", signal.SIGSEGV)
    if events is None:
        return
    last = events[-1]
    if last.get("name") != "running" or last.get("args", {}).get("end") != "signal 11" or \
            last.get("tid") != 3:
        fail("crash: the last event is not thread 3's running slice up to signal 11: %s" % last)
    if not any(e.get("ph") == "X" and e["tid"] == 1 and e["name"] == "join thread 3" and
               e["args"].get("end") == "signal 11" for e in events):
        fail("crash: no wait slice of main's join of thread 3, under way at signal 11")


def check_underscore_exit(lib, program, native, work):
    """_exit skips destructors: ptshim ends the trace (and prints --stats) from its own _exit."""
    trace = os.path.join(work, "_exit.json")
    r = run({"PTSHIM_TRACE": trace, "PTSHIM_STATS": "1"}, [program, "_exit"], lib, native)
    if r.returncode != 0:
        fail("_exit: exit status %d\n%s" % (r.returncode, r.stderr))
    if not re.search(r"^ptshim: stats \(pid [0-9]+", r.stderr, re.M):
        fail("_exit: no --stats block: %r" % r.stderr)
    try:
        events = load_strict(trace)
    except (OSError, ValueError) as e:
        fail("_exit: the trace does not parse: %s" % e)
        return
    last = events[-1]
    if last.get("name") != "running" or last.get("args", {}).get("end") != "exit":
        fail("_exit: the last event is not the running slice up to the exit: %s" % last)


def check_deadlock(lib, program, native, work):
    events = trace_of_death(lib, program, native, work, "deadlock", signal.SIGABRT)
    if events is None:
        return
    last = events[-1]
    if last.get("name") != "running" or last.get("args", {}).get("end") != "signal 6":
        fail("deadlock: the last event is not a running slice up to signal 6: %s" % last)
    open_waits = [e for e in slices(events, cat="wait") if e["args"].get("end") == "signal 6"]
    if not any(re.fullmatch(r"mutex (first|second)", e["name"]) and
               re.fullmatch(r"thread [23]", e["args"].get("holder", "")) for e in open_waits):
        fail("deadlock: no mutex wait under way at signal 6, with its holder: %s" % open_waits)
    running = slices(events, name="running")
    check_disjoint(running, "deadlock: running slices")
    for tid in {e["tid"] for e in events}:
        check_disjoint([e for e in running + slices(events, cat="wait") if e["tid"] == tid],
                       "deadlock: thread %s's slices" % tid)


def check_killed(lib, program, native, work):
    trace = os.path.join(work, "killed.json")
    env = program_env({"PTSHIM_TRACE": trace}, lib, native)
    p = subprocess.Popen([program, "spin"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if line != "spinning\n":
            fail("killed: the program said %r" % line)
        time.sleep(0.05)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    try:
        with open(trace, "rb") as f:
            raw = f.read()
    except OSError as e:
        fail("killed: %s" % e)
        return
    if raw.rstrip().endswith(b"]"):
        fail("killed: the array is closed, though nothing could close it")
    try:
        events = load_permissive(trace)
    except ValueError as e:
        fail("killed: the unterminated trace does not parse as speedscope parses it: %s" % e)
        return
    running = slices(events, name="running")
    if len(running) < 100:
        fail("killed: %d running slices, want at least the 100 yields before 'spinning'" % len(running))
    check_disjoint(running, "killed: running slices")


def check_second_writer(lib, program, native, work):
    """A process that finds the file held by another live one writes FILE.<pid>."""
    trace = os.path.join(work, "shared.json")
    env = program_env({"PTSHIM_TRACE": trace}, lib, native)
    first = subprocess.Popen([program, "spin"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        first.stdout.readline()
        r = run({"PTSHIM_TRACE": trace}, [program], lib, native)
        m = re.search(r"^ptshim: PTSHIM_TRACE=%s is being written by another process; "
                      r"this one \(pid (\d+)\) writes %s\.(\d+)$" % (re.escape(trace), re.escape(trace)),
                      r.stderr, re.M)
        if r.returncode != 0 or not m or m.group(1) != m.group(2):
            fail("second writer: exit status %d, stderr %r" % (r.returncode, r.stderr))
            return
        try:
            load_strict("%s.%s" % (trace, m.group(1)))
        except (OSError, ValueError) as e:
            fail("second writer: its own file does not parse: %s" % e)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    try:
        events = load_permissive(trace)
        if not any(e.get("name") == "running" for e in events):
            fail("second writer: the first process's file lost its events")
    except (OSError, ValueError) as e:
        fail("second writer: the first process's file: %s" % e)


def main():
    args = [a for a in sys.argv[1:] if a != "--native"]
    native = "--native" in sys.argv[1:]
    lib, program = args
    with tempfile.TemporaryDirectory() as work:
        check_timeline(lib, program, native, work)
        check_crash(lib, program, native, work)
        check_deadlock(lib, program, native, work)
        check_underscore_exit(lib, program, native, work)
        check_killed(lib, program, native, work)
        check_second_writer(lib, program, native, work)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
