"""The commands: info uthreads [/g], uthread [N], uthread apply all|N... CMD,
and maint ptshim-check-view (the build's check that the library's view
has every key this package reads)."""

import contextlib
import os

import gdb

from . import core, describe, live
from . import view as viewmod

FRAMES_COMPARED = 16  # info uthreads /g: threads whose first frames' pcs all match
RUNTIME_OBJECTS = ("libptshim", "libc.so")  # the reports' rule: leading frames skipped


class Session:
    """One command's look at the inferior."""

    def __init__(self):
        address = viewmod.view_address()
        if address is None:
            raise gdb.GdbError("ptshim: no libptshim.so in this process (%s not found); "
                               "was it started with LD_PRELOAD=libptshim.so?" % viewmod.SYMBOL)
        self.view = viewmod.View(address)
        self.threads = sorted(self.view.threads(), key=lambda t: t.number)
        self.by_address = {t.address: t for t in self.threads}
        self.by_number = {t.number: t for t in self.threads}
        self.names = {t.address: describe.thread_name(t) for t in self.threads}
        self.is_core = core.is_core()

    def find(self, number):
        t = self.by_number.get(number)
        if t is None:
            raise gdb.GdbError("ptshim: no user thread %d" % number)
        return t

    def selected(self):
        return core.selected() if self.is_core else live.selected()

    def running(self):
        cur = self.view.current_address()
        return self.by_address.get(cur)

    # ---- switching the context gdb shows ---------------------------------------------------
    def enter(self, t):
        if t is None or t.running:
            self.enter_running()
            return
        if t.exited:
            raise gdb.GdbError("ptshim: user thread %d has exited" % t.number)
        if self.is_core:
            core.select(t.number, self.threads)
            return
        regs = t.saved_registers()
        if regs is None:
            raise gdb.GdbError("ptshim: user thread %d has no saved context" % t.number)
        live.install(t.number, regs)

    def enter_running(self):
        if self.is_core:
            core.select_original()
        else:
            live.restore()

    @contextlib.contextmanager
    def visiting(self, t):
        before = self.selected()
        self.enter(t)
        try:
            yield
        finally:
            if before is None:
                self.enter_running()
            else:
                self.enter(self.by_number.get(before))


def _frames(limit):
    out = []
    try:
        f = gdb.newest_frame()
        while f is not None and len(out) < limit:
            out.append(f)
            f = f.older()
    except gdb.error:
        pass
    return out


def _in_runtime(pc):
    name = gdb.solib_name(pc)
    return name is not None and os.path.basename(name).startswith(RUNTIME_OBJECTS)


# Source trees that are not the program's own: one-line sites in reports skip
# their inlined frames too (core/diag/symbolizer.cc).
SYSTEM_SOURCES = ("/usr/include/", "/rustc/")


def _in_program(f):
    """A frame of the program's own code: not in ptshim, libc or another runtime
    object, nor a system header's template inlined into the program."""
    if _in_runtime(f.pc()):
        return False
    try:
        sal = f.find_sal()
    except gdb.error:
        return True
    return sal.symtab is None or not sal.symtab.filename.startswith(SYSTEM_SOURCES)


def _frame_text(f):
    name = f.name()
    if name is None:
        sym = describe.symbol_at(f.pc())
        name = sym[0] if sym else describe.where(f.pc())
    try:
        sal = f.find_sal()
    except gdb.error:
        sal = None
    if sal is not None and sal.symtab is not None:
        return "%s (%s:%d)" % (name, os.path.basename(sal.symtab.filename), sal.line)
    return name


def _top_frame(frames):
    """The first frame of the program's own code (the reports' rule), else the first."""
    for f in frames:
        if _in_program(f):
            return _frame_text(f)
    return _frame_text(frames[0]) if frames else "?"


class InfoUthreads(gdb.Command):
    """List ptshim's user threads: number, name, state, top frame; * marks the running one.
Usage: info uthreads [/g]
/g groups threads whose stacks are the same (the pcs of their first 16 frames)."""

    def __init__(self):
        super().__init__("info uthreads", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        group = arg.strip() == "/g"
        if arg.strip() not in ("", "/g"):
            raise gdb.GdbError("ptshim: unknown flag %r (usage: info uthreads [/g])" % arg.strip())
        s = Session()
        rows = []
        unwound_not = None  # why suspended threads' frames could not be read (a core)
        for t in s.threads:
            state = describe.state_text(t, s.by_address, s.names, s.is_core)
            held = [] if t.exited else t.held_locks()
            if t.exited:
                rows.append((t, state, "", (), held))
                continue
            try:
                with s.visiting(t):
                    frames = _frames(FRAMES_COMPARED + 8)
                    top = _top_frame(frames)
                    key = tuple(f.pc() for f in frames[:FRAMES_COMPARED])
            except gdb.GdbError as e:
                unwound_not = str(e)
                top, key = "?", ("?", t.number)
            rows.append((t, state, top, key, held))
        if group:
            self._groups(s, rows)
        else:
            self._lines(s, rows)
        if unwound_not:
            print("(top frames unknown: %s)" % unwound_not)

    def _lines(self, s, rows):
        width = max([len(s.names[t.address]) for t, *_ in rows] + [4]) + 2
        for t, state, top, _key, held in rows:
            mark = "*" if t.running else " "
            where = "  in " + top if top else ""
            print("%s %-4d %-*s %s%s" % (mark, t.number, width, '"%s"' % s.names[t.address],
                                         state, where))
            for obj, kind in held:
                print("         holds " +
                      describe.lock_name(s.view.lock_kind_name(kind), obj))

    def _groups(self, s, rows):
        groups = {}
        order = []
        for row in rows:
            key = (row[3], row[2]) if row[3] else ("exited", row[1])
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(row)
        for key in order:
            members = groups[key]
            t, state, top, _k, _h = members[0]
            numbers = _number_list([m[0] for m in members])
            where = "  in " + top if top else ""
            print("%4d thread%s (%s): %s%s" % (len(members), "" if len(members) == 1 else "s",
                                              numbers, state if len(members) == 1 else
                                              _common_state(members), where))


def _common_state(members):
    """The first member's state; "e.g." when the members wait for different
    things (a deadline's time left may differ: that does not count)."""
    waits = {m[1].split(", ", 1)[0] for m in members}
    return members[0][1] if len(waits) == 1 else "e.g. " + members[0][1]


GROUP_LISTED = 24  # thread numbers a group line lists before "... N more"


def _number_list(threads):
    """"2, 5-9, *11": runs of consecutive numbers as ranges, the running one starred."""
    parts = []
    run = []

    def flush():
        if run:
            parts.append("%d-%d" % (run[0], run[-1]) if len(run) > 2 else
                         ", ".join(str(n) for n in run))
            run.clear()

    for t in threads:
        if t.running:
            flush()
            parts.append("*%d" % t.number)
        elif run and t.number == run[-1] + 1:
            run.append(t.number)
        else:
            flush()
            run.append(t.number)
    flush()
    items = ", ".join(parts).split(", ")
    if len(items) > GROUP_LISTED:
        return ", ".join(items[:GROUP_LISTED]) + ", ... %d more" % (len(items) - GROUP_LISTED)
    return ", ".join(items)


class Uthread(gdb.Command):
    """Show user thread N's saved context: bt, frame, up, info locals and list then see it
(the first frame outside ptshim and libc is selected).
Usage: uthread N      thread N's context
       uthread        back to the running thread's (the real registers)
       uthread apply all|N... CMD   run CMD in each listed thread's context"""

    def __init__(self):
        super().__init__("uthread", gdb.COMMAND_STACK, prefix=True)

    def invoke(self, arg, from_tty):
        s = Session()
        arg = arg.strip()
        if not arg:
            s.enter_running()
            cur = s.running()
            if cur is not None:
                print("[Back to the running user thread %d \"%s\"]" %
                      (cur.number, s.names[cur.address]))
        else:
            try:
                number = int(arg, 0)
            except ValueError:
                raise gdb.GdbError("ptshim: not a user thread number: '%s' "
                                   "(usage: uthread [N] | uthread apply all|N... CMD)" % arg)
            t = s.find(number)
            s.enter(t)
            print("[Switching to user thread %d \"%s\"]" % (t.number, s.names[t.address]))
        _select_program_frame()
        gdb.execute("frame", from_tty)


def _select_program_frame():
    """Selects the first frame of the program's own code, as reports start there;
    `bt` still shows every frame from #0."""
    for f in _frames(64):
        if _in_program(f):
            f.select()
            return


class UthreadApply(gdb.Command):
    """Run a command in the context of each listed user thread.
Usage: uthread apply all CMD | uthread apply N [M-K ...] CMD"""

    def __init__(self):
        super().__init__("uthread apply", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        s = Session()
        words = arg.split()
        targets = []
        i = 0
        if words and words[0] == "all":
            targets = [t for t in s.threads if not t.exited]
            i = 1
        else:
            while i < len(words):
                w = words[i]
                if "-" in w and w.replace("-", "").isdigit():
                    lo, hi = w.split("-", 1)
                    targets += [s.find(n) for n in range(int(lo), int(hi) + 1)]
                elif w.isdigit():
                    targets.append(s.find(int(w)))
                else:
                    break
                i += 1
        command = " ".join(words[i:])
        usage = "(usage: uthread apply all|N... CMD)"
        if not targets:
            what = "'%s' is not a thread number or range" % words[0] if words else "no threads"
            raise gdb.GdbError("ptshim: %s %s" % (what, usage))
        if not command:
            raise gdb.GdbError("ptshim: no command to run in the threads %s" % usage)
        for t in targets:
            state = describe.state_text(t, s.by_address, s.names, s.is_core)
            print("\nUser thread %d \"%s\" (%s):" % (t.number, s.names[t.address], state))
            if t.exited:
                continue
            with s.visiting(t):
                try:
                    gdb.execute(command, from_tty)
                except gdb.error as e:
                    print(e)


class CheckView(gdb.Command):
    """Check that the library's debugger view has every key this extension reads."""

    def __init__(self):
        super().__init__("maint ptshim-check-view", gdb.COMMAND_MAINTENANCE)

    def invoke(self, arg, from_tty):
        address = viewmod.view_address()
        if address is None:
            raise gdb.GdbError("ptshim: %s not found" % viewmod.SYMBOL)
        v = viewmod.View(address)
        missing = v.missing()
        if missing:
            raise gdb.GdbError("ptshim: the view lacks " + " ".join(missing))
        needed = len(set(viewmod.KEYS) | {k + ".size" for k in viewmod.FIELD_KEYS})
        print("ptshim debugger view: version %d, %d keys, all %d the extension reads present"
              % (viewmod.VERSION, len(v.values), needed))


def register():
    InfoUthreads()
    Uthread()
    UthreadApply()
    CheckView()
    live.register_events()
