// CPU time per user thread. The kernel counts the CPU time of the one kernel
// thread that runs every user thread; each user thread gets its share.
//
// Invariants:
// - Between two settlements, every cycle of the counter the kernel thread
//   spent outside the idle sleep is charged to exactly one thread
//   (g_cpu_stamp is the end of what was charged so far): once g_cpu_exact is
//   set, to the thread that was running then; before, to the thread running
//   at the next sample (a tick, a block, an exit, the idle path, the switch
//   to exact charging): yields do not charge.
// - A thread is in the ring (g_cpu_charged) exactly when it was charged
//   since the last settlement; g_cpu_cycles is the sum of what was charged
//   meanwhile, including threads that were freed since (cputime_forget),
//   whose share is dropped.
// - A settlement gives each thread in the ring its part, in proportion to
//   its cycles, of the CPU time the kernel thread gained since the previous
//   one, rounded down: a thread's time only grows, and the threads' times
//   add up to at most the kernel thread's.
//
// Why: reading the kernel's clock is a system call (250 ns to 750 ns), many
// times the cost of a switch; the cycle counter is about 12 ns here, still a
// quarter of a switch, so yields and preemptions charge only once the
// program uses a thread CPU clock (pthread_getcpuclockid, or reading one). The kernel's
// time, unlike the wall time the counter measures, leaves out the time the
// host took the processor away, so the counter gives only the proportions.
// Settling at ticks (every one once a clock is in use, every 16th before)
// keeps those proportions from being averaged over long stretches with
// different steal.
//
// Under virtual time (core/base) the charges are virtual nanoseconds (the
// virtual time that passed while some thread ran, cputime_stamp), charging
// is exact from the start, and a settlement adds each thread's charge to its
// time: no cycle counter and no kernel clock.
#include <sys/syscall.h>
#include <time.h>

#include "core/sched/sched.h"

namespace ptshim {

CpuTime g_cpu_charged{&g_cpu_charged, &g_cpu_charged, 0, 0};
uint64_t g_cpu_stamp;
uint64_t g_cpu_cycles;
bool g_cpu_exact;

namespace {
uint64_t g_kernel_ns;  // the kernel thread's CPU time at the last settlement
uint32_t g_sampled_ticks;
constexpr uint32_t kTicksPerSampledSettlement = 16;

// MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED): the calling kernel thread's.
constexpr clockid_t kCallingThreadSchedClock = (~0 << 3) | 4 | 2;

void ring_clear() {
  for (CpuTime* c = g_cpu_charged.next; c != &g_cpu_charged;) {
    CpuTime* next = c->next;
    c->next = c->prev = nullptr;
    c->cycles = 0;
    c = next;
  }
  g_cpu_charged.next = g_cpu_charged.prev = &g_cpu_charged;
  g_cpu_cycles = 0;
}

// Under virtual time what was charged is the CPU time itself.
void settle_virtual() {
  for (CpuTime* c = g_cpu_charged.next; c != &g_cpu_charged; c = c->next) c->ns += c->cycles;
  ring_clear();
}

// `read`: a clock is read (charging is exact from now on).
void settle(bool read = true) {
  if (read) cputime_make_exact();
  cputime_charge(&current()->cpu);
  if (g_virtual_clock.on) return settle_virtual();
  uint64_t now = kernel_thread_cpu_ns();
  if (g_cpu_cycles == 0) return;  // what the kernel counted waits for the next one
  uint64_t gained = now > g_kernel_ns ? now - g_kernel_ns : 0;
  // In doubles (exact to the ns for gains below 104 days; a 128-bit division
  // would need libgcc's __udivti3), never giving out more than was gained.
  double per_cycle = static_cast<double>(gained) / static_cast<double>(g_cpu_cycles);
  uint64_t given = 0;
  for (CpuTime* c = g_cpu_charged.next; c != &g_cpu_charged; c = c->next) {
    auto share = static_cast<uint64_t>(static_cast<double>(c->cycles) * per_cycle);
    if (share > gained - given) share = gained - given;
    c->ns += share;
    given += share;
  }
  ring_clear();
  g_kernel_ns = now;
}
}  // namespace

uint64_t kernel_thread_cpu_ns() {
  timespec ts{0, 0};
  arch::raw_syscall(SYS_clock_gettime, kCallingThreadSchedClock, reinterpret_cast<long>(&ts));
  return ns_from_timespec(ts);
}

void cputime_start(Thread* first) {
  g_cpu_stamp = cputime_stamp();
  if (g_virtual_clock.on) {
    // Virtual CPU time starts at 0, and charging it at every switch costs
    // a subtraction: it is exact from the start.
    first->cpu.ns = 0;
    g_cpu_exact = true;
    return;
  }
  g_kernel_ns = kernel_thread_cpu_ns();
  first->cpu.ns = g_kernel_ns;
}

void cputime_make_exact() {
  if (g_cpu_exact) return;
  cputime_charge(&current()->cpu);  // what the last sample left
  g_cpu_exact = true;
}

void cputime_idle_begin() { cputime_charge(&current()->cpu); }

void cputime_idle_end() { g_cpu_stamp = cputime_stamp(); }

uint64_t cputime_ns(Thread* t) {
  settle();
  return t->cpu.ns;
}

void cputime_on_tick() {
  CpuTime* running = &current()->cpu;
  cputime_charge(running);  // before exact charging, a sample: the stretch since the last one
  CpuTime* first = g_cpu_charged.next;
  bool only_running = first == running && running->next == &g_cpu_charged;
  if (only_running) return;  // nothing to apportion
  // Before any thread CPU clock is read nobody looks: every 16th tick is
  // enough to keep the proportions from spanning the whole run.
  if (g_cpu_exact || ++g_sampled_ticks % kTicksPerSampledSettlement == 0) settle(false);
}

void cputime_forget(Thread* t) {
  CpuTime* c = &t->cpu;
  if (c->next == nullptr) return;
  c->prev->next = c->next;
  c->next->prev = c->prev;
  c->next = c->prev = nullptr;
}

void cputime_after_fork_in_child(Thread* survivor) {
  ring_clear();
  g_cpu_stamp = cputime_stamp();
  if (g_virtual_clock.on) {
    survivor->cpu.ns = 0;
    return;
  }
  g_kernel_ns = kernel_thread_cpu_ns();
  survivor->cpu.ns = g_kernel_ns;
}

}  // namespace ptshim
