// Non-local exits in many threads at once, under 100us preemption:
//  - 16 threads setjmp (or sigsetjmp), descend a random depth through frames
//    that spin, and longjmp (siglongjmp) back with a value of their own;
//    the value and the locals at the setjmp must be right every time.
//  - 16 threads throw std::runtime_error with messages of their own from a
//    random depth and catch them: plain, caught and rethrown (`throw;`) from
//    a handler that spins first, nested (std::throw_with_nested /
//    std::rethrow_if_nested) and through a std::exception_ptr. Every catch
//    sees its own message, std::uncaught_exceptions() is this thread's own
//    count during unwinding, and every object on the way is destroyed once.
// Built with _FORTIFY_SOURCE, so longjmp is glibc's checking variant.
// usage: jmp_exceptions [MILLISECONDS]   (default 1500)
#include <pthread.h>
#include <setjmp.h>

#include <atomic>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "fail.h"
#include "storm.h"

namespace {

constexpr int kJumpers = 16, kThrowers = 16;
int64_t deadline;
std::atomic<long> preempted_spins{0}, jumps{0}, catches{0}, guards_destroyed{0};

// Failures seen where CHECK must not exit (destructors run by the unwinder)
// go through fail() (fail.h).

// ---- setjmp / longjmp ---------------------------------------------------------

struct Jumper {
  int idx;
  uint64_t rng;
  jmp_buf env;
  sigjmp_buf sigenv;
};

__attribute__((noinline)) void descend_and_jump(Jumper* j, int depth, int value, bool sig) {
  volatile char frame[48];
  frame[0] = static_cast<char>(depth);
  if (depth % 6 == 0) preempted_spins += storm_spin_watch(j->idx, storm_rand(&j->rng) % 3000);
  if (frame[0] != static_cast<char>(depth)) fail("thread %d: a frame changed in a switch", j->idx);
  if (depth == 0) {
    if (sig) siglongjmp(j->sigenv, value);
    longjmp(j->env, value);
  }
  descend_and_jump(j, depth - 1, value, sig);
  frame[1] = 0;  // no tail call: every level keeps its frame
  fail("thread %d: descend_and_jump returned instead of jumping", j->idx);
}

// One setjmp and the jump back to it, checked.
__attribute__((noinline)) void jump_once(Jumper* j, long round) {
  int idx = j->idx;
  volatile long marker = idx * 1000003L + round;  // must survive the jump
  volatile int value = idx * 100000 + static_cast<int>(round % 99999) + 1;
  volatile int depth = 1 + static_cast<int>(storm_rand(&j->rng) % 150);
  volatile bool sig = round % 3 == 0;
  volatile int got;
  if (sig)
    got = sigsetjmp(j->sigenv, 1);
  else
    got = setjmp(j->env);
  if (got == 0) {
    descend_and_jump(j, depth, value, sig);
    CHECK_MSG(false, "thread %d: came back from a jump without jumping", idx);
  }
  CHECK_MSG(got == value, "thread %d round %ld: %sjmp returned %d, want %d", idx, round,
            sig ? "sigset" : "set", got, value);
  CHECK_MSG(marker == idx * 1000003L + round, "thread %d: a local changed across longjmp", idx);
}

void jumper(int idx) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  Jumper j;
  j.idx = idx;
  j.rng = storm_seed(idx);
  long rounds = 0;
  for (; now_ns() < deadline; rounds++) {
    jump_once(&j, rounds);
    if (rounds % 32 == 0) sched_yield();
  }
  jumps += rounds;
  CHECK_ON_MAIN_KERNEL_THREAD();
}

// ---- exceptions -----------------------------------------------------------------

int guards_alive[kThrowers];

// One on every frame the exception passes. Its destructor runs from the
// unwinder's landing pads, spins there (preemption lands mid-unwind), and
// checks that this thread has exactly its one exception in flight.
struct Guard {
  int idx;
  uint64_t* rng;
  Guard(int i, uint64_t* r) : idx(i), rng(r) { guards_alive[idx]++; }
  ~Guard() {
    if (std::uncaught_exceptions() != 1)
      fail("thread %d: %d uncaught exceptions while unwinding its own one", idx,
           std::uncaught_exceptions());
    preempted_spins += storm_spin_watch(kJumpers + idx, storm_rand(rng) % 500);
    guards_alive[idx]--;
    guards_destroyed++;
  }
};

std::string message(int idx, long round, const char* what) {
  char buf[96];
  snprintf(buf, sizeof buf, "thread %02d round %ld: %s", idx, round, what);
  return buf;
}

void check_what(const std::exception& e, const std::string& want, int idx) {
  CHECK_MSG(want == e.what(), "thread %d caught '%s', want '%s'", idx, e.what(), want.c_str());
}

__attribute__((noinline)) void throw_from(int idx, long round, int depth, int kind, int rethrow_at,
                                          uint64_t* rng) {
  Guard guard(idx, rng);
  if (depth == 0) {
    if (kind == 3) {
      // Through an exception_ptr, held across a spin and a yield.
      std::exception_ptr held;
      try {
        throw std::runtime_error(message(idx, round, "inner"));
      } catch (...) {
        held = std::current_exception();
      }
      preempted_spins += storm_spin_watch(kJumpers + idx, storm_rand(rng) % 2000);
      sched_yield();
      std::rethrow_exception(held);
    }
    throw std::runtime_error(message(idx, round, "inner"));
  }
  if (depth == rethrow_at && kind == 1) {
    try {
      throw_from(idx, round, depth - 1, kind, rethrow_at, rng);
    } catch (const std::runtime_error& e) {
      // Caught mid-way: the exception stays this thread's current one across
      // a spin and a yield, then goes on up.
      preempted_spins += storm_spin_watch(kJumpers + idx, storm_rand(rng) % 2000);
      sched_yield();
      check_what(e, message(idx, round, "inner"), idx);
      try {
        std::rethrow_exception(std::current_exception());
      } catch (const std::runtime_error& again) {
        check_what(again, message(idx, round, "inner"), idx);
      }
      throw;
    }
    return;
  }
  if (depth == rethrow_at && kind == 2) {
    try {
      throw_from(idx, round, depth - 1, kind, rethrow_at, rng);
    } catch (const std::runtime_error&) {
      std::throw_with_nested(std::logic_error(message(idx, round, "outer")));
    }
    return;
  }
  throw_from(idx, round, depth - 1, kind, rethrow_at, rng);
}

void thrower(int idx) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  uint64_t rng = storm_seed(100 + idx);
  long rounds = 0;
  while (now_ns() < deadline) {
    int depth = 1 + static_cast<int>(storm_rand(&rng) % 40);
    int kind = static_cast<int>(rounds % 4);
    int rethrow_at = 1 + static_cast<int>(storm_rand(&rng) % depth);
    bool caught = false;
    try {
      throw_from(idx, rounds, depth, kind, rethrow_at, &rng);
    } catch (const std::logic_error& outer) {
      CHECK_MSG(kind == 2, "thread %d: kind %d threw a logic_error", idx, kind);
      check_what(outer, message(idx, rounds, "outer"), idx);
      try {
        std::rethrow_if_nested(outer);
        CHECK_MSG(false, "thread %d: the nested exception is missing", idx);
      } catch (const std::runtime_error& inner) {
        check_what(inner, message(idx, rounds, "inner"), idx);
        caught = true;
      }
    } catch (const std::runtime_error& e) {
      CHECK_MSG(kind != 2, "thread %d: a nested exception arrived unwrapped", idx);
      check_what(e, message(idx, rounds, "inner"), idx);
      caught = true;
    }
    CHECK_MSG(caught, "thread %d round %ld: nothing caught", idx, rounds);
    CHECK_MSG(std::uncaught_exceptions() == 0 && std::current_exception() == nullptr,
              "thread %d: an exception still in flight after its handler", idx);
    CHECK_MSG(guards_alive[idx] == 0, "thread %d: %d frame objects were never destroyed", idx,
              guards_alive[idx]);
    CHECK_NO_FAILURES();
    rounds++;
    if (rounds % 16 == 0) std::this_thread::yield();
  }
  catches += rounds;
  CHECK_ON_MAIN_KERNEL_THREAD();
}

}  // namespace

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThrowers; i++) {
    threads.emplace_back(jumper, i);
    threads.emplace_back(thrower, i);
  }
  for (auto& t : threads) t.join();
  CHECK_NO_FAILURES();
  CHECK_MSG(preempted_spins > 0, "no thread was ever switched out mid-jump or mid-unwind");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "jmp_exceptions: %d threads made %ld longjmps, %d threads caught %ld exceptions (%ld "
      "frames unwound) in %.0f ms, %ld spins interrupted: every value and message right\n",
      kJumpers, jumps.load(), kThrowers, catches.load(), guards_destroyed.load(),
      (double)(now_ns() - start) / NS_PER_MS, preempted_spins.load());
  return 0;
}
