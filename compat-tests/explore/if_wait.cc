// A missed wake-up: two consumers wait for an item with `if` instead of
// `while` around the condition variable's wait. When the producer's notify
// wakes one consumer but the other one takes the item first, the woken one
// goes on to an empty queue. The fixed twin (-DFIXED) waits in a `while`.
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace {

std::mutex queue_lock;
std::condition_variable item_ready;
std::deque<int> items;

int take_front() {
  if (items.empty()) {
    fprintf(stderr, "if_wait: a consumer woke to an empty queue\n");
    exit(1);
  }
  int item = items.front();
  items.pop_front();
  return item;
}

void consumer(int* got) {
  std::unique_lock<std::mutex> hold(queue_lock);
#ifdef FIXED
  while (items.empty()) item_ready.wait(hold);
#else
  if (items.empty()) item_ready.wait(hold);
#endif
  *got = take_front();
}

void producer(int count) {
  for (int i = 1; i <= count; i++) {
    {
      std::lock_guard<std::mutex> hold(queue_lock);
      items.push_back(i);
    }
    item_ready.notify_one();
  }
}

}  // namespace

int main() {
  int got[2] = {0, 0};
  std::thread c1(consumer, &got[0]), c2(consumer, &got[1]);
  std::thread p(producer, 2);
  c1.join();
  c2.join();
  p.join();
  if (got[0] + got[1] != 3) {
    fprintf(stderr, "if_wait: the consumers got items %d and %d\n", got[0], got[1]);
    return 1;
  }
  printf("if_wait: each consumer got one item\n");
  return 0;
}
