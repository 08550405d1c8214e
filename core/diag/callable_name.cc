// What a std::thread, std::jthread or std::async thread is named after: the
// callable the program gave it, not libstdc++'s start routine.
//
// libstdc++ (src/c++11/thread.cc, include/bits/std_thread.h) starts every
// such thread with pthread_create(execute_native_thread_routine, state): a
// static function of its own, and a heap object of class
//   std::thread::_State_impl<std::thread::_Invoker<std::tuple<CALLABLE, ARGS...> > >
// instantiated in the program, whose first word is its vtable pointer. The
// vtable (in the program's read-only data, like its type_info) names the
// callable: by the type_info's name when the program has RTTI, else by the
// symbol of its _M_run (slot 2, after the two destructors of _State's
// virtual destructor). std::async's thread runs a member of
// std::__future_base::_Async_state_impl<std::thread::_Invoker<std::tuple<FN...
// so the innermost _Invoker names the callable there.
//
// INVARIANTS
// - The trampoline is recognised without its (local, stripped) name: the
//   first start routine whose argument is such a state object is it. After
//   that, creation costs one comparison, and one load for its threads (their
//   argument is libstdc++'s own, live object): the vtable, which outlives
//   every thread. Other start routines are remembered as not it. The name
//   is made (demangled, parsed) only when a report writes it, but for the
//   class of a thread's state once at its first creation (below).
// - Any memory this file reads before trusting it is read with
//   process_vm_readv on the process itself (read_memory): a report may run
//   with a corrupted heap, and a pointer that is not what it seems then
//   gives "not readable", never a fault. write() into a pipe would do the
//   same but needs two descriptors kept open behind the program's back.
// - The state object is freed when the thread's callable returns, so what
//   a pointer callable calls (t1 of std::thread(t1)) is taken at creation:
//   where that word lies is learned once per class (the first word of the
//   tuple in an executable segment), then it is one load (callable_code).
//   Reports read no heap object at all.
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
// In a loaded object's PT_LOAD segment with these p_flags (a non-PIE
// program's load address is 0, so object_base_of cannot tell).
bool in_segment(uintptr_t address, uint32_t flags) {
  LoadedObject o;
  return loaded_object_of(address, &o) && (o.segment_flags & flags) == flags;
}
}  // namespace

bool read_memory(uintptr_t address, void* out, size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  static long pid;
  if (pid == 0) pid = arch::raw_syscall(SYS_getpid);
  long n = arch::raw_syscall(SYS_process_vm_readv, pid, reinterpret_cast<long>(&local), 1,
                             reinterpret_cast<long>(&remote), 1, 0);
  if (n == static_cast<long>(size)) return true;
  // A sandbox without process_vm_readv: what is inside a loaded object's
  // segments can still be read directly; the heap cannot.
  if ((n == -ENOSYS || n == -EPERM) && in_segment(address, PF_R) &&
      in_segment(address + size - 1, PF_R)) {
    memcpy(out, reinterpret_cast<const void*>(address), size);
    return true;
  }
  return false;
}

namespace {
bool read_word(uintptr_t address, uintptr_t* out) { return read_memory(address, out, sizeof *out); }

// A NUL-terminated string at `address`, a page at a time (a read that
// crosses into an unmapped page fails whole).
bool read_string(uintptr_t address, char* out, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    size_t chunk = page_size() - (address + n) % page_size();
    if (chunk > size - 1 - n) chunk = size - 1 - n;
    if (!read_memory(address + n, out + n, chunk)) return false;
    for (size_t end = n + chunk; n < end; ++n) {
      if (out[n] == '\0') return true;
    }
  }
  out[n] = '\0';
  return false;  // longer than the buffer
}

constexpr char kStateTypePrefix[] = "NSt6thread11_State_implI";   // type_info::name()
constexpr char kStateRunPrefix[] = "_ZNSt6thread11_State_implI";  // _M_run's symbol
constexpr size_t kRunSlot = 2;                                    // after the two destructors
constexpr char kInvokerTuple[] = "std::thread::_Invoker<std::tuple<";

// The mangled name of the state object's class, from its vtable: its
// type_info's name, or its _M_run's symbol (without RTTI). Empty: neither.
bool state_class_name(uintptr_t vtable, char* out, size_t size, bool* is_symbol) {
  uintptr_t type_info;
  if (!read_word(vtable - sizeof(uintptr_t), &type_info)) return false;
  uintptr_t name;
  if (type_info != 0 && read_word(type_info + sizeof(uintptr_t), &name) &&
      read_string(name, out, size)) {
    if (out[0] == '*') {  // a type of internal linkage
      for (char* p = out; *p != '\0'; ++p) p[0] = p[1];
    }
    *is_symbol = false;
    return true;
  }
  uintptr_t run, offset;
  if (!read_word(vtable + kRunSlot * sizeof(uintptr_t), &run)) return false;
  *is_symbol = true;
  return symbol_of(run, out, size, &offset) && offset == 0;
}

bool is_state_vtable(uintptr_t vtable) {
  if (!in_segment(vtable, PF_R)) return false;  // a vtable is in a loaded object
  static char name[1024];
  bool is_symbol;
  if (!state_class_name(vtable, name, sizeof name, &is_symbol)) return false;
  const char* prefix = is_symbol ? kStateRunPrefix : kStateTypePrefix;
  return strncmp(name, prefix, strlen(prefix)) == 0;
}

// libstdc++'s execute_native_thread_routine, once seen; until then 1, which
// no start routine is (thrd_create's and ptshim's own threads pass none: 0).
constexpr uintptr_t kNotSeen = 1;
uintptr_t g_trampoline = kNotSeen;
uintptr_t g_not_trampoline[16];  // start routines seen with arguments that are no state

uintptr_t state_vtable_of(void* (*start)(void*), void* arg) {
  auto routine = reinterpret_cast<uintptr_t>(start);
  if (routine == g_trampoline) return *static_cast<const uintptr_t*>(arg);
  uintptr_t& seen = g_not_trampoline[(routine >> 4) % 16];
  if (routine == seen || routine == 0) return 0;
  uintptr_t vtable;
  NoSchedulingPoint inside_ptshim;  // symbol_of's libunwind locks are not the program's
  if (g_trampoline == kNotSeen && read_word(reinterpret_cast<uintptr_t>(arg), &vtable) &&
      is_state_vtable(vtable)) {
    g_trampoline = routine;
    return vtable;
  }
  seen = routine;
  return 0;
}

// The callable's part of a state class's demangled name: the first template
// argument of the innermost std::thread::_Invoker<std::tuple<...>>, bracket
// balanced ("main::{lambda()#1}", "void (*)()", "void (app::Worker::*)()").
struct Callable {
  uintptr_t vtable;
  char name[1024];
  bool is_pointer;  // a function or member function pointer: name the function it holds
  bool nested;      // std::async: held by the object the state points to
};

bool parse_callable(uintptr_t vtable, Callable* c) {
  static char mangled[1024], demangled[2048];
  bool is_symbol;
  if (!state_class_name(vtable, mangled, sizeof mangled, &is_symbol)) return false;
  size_t n = is_symbol ? demangle(mangled, demangled, sizeof demangled)
                       : demangle_type(mangled, demangled, sizeof demangled);
  if (n == 0) return false;
  const char* inner = nullptr;
  int invokers = 0;
  for (const char* p = strstr(demangled, kInvokerTuple); p != nullptr;
       p = strstr(p + 1, kInvokerTuple)) {
    inner = p + strlen(kInvokerTuple);
    ++invokers;
  }
  if (inner == nullptr) return false;
  int depth = 0;
  const char* end = inner;
  for (; *end != '\0'; ++end) {
    char ch = *end;
    if (ch == '<' || ch == '(' || ch == '[' || ch == '{') ++depth;
    if (ch == '>' || ch == ')' || ch == ']' || ch == '}') {
      if (depth == 0) break;
      --depth;
    }
    if (ch == ',' && depth == 0) break;
  }
  size_t len = static_cast<size_t>(end - inner);
  while (len > 0 && inner[len - 1] == ' ') --len;
  if (len == 0 || len >= sizeof c->name) return false;
  memcpy(c->name, inner, len);
  c->name[len] = '\0';
  c->is_pointer = strstr(c->name, "(*)") != nullptr || strstr(c->name, "::*)") != nullptr;
  c->nested = invokers > 1;
  c->vtable = vtable;
  return true;
}

// Code, in an executable segment of a loaded object: a word of the state
// that is a function's address (a member function pointer's first word is
// one, unless the member is virtual).
bool in_code(uintptr_t word) { return in_segment(word, PF_X); }

constexpr size_t kStateWords = 4;   // vtable, then the tuple: up to 3 words
constexpr size_t kAsyncWords = 24;  // an _Async_state_impl, its _M_fn last

// Where a pointer callable's function is in every state object of one
// class: the word `outer` of the state, or (std::async) the word `inner` of
// the object the state's word `outer` points to. 0: not found.
struct Layout {
  uintptr_t vtable;
  uint8_t outer, inner;
};

size_t find_code(uintptr_t object, size_t from, size_t words) {
  for (size_t i = from; i < words; ++i) {
    uintptr_t word;
    if (!read_word(object + i * sizeof word, &word)) return 0;
    if (in_code(word)) return i;
  }
  return 0;
}

Layout learn_layout(uintptr_t vtable, uintptr_t state) {
  Layout l{vtable, 0, 0};
  static Callable c;  // apart from the reports' (a report may interrupt this)
  if (!parse_callable(vtable, &c) || !c.is_pointer) return l;
  if (!c.nested) {
    l.outer = static_cast<uint8_t>(find_code(state, 1, kStateWords));
    return l;
  }
  // std::async: the state holds the _Async_state_impl (a polymorphic
  // object) and the member it runs; the callable is in the former.
  for (size_t i = 1; i < kStateWords; ++i) {
    uintptr_t word, inner_vtable;
    if (!read_word(state + i * sizeof word, &word)) return l;
    if (word != 0 && !in_code(word) && read_word(word, &inner_vtable) &&
        in_segment(inner_vtable, PF_R)) {
      size_t inner = find_code(word, 1, kAsyncWords);
      if (inner != 0) l = Layout{vtable, static_cast<uint8_t>(i), static_cast<uint8_t>(inner)};
      return l;
    }
  }
  return l;
}

Layout g_layouts[16];  // by vtable: a million threads of one class are learned once
}  // namespace

void callable_record(Thread* t, void* (*start)(void*), void* arg) {
  uintptr_t vtable = state_vtable_of(start, arg);
  t->state_vtable = vtable;
  if (vtable == 0) return;
  Layout& l = g_layouts[(vtable >> 4) % 16];
  if (l.vtable != vtable) {
    NoSchedulingPoint inside_ptshim;  // symbol_of's libunwind locks are not the program's
    l = learn_layout(vtable, reinterpret_cast<uintptr_t>(arg));
  }
  if (l.outer == 0) return;
  // libstdc++'s own state, alive and of this class: its words can be loaded.
  uintptr_t word = static_cast<const uintptr_t*>(arg)[l.outer];
  if (l.inner != 0) word = reinterpret_cast<const uintptr_t*>(word)[l.inner];
  t->callable_code = word;
}

bool write_callable_name(Writer& w, const Thread* t) {
  if (t->state_vtable == 0) return false;
  static Callable last;  // a million threads of one lambda are parsed once
  static uintptr_t last_unnamed;
  if (t->state_vtable == last_unnamed) return false;
  if (last.vtable != t->state_vtable && !parse_callable(t->state_vtable, &last)) {
    last.vtable = 0;
    last_unnamed = t->state_vtable;
    return false;
  }
  if (!last.is_pointer) {
    w.str(last.name);
    return true;
  }
  uintptr_t code = t->callable_code;
  static char symbol[1024];
  uintptr_t offset;
  if (code == 0) {
    w.str(last.name);  // the pointer's type: all that is left of it
  } else if (symbol_of(code, symbol, sizeof symbol, &offset) && offset == 0) {
    write_symbol(w, symbol);
  } else {  // a stripped program's function: where it is, as frames say
    w.str(object_of(code)).str("+").hex(code - object_base_of(code));
  }
  return true;
}

}  // namespace ptshim
