"""ptshim's user threads, read through the library's debugger view.

The library exports one constant, ptshim_debugger_view
(core/diag/debugger_view.cc): named numbers -- Thread field offsets and
sizes, enum values, the addresses of its globals, arch/'s saved-register
tables. Everything here is read through it with the inferior's
read_memory, so it works without the library's DWARF, on a live process
and on a core. No layout is written down here: a key this file needs and
the view lacks, or another version, is an error (view_check).
"""

import struct

import gdb

VERSION = 1
MAGIC = b"ptshimDV"
SYMBOL = "ptshim_debugger_view"

# Every key this package reads: the build's gdb.view test checks that the
# library's view has them all (commands.py, "ptshim-check-view").
KEYS = """
threads current switch_kind switch_kind.fast switch_kind.ucontext
virtual_clock.on virtual_clock.now_ns fatal_report.now_ns
fast_registers ucontext_registers saved_register.size saved_register.name
saved_register.name.size saved_register.offset saved_register.offset.size
saved_register.is_address saved_register.is_address.size thread_pointer_register
thread.size thread.number thread.state thread.wait_kind thread.wait_object
thread.deadline_ns thread.heap_slot thread.all_next thread.is_main thread.name
thread.start_routine thread.c11_start_routine thread.notify_routine thread.callable_code
thread.state_vtable
thread.creator_number thread.context.stack_pointer thread.context.uc
thread.context.thread_pointer thread.held_slots thread.held_bytes thread.io_fds
thread.io_count
state.free state.running state.runnable state.blocked state.exited
wait_kind_names wait_kind_count wait.mutex wait.cond wait.join wait.sleep wait.rw_read
wait.rw_write wait.semaphore wait.io wait.timer
held_lock.size held_lock.object held_lock.site_and_kind held.first held.kind_shift
lock_kind_names lock_kind_count
mutex.owner mutex.kind mutex.kind_shared rwlock.writer rwlock.active_readers
rwlock.shared_flag rwlock.shared_flag_value
pollfd.size pollfd.fd pollfd.events
""".split()

# Keys naming a field: each has a KEY.size entry too.
FIELD_KEYS = [k for k in KEYS if k.startswith(("thread.", "mutex.", "rwlock.", "pollfd.",
                                               "held_lock.", "saved_register."))
              and not k.endswith(".size") and k not in (
                  "thread.size", "held_lock.size", "pollfd.size", "saved_register.size",
                  "mutex.kind_shared", "rwlock.shared_flag_value")]

MAX_THREADS = 1 << 21  # the thread table's slots (core/thread/thread.h)


class NotLoaded(gdb.GdbError):
    pass


def _inferior():
    return gdb.selected_inferior()


def read(address, size):
    try:
        return bytes(_inferior().read_memory(address, size))
    except gdb.MemoryError as e:
        raise gdb.GdbError("ptshim: cannot read 0x%x: %s" % (address, e))


def read_uint(address, size):
    return int.from_bytes(read(address, size), "little")


def read_cstring(address, limit=256):
    data = read(address, limit)
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def view_address():
    """The view's address, or None when no libptshim is loaded."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&" + SYMBOL))
    except gdb.error:
        return None


class View:
    """The library's named numbers, and readers built on them."""

    def __init__(self, address):
        header = read(address, 24)
        magic, version, count, entry_size, header_size = struct.unpack("<8sIIII", header)
        if magic != MAGIC:
            raise gdb.GdbError("ptshim: %s at 0x%x is not a debugger view" % (SYMBOL, address))
        if version != VERSION:
            raise gdb.GdbError("ptshim: the library's debugger view is version %d, this "
                               "extension reads version %d: use the extension installed "
                               "with the library" % (version, VERSION))
        self.address = address
        self.values = {}
        data = read(address + header_size, count * entry_size)
        for i in range(count):
            entry = data[i * entry_size:(i + 1) * entry_size]
            key = entry[:40].split(b"\0", 1)[0].decode()
            addr, number = struct.unpack_from("<QQ", entry, 40)
            self.values[key] = (addr + number) & 0xFFFFFFFFFFFFFFFF
        self.pointer_size = 8
        self._current = None  # read once per View: one command's look

    def __getitem__(self, key):
        try:
            return self.values[key]
        except KeyError:
            raise gdb.GdbError("ptshim: the library's debugger view has no '%s': the "
                               "extension and the library do not match" % key)

    def missing(self):
        need = set(KEYS) | {k + ".size" for k in FIELD_KEYS}
        return sorted(need - set(self.values))

    def field(self, base, key):
        return read_uint(base + self[key], self[key + ".size"])

    def pointer(self, address):
        return read_uint(address, self.pointer_size)

    # ---- threads --------------------------------------------------------------------------
    def threads(self):
        """Every thread not yet freed, as the reports list them."""
        out = []
        t = self.pointer(self["threads"])
        while t != 0 and len(out) < MAX_THREADS:
            out.append(UThread(self, t))
            t = self.field(t, "thread.all_next")
        return out

    def current_address(self):
        if self._current is None:
            self._current = self.pointer(self["current"])
        return self._current

    def _name(self, table, count, index, unknown):
        if index >= self[count]:
            return unknown
        return read_cstring(self.pointer(self[table] + index * self.pointer_size))

    def wait_kind_name(self, kind):
        """The reports' name of a WaitKind ("mutex", "file descriptors", ...)."""
        return self._name("wait_kind_names", "wait_kind_count", kind, "?")

    def lock_kind_name(self, kind):
        """The reports' name of a LockKind ("mutex", "rwlock", ...)."""
        return self._name("lock_kind_names", "lock_kind_count", kind, "lock")

    def virtual_now_ns(self):
        """CLOCK_MONOTONIC under virtual time, else None."""
        if read_uint(self["virtual_clock.on"], 1) == 0:
            return None
        return read_uint(self["virtual_clock.now_ns"], 8)

    def fatal_report_ns(self):
        """When a report the process did not survive began (a crash's core), else None."""
        now = read_uint(self["fatal_report.now_ns"], 8)
        return now or None

    def register_table(self):
        kind = read_uint(self["switch_kind"], 1)
        table = self["fast_registers" if kind == self["switch_kind.fast"]
                     else "ucontext_registers"]
        base_key = ("thread.context.stack_pointer" if kind == self["switch_kind.fast"]
                    else "thread.context.uc")
        entries = []
        size = self["saved_register.size"]
        while True:
            name = read_cstring(table + self["saved_register.name"],
                                self["saved_register.name.size"])
            if not name:
                break
            offset = read_uint(table + self["saved_register.offset"],
                               self["saved_register.offset.size"])
            if offset >= 1 << 31:
                offset -= 1 << 32
            is_address = self.field(table, "saved_register.is_address")
            entries.append((name, offset, is_address))
            table += size
            if len(entries) > 64:
                break
        return base_key, entries


class UThread:
    """One user thread, read on demand."""

    def __init__(self, view, address):
        self.view = view
        self.address = address
        self.number = view.field(address, "thread.number")
        self.state = view.field(address, "thread.state")

    def f(self, key):
        return self.view.field(self.address, "thread." + key)

    @property
    def running(self):
        """On the kernel thread: its registers are the real ones. The current
        thread, whatever its state: blocked too while the kernel thread
        sleeps in the idle path for want of another thread to run."""
        return self.address == self.view.current_address()

    @property
    def exited(self):
        return self.state in (self.view["state.exited"], self.view["state.free"])

    def saved_registers(self):
        """The registers it resumes with: {gdb register name: value}; None if none saved."""
        base_key, entries = self.view.register_table()
        base = self.view.field(self.address, base_key)
        if base == 0:
            return None
        regs = {}
        for name, offset, is_address in entries:
            regs[name] = base + offset if is_address else read_uint(base + offset, 8)
        tp = self.f("context.thread_pointer")
        if tp != 0:
            regs[read_cstring(self.view["thread_pointer_register"], 16)] = tp
        return regs

    def held_locks(self):
        """[(object address, lock kind)] oldest first."""
        v = self.view
        size = v["held_lock.size"]
        count = self.f("held_bytes") // size
        base = self.address + v["thread.held_slots"] + v["held.first"] * size
        out = []
        for i in range(min(count, 64)):
            entry = base + i * size
            obj = v.field(entry, "held_lock.object")
            kind = v.field(entry, "held_lock.site_and_kind") >> v["held.kind_shift"]
            out.append((obj, kind))
        return out
