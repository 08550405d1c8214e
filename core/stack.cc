// Thread stacks: an anonymous mapping, committed by the kernel only as it is
// touched, with a PROT_NONE guard region below the usable part. Released
// stacks of the common shape (default size, one guard page) are kept for
// the next threads, up to kMaxCached: creating a thread then makes no
// system call for its stack. A cached stack keeps only its top kWarmTop
// committed (madvise gives back the rest).
#include <errno.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "core/runtime.h"

namespace ptshim {

namespace {
constexpr size_t kMaxCached = 64;
constexpr size_t kWarmTop = 64 * 1024;  // stays committed in a cached stack

// A cached stack: the node sits at the top of its own usable area.
struct CachedStack {
  CachedStack* next;
  void* map_base;
  size_t map_size;
};
CachedStack* g_cached;
size_t g_cached_count;

size_t cacheable_map_size(size_t stack_size, size_t guard_size) {
  return guard_size == page_size() ? stack_size + guard_size : 0;
}
}  // namespace

size_t page_size() {
  static const size_t size = getauxval(AT_PAGESZ);
  return size;
}

int stack_allocate(Thread* t, size_t stack_size, size_t guard_size) {
  size_t page = page_size();
  stack_size = (stack_size + page - 1) & ~(page - 1);
  // At least one page: overflow detection needs a guard (glibc allows none).
  guard_size = guard_size < page ? page : (guard_size + page - 1) & ~(page - 1);
  size_t total = stack_size + guard_size;
  if (g_cached != nullptr && g_cached->map_size == total &&
      cacheable_map_size(stack_size, guard_size) == total) {
    CachedStack* c = g_cached;
    g_cached = c->next;
    --g_cached_count;
    t->map_base = c->map_base;
    t->map_size = total;
    t->stack_lo = static_cast<char*>(c->map_base) + guard_size;
    t->stack_size = stack_size;
    t->guard_size = guard_size;
    return 0;
  }
  void* map = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED) return EAGAIN;
  if (guard_size != 0 && mprotect(map, guard_size, PROT_NONE) != 0) {
    munmap(map, total);
    return EAGAIN;
  }
  t->map_base = map;
  t->map_size = total;
  t->stack_lo = static_cast<char*>(map) + guard_size;
  t->stack_size = stack_size;
  t->guard_size = guard_size;
  return 0;
}

void stack_release(Thread* t) {
  if (t->map_base == nullptr) return;
  size_t default_total = cacheable_map_size(
      (options().default_stack_size + page_size() - 1) & ~(page_size() - 1), page_size());
  if (t->map_size == default_total && t->guard_size == page_size() && g_cached_count < kMaxCached) {
    char* top = static_cast<char*>(t->stack_lo) + t->stack_size;
    // Give back what a deep call chain committed; keep the top warm.
    if (t->stack_size > kWarmTop) {
      madvise(t->stack_lo, t->stack_size - kWarmTop, MADV_DONTNEED);
    }
    auto* c = reinterpret_cast<CachedStack*>(top - sizeof(CachedStack));
    c->next = g_cached;
    c->map_base = t->map_base;
    c->map_size = t->map_size;
    g_cached = c;
    ++g_cached_count;
  } else {
    munmap(t->map_base, t->map_size);
  }
  t->map_base = nullptr;
}

}  // namespace ptshim
