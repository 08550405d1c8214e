// A producer and four consumers around a bounded queue: the statistics
// block (--stats).
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

std::mutex queue_lock;
std::condition_variable not_empty;
std::condition_variable not_full;
std::deque<int> queue;
bool done = false;

int main() {
  std::vector<std::thread> consumers;
  long sum = 0;
  std::mutex sum_lock;
  for (int c = 0; c < 4; ++c) {
    consumers.emplace_back([&] {
      for (;;) {
        std::unique_lock<std::mutex> l(queue_lock);
        not_empty.wait(l, [] { return done || !queue.empty(); });
        if (queue.empty()) return;
        int v = queue.front();
        queue.pop_front();
        l.unlock();
        not_full.notify_one();
        std::lock_guard<std::mutex> s(sum_lock);
        sum += v;
      }
    });
  }
  for (int i = 1; i <= 20000; ++i) {
    std::unique_lock<std::mutex> l(queue_lock);
    not_full.wait(l, [] { return queue.size() < 16; });
    queue.push_back(i);
    not_empty.notify_one();
  }
  {
    std::lock_guard<std::mutex> l(queue_lock);
    done = true;
  }
  not_empty.notify_all();
  for (auto& t : consumers) t.join();
  std::printf("sum %ld\n", sum);
}
