"""A suspended user thread's context on a live process, as runtime-gdb.py
does for goroutines: the kernel thread's real registers are saved and the
user thread's saved ones written in their place, so bt, frame, up, info
locals and list see that thread; the real ones go back before the inferior
runs again.

gdb 13 has no Python event before a resume, so the restore runs from
hook-<command> definitions for every command that resumes, kills or
detaches (HOOKED, below), defined on the first swap. They replace the
user's own hooks of those commands (README, "Debugging with gdb"). A stop
or exit seen while swapped means a resume went around the hooks: the state
is dropped with a warning.
"""

import gdb

# The commands that resume, kill or detach. `call` and `print` may run
# inferior functions: gdb saves and restores the registers around such a call
# itself.
HOOKED = ("continue", "next", "step", "stepi", "nexti", "finish", "until", "advance",
          "jump", "signal", "run", "start", "starti", "kill", "detach")

RESTORE_COMMAND = "ptshim-restore-registers"

# The real registers while a user thread's are installed: {name: value}; None: not swapped.
_saved = None
_saved_pid = None
_selected = None  # the user thread number installed, or None
_hooks_defined = False


def selected():
    return _selected


def _newest():
    frame = gdb.newest_frame()
    frame.select()
    return frame


def _write(regs):
    """Writes the registers one by one. After each write gdb looks for the
    frame that was selected by walking the new stack; between two writes the
    registers belong to two different stacks, and that walk can go through
    garbage for hundreds of thousands of frames (seconds a thread in
    CPython). A backtrace limit of 1 keeps each walk to frame 0, which is
    the frame selected here."""
    limit = gdb.parameter("backtrace limit")
    gdb.execute("set backtrace limit 1", to_string=True)
    try:
        _newest()
        for name, value in regs.items():
            gdb.execute("set var $%s = %d" % (name, value), to_string=True)
    finally:
        gdb.execute("set backtrace limit %s" % (limit if limit else "unlimited"),
                    to_string=True)
    _newest()


def _define_hooks():
    global _hooks_defined
    if _hooks_defined:
        return
    for command in HOOKED:
        gdb.execute("define hook-%s\n%s\nend" % (command, RESTORE_COMMAND), to_string=True)
    _hooks_defined = True


def install(number, regs):
    """Makes `regs` (a user thread's saved registers) the kernel thread's."""
    global _saved, _saved_pid, _selected
    _define_hooks()
    if _saved is None:
        frame = _newest()
        _saved = {name: int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF
                  for name in regs}
        _saved_pid = gdb.selected_inferior().pid
    else:  # from one user thread to another: the real values are the saved ones
        for name in regs:
            if name not in _saved:
                _saved[name] = int(_newest().read_register(name)) & 0xFFFFFFFFFFFFFFFF
    _write(regs)
    _selected = number


def restore():
    """Puts the real registers back; nothing when none are saved."""
    global _saved, _saved_pid, _selected
    if _saved is None:
        return
    saved, _saved, _selected = _saved, None, None
    if gdb.selected_inferior().pid != _saved_pid or gdb.selected_inferior().pid == 0:
        return  # another process now, or none: nothing to put back
    _write(saved)


def forget(_event=None):
    global _saved, _selected
    if _saved is not None:
        print("ptshim: the inferior ran with a user thread's registers installed "
              "(a resume the hooks did not see); they are forgotten")
    _saved = None
    _selected = None


class RestoreRegisters(gdb.Command):
    """Puts back the kernel thread's real registers after `uthread N` (the hooks call it)."""

    def __init__(self):
        super().__init__(RESTORE_COMMAND, gdb.COMMAND_MAINTENANCE)

    def invoke(self, arg, from_tty):
        restore()


def _on_exited(_event):
    global _saved, _selected
    _saved = None
    _selected = None


def register_events():
    RestoreRegisters()
    gdb.events.exited.connect(_on_exited)
    gdb.events.stop.connect(lambda e: forget(e) if _saved is not None else None)
