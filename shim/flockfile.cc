// flockfile, ftrylockfile, funlockfile: a recursive mutex per FILE
// (core/sync/file_lock.cc); while it holds one, a thread is not preempted.
#include <stdio.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT void flockfile(FILE* file) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  mutex_lock(file_lock_of(file), 0, false);
  ++current()->file_locks_held;
}

PTSHIM_EXPORT int ftrylockfile(FILE* file) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  if (mutex_lock(file_lock_of(file), 0, true) != 0) return -1;
  ++current()->file_locks_held;
  return 0;
}

PTSHIM_EXPORT void funlockfile(FILE* file) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  if (mutex_unlock(file_lock_of(file)) == 0 && current()->file_locks_held > 0) {
    --current()->file_locks_held;
  }
}
