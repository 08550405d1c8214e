# Loads ptshim's gdb extension (the ptshim_gdb package beside this file):
#   (gdb) source /path/to/share/ptshim/gdb/ptshim-gdb.py
# Loading it again changes nothing.
import os
import sys

_here = os.path.dirname(os.path.realpath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)
import ptshim_gdb  # noqa: E402

ptshim_gdb.register()
