// Two threads take two mutexes in opposite orders and deadlock while a third
// goes on working: reported the moment the cycle closes.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

std::mutex accounts;
std::mutex journal;

void transfer() {
  std::lock_guard<std::mutex> a(accounts);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard<std::mutex> j(journal);
}

void audit() {
  std::lock_guard<std::mutex> j(journal);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard<std::mutex> a(accounts);
}

void heartbeat() {
  for (int i = 0; i < 5; ++i) {
    std::fprintf(stderr, "heartbeat %d\n", i);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int main() {
  std::thread h(heartbeat);
  std::thread t(transfer);
  std::thread a(audit);
  t.join();
  a.join();
  h.join();
}
