"""gdb commands for programs run under ptshim, whose user threads all run on
one kernel thread (so gdb's `info threads` shows one): info uthreads,
uthread N, uthread apply. See README.md, "Debugging with gdb".

Loaded by the library's .debug_gdb_scripts entry, by the auto-load file
installed beside gdb's, or by `source .../ptshim-gdb.py`; loading it again
changes nothing."""

_registered = False


def register():
    global _registered
    if _registered:
        return
    from . import commands

    commands.register()
    _registered = True
