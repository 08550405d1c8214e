// The shim's own memory: power-of-two size classes carved from anonymous
// mappings, large blocks mapped directly. Never malloc: malloc is the
// program's, may be replaced by it, and is libc code the shim must not
// re-enter from the scheduler.
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "core/base/base.h"

namespace ptshim {

namespace {
constexpr size_t kMinClass = 6;   // 64 bytes
constexpr size_t kMaxClass = 16;  // 64 KiB
constexpr size_t kChunk = size_t{1} << 20;

struct FreeBlock {
  FreeBlock* next;
};
FreeBlock* g_free[kMaxClass + 1];
char* g_chunk_next;
char* g_chunk_end;

size_t class_of(size_t size) {
  size_t c = kMinClass;
  while ((size_t{1} << c) < size) ++c;
  return c;
}

void* map_or_die(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fatal("ptshim: out of memory for internal structures");
  return p;
}
}  // namespace

void* internal_alloc_zeroed(size_t size) {
  size_t c = class_of(size);
  if (c > kMaxClass) return map_or_die(size);
  size_t block = size_t{1} << c;
  if (FreeBlock* b = g_free[c]) {
    g_free[c] = b->next;
    memset(b, 0, block);
    return b;
  }
  if (g_chunk_next == nullptr || g_chunk_end - g_chunk_next < static_cast<ptrdiff_t>(block)) {
    g_chunk_next = static_cast<char*>(map_or_die(kChunk));
    g_chunk_end = g_chunk_next + kChunk;
  }
  void* p = g_chunk_next;  // fresh mappings are already zero
  g_chunk_next += block;
  return p;
}

size_t internal_alloc_size(size_t size) {
  size_t c = class_of(size);
  return c > kMaxClass ? size : size_t{1} << c;
}

void internal_free(void* p, size_t size) {
  size_t c = class_of(size);
  if (c > kMaxClass) {
    munmap(p, size);
    return;
  }
  auto* b = static_cast<FreeBlock*>(p);
  b->next = g_free[c];
  g_free[c] = b;
}

size_t page_size() {
  static const size_t size = getauxval(AT_PAGESZ);
  return size;
}

}  // namespace ptshim
