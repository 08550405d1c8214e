// Thread stacks: an anonymous mapping, committed by the kernel only as it is
// touched, with a PROT_NONE guard region below the usable part.
#include <errno.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "core/runtime.h"

namespace ptshim {

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
  munmap(t->map_base, t->map_size);
  t->map_base = nullptr;
}

}  // namespace ptshim
