// Thread stacks: an anonymous mapping, committed by the kernel only as it is
// touched, with a PROT_NONE guard region below the usable part.
//
// THE GUARD BUDGET. A guard splits the mapping in two, and the kernel allows
// a process vm.max_map_count mappings (65,530 by default): with a guard per
// stack, threads stop near 32,000, which is where glibc's own stop. So only
// the first options().guarded_stacks live stacks get a guard (by default:
// half of what vm.max_map_count leaves after kOtherMappings for the rest of
// the program). Stacks made past the budget have none; the kernel merges
// adjacent ones into one mapping, so a million threads fit. An overflow of
// such a stack does not fault: it runs into whatever lies below. It is
// caught instead by a check of the stack pointer (stack_overflowed) at every
// switch away from the thread and at every tick that interrupts it (with the
// stack's lowest page written, so a thread running on a coroutine stack
// mapped just below is not taken for one); the report then says the memory
// below may be damaged. The check costs no
// memory (a canary word would commit the stack's lowest page, 4 KiB per
// thread) but sees only an overflow still in progress at a switch or tick,
// not one that returned before either. Stacks the program provides
// (pthread_attr_setstack) have no guard either and get the same check.
//
// THE CACHE. Released stacks of the default shape are kept for the next
// threads, up to kMaxCached: creating a thread then makes no system call for
// its stack. A cached stack keeps only its top kWarmTop committed (madvise
// gives back the rest) unless a mark written just below that top on the
// way into the cache is intact: the thread then (almost certainly: a frame
// could skip over the word) never went deeper, and the madvise call is
// saved.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {
constexpr size_t kMaxCached = 64;
constexpr size_t kWarmTop = 64 * 1024;                 // stays committed in a cached stack
constexpr uint64_t kCanarySeed = 0x5054534849'4d4b31;  // "PTSHIMK1"

// A cached stack: the node sits at the top of its own usable area.
struct CachedStack {
  CachedStack* next;
  void* map_base;
  size_t map_size;
  size_t guard_size;
};
CachedStack* g_cached;
size_t g_cached_count;
size_t g_guarded;  // stacks with a guard, live or cached

uint64_t canary_for(const void* where) { return reinterpret_cast<uintptr_t>(where) ^ kCanarySeed; }

void set_canary(void* where) { *static_cast<uint64_t*>(where) = canary_for(where); }
bool canary_intact(const void* where) {
  return *static_cast<const uint64_t*>(where) == canary_for(where);
}

// Where the "went deeper than the warm top" mark lives in a stack.
void* deep_mark(const Thread* t) {
  return static_cast<char*>(t->stack_lo) + t->stack_size - kWarmTop - sizeof(uint64_t);
}

bool is_default_shape(size_t map_size, size_t guard_size) {
  size_t page = page_size();
  size_t stack = (options().default_stack_size + page - 1) & ~(page - 1);
  return map_size == stack + guard_size && (guard_size == page || guard_size == 0);
}

void take_from_cache(Thread* t, CachedStack* c) {
  t->map_base = c->map_base;
  t->map_size = c->map_size;
  t->guard_size = c->guard_size;
  t->stack_lo = static_cast<char*>(c->map_base) + c->guard_size;
  t->stack_size = c->map_size - c->guard_size;
}

CachedStack* find_cached(size_t stack_size, size_t guard_size, bool any_guard) {
  CachedStack** link = &g_cached;
  for (CachedStack* c = g_cached; c != nullptr; link = &c->next, c = c->next) {
    bool guard_ok = any_guard || c->guard_size == guard_size;
    if (c->map_size - c->guard_size == stack_size && guard_ok) {
      *link = c->next;
      --g_cached_count;
      return c;
    }
  }
  return nullptr;
}
}  // namespace

size_t stack_default_guard_budget() {
  constexpr long kOtherMappings = 16384;  // libraries, malloc's mmaps, the program's own
  long max_maps = 65530;
  int fd = static_cast<int>(arch::raw_syscall(
      SYS_open, reinterpret_cast<long>("/proc/sys/vm/max_map_count"), O_RDONLY | O_CLOEXEC));
  if (fd >= 0) {
    char text[32];
    long n = arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(text), sizeof text - 1);
    arch::raw_syscall(SYS_close, fd);
    if (n > 0) {
      long value = 0;
      for (long i = 0; i < n && text[i] >= '0' && text[i] <= '9'; ++i)
        value = value * 10 + (text[i] - '0');
      if (value > 0) max_maps = value;
    }
  }
  return max_maps > kOtherMappings ? static_cast<size_t>((max_maps - kOtherMappings) / 2) : 0;
}

int stack_allocate(Thread* t, size_t stack_size, size_t guard_size) {
  size_t page = page_size();
  stack_size = (stack_size + page - 1) & ~(page - 1);
  // At least one page (overflow detection needs one; glibc allows none),
  // while the budget lasts.
  guard_size = guard_size < page ? page : (guard_size + page - 1) & ~(page - 1);
  bool within_budget = g_guarded < options().guarded_stacks;
  if (CachedStack* c = find_cached(stack_size, guard_size, !within_budget)) {
    take_from_cache(t, c);
  } else {
    if (!within_budget) guard_size = 0;
    size_t total = stack_size + guard_size;
    void* map = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) return EAGAIN;
    if (guard_size != 0) {
      if (mprotect(map, guard_size, PROT_NONE) != 0) {
        munmap(map, total);
        return EAGAIN;
      }
      ++g_guarded;
    }
    t->map_base = map;
    t->map_size = total;
    t->stack_lo = static_cast<char*>(map) + guard_size;
    t->stack_size = stack_size;
    t->guard_size = guard_size;
  }
  return 0;
}

void stack_adopt_user_stack(Thread* t, void* lo, size_t size) {
  t->stack_lo = lo;
  t->stack_size = size;
  t->guard_size = 0;
}

// A stack pointer just below the stack is an overflow only if the thread
// really went down there: its lowest page holds something. Otherwise it is
// running on another stack of its own (a coroutine library's, which may be
// mapped right below), and the page was never touched (reading it maps the
// zero page). Cached stacks lose what a deep thread left in it (madvise).
bool stack_bottom_written(const Thread* t) {
  const auto* word = static_cast<const uint64_t*>(t->stack_lo);
  for (size_t i = 0; i < page_size() / sizeof *word; ++i) {
    if (word[i] != 0) return true;
  }
  return false;
}

bool stack_overflowed(const Thread* t, uintptr_t sp) {
  if (t->is_main || t->guard_size != 0) return false;  // those fault in their guard
  constexpr uintptr_t kBelow = 1 << 20;                // a stack pointer further down is elsewhere
  auto lo = reinterpret_cast<uintptr_t>(t->stack_lo);
  return sp < lo && sp + kBelow >= lo && stack_bottom_written(t);
}

void stack_release(Thread* t) {
  if (t->map_base == nullptr) return;
  if (is_default_shape(t->map_size, t->guard_size) && g_cached_count < kMaxCached) {
    char* top = static_cast<char*>(t->stack_lo) + t->stack_size;
    // Give back what a deep call chain committed; keep the top warm.
    if (t->stack_size > kWarmTop && !canary_intact(deep_mark(t))) {
      madvise(t->stack_lo, t->stack_size - kWarmTop, MADV_DONTNEED);
      set_canary(deep_mark(t));
    }
    auto* c = reinterpret_cast<CachedStack*>(top - sizeof(CachedStack));
    c->next = g_cached;
    c->map_base = t->map_base;
    c->map_size = t->map_size;
    c->guard_size = t->guard_size;
    g_cached = c;
    ++g_cached_count;
  } else {
    munmap(t->map_base, t->map_size);
    if (t->guard_size != 0) --g_guarded;
  }
  t->map_base = nullptr;
}

namespace {
uintptr_t g_main_stack_lo;  // lowest address the main stack may grow to
uintptr_t g_main_stack_hi;
}  // namespace

void main_stack_locate() {
  // The [stack] mapping's top, from /proc/self/maps; its floor is RLIMIT_STACK
  // below (the kernel grows it on demand up to there).
  int fd = static_cast<int>(
      arch::raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/maps"), O_RDONLY));
  if (fd < 0) return;
  static char text[64 * 1024];
  size_t len = 0;
  for (;;) {
    long n = arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(text + len),
                               static_cast<long>(sizeof text - 1 - len));
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  arch::raw_syscall(SYS_close, fd);
  text[len] = '\0';
  char* line = strstr(text, "[stack]");
  if (line == nullptr) return;
  while (line > text && line[-1] != '\n') --line;
  uintptr_t lo = 0, hi = 0;
  char* p = line;
  for (; *p != '-'; ++p)
    lo = lo * 16 + static_cast<uintptr_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
  for (++p; *p != ' '; ++p)
    hi = hi * 16 + static_cast<uintptr_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
  rlimit limit;
  uintptr_t max = size_t{8} << 20;
  if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) max = limit.rlim_cur;
  g_main_stack_hi = hi;
  g_main_stack_lo = hi - max < lo ? hi - max : lo;
}

void main_stack_bounds(uintptr_t* lo, uintptr_t* hi) {
  *lo = g_main_stack_lo;
  *hi = g_main_stack_hi;
}

}  // namespace ptshim
