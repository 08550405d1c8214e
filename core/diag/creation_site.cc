// Where a thread was created, in the program's own code: the first return
// address of pthread_create's calling stack that is not a runtime library's
// (libstdc++'s std::thread::_M_start_thread, libc, ...) nor a std:: template
// instantiated in the program (std::thread::thread<...> at -O0, std::async's
// layers). Found at every creation, so it must cost next to nothing.
//
// INVARIANTS
// - Unwinding at each pthread_create (libunwind's unw_backtrace, 8 frames)
//   would cost a third more instructions per create+join. Instead each
//   return address met once is remembered with what a walk needs: whether
//   it is the program's own code, and how many stack words lie between the
//   slot that holds it and the slot of the next one (its function's frame
//   at that call, which is the same at every call). A creation then reads
//   one word per runtime frame: one lookup for a C program, two for a
//   std::thread constructed at -O1.
// - Those facts are learned by a real unwind (libunwind) the first time a
//   return address is met: the slots are found by searching the stack for
//   the return addresses the unwind gave, so nothing here knows a register
//   or a frame layout. A word the walk reads that is no known return
//   address (a frame that is not the same size every time, alloca) starts a
//   new unwind; the answer is never a guess.
// - The walk reads only the running thread's stack, between pthread_create's
//   frame and the stack's top (on the process stack: the strings the kernel
//   put at its top). A thread on a stack of the program's own (a coroutine)
//   gets created_at.
#include <string.h>
#include <sys/auxv.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
enum class FrameKind : uint8_t {
  kNone,       // an empty entry
  kProgram,    // the program's own code: the site
  kRuntime,    // a runtime library's or a std:: template's: look further out
  kOutermost,  // a runtime frame whose caller is not known: stop
};
struct FrameFact {
  uintptr_t return_address;
  uint32_t frame_words;  // from its slot to the next return address's slot
  FrameKind kind;
};
constexpr size_t kFacts = 1024;  // a power of two; full: creation sites fall back to created_at
constexpr size_t kProbes = 8;
constexpr size_t kMaxDepth = 24;
constexpr size_t kSearchWords = size_t{1} << 16;
FrameFact g_facts[kFacts];

size_t fact_index(uintptr_t ra, size_t probe) {
  return (((ra * 0x9E3779B97F4A7C15ull) >> 54) + probe) & (kFacts - 1);
}

const FrameFact* fact_of(uintptr_t ra) {
  for (size_t probe = 0; probe < kProbes; ++probe) {
    const FrameFact& f = g_facts[fact_index(ra, probe)];
    if (f.return_address == ra) return &f;
    if (f.kind == FrameKind::kNone) return nullptr;
  }
  return nullptr;
}

FrameFact* fact_entry(uintptr_t ra) {
  for (size_t probe = 0; probe < kProbes; ++probe) {
    FrameFact& f = g_facts[fact_index(ra, probe)];
    if (f.return_address == ra || f.kind == FrameKind::kNone) return &f;
  }
  return nullptr;
}

bool starts_with(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

// THE RULE: a frame is the program's own unless its object is a system
// runtime library (by name), or its function is a template of the C++
// standard library (std::, __gnu_cxx::) instantiated in the program, or a
// function of Rust's standard library (std::, core::, alloc::), which is
// linked into the program.
bool is_program_code(uintptr_t ra) {
  static const char* const kRuntimes[] = {
      "libstdc++.so", "libc.so",   "libgcc_s.so",  "ld-linux",   "libptshim",
      "libm.so",      "libc++.so", "libc++abi.so", "libgomp.so", "libpthread"};
  const char* object = object_of(ra);
  for (const char* runtime : kRuntimes) {
    if (starts_with(object, runtime)) return false;
  }
  static char symbol[1024];
  uintptr_t offset;
  if (!symbol_of(ra - 1, symbol, sizeof symbol, &offset)) return true;
  static const char* const kLibraryNames[] = {
      "_ZSt",    "_ZNSt",         "_ZNKSt",         "_ZZSt",          "_ZZNSt",
      "_ZZNKSt", "_ZN9__gnu_cxx", "_ZNK9__gnu_cxx", "_ZZN9__gnu_cxx", "_ZNVSt"};
  for (const char* prefix : kLibraryNames) {
    if (starts_with(symbol, prefix)) return false;
  }
  // Rust's standard library is linked into the program: its functions are
  // known by their demangled paths (legacy and v0 manglings alike).
  static char demangled[1024];
  if (demangle(symbol, demangled, sizeof demangled) == 0) return true;
  static const char* const kRustLibraries[] = {"std::", "core::", "alloc::",
                                               "<std::", "<core::", "<alloc::"};
  for (const char* prefix : kRustLibraries) {
    if (starts_with(demangled, prefix)) return false;
  }
  return true;
}

struct Stack {
  uintptr_t lo, hi;  // the words a walk may read; lo 0: none
};

// The process stack is mapped from the stack pointer up to past the
// strings the kernel put at its top (AT_EXECFN's is one); a frame far below
// them is on a stack of the program's own (a coroutine's, in the heap).
constexpr uintptr_t kProcessStackMax = uintptr_t{256} << 20;

Stack running_stack(uintptr_t frame) {
  const Thread* self = current();
  if (self->is_main || self->stack_lo == nullptr) {
    static uintptr_t top = getauxval(AT_EXECFN);
    if (top <= frame || top - frame > kProcessStackMax) return Stack{0, 0};
    return Stack{frame, top};
  }
  auto lo = reinterpret_cast<uintptr_t>(self->stack_lo);
  uintptr_t hi = lo + self->stack_size;
  if (frame < lo || frame >= hi) return Stack{0, 0};  // on a stack of the program's own
  return Stack{frame, hi};
}

uintptr_t word_at(uintptr_t slot) { return *reinterpret_cast<const uintptr_t*>(slot); }

// The first slot at or above `from` that holds `ra`, or 0.
uintptr_t find_slot(uintptr_t from, uintptr_t hi, uintptr_t ra) {
  for (size_t i = 0; i < kSearchWords && from + sizeof(uintptr_t) <= hi; ++i) {
    if (word_at(from) == ra) return from;
    from += sizeof(uintptr_t);
  }
  return 0;
}

// A real unwind from here: the facts of every return address from
// created_at's slot out to the first frame of the program's own.
__attribute__((noinline, cold)) void learn(uintptr_t slot, uintptr_t created_at, uintptr_t hi) {
  // libunwind takes its locks through the shim's pthread_mutex_lock: they
  // must be no scheduling points of the program's (a seeded run's schedule
  // would change, and a thread switched out holding one would block the
  // next learner).
  NoSchedulingPoint inside_ptshim;
  uintptr_t pcs[kMaxDepth + 16];
  size_t n = unwind_running(pcs, kMaxDepth + 16);
  size_t i = 0;
  while (i < n && pcs[i] != created_at) ++i;
  for (; i < n; ++i) {
    FrameFact* fact = fact_entry(pcs[i]);
    if (fact == nullptr) return;
    bool own = is_program_code(pcs[i]);
    fact->return_address = pcs[i];
    fact->frame_words = 0;
    fact->kind = own ? FrameKind::kProgram : FrameKind::kOutermost;
    if (own || i + 1 == n) return;
    uintptr_t next = find_slot(slot + sizeof(uintptr_t), hi, pcs[i + 1]);
    if (next == 0) return;
    fact->frame_words = static_cast<uint32_t>((next - slot) / sizeof(uintptr_t));
    fact->kind = FrameKind::kRuntime;
    slot = next;
  }
}
uintptr_t g_last_own;  // the last created_at found to be the program's own code
// The last walk of one runtime frame (a std::thread constructed in the
// program's function): its slots' offsets from pthread_create's frame.
struct Chain {
  uintptr_t created_at;
  uintptr_t site;
  size_t slot_offset;
  size_t site_offset;
};
Chain g_last_chain;

__attribute__((noinline)) uintptr_t walk_to_site(uintptr_t created_at, const void* frame) {
  auto from = reinterpret_cast<uintptr_t>(frame);
  Stack stack = running_stack(from);
  if (stack.lo == 0) return created_at;
  // pthread_create's own return address sits just above its frame.
  uintptr_t slot = find_slot(from, from + 8 * sizeof(uintptr_t), created_at);
  if (slot == 0) return created_at;
  uintptr_t first_slot = slot;
  uintptr_t ra = created_at;
  for (size_t depth = 0; depth < kMaxDepth; ++depth) {
    const FrameFact* fact = fact_of(ra);
    if (fact == nullptr) {
      learn(slot, ra, stack.hi);
      fact = fact_of(ra);
      if (fact == nullptr) return created_at;
    }
    if (fact->kind == FrameKind::kProgram) {
      if (depth == 0) g_last_own = ra;
      if (depth == 1) g_last_chain = Chain{created_at, ra, first_slot - from, slot - from};
      return ra;
    }
    if (fact->kind != FrameKind::kRuntime) return created_at;
    uintptr_t next = slot + fact->frame_words * sizeof(uintptr_t);
    if (next + sizeof(uintptr_t) > stack.hi) return created_at;
    slot = next;
    ra = word_at(slot);
  }
  return created_at;
}

}  // namespace

uintptr_t creation_site(uintptr_t created_at, const void* frame) {
  if (created_at == g_last_own) return created_at;  // a C program's loop: nothing to read
  const Chain& c = g_last_chain;
  auto from = reinterpret_cast<uintptr_t>(frame);
  if (created_at == c.created_at && word_at(from + c.slot_offset) == created_at) {
    Stack stack = running_stack(from);
    uintptr_t site_slot = from + c.site_offset;
    if (stack.lo != 0 && site_slot + sizeof(uintptr_t) <= stack.hi &&
        word_at(site_slot) == c.site) {
      return c.site;  // a std::thread loop: two words read
    }
  }
  return walk_to_site(created_at, frame);
}

}  // namespace ptshim
