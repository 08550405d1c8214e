"""Names and states of user threads, as ptshim's reports write them
(core/diag/thread_text.cc), with gdb's own symbol lookup in place of the
library's."""

import re
import time

import gdb

from . import view as viewmod

_INFO_SYMBOL = re.compile(r"^(.*?)(?: \+ (\d+))? in section (\S+)(?: of (.*))?$")


def symbol_at(address):
    """(name, offset) of the symbol containing address, or None (gdb's `info symbol`)."""
    if address == 0:
        return None
    try:
        out = gdb.execute("info symbol 0x%x" % address, to_string=True).strip()
    except gdb.error:
        return None
    m = _INFO_SYMBOL.match(out.splitlines()[0] if out else "")
    if not m:
        return None
    return m.group(1), int(m.group(2) or 0)


def _load_biases():
    """{object path: load bias} from the dynamic linker's list (_r_debug's
    link_maps: l_addr, l_name, l_ld, l_next), the base the reports print
    offsets from (dl_iterate_phdr's dlpi_addr). The program's own entry has
    an empty name: its key is "". Read from memory, so a core has it too."""
    biases = {}
    try:
        r_debug = int(gdb.parse_and_eval("(unsigned long)&_r_debug"))
    except gdb.error:
        return biases
    try:
        link_map = viewmod.read_uint(r_debug + 8, 8)  # r_version (int, padded), r_map
        for _ in range(4096):
            if link_map == 0:
                break
            l_addr = viewmod.read_uint(link_map, 8)
            name = viewmod.read_cstring(viewmod.read_uint(link_map + 8, 8))
            biases.setdefault(name, l_addr)
            link_map = viewmod.read_uint(link_map + 24, 8)
    except gdb.GdbError:
        pass
    return biases


def where(address):
    """The object and offset of an address, as reports print a symbol-less
    frame: "libfoo.so+0x1234", the offset from the object's load bias."""
    name = gdb.solib_name(address)
    biases = _load_biases()
    if name is None:
        progspace = gdb.selected_inferior().progspace
        name = progspace.filename or "?"
        bias = biases.get("", 0)
    else:
        bias = biases.get(name, 0)
    return "%s+0x%x" % (name.rsplit("/", 1)[-1], address - bias)


_INVOKER_TUPLE = "std::thread::_Invoker<std::tuple<"


def callable_of(state_vtable):
    """A std::thread / std::jthread / std::async thread's callable, as the
    reports name it (core/diag/callable_name.cc): the first template argument
    of the innermost _Invoker<std::tuple<...> > in the class of libstdc++'s
    state object, whose vtable the library recorded at creation; None if the
    vtable has no symbol or another shape."""
    sym = symbol_at(state_vtable)
    if not sym or not sym[0].startswith("vtable for "):
        return None
    text = sym[0]
    at = text.rfind(_INVOKER_TUPLE)
    if at < 0:
        return None
    inner = text[at + len(_INVOKER_TUPLE):]
    depth = 0
    for i, ch in enumerate(inner):
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            if depth == 0:
                return inner[:i].rstrip() or None
            depth -= 1
        elif ch == "," and depth == 0:
            return inner[:i].rstrip() or None
    return None


def thread_name(t):
    """What the reports name a thread after: its pthread_setname_np name,
    "main", its std::thread's callable, or its start routine's symbol."""
    raw = viewmod.read(t.address + t.view["thread.name"], t.view["thread.name.size"])
    name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    if name:
        return name
    if t.f("is_main"):
        return "main"
    vtable = t.f("state_vtable")
    callable_name = callable_of(vtable) if vtable != 0 else None
    if callable_name is not None:
        is_pointer = "(*)" in callable_name or "::*)" in callable_name
        if not is_pointer or t.f("callable_code") == 0:
            return callable_name  # a pointer's function, when known, is named below
    for key in ("callable_code", "notify_routine", "c11_start_routine", "start_routine"):
        start = t.f(key)
        if start != 0:
            sym = symbol_at(start)
            if sym and sym[1] == 0:
                return sym[0]
            return where(start)
    return "?"


def lock_name(kind_name, address):
    sym = symbol_at(address)
    if sym:
        text = sym[0] if sym[1] == 0 else "%s+%d" % sym
        return "%s %s (0x%x)" % (kind_name, text, address)
    return "%s 0x%x" % (kind_name, address)


def now_ns(v, is_core):
    """CLOCK_MONOTONIC now, or None when there is no now: a core on real time
    that no fatal report wrote (a gcore's), whose time is the crash's. Read
    once per command (per view): gdb may take seconds over a command's
    threads while the stopped program's deadlines stay where they are."""
    if not hasattr(v, "now_snapshot"):
        virtual = v.virtual_now_ns()
        if virtual is not None:
            v.now_snapshot = virtual
        elif is_core:
            v.now_snapshot = v.fatal_report_ns()
        else:
            v.now_snapshot = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return v.now_snapshot


def time_left(v, deadline_ns, is_core):
    now = now_ns(v, is_core)
    if now is None:  # a gcore: no clock to compare with; the deadline itself
        return "deadline at %.3f s CLOCK_MONOTONIC" % (deadline_ns / 1e9)
    left = "%d ms left" % (max(deadline_ns - now, 0) // 1000000)
    return left + " at the crash" if is_core and v.virtual_now_ns() is None else left


def state_text(t, by_address, names, is_core):
    """"running", "waiting on mutex m (0x..) held by thread 2 \"holder\"", ..."""
    v = t.view
    s = t.state
    if s == v["state.exited"]:
        return "exited, not joined"
    if s == v["state.running"]:
        return "running"
    if s == v["state.runnable"]:
        return "runnable"
    if s == v["state.free"]:
        return "gone"
    kind = t.f("wait_kind")
    obj = t.f("wait_object")
    timed = t.f("heap_slot") != 0
    deadline = t.f("deadline_ns")

    def holder(address):
        h = by_address.get(address)
        if h is None:
            return "a thread that no longer exists"
        return 'thread %d "%s"' % (h.number, names.get(h.address) or thread_name(h))

    if kind == v["wait.mutex"]:
        text = "waiting on " + lock_name("mutex", obj)
        if v.field(obj, "mutex.kind") & v["mutex.kind_shared"] == 0:
            owner = v.field(obj, "mutex.owner")
            if owner == 0:
                text += " (unlocked)"
            else:
                text += " held by " + holder(owner)
                if owner == t.address:
                    text += " (itself)"
    elif kind in (v["wait.rw_read"], v["wait.rw_write"]):
        read = kind == v["wait.rw_read"]
        text = "waiting on %s (to %s)" % (lock_name("rwlock", obj), "read" if read else "write")
        if v.field(obj, "rwlock.shared_flag") != v["rwlock.shared_flag_value"]:
            writer = v.field(obj, "rwlock.writer")
            readers = v.field(obj, "rwlock.active_readers")
            if writer != 0:
                text += " held by " + holder(writer)
            elif readers:
                text += " held by %d reader(s)" % readers
    elif kind == v["wait.cond"]:
        text = "waiting on " + lock_name("condvar", obj)
    elif kind == v["wait.semaphore"]:
        text = "waiting on " + lock_name("semaphore", obj)
    elif kind == v["wait.join"]:
        text = "joining " + holder(obj)
    elif kind == v["wait.sleep"]:
        text = "sleeping"
    elif kind == v["wait.io"]:
        text = "waiting on file descriptors " + fd_list(t)
    elif kind == v["wait.timer"]:
        text = "waiting for timers"
    else:
        text = "waiting on %s 0x%x" % (v.wait_kind_name(kind), obj)
    if timed:
        text += ", " + time_left(v, deadline, is_core)
    return text


def fd_list(t):
    v = t.view
    fds = t.f("io_fds")
    count = min(t.f("io_count"), 16)
    parts = []
    for i in range(count):
        p = fds + i * v["pollfd.size"]
        fd = v.field(p, "pollfd.fd")
        if fd >= 1 << 31:
            fd -= 1 << 32
        events = v.field(p, "pollfd.events")
        how = "/".join(w for w, bit in (("in", 0x1), ("out", 0x4)) if events & bit) or "-"
        parts.append("%d (%s)" % (fd, how))
    more = " ..." if t.f("io_count") > count else ""
    return "fd " + ", ".join(parts) + more if parts else "(none)"
