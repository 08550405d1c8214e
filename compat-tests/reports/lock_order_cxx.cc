// The lock-order inversion in C++: two std::mutex taken through
// std::lock_guard in opposite orders by two std::threads that run one after
// the other, so this run never deadlocks. PTSHIM_LOCK_ORDER=1 reports it.
#include <mutex>
#include <thread>

#include "check.h"

namespace {
std::mutex accounts;
std::mutex journal;
long entries;

__attribute__((noinline)) void post_entry() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::lock_guard<std::mutex> a(accounts);
  std::lock_guard<std::mutex> j(journal);
  ++entries;
}

__attribute__((noinline)) void audit() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::lock_guard<std::mutex> j(journal);
  std::lock_guard<std::mutex> a(accounts);
  ++entries;
}
}  // namespace

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::thread first(post_entry);
  first.join();
  std::thread second(audit);
  second.join();
  CHECK_MSG(entries == 2, "%ld entries, want 2", entries);
  std::printf("lock_order_cxx: 2 entries, no deadlock\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
