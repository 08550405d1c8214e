// The keys of the reports already written (misuse warnings by site, deadlock
// warnings by cycle): an open-addressing set in internal memory, asked only
// on the paths that report, so it never grows past the program's bugs.
#include "core/diag/diag.h"

namespace ptshim {

namespace {
uintptr_t* g_keys;  // 0: an empty slot (a key of 0 is stored as 1)
size_t g_count, g_capacity;

bool insert(uintptr_t* keys, size_t capacity, uintptr_t key) {
  size_t k = static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 17) & (capacity - 1);
  for (; keys[k] != 0; k = (k + 1) & (capacity - 1)) {
    if (keys[k] == key) return false;
  }
  keys[k] = key;
  return true;
}
}  // namespace

namespace {
bool g_fast_paths_were_allowed;
}  // namespace

void report_while_others_run_begin() {
  g_reporting = 1;
  g_fast_paths_were_allowed = tls_fast_paths_allowed;
  tls_fast_paths_allowed = false;
}

void report_while_others_run_end() {
  tls_fast_paths_allowed = g_fast_paths_were_allowed;
  g_reporting = 0;
}

bool report_first_time(uintptr_t key) {
  if (key == 0) key = 1;
  if (2 * (g_count + 1) > g_capacity) {
    size_t capacity = g_capacity == 0 ? 64 : g_capacity * 2;
    auto* keys = static_cast<uintptr_t*>(internal_alloc_zeroed(capacity * sizeof(uintptr_t)));
    for (size_t i = 0; i < g_capacity; ++i) {
      if (g_keys[i] != 0) insert(keys, capacity, g_keys[i]);
    }
    if (g_keys != nullptr) internal_free(g_keys, g_capacity * sizeof(uintptr_t));
    g_keys = keys;
    g_capacity = capacity;
  }
  if (!insert(g_keys, g_capacity, key)) return false;
  ++g_count;
  return true;
}

}  // namespace ptshim
