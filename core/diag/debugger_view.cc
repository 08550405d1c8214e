// The debugger view: ptshim_debugger_view, the one exported constant that
// scripts/gdb/ptshim_gdb reads to list user threads and their saved
// registers, on a live process or a core, with no DWARF for the library.
//
// INVARIANTS:
// - Every value comes from the code's own declarations (offsetof, sizeof,
//   the enums, the globals' addresses, arch/'s register tables), never
//   written by hand, so the view cannot drift from the structures it names.
// - It is constant-initialised (constinit): it is right from the moment the
//   library is mapped, in any core, before any code here ran.
// - Keys are only ever added; a change of meaning takes a new
//   kDebuggerViewVersion (the extension refuses another version).
#include <poll.h>

#include <cstddef>

#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {

// Not constexpr: a key that does not fit makes the view's constant
// initialisation, and so the build, fail.
void key_too_long() {}

constexpr DebuggerViewEntry number(const char* key, uint64_t value) {
  DebuggerViewEntry e{};
  size_t i = 0;
  for (; key[i] != '\0'; ++i) {
    if (i + 1 >= sizeof e.key) key_too_long();
    e.key[i] = key[i];
  }
  e.number = value;
  return e;
}
constexpr DebuggerViewEntry address(const char* key, const void* value) {
  DebuggerViewEntry e = number(key, 0);
  e.address = value;
  return e;
}

#define PTSHIM_VIEW_FIELD(key, type, field) \
  number(key, offsetof(type, field)),       \
      number(key ".size", sizeof(static_cast<type*>(nullptr)->field))
#define PTSHIM_VIEW_THREAD(field) PTSHIM_VIEW_FIELD("thread." #field, Thread, field)
#define PTSHIM_VIEW_ENUM(key, value) number(key, static_cast<uint64_t>(value))

constexpr DebuggerViewEntry kEntries[] = {
    // The globals the extension starts from.
    address("threads", &g_all_threads),  // Thread*: the list through all_next
    address("current", &g_current),      // Thread*: the running thread
    address("switch_kind", &arch::g_context_kind),
    PTSHIM_VIEW_ENUM("switch_kind.fast", arch::SwitchKind::kFast),
    PTSHIM_VIEW_ENUM("switch_kind.ucontext", arch::SwitchKind::kUcontext),
    address("virtual_clock.on", &g_virtual_clock.on),
    address("virtual_clock.now_ns", &g_virtual_clock.now_ns),
    address("fatal_report.now_ns", &g_fatal_report_ns),  // uint64_t: a core's now, or 0

    // Saved registers: arch/'s tables (arch/context.h, SavedRegister).
    address("fast_registers", arch::kFastSavedRegisters),
    address("ucontext_registers", arch::kUcontextSavedRegisters),
    number("saved_register.size", sizeof(arch::SavedRegister)),
    PTSHIM_VIEW_FIELD("saved_register.name", arch::SavedRegister, name),
    PTSHIM_VIEW_FIELD("saved_register.offset", arch::SavedRegister, offset),
    PTSHIM_VIEW_FIELD("saved_register.is_address", arch::SavedRegister, is_address),
    address("thread_pointer_register", arch::kThreadPointerRegister),

    // Thread (core/sched/sched.h).
    number("thread.size", sizeof(Thread)),
    PTSHIM_VIEW_THREAD(number),
    PTSHIM_VIEW_THREAD(state),
    PTSHIM_VIEW_THREAD(wait_kind),
    PTSHIM_VIEW_THREAD(wait_object),
    PTSHIM_VIEW_THREAD(deadline_ns),
    PTSHIM_VIEW_THREAD(heap_slot),
    PTSHIM_VIEW_THREAD(all_next),
    PTSHIM_VIEW_THREAD(is_main),
    PTSHIM_VIEW_THREAD(name),
    PTSHIM_VIEW_THREAD(start_routine),
    PTSHIM_VIEW_THREAD(c11_start_routine),
    PTSHIM_VIEW_THREAD(notify_routine),
    PTSHIM_VIEW_THREAD(callable_code),
    PTSHIM_VIEW_THREAD(state_vtable),
    PTSHIM_VIEW_THREAD(creator_number),
    PTSHIM_VIEW_THREAD(created_at),
    PTSHIM_VIEW_THREAD(in_tick_handler),
    PTSHIM_VIEW_THREAD(context.stack_pointer),
    PTSHIM_VIEW_THREAD(context.uc),
    PTSHIM_VIEW_THREAD(context.thread_pointer),
    PTSHIM_VIEW_THREAD(held_slots),
    PTSHIM_VIEW_THREAD(held_bytes),
    PTSHIM_VIEW_THREAD(io_fds),
    PTSHIM_VIEW_THREAD(io_count),
    PTSHIM_VIEW_THREAD(futex_word),

    PTSHIM_VIEW_ENUM("state.free", ThreadState::kFree),
    PTSHIM_VIEW_ENUM("state.running", ThreadState::kRunning),
    PTSHIM_VIEW_ENUM("state.runnable", ThreadState::kRunnable),
    PTSHIM_VIEW_ENUM("state.blocked", ThreadState::kBlocked),
    PTSHIM_VIEW_ENUM("state.exited", ThreadState::kExited),

    // What a blocked thread waits for: the reports' names (thread_text.cc),
    // and the kinds whose object the extension looks into.
    address("wait_kind_names", kWaitKindNames.names),
    number("wait_kind_count", kWaitKindCount),
    PTSHIM_VIEW_ENUM("wait.mutex", WaitKind::kMutex),
    PTSHIM_VIEW_ENUM("wait.cond", WaitKind::kCond),
    PTSHIM_VIEW_ENUM("wait.join", WaitKind::kJoin),
    PTSHIM_VIEW_ENUM("wait.sleep", WaitKind::kSleep),
    PTSHIM_VIEW_ENUM("wait.rw_read", WaitKind::kRwRead),
    PTSHIM_VIEW_ENUM("wait.rw_write", WaitKind::kRwWrite),
    PTSHIM_VIEW_ENUM("wait.semaphore", WaitKind::kSemaphore),
    PTSHIM_VIEW_ENUM("wait.io", WaitKind::kIo),
    PTSHIM_VIEW_ENUM("wait.futex", WaitKind::kFutex),
    PTSHIM_VIEW_ENUM("wait.timer", WaitKind::kTimer),

    // Held locks (core/sync/held.cc): held_bytes / held_lock.size entries
    // from held_slots[held.first].
    number("held_lock.size", sizeof(HeldLock)),
    PTSHIM_VIEW_FIELD("held_lock.object", HeldLock, object),
    PTSHIM_VIEW_FIELD("held_lock.site_and_kind", HeldLock, site_and_kind),
    number("held.first", 1),
    number("held.kind_shift", kHeldKindShift),
    address("lock_kind_names", kLockKindNames.names),  // lock_name.cc's, by LockKind
    number("lock_kind_count", kLockKindCount),

    // Who holds what a thread waits for (deadlock.cc's holder_of).
    PTSHIM_VIEW_FIELD("mutex.owner", Mutex, owner),
    PTSHIM_VIEW_FIELD("mutex.kind", Mutex, kind),
    number("mutex.kind_shared", kMutexKindShared),
    PTSHIM_VIEW_FIELD("rwlock.writer", RwLock, writer),
    PTSHIM_VIEW_FIELD("rwlock.active_readers", RwLock, active_readers),
    PTSHIM_VIEW_FIELD("rwlock.shared_flag", RwLock, reserved2),  // rwlock_is_shared
    number("rwlock.shared_flag_value", 1),

    // An I/O wait's pollfds.
    number("pollfd.size", sizeof(struct pollfd)),
    PTSHIM_VIEW_FIELD("pollfd.fd", struct pollfd, fd),
    PTSHIM_VIEW_FIELD("pollfd.events", struct pollfd, events),
};

#undef PTSHIM_VIEW_ENUM
#undef PTSHIM_VIEW_THREAD
#undef PTSHIM_VIEW_FIELD

constexpr size_t kCount = sizeof kEntries / sizeof kEntries[0];

}  // namespace

struct DebuggerViewTable {
  DebuggerViewHeader header;
  DebuggerViewEntry entries[kCount];
};
static_assert(offsetof(DebuggerViewTable, entries) == sizeof(DebuggerViewHeader));

namespace {
constexpr DebuggerViewTable make_view() {
  DebuggerViewTable v{};
  const char magic[] = "ptshimDV";
  for (size_t i = 0; i < sizeof v.header.magic; ++i) v.header.magic[i] = magic[i];
  v.header.version = kDebuggerViewVersion;
  v.header.count = kCount;
  v.header.entry_size = sizeof(DebuggerViewEntry);
  v.header.header_size = sizeof(DebuggerViewHeader);
  for (size_t i = 0; i < kCount; ++i) v.entries[i] = kEntries[i];
  return v;
}

}  // namespace

}  // namespace ptshim

// Default visibility: in .dynsym, so it survives stripping.
extern "C" __attribute__((visibility("default"),
                          used)) constinit const ptshim::DebuggerViewTable ptshim_debugger_view =
    ptshim::make_view();
