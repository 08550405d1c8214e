// std::shared_ptr reference counts under a storm of preemptions: 16 threads
// copy one shared object into vectors of their own and drop the copies again,
// lock a std::weak_ptr to it (and shared_from_this), pass copies between
// threads through a mailbox and a std::atomic<std::shared_ptr>, and make and
// drop short-lived objects of their own. Every count must stay exact: at the
// end use_count() is 1 plus the copies still held, then exactly 1, and each
// object is destroyed exactly once.
// usage: shared_ptr_storm [MILLISECONDS]   (default 1500)
#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "check.h"
#include "storm.h"

namespace {

constexpr int kThreads = 16;
constexpr int kMagic = 0x5EED;

struct Payload : std::enable_shared_from_this<Payload> {
  int magic = kMagic;
  int owner;
  std::atomic<long>* destroyed;
  Payload(int o, std::atomic<long>* d) : owner(o), destroyed(d) {}
  ~Payload() {
    magic = 0;
    ++*destroyed;
  }
};

std::atomic<long> root_destroyed{0}, local_created{0}, local_destroyed{0};
std::shared_ptr<Payload> root;
std::weak_ptr<Payload> weak_root;
Payload* root_raw;
std::mutex mailbox_lock;
std::vector<std::shared_ptr<Payload>> mailbox;
std::atomic<std::shared_ptr<Payload>> slot;
std::vector<std::shared_ptr<Payload>> kept[kThreads];  // what each thread still holds at its end
int64_t deadline;
std::atomic<long> total_ops{0}, preempted_spins{0}, weak_locks{0}, handed_over{0};

void check_root_copy(const std::shared_ptr<Payload>& p, int idx, const char* how) {
  CHECK_MSG(p != nullptr && p.get() == root_raw && p->magic == kMagic,
            "thread %d: a copy obtained by %s points at %p (magic %#x), want %p", idx, how,
            static_cast<void*>(p.get()), p ? p->magic : 0, static_cast<void*>(root_raw));
}

void short_lived(int idx, uint64_t* rng) {
  local_created++;
  auto mine = std::make_shared<Payload>(idx, &local_destroyed);
  std::weak_ptr<Payload> weak = mine;
  std::vector<std::shared_ptr<Payload>> copies(1 + storm_rand(rng) % 8, mine);
  CHECK_MSG(mine.use_count() == static_cast<long>(copies.size()) + 1,
            "thread %d: a private object has use_count %ld, want %zu", idx, mine.use_count(),
            copies.size() + 1);
  preempted_spins += storm_spin_watch(idx, storm_rand(rng) % 2000);
  CHECK(weak.lock() == mine && mine->owner == idx);
  copies.clear();
  mine.reset();
  CHECK_MSG(weak.expired() && weak.lock() == nullptr,
            "thread %d: a private object outlived its last shared_ptr", idx);
}

void worker(int idx) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  uint64_t rng = storm_seed(idx);
  std::vector<std::shared_ptr<Payload>> mine;
  long ops = 0;
  while (now_ns() < deadline) {
    uint64_t op = storm_rand(&rng) % 100;
    if (op < 40) {
      mine.push_back(root);  // copy of the shared one
    } else if (op < 75) {
      if (!mine.empty()) {
        check_root_copy(mine.back(), idx, "a copy in the vector");
        mine.pop_back();
      }
    } else if (op < 85) {
      std::shared_ptr<Payload> p = weak_root.lock();
      check_root_copy(p, idx, "weak_ptr::lock");
      std::shared_ptr<Payload> q = p->shared_from_this();
      check_root_copy(q, idx, "shared_from_this");
      if (op % 2 == 0) mine.push_back(std::move(p));
      weak_locks++;
    } else if (op < 90) {
      if (!mine.empty()) mine.push_back(mine[storm_rand(&rng) % mine.size()]);
    } else if (op < 93) {
      std::lock_guard<std::mutex> guard(mailbox_lock);
      if (!mine.empty() && mailbox.size() < 64 && op % 2 == 0) {
        mailbox.push_back(std::move(mine.back()));
        mine.pop_back();
        handed_over++;
      } else if (!mailbox.empty()) {
        mine.push_back(std::move(mailbox.back()));
        mailbox.pop_back();
        check_root_copy(mine.back(), idx, "the mailbox");
      }
    } else if (op < 97) {
      if (op % 2 == 0) {
        slot.store(root);
      } else {
        std::shared_ptr<Payload> p = slot.load();
        if (p != nullptr) check_root_copy(p, idx, "std::atomic<shared_ptr>::load");
        if (op % 4 == 1) slot.store(nullptr);
      }
    } else {
      short_lived(idx, &rng);
    }
    ops++;
    preempted_spins += storm_spin_watch(idx, storm_rand(&rng) % 1500);
    if (ops % 128 == 0) std::this_thread::yield();
    if (mine.size() > 4096) mine.resize(mine.size() / 2);
  }
  for (const auto& p : mine) check_root_copy(p, idx, "a copy in the vector");
  total_ops += ops;
  kept[idx] = std::move(mine);  // moved, not copied: the count stays
  CHECK_ON_MAIN_KERNEL_THREAD();
}

}  // namespace

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  root = std::make_shared<Payload>(-1, &root_destroyed);
  root_raw = root.get();
  weak_root = root;

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();

  long held = static_cast<long>(mailbox.size()) + (slot.load() != nullptr ? 1 : 0);
  for (const auto& v : kept) held += static_cast<long>(v.size());
  CHECK_MSG(root.use_count() == 1 + held,
            "use_count() is %ld with %ld copies held, want %ld: a count was lost or doubled",
            root.use_count(), held, 1 + held);
  for (auto& v : kept) v.clear();
  mailbox.clear();
  slot.store(nullptr);
  CHECK_MSG(root.use_count() == 1, "use_count() is %ld after dropping every copy, want 1",
            root.use_count());
  CHECK_MSG(weak_root.use_count() == 1 && !weak_root.expired(), "weak_ptr sees use_count %ld",
            weak_root.use_count());
  CHECK_MSG(root_destroyed == 0, "the shared object was destroyed %ld times while in use",
            root_destroyed.load());
  root.reset();
  CHECK_MSG(root_destroyed == 1, "the shared object was destroyed %ld times, want 1",
            root_destroyed.load());
  CHECK(weak_root.expired() && weak_root.lock() == nullptr);
  CHECK_MSG(local_destroyed == local_created, "%ld private objects made, %ld destroyed",
            local_created.load(), local_destroyed.load());
  CHECK_MSG(preempted_spins > 0, "no thread was ever switched out between two operations");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "shared_ptr_storm: %d threads, %ld operations (%ld weak locks, %ld hand-overs, %ld "
      "private objects) in %.0f ms, %ld spins interrupted: %ld copies still held at the end "
      "matched use_count exactly, then use_count 1, one destruction\n",
      kThreads, total_ops.load(), weak_locks.load(), handed_over.load(), local_created.load(),
      (double)(now_ns() - start) / NS_PER_MS, preempted_spins.load(), held);
  return 0;
}
