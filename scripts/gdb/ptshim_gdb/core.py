"""A suspended user thread's context in a core file. A core's registers
cannot be written ("You can't do that without a process to debug"), so on
first use the core is copied with one more gdb thread per suspended user
thread (core_threads.write_core_with_threads: an NT_PRSTATUS note each, LWP
LWP_BASE + the thread's number, carrying its saved registers), the copy is
loaded with `core-file`, and `uthread N` selects gdb's thread for N.
`uthread` alone selects the core's own thread again (the one that was
running when the process died)."""

import os
import re
import tempfile

import gdb

LWP_BASE = 0x40000000

_augmented = {}  # augmented core path -> the original's path
_original_thread = {}  # augmented core path -> gdb thread number of the core's own thread
_selected = None


def selected():
    return _selected


def core_path():
    """The core file gdb has loaded, or None."""
    out = gdb.execute("info target", to_string=True)
    m = re.search(r"Local core dump file:\s*\n\s*`([^']+)'", out)
    return m.group(1) if m else None


def is_core():
    conn = getattr(gdb.selected_inferior(), "connection", None)
    if conn is not None and getattr(conn, "type", None) == "core":
        return True
    return core_path() is not None


def _thread_for_lwp(lwp):
    for th in gdb.selected_inferior().threads():
        if th.ptid[1] == lwp:
            return th
    return None


def ensure_augmented(uthreads):
    """Loads the augmented copy of the core if not yet loaded; returns its path."""
    path = core_path()
    if path in _augmented:
        return path
    try:  # the other half of the core support; loaded only for cores
        from . import core_threads
    except ImportError:
        raise gdb.GdbError("ptshim: a suspended thread's registers in a core need "
                           "ptshim_gdb/core_threads.py, which this installation lacks")

    own = gdb.selected_thread()
    threads = []
    for t in uthreads:
        if t.running or t.exited:
            continue
        regs = t.saved_registers()
        if regs:
            threads.append((LWP_BASE + t.number, regs))
    directory = tempfile.mkdtemp(prefix="ptshim-gdb-")
    copy = os.path.join(directory, os.path.basename(path) + ".uthreads")
    core_threads.write_core_with_threads(path, copy, threads)
    own_lwp = own.ptid[1] if own is not None else None
    gdb.execute("core-file " + copy, to_string=True)
    _augmented[copy] = path
    own_thread = _thread_for_lwp(own_lwp) if own_lwp is not None else None
    _original_thread[copy] = own_thread.num if own_thread is not None else 1
    return copy


def select(number, uthreads):
    global _selected
    ensure_augmented(uthreads)
    th = _thread_for_lwp(LWP_BASE + number)
    if th is None:
        raise gdb.GdbError("ptshim: user thread %d has no saved context in this core" % number)
    th.switch()
    _selected = number


def select_original():
    global _selected
    path = core_path()
    num = _original_thread.get(path)
    for th in gdb.selected_inferior().threads():
        if th.num == num:
            th.switch()  # silent, unlike `thread N`
    _selected = None
