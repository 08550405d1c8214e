// A crash inside a member function of a class template, called from a
// std::thread: the report's frames carry the demangled C++ names.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "check.h"

namespace app {
template <typename T>
class Table {
 public:
  __attribute__((noinline)) T lookup(const std::string& key) const {
    auto it = rows_.find(key);
    // The bug: a missing key is not checked.
    return *static_cast<const T*>(it == rows_.end() ? nullptr : &it->second);
  }
  std::map<std::string, T> rows_;
};
}  // namespace app

__attribute__((noinline)) int read_row(const app::Table<int>& table, const char* key) {
  return table.lookup(key) + 1;
}

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  app::Table<int> table;
  table.rows_["present"] = 1;
  std::thread reader([&] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    std::printf("%d\n", read_row(table, "present"));
    std::fflush(stdout);
    std::printf("%d\n", read_row(table, "missing"));
  });
  reader.join();
  return 0;
}
