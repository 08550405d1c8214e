// C++ thread_local objects with constructors and destructors, in generations
// of 16 threads (std::thread and pthread_create, some ending with
// pthread_exit) under 100us preemption. Each thread constructs its own
// objects (namespace scope, class static member, function-local static,
// template static member, a std::vector), sees only its own, and every
// destructor runs exactly once, on its own thread, after the thread's body
// returned and before join returns, in the reverse order of construction.
// usage: cxx_tls_dtors [MILLISECONDS]   (default 1500)
#include <pthread.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "fail.h"
#include "storm.h"

namespace {

constexpr int kThreads = 16;
constexpr int kKinds = 4;
constexpr int64_t kGenerationNs = 25 * NS_PER_MS;

struct Record {
  std::atomic<int> constructed[kKinds];
  std::atomic<int> destroyed[kKinds];
  std::atomic<int> construct_pos[kKinds];  // position among this thread's constructions
  std::atomic<int> destroy_pos[kKinds];    // position among this thread's destructions
  std::atomic<bool> body_done, joined;
};
Record records[kThreads];

// Destructors record what went wrong with fail() (fail.h) instead of calling
// CHECK: a failing check calls exit(), which must not run inside a thread's
// exit path.

// Trivial thread_locals (no constructor): what the objects compare against.
thread_local int my_slot = -1;
thread_local int constructions = 0, destructions = 0;

struct Tracked {
  int kind, slot, pos;
  long value;
  std::thread::id owner;
  pthread_t owner_pthread;
  std::string label;  // on the heap: freed by the destructor

  explicit Tracked(int k)
      : kind(k),
        slot(my_slot),
        pos(constructions++),
        value(1000L * k),
        owner(std::this_thread::get_id()),
        owner_pthread(pthread_self()),
        label(100, static_cast<char>('a' + k)) {
    if (slot < 0) return;  // main's objects
    records[slot].constructed[k]++;
    records[slot].construct_pos[k] = pos;
  }
  ~Tracked() {
    if (slot != my_slot)
      fail("kind %d object of slot %d destroyed by the thread of slot %d", kind, slot, my_slot);
    if (owner != std::this_thread::get_id() || !pthread_equal(owner_pthread, pthread_self()))
      fail("kind %d object of slot %d destroyed on another thread", kind, slot);
    if (label != std::string(100, static_cast<char>('a' + kind)))
      fail("kind %d object of slot %d: label corrupted", kind, slot);
    int d = destructions++;
    if (slot < 0) return;
    Record& r = records[slot];
    if (!r.body_done)
      fail("kind %d object of slot %d destroyed before its body returned", kind, slot);
    if (r.joined) fail("kind %d object of slot %d destroyed after join returned", kind, slot);
    r.destroyed[kind]++;
    r.destroy_pos[kind] = d;
  }
};

thread_local Tracked at_namespace_scope{0};
struct Holder {
  static thread_local Tracked member;
};
thread_local Tracked Holder::member{1};
Tracked& function_local() {
  static thread_local Tracked object{2};
  return object;
}
template <int K>
struct Templated {
  static thread_local Tracked member;
};
template <int K>
thread_local Tracked Templated<K>::member{K};
thread_local std::vector<long> numbers{1, 2, 3};

Tracked& object(int kind) {
  switch (kind) {
    case 0:
      return at_namespace_scope;
    case 1:
      return Holder::member;
    case 2:
      return function_local();
    default:
      return Templated<3>::member;
  }
}

int64_t deadline;
std::atomic<long> rounds{0}, preempted_spins{0}, threads_run{0};

void body(int slot, int64_t generation_end) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  my_slot = slot;
  uint64_t rng = storm_seed(slot + static_cast<int>(threads_run++));
  // First use in a per-thread order.
  int order[kKinds] = {0, 1, 2, 3};
  for (int i = kKinds - 1; i > 0; i--) std::swap(order[i], order[storm_rand(&rng) % (i + 1)]);
  for (int k : order) {
    Tracked& o = object(k);
    CHECK_MSG(o.slot == slot && o.owner == std::this_thread::get_id() && o.value == 1000L * k,
              "slot %d: its kind %d object belongs to slot %d (value %ld)", slot, k, o.slot,
              o.value);
  }
  CHECK_MSG(numbers.size() == 3 && numbers[2] == 3, "slot %d: thread_local vector starts with %zu",
            slot, numbers.size());
  for (int k = 0; k < kKinds; k++)
    CHECK_MSG(records[slot].constructed[k] == 1, "slot %d: kind %d constructed %d times", slot, k,
              records[slot].constructed[k].load());

  long expected[kKinds] = {0, 1000, 2000, 3000}, sum = 6;
  long r = 0;
  for (; now_ns() < generation_end && now_ns() < deadline; r++) {
    for (int k = 0; k < kKinds; k++) {
      object(k).value += slot + 1;
      expected[k] += slot + 1;
    }
    numbers.push_back(slot);
    sum += slot;
    preempted_spins += storm_spin_watch(slot, storm_rand(&rng) % 50000);
    if (r % 8 == 0)
      usleep(20);
    else if (r % 2 == 0)
      std::this_thread::yield();
    for (int k = 0; k < kKinds; k++)
      CHECK_MSG(object(k).value == expected[k] && object(k).slot == slot,
                "slot %d: kind %d object holds %ld of slot %d, want %ld", slot, k, object(k).value,
                object(k).slot, expected[k]);
    long got = 0;
    for (long n : numbers) got += n;
    CHECK_MSG(got == sum, "slot %d: thread_local vector sums to %ld, want %ld", slot, got, sum);
  }
  rounds += r;
  for (int k = 0; k < kKinds; k++)
    CHECK_MSG(records[slot].destroyed[k] == 0, "slot %d: kind %d destroyed while running", slot, k);
  CHECK_ON_MAIN_KERNEL_THREAD();
  records[slot].body_done = true;
}

struct PthreadArg {
  int slot;
  int64_t generation_end;
};

void* pthread_body(void* p) {
  auto* arg = static_cast<PthreadArg*>(p);
  body(arg->slot, arg->generation_end);
  if (arg->slot % 4 == 3) pthread_exit(nullptr);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  // Main's own objects: threads never see them.
  for (int k = 0; k < kKinds; k++) object(k).value = -k;
  numbers.assign(7, 7);

  long generations = 0;
  while (now_ns() < deadline) {
    for (Record& r : records) {
      for (int k = 0; k < kKinds; k++) r.constructed[k] = r.destroyed[k] = 0;
      r.body_done = r.joined = false;
    }
    int64_t generation_end = now_ns() + kGenerationNs;
    std::thread threads[kThreads];
    pthread_t pthreads[kThreads];
    PthreadArg args[kThreads];
    for (int i = 0; i < kThreads; i++) {
      if (i % 2 == 0) {
        threads[i] = std::thread(body, i, generation_end);
      } else {
        args[i] = {i, generation_end};
        CHECK_RC(pthread_create(&pthreads[i], nullptr, pthread_body, &args[i]), 0);
      }
    }
    for (int i = 0; i < kThreads; i++) {
      if (i % 2 == 0)
        threads[i].join();
      else
        CHECK_RC(pthread_join(pthreads[i], nullptr), 0);
      Record& r = records[i];
      r.joined = true;
      CHECK_NO_FAILURES();
      CHECK(r.body_done);
      for (int k = 0; k < kKinds; k++) {
        CHECK_MSG(r.constructed[k] == 1 && r.destroyed[k] == 1,
                  "generation %ld slot %d kind %d: constructed %d, destroyed %d times by the "
                  "time join returned, want 1 and 1",
                  generations, i, k, r.constructed[k].load(), r.destroyed[k].load());
        // Destruction runs in the reverse order of construction.
        CHECK_MSG(r.destroy_pos[k] == kKinds - 1 - r.construct_pos[k],
                  "generation %ld slot %d kind %d: constructed %d-th, destroyed %d-th of %d",
                  generations, i, k, r.construct_pos[k].load(), r.destroy_pos[k].load(), kKinds);
      }
    }
    generations++;
  }
  CHECK_NO_FAILURES();
  for (int k = 0; k < kKinds; k++)
    CHECK_MSG(object(k).value == -k && object(k).slot == -1, "main's kind %d object changed to %ld",
              k, object(k).value);
  CHECK(numbers.size() == 7);
  CHECK_MSG(preempted_spins > 0, "no thread was ever switched out in the middle of a spin");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "cxx_tls_dtors: %ld generations of %d threads (%ld threads, %ld rounds, %ld spins "
      "interrupted) in %.0f ms: %d thread_local objects each constructed once per thread and "
      "destroyed once, on that thread, between its return and join\n",
      generations, kThreads, threads_run.load(), rounds.load(), preempted_spins.load(),
      (double)(now_ns() - start) / NS_PER_MS, kKinds + 1);
  return 0;
}
