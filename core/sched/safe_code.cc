// Which code a preemption may suspend (rule 2 in preempt.cc): the executable
// segments of every loaded object, sorted, each marked safe or not by the
// object's name. Rebuilt when the set of loaded objects changes.
#include <link.h>
#include <string.h>

#include "core/sched/sched.h"

namespace ptshim {

namespace {

// ---- which code may be suspended ----------------------------------------------
struct CodeRange {
  uintptr_t lo, hi;
  bool safe;
};
constexpr int kMaxRanges = 512;
CodeRange g_ranges[kMaxRanges];
int g_range_count;
int g_objects_seen;  // loaded objects when g_ranges was built

bool name_is_runtime(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  static const char* const kPrefixes[] = {
      "libc.so",      "ld-linux",      "libptshim",    "libstdc++.so",      "libgcc_s.so",
      "libunwind",    "libpthread.so", "libdl.so",     "librt.so",          "libnss_",
      "libresolv.so", "libanl.so",     "libthread_db", "libc_malloc_debug", "libmemusage"};
  for (const char* prefix : kPrefixes) {
    if (strncmp(base, prefix, strlen(prefix)) == 0) return true;
  }
  return strstr(path, "/gconv/") != nullptr;
}

int count_loaded_objects() {
  int n = 0;
  for (const link_map* m = _r_debug.r_map; m != nullptr; m = m->l_next) ++n;
  return n;
}

int collect_ranges(dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  bool safe = !name_is_runtime(name);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    if (g_range_count == kMaxRanges) return 1;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    CodeRange r{lo, lo + ph.p_memsz, safe};
    // Our own object is found by address: its name is whatever LD_PRELOAD said.
    auto self = reinterpret_cast<uintptr_t>(&collect_ranges);
    if (self >= r.lo && self < r.hi) r.safe = false;
    int j = g_range_count++;
    while (j > 0 && g_ranges[j - 1].lo > r.lo) {
      g_ranges[j] = g_ranges[j - 1];
      --j;
    }
    g_ranges[j] = r;
  }
  return 0;
}

}  // namespace

void rebuild_code_ranges() {
  g_range_count = 0;
  g_objects_seen = count_loaded_objects();
  dl_iterate_phdr(collect_ranges, nullptr);
}

namespace {
const CodeRange* find_range(uintptr_t pc) {
  int lo = 0, hi = g_range_count;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (g_ranges[mid].hi <= pc) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < g_range_count && g_ranges[lo].lo <= pc) return &g_ranges[lo];
  return nullptr;
}

const CodeRange* find_range_fresh(uintptr_t pc) {
  const CodeRange* r = find_range(pc);
  if (r == nullptr && count_loaded_objects() != g_objects_seen) {
    rebuild_code_ranges();  // something was dlopen'ed since
    r = find_range(pc);
  }
  return r;
}

}  // namespace

bool pc_is_safe(uintptr_t pc) {
  const CodeRange* r = find_range_fresh(pc);
  return r == nullptr || r->safe;  // no object at all: anonymous (JIT) code
}

bool pc_in_safe_object(uintptr_t pc) {
  const CodeRange* r = find_range_fresh(pc);
  return r != nullptr && r->safe;
}

}  // namespace ptshim
