// The library's .debug_gdb_scripts entry: gdb, loading libptshim.so from a
// directory in its auto-load safe-path, runs the inline Python script
// (section entry kind 4, SECTION_SCRIPT_ID_PYTHON_TEXT: a name line, then the
// script) that loads scripts/gdb/ptshim_gdb (README, "Debugging with gdb").
// The script is scripts/gdb/autoload.py.in, configured by CMakeLists.txt
// (PTSHIM_GDB_AUTOLOAD_SCRIPT: its path). Not allocated: it costs the
// process nothing; "MS" merges duplicates, as gdb's manual advises.
#ifndef PTSHIM_GDB_AUTOLOAD_SCRIPT
#error "PTSHIM_GDB_AUTOLOAD_SCRIPT: the configured scripts/gdb/autoload.py.in"
#endif

asm(".pushsection .debug_gdb_scripts, \"MS\", @progbits, 1\n"
    ".byte 4\n"
    ".incbin \"" PTSHIM_GDB_AUTOLOAD_SCRIPT
    "\"\n"
    ".byte 0\n"
    ".popsection\n");
