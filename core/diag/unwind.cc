// Backtraces and symbols for reports, with libunwind (local unwinding only).
//
// The running thread is unwound with unw_backtrace, libunwind's fast path,
// which caches each function's frame rule: a 260,000-frame recursion unwinds
// in about 13 ms. Suspended threads are unwound from their saved contexts
// with unw_init_local2 and unw_step. libunwind takes locks through
// pthread_mutex_lock, which is the shim's own: reports run with g_reporting
// set, and the shim passes over a lock a suspended thread holds instead of
// switching (see ShimEntry in shim/shim.h).
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
const char* base_name(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  return base;
}
}  // namespace

void unwind_prepare() {
  elf_symbols_prepare();
  // libunwind initializes itself on first use; do it before any fault can.
  void* frames[4];
  unw_backtrace(frames, 4);
}

size_t unwind_running(uintptr_t* pcs, size_t max) {
  return static_cast<size_t>(unw_backtrace(reinterpret_cast<void**>(pcs), static_cast<int>(max)));
}

size_t unwind_saved(const arch::Context* context, uintptr_t* pcs, size_t max) {
  unw_context_t uc;
  if (!arch::context_for_unwind(context, &uc, sizeof uc)) return 0;
  unw_cursor_t cursor;
  if (unw_init_local2(&cursor, &uc, 0) != 0) return 0;
  size_t n = 0;
  do {
    unw_word_t ip;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    pcs[n++] = ip;
  } while (n < max && unw_step(&cursor) > 0);
  return n;
}

namespace {
// libunwind names a pc by the nearest symbol below it, whatever its size. In
// a stripped object (libc.so.6, libstdc++.so.6) that is an export that may
// end long before the pc, inside a local function without a name: worse than
// no name. The loader knows each export's size (dladdr answers only with a
// symbol that contains the address), so an exported symbol that does not
// contain the pc is dropped; a local one (the object's .symtab, which the
// loader does not see) is kept.
bool misleading_export(uintptr_t pc, uintptr_t start, const char* name) {
  Dl_info at_start;
  if (dladdr(reinterpret_cast<void*>(start), &at_start) == 0 || at_start.dli_sname == nullptr ||
      reinterpret_cast<uintptr_t>(at_start.dli_saddr) != start ||
      strcmp(at_start.dli_sname, name) != 0) {
    return false;  // not an export: a local symbol from .symtab
  }
  Dl_info at_pc;
  return dladdr(reinterpret_cast<void*>(pc), &at_pc) == 0 || at_pc.dli_saddr != at_start.dli_saddr;
}
}  // namespace

const char* object_of(uintptr_t pc) {
  LoadedObject o;
  return loaded_object_of(pc, &o) ? base_name(o.path) : "?";
}

bool symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset) {
  if (code_symbol_of(pc, name, size, offset)) return true;
  // The object's own tables have no symbol containing pc: libunwind's
  // nearest symbol below it would be another function's name.
  if (symbol_tables_final(pc)) return false;
  // unw_get_proc_name wants a cursor: make one whose only content is the pc.
  unw_context_t uc;
  memset(&uc, 0, sizeof uc);
  arch::set_unwind_pc(&uc, pc);
  unw_cursor_t cursor;
  // As a signal frame: libunwind then looks up the pc itself, not pc - 1.
  if (unw_init_local2(&cursor, &uc, UNW_INIT_SIGNAL_FRAME) != 0) return false;
  unw_word_t off = 0;
  if (unw_get_proc_name(&cursor, name, size, &off) != 0) return false;
  *offset = off;
  return !misleading_export(pc, pc - off, name);
}

uintptr_t object_base_of(uintptr_t pc) {
  LoadedObject o;
  return loaded_object_of(pc, &o) ? o.bias : 0;
}

}  // namespace ptshim
