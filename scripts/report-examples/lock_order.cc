// Two threads take the same two mutexes in opposite orders, at different
// times: no deadlock in this run, but one in another schedule. --lock-order.
#include <mutex>
#include <thread>

std::mutex cache;
std::mutex index_lock;

void refresh() {
  std::lock_guard<std::mutex> c(cache);
  std::lock_guard<std::mutex> i(index_lock);
}

void reindex() {
  std::lock_guard<std::mutex> i(index_lock);
  std::lock_guard<std::mutex> c(cache);
}

int main() {
  std::thread first(refresh);
  first.join();
  std::thread second(reindex);
  second.join();
}
