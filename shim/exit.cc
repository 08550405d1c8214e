// _exit and _Exit end the process without exit handlers or destructors, so
// without ptshim's destructor either: what ptshim writes last (--stats, the
// schedule line, the trace's end) is written here first. A shell (dash)
// ends this way, and so do many children after fork.
#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT __attribute__((noreturn)) void _exit(int status) {
  finish_process();
  exit_process_now(status);
}

PTSHIM_EXPORT __attribute__((noreturn)) void _Exit(int status) {
  finish_process();
  exit_process_now(status);
}
