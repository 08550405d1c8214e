// Uncaught C++ exceptions: when std::terminate aborts a thread because of an
// exception, the SIGABRT report names the thread, the exception's type and
// what(), and starts its stack at the throw, not in abort.
//
// ptshim links no C++ runtime. When the program has libstdc++.so.6 loaded at
// start-up, its exception functions are found by symbol version (dlvsym) and
// ptshim's terminate handler is put in front of the one in effect
// (std::set_terminate); a C program has none, and nothing here runs.
//
// What this rests on (libstdc++'s libsupc++, GCC 12):
// - With no handler for it, phase 1 of _Unwind_RaiseException reaches the
//   end of the stack and returns; __cxa_throw (__cxa_rethrow,
//   std::rethrow_exception) then calls __cxa_begin_catch and std::terminate
//   without unwinding anything: at the abort the throw's frames are all on
//   the stack, under abort, the terminate handler, __terminate,
//   std::terminate and __cxa_throw.
// - An exception that reaches a noexcept function (or a destructor) ends
//   phase 2 in the personality routine (__cxa_call_terminate, with the
//   handler in effect at the throw), with the unwinder's frames still on the
//   stack. The frames between the throw and the first one with a cleanup
//   (a destructor to run) are gone by then: the cleanup ran in its frame and
//   resumed the unwind with _Unwind_Resume, so the innermost frame left is
//   the last one whose cleanup ran.
// - terminate "catches" the exception (__cxa_begin_catch): it is the thread's
//   current exception in the handler and at the abort.
//
// Two halves:
// - The terminate handler runs in ordinary context on the thread's own stack,
//   where libstdc++'s verbose handler calls what() too: it notes what() (the
//   only program code this file calls), then calls the handler it displaced,
//   whose message and abort() follow as without ptshim. A program that
//   installs its own handler replaces ptshim's: its handler runs, and if it
//   ends in abort() the report still has the type and the stack, not what().
// - write_terminate_report, from the SIGABRT report (crash.cc), runs no
//   program code: the exception and its type come from libstdc++'s
//   per-thread globals, whether it derives from std::exception from its
//   type_info (libstdc++'s __do_catch, which matches a catch clause), what()
//   from the note.
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
using TerminateHandler = void (*)();

// libstdc++'s entry points, null without libstdc++. Slots of the Itanium
// C++ ABI vtables (libstdc++'s <typeinfo>, <exception>) are named below.
struct CxxRuntime {
  const void* (*current_exception_type)();  // __cxa_current_exception_type
  // std::current_exception(): an exception_ptr (one pointer, the thrown
  // object; null for none or a foreign exception) returned in memory.
  void (*current_exception)(void** result);
  void (*exception_ptr_release)(void** self);  // ~exception_ptr()
  TerminateHandler (*set_terminate)(TerminateHandler);
  const void* exception_typeinfo;  // typeid(std::exception)
  uintptr_t terminate;             // std::terminate()
  uintptr_t cxa_throw;
  uintptr_t cxa_rethrow;
  uintptr_t rethrow_exception;  // std::rethrow_exception(exception_ptr)
};
CxxRuntime g_cxx;
// std::type_info's virtual functions: ~type_info (two slots),
// __is_pointer_p, __is_function_p, __do_catch, __do_upcast.
constexpr size_t kDoCatchSlot = 4;
// std::exception's: ~exception (two slots), what.
constexpr size_t kWhatSlot = 2;
// A std::type_info is its vtable pointer, then its name.
constexpr size_t kTypeNameField = 1;

TerminateHandler g_displaced;  // the handler in effect before ptshim's

// What ptshim's terminate handler saw: the last thread it ran on.
constexpr size_t kWhatMax = 1024;
struct TerminateNote {
  const Thread* thread;
  const void* type;
  bool has_what;
  bool truncated;
  char what[kWhatMax];
};
TerminateNote g_note;
bool g_noting;  // what() threw, or terminate came back while noting

void* const* vtable_of(const void* object) { return *static_cast<void* const* const*>(object); }

// `type` is std::exception or derives from it (publicly, unambiguously): as
// `catch (const std::exception&)` decides. *object is then adjusted to the
// std::exception inside it.
bool derives_from_exception(const void* type, void** object) {
  using DoCatch = bool (*)(const void* self, const void* thrown, void** object, unsigned outer);
  auto do_catch = reinterpret_cast<DoCatch>(vtable_of(g_cxx.exception_typeinfo)[kDoCatchSlot]);
  return do_catch(g_cxx.exception_typeinfo, type, object, 1);
}

void note_current_exception() {
  g_note.thread = nullptr;
  void* object = nullptr;
  g_cxx.current_exception(&object);
  if (object == nullptr) return;
  g_note.type = g_cxx.current_exception_type();
  g_note.has_what = false;
  g_note.thread = current();
  void* base = object;
  if (derives_from_exception(g_note.type, &base)) {
    using What = const char* (*)(const void* self);
    const char* what = reinterpret_cast<What>(vtable_of(base)[kWhatSlot])(base);
    size_t n = 0;
    while (what != nullptr && what[n] != '\0' && n < kWhatMax - 1) {
      g_note.what[n] = what[n];
      ++n;
    }
    g_note.what[n] = '\0';
    g_note.truncated = what != nullptr && what[n] != '\0';
    g_note.has_what = what != nullptr;
  }
  g_cxx.exception_ptr_release(&object);
}

void on_terminate() {
  if (!g_noting && tls_on_scheduler_thread) {
    g_noting = true;
    note_current_exception();
    g_noting = false;
  }
  // libstdc++'s __terminate aborts if this returns.
  if (g_displaced != nullptr) g_displaced();
}

int find_libstdcxx(dl_phdr_info* info, size_t, void* found) {
  const char* base = info->dlpi_name;
  for (const char* p = info->dlpi_name; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  if (strncmp(base, "libstdc++.so", 12) != 0) return 0;
  *static_cast<bool*>(found) = true;
  return 1;
}

void* cxx_symbol(const char* name, const char* version) {
  return dlvsym(RTLD_DEFAULT, name, version);
}

// The function containing the code at `pc` (0: no exported one).
uintptr_t function_at(uintptr_t pc) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 || info.dli_sname == nullptr) return 0;
  return reinterpret_cast<uintptr_t>(info.dli_saddr);
}

// The machinery between the abort and the program: which part a frame is.
enum class Machinery : uint8_t { kNone, kTerminate, kThrow, kRethrow, kUnwinder };

Machinery machinery_of(uintptr_t return_address) {
  uintptr_t pc = return_address - 1;  // inside the call, which may end its function
  if (strncmp(object_of(pc), "libgcc_s.so", 11) == 0) return Machinery::kUnwinder;
  uintptr_t f = function_at(pc);
  if (f == 0) return Machinery::kNone;
  if (f == g_cxx.terminate) return Machinery::kTerminate;
  if (f == g_cxx.cxa_throw) return Machinery::kThrow;
  if (f == g_cxx.cxa_rethrow || f == g_cxx.rethrow_exception) return Machinery::kRethrow;
  return Machinery::kNone;
}

// The type of an exception, from its type_info's name: a mangled type
// without the _Z prefix (St13runtime_error, i, N3app5ErrorE). A leading '*'
// is libstdc++'s mark of a type with internal linkage, not part of it.
void write_type_name(Writer& w, const char* name) {
  if (*name == '*') ++name;  // a type local to one object: compared by address
  static char demangled[512];
  w.str(demangle_type(name, demangled, sizeof demangled) != 0 ? demangled : name);
}

// what() on one line: a newline as \n, other control characters as '?'.
void write_what(Writer& w, const TerminateNote& note) {
  for (const char* p = note.what; *p != '\0'; ++p) {
    if (*p == '\n') {
      w.str("\\n");
    } else {
      w.chr(static_cast<unsigned char>(*p) < 0x20 || *p == 0x7f ? '?' : *p);
    }
  }
  if (note.truncated) w.str("...");
}

void write_exception(Writer& w, const Thread* t, const void* type, void* object) {
  write_type_name(w, static_cast<const char* const*>(type)[kTypeNameField]);
  if (g_note.thread == t && g_note.type == type) {
    if (g_note.has_what) write_what(w.str(": what(): "), g_note);
  } else if (derives_from_exception(type, &object)) {
    w.str(" (what() not read: the program's own terminate handler ran, not ptshim's)");
  }
  w.chr('\n');
}
}  // namespace

void exception_reports_install() {
  bool loaded = false;
  dl_iterate_phdr(find_libstdcxx, &loaded);
  if (!loaded) return;  // a C program: no failed lookups, nothing installed
  CxxRuntime cxx;
  cxx.current_exception_type =
      reinterpret_cast<const void* (*)()>(cxx_symbol("__cxa_current_exception_type", "CXXABI_1.3"));
  cxx.current_exception =
      reinterpret_cast<void (*)(void**)>(cxx_symbol("_ZSt17current_exceptionv", "CXXABI_1.3.3"));
  cxx.exception_ptr_release = reinterpret_cast<void (*)(void**)>(
      cxx_symbol("_ZNSt15__exception_ptr13exception_ptrD1Ev", "CXXABI_1.3.3"));
  cxx.set_terminate = reinterpret_cast<TerminateHandler (*)(TerminateHandler)>(
      cxx_symbol("_ZSt13set_terminatePFvvE", "GLIBCXX_3.4"));
  cxx.exception_typeinfo = cxx_symbol("_ZTISt9exception", "GLIBCXX_3.4");
  cxx.terminate = reinterpret_cast<uintptr_t>(cxx_symbol("_ZSt9terminatev", "GLIBCXX_3.4"));
  cxx.cxa_throw = reinterpret_cast<uintptr_t>(cxx_symbol("__cxa_throw", "CXXABI_1.3"));
  cxx.cxa_rethrow = reinterpret_cast<uintptr_t>(cxx_symbol("__cxa_rethrow", "CXXABI_1.3"));
  cxx.rethrow_exception = reinterpret_cast<uintptr_t>(
      cxx_symbol("_ZSt17rethrow_exceptionNSt15__exception_ptr13exception_ptrE", "CXXABI_1.3.3"));
  if (cxx.current_exception_type == nullptr || cxx.current_exception == nullptr ||
      cxx.exception_ptr_release == nullptr || cxx.set_terminate == nullptr ||
      cxx.exception_typeinfo == nullptr || cxx.terminate == 0 || cxx.cxa_throw == 0 ||
      cxx.cxa_rethrow == 0 || cxx.rethrow_exception == 0) {
    return;  // not the libstdc++ this was written for: the plain SIGABRT report
  }
  g_cxx = cxx;
  g_displaced = g_cxx.set_terminate(on_terminate);
  if (g_displaced == on_terminate) g_displaced = nullptr;
}

bool write_terminate_report(Writer& w, const Thread* t, const void* ucontext) {
  if (g_cxx.current_exception == nullptr || t == nullptr) return false;
  // A reference to the exception, never released: the process is dying, and
  // a release could run its destructor.
  void* object = nullptr;
  g_cxx.current_exception(&object);
  if (object == nullptr) return false;  // none (std::terminate() itself), or not C++'s
  const void* type = g_cxx.current_exception_type();
  // The frames: all of them, or enough to find the machinery when
  // backtraces are off.
  constexpr size_t kProbeFrames = 128;
  uintptr_t probe[kProbeFrames];
  Backtrace all = options().backtraces
                      ? backtrace_running(ucontext)
                      : Backtrace{probe, unwind_running(probe, kProbeFrames), false};
  size_t start = all.first_exact ? 1 : 0;
  while (start < all.n && machinery_of(all.pcs[start]) == Machinery::kNone) ++start;
  if (start == all.n) return false;  // abort() in a catch block: the plain report
  Backtrace thrown =
      from_program_frames(Backtrace{all.pcs + start, all.n - start, false}, /*cxx_runtime=*/true);
  // The outermost part of the machinery above the program's frames says
  // where they begin; an unwinder frame anywhere, that phase 2 called
  // std::terminate.
  Machinery last = Machinery::kNone;
  bool unwinding = false;
  for (const uintptr_t* pc = all.pcs + start; pc < thrown.pcs; ++pc) {
    Machinery m = machinery_of(*pc);
    if (m == Machinery::kNone) continue;
    last = m;
    unwinding = unwinding || m == Machinery::kUnwinder;
  }
  if (last == Machinery::kTerminate) {
    w.str("ptshim: std::terminate() called in ");
    write_thread_name(w, t);
    w.str(" while handling an exception: ");
  } else {
    w.str("ptshim: uncaught exception in ");
    write_thread_name(w, t);
    w.str(": ");
  }
  write_exception(w, t, type, object);
  if (unwinding) {
    w.str(
        "  the unwinder called std::terminate: the exception reached a noexcept function (or a "
        "destructor) on this stack\n");
  }
  if (!options().backtraces) return true;
  switch (last) {
    case Machinery::kTerminate:
      w.str("  called at:\n");
      break;
    case Machinery::kRethrow:
      w.str("  rethrown at:\n");
      break;
    case Machinery::kUnwinder:
      w.str("  thrown in a callee of #0, whose frames were unwound (their destructors ran):\n");
      break;
    default:
      w.str("  thrown at:\n");
      break;
  }
  write_backtrace(w, thrown);
  return true;
}

}  // namespace ptshim
