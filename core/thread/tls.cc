// Thread control blocks: every user thread gets its own, built the way glibc
// builds one for its own threads, so errno, __thread / thread_local variables
// (of the program and of every library, dlopen'ed ones included), and glibc's
// per-thread state are per user thread. The switch installs the thread's
// control block as the thread pointer (arch/context.h).
//
// x86-64 uses TLS variant II: the control block (glibc's struct pthread,
// whose first 704 bytes are tcbhead_t) sits directly above the static TLS
// blocks, and the thread pointer points at it. _dl_allocate_tls(tcb) makes a
// dtv for it and copies every module's TLS image below it.
//
// The struct pthread fields ptshim fills in (glibc 2.36, x86-64; checked at
// start-up against the main thread's block, see layout_is_known()):
//   header.tcb @0, header.self @16   the block itself (%fs:0, THREAD_SELF)
//   header.dtv @8                    cleared on reuse (renew_area)
//   header.multiple_threads @24, sysinfo @32, stack_guard @40,
//   pointer_guard @48, feature_1 @72  the main thread's values: stack-protector
//                                    canaries and setjmp/atexit pointer
//                                    mangling must agree between threads
//   list @704                        linked into _rtld_global._dl_stack_user:
//                                    ld.so initialises the static TLS of
//                                    libraries dlopen'ed later in every listed
//                                    block; fork's child keeps only the caller
//   tid @720                         the kernel thread's id: glibc's recursive
//                                    internal locks (the loader's) see one
//                                    owner and never block the kernel thread
//   robust_head @736                 an empty robust-mutex list
//   specific[0] @1296                glibc's own first key block @784
//   user_stack @1554 = 1             fork's child lists the caller as a user
//                                    stack, never as one glibc may recycle
//   stackblock @1680, _size @1688    the user thread's stack
//                                    (pthread_getattr_np, alloca limits)
//   rseq_area.cpu_id @2340 = -2      only the main thread's rseq area is
//                                    registered with the kernel
//
// Blocks are reused after a thread ends (a cache), which also avoids what a
// fresh block costs glibc: each new block would start a new malloc tcache and
// attach to an arena, and glibc frees those only in its own thread exit. On
// reuse libc's own TLS block (tcache, arena, ctype and locale pointers) is
// kept; errno, h_errno and the thread's locale are reset.
//
// Every call that may reach malloc (_dl_allocate_tls, _dl_deallocate_tls,
// __call_tls_dtors) is made outside the core: malloc may be the program's.
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <locale.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/thread/thread.h"

// glibc-private entry points, bound weakly to their GLIBC_PRIVATE versions:
// absent ones read as null and ptshim falls back to one shared block.
extern "C" {
void* _dl_allocate_tls(void* mem) __attribute__((weak));
// 2.36 takes only the block; later versions add a flag that must be false
// for any thread but the first, which this passes (and 2.36 ignores).
void* _dl_allocate_tls_init(void* tcb, bool main_thread) __attribute__((weak));
void _dl_deallocate_tls(void* tcb, bool dealloc_tcb) __attribute__((weak));
void _dl_get_tls_static_info(size_t* size, size_t* align) __attribute__((weak));
void __call_tls_dtors() __attribute__((weak));
void __ctype_init() __attribute__((weak));
extern char _rtld_global[] __attribute__((weak));
}
__asm__(".symver _dl_allocate_tls,_dl_allocate_tls@GLIBC_PRIVATE");
__asm__(".symver _dl_allocate_tls_init,_dl_allocate_tls_init@GLIBC_PRIVATE");
__asm__(".symver _dl_deallocate_tls,_dl_deallocate_tls@GLIBC_PRIVATE");
__asm__(".symver _dl_get_tls_static_info,_dl_get_tls_static_info@GLIBC_PRIVATE");
__asm__(".symver __call_tls_dtors,__call_tls_dtors@GLIBC_PRIVATE");
__asm__(".symver __ctype_init,__ctype_init@GLIBC_PRIVATE");
__asm__(".symver _rtld_global,_rtld_global@GLIBC_PRIVATE");

namespace ptshim {

namespace {
// glibc 2.36, x86-64.
constexpr const char* kKnownGlibc = "2.36";
constexpr size_t kTcbSize = 2368;  // sizeof(struct pthread)
constexpr size_t kOffTcb = 0, kOffDtv = 8, kOffSelf = 16, kOffMultipleThreads = 24,
                 kOffSysinfo = 32, kOffStackGuard = 40, kOffPointerGuard = 48, kOffFeature1 = 72;
constexpr size_t kOffList = 704, kOffTid = 720, kOffRobustList = 736, kOffFutexOffset = 744;
constexpr size_t kOffSpecificFirstBlock = 784, kOffSpecific = 1296, kOffUserStack = 1554;
constexpr size_t kOffStackBlock = 1680, kOffStackBlockSize = 1688, kOffRseqCpuId = 2340;
constexpr size_t kOffRtldStackUser = 4280;  // _rtld_global._dl_stack_user
constexpr int32_t kRseqCpuIdRegistrationFailed = -2;

union DtvEntry {  // glibc's dtv_t; entry -1 holds the length
  size_t counter;
  struct {
    void* val;
    void* to_free;  // a dynamically allocated block (dlopen'ed module), or null
  } pointer;
};

struct ListNode {  // glibc's list_t
  ListNode* next;
  ListNode* prev;
};

// The memory of one control block: this header, then the static TLS blocks,
// then the struct pthread at `tcb`.
// The header sits at the very top of its block, just above the control
// block, so what a thread touches (header, struct pthread, the static TLS
// images just below it) shares as few pages as possible; the static TLS
// surplus further down is never touched.
struct TcbArea {
  TcbArea* next_cached;
  char* tcb;
  void* block;  // what internal_free takes
  size_t size;
};

bool g_per_thread;
const char* g_fallback_reason;
char* g_main_tcb;
size_t g_static_size, g_static_align;
ptrdiff_t g_libc_block_offset;  // libc's TLS block, below the thread pointer
size_t g_libc_block_size;
TcbArea* g_cache;
size_t g_cached;
constexpr size_t kMaxCached = 1024;

template <typename T>
T& field(char* tcb, size_t offset) {
  return *reinterpret_cast<T*>(tcb + offset);
}

ListNode* stack_user_list() {
  return reinterpret_cast<ListNode*>(_rtld_global + kOffRtldStackUser);
}

void list_add(ListNode* node, ListNode* head) {
  node->next = head->next;
  node->prev = head;
  head->next->prev = node;
  head->next = node;
}

void list_del(ListNode* node) {
  node->next->prev = node->prev;
  node->prev->next = node->next;
  node->next = node->prev = node;  // unlisted: deleting again is harmless
}

int find_libc_block(dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (strstr(name, "/libc.so.6") == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type != PT_TLS || info->dlpi_tls_data == nullptr) continue;
    g_libc_block_offset = g_main_tcb - static_cast<char*>(info->dlpi_tls_data);
    g_libc_block_size = info->dlpi_phdr[i].p_memsz;
  }
  return 1;
}

const char* layout_problem() {
  if (strcmp(gnu_get_libc_version(), kKnownGlibc) != 0) return "glibc is not 2.36";
  if (_dl_allocate_tls == nullptr || _dl_deallocate_tls == nullptr ||
      _dl_allocate_tls_init == nullptr || _dl_get_tls_static_info == nullptr ||
      __call_tls_dtors == nullptr || __ctype_init == nullptr || _rtld_global == nullptr) {
    return "a glibc-private TLS function is missing";
  }
  char* tcb = g_main_tcb;
  if (field<char*>(tcb, kOffTcb) != tcb || field<char*>(tcb, kOffSelf) != tcb) {
    return "the control block header is not where expected";
  }
  if (field<pid_t>(tcb, kOffTid) != static_cast<pid_t>(arch::raw_syscall(SYS_getpid))) {
    return "struct pthread's tid is not where expected";
  }
  if (field<char*>(tcb, kOffSpecific) != tcb + kOffSpecificFirstBlock) {
    return "struct pthread's key blocks are not where expected";
  }
  ListNode* main_list = &field<ListNode>(tcb, kOffList);
  if (main_list->next != stack_user_list() || main_list->prev != stack_user_list()) {
    return "the loader's thread list is not where expected";
  }
  _dl_get_tls_static_info(&g_static_size, &g_static_align);
  if (g_static_size < kTcbSize || g_static_align == 0 ||
      (g_static_align & (g_static_align - 1)) != 0) {
    return "the static TLS size is implausible";
  }
  dl_iterate_phdr(find_libc_block, nullptr);
  if (g_libc_block_size == 0 || g_libc_block_offset <= 0 ||
      static_cast<size_t>(g_libc_block_offset) > g_static_size) {
    return "libc's TLS block was not found";
  }
  return nullptr;
}

// The fields a new block takes from the main thread's, once.
void fill_control_block(char* tcb) {
  char* main = g_main_tcb;
  field<char*>(tcb, kOffTcb) = tcb;
  field<char*>(tcb, kOffSelf) = tcb;
  field<int>(tcb, kOffMultipleThreads) = field<int>(main, kOffMultipleThreads);
  field<uintptr_t>(tcb, kOffSysinfo) = field<uintptr_t>(main, kOffSysinfo);
  field<uintptr_t>(tcb, kOffStackGuard) = field<uintptr_t>(main, kOffStackGuard);
  field<uintptr_t>(tcb, kOffPointerGuard) = field<uintptr_t>(main, kOffPointerGuard);
  field<unsigned>(tcb, kOffFeature1) = field<unsigned>(main, kOffFeature1);
  ListNode* list = &field<ListNode>(tcb, kOffList);
  list->next = list->prev = list;
  field<pid_t>(tcb, kOffTid) = field<pid_t>(main, kOffTid);
  field<void*>(tcb, kOffRobustList) = &field<void*>(tcb, kOffRobustList);
  field<long>(tcb, kOffFutexOffset) = field<long>(main, kOffFutexOffset);
  field<char*>(tcb, kOffSpecific) = tcb + kOffSpecificFirstBlock;
  field<bool>(tcb, kOffUserStack) = true;
  field<int32_t>(tcb, kOffRseqCpuId) = kRseqCpuIdRegistrationFailed;
}

size_t area_bytes() { return sizeof(TcbArea) + g_static_size + g_static_align; }

// A control block in `memory` (area_bytes() of it, zeroed); null if the
// loader could not allocate the TLS of the modules.
TcbArea* new_area(void* memory) {
  size_t size = area_bytes();
  auto* block = static_cast<char*>(memory);
  auto* area = reinterpret_cast<TcbArea*>(block + internal_alloc_size(size) - sizeof(TcbArea));
  auto tcb = reinterpret_cast<uintptr_t>(area) - kTcbSize;
  area->tcb = reinterpret_cast<char*>(tcb & ~(g_static_align - 1));
  area->block = block;
  area->size = size;
  if (_dl_allocate_tls(area->tcb) == nullptr) return nullptr;
  fill_control_block(area->tcb);
  return area;
}

// A cached block made fresh for a new thread: fresh TLS images for every
// module but libc, whose block is carried over. As glibc's own stack cache
// does (nptl/allocatestack.c, get_cached_stack): free the blocks of
// dlopen'ed modules, clear the dtv, and let the loader fill it again.
// (Loops, not memcpy: GCC would inline memcpy of an unknown size as rep movs,
// slow to start for 144 bytes.)
__attribute__((optimize("no-tree-loop-distribute-patterns"))) bool renew_area(TcbArea* area) {
  char* tcb = area->tcb;
  uint64_t libc_block[32];
  size_t libc_words = g_libc_block_size <= sizeof libc_block ? (g_libc_block_size + 7) / 8 : 0;
  auto* libc_tls = reinterpret_cast<uint64_t*>(tcb - g_libc_block_offset);
  for (size_t i = 0; i < libc_words; ++i) libc_block[i] = libc_tls[i];
  DtvEntry* dtv = field<DtvEntry*>(tcb, kOffDtv);
  size_t length = dtv[-1].counter;
  for (size_t i = 0; i < length; ++i) {
    if (dtv[1 + i].pointer.to_free != nullptr) free(dtv[1 + i].pointer.to_free);
  }
  memset(dtv, 0, (length + 1) * sizeof(DtvEntry));
  if (_dl_allocate_tls_init(tcb, false) == nullptr) return false;
  for (size_t i = 0; i < libc_words; ++i) libc_tls[i] = libc_block[i];
  return true;
}

TcbArea* area_of(const Thread* t) { return static_cast<TcbArea*>(t->tls_area); }
}  // namespace

void tls_initialize(Thread* main_thread) {
  g_main_tcb = static_cast<char*>(arch::thread_pointer());
  g_fallback_reason = options().shared_tls ? nullptr : layout_problem();
  g_per_thread = g_fallback_reason == nullptr && !options().shared_tls;
  main_thread->context.thread_pointer = g_per_thread ? g_main_tcb : nullptr;
}

void tls_report_fallback_once() {
  static bool reported;
  if (g_per_thread || g_fallback_reason == nullptr || reported) return;
  reported = true;
  Writer()
      .str("ptshim: ")
      .str(g_fallback_reason)
      .str(
          " (ptshim knows glibc 2.36 on x86-64): all threads share the main thread's "
          "__thread and thread_local variables; errno stays per thread\n");
}

bool tls_prepare(TlsBlock* block) {
  block->area = nullptr;
  block->reused = false;
  if (!g_per_thread) return true;
  auto* area = g_cache;
  if (area != nullptr) {
    g_cache = area->next_cached;
    --g_cached;
  }
  TcbArea* surplus = nullptr;  // past the cache's limit: freed below
  if (g_cached > kMaxCached) {
    surplus = g_cache;
    g_cache = surplus->next_cached;
    --g_cached;
  }
  // The internal allocator is the core's (the SIGALRM handler uses it too):
  // memory is taken and given back only inside the core section.
  void* fresh = area == nullptr ? internal_alloc_zeroed(area_bytes()) : nullptr;
  leave_core();
  if (surplus != nullptr) _dl_deallocate_tls(surplus->tcb, false);
  bool reused = area != nullptr && renew_area(area);
  TcbArea* stale = nullptr;  // a cached block the loader could not renew
  if (area != nullptr && !reused) {
    stale = area;
    area = nullptr;
    enter_core();
    fresh = internal_alloc_zeroed(area_bytes());
    leave_core();
  }
  if (area == nullptr) area = new_area(fresh);
  enter_core();
  if (surplus != nullptr) internal_free(surplus->block, surplus->size);
  if (stale != nullptr) internal_free(stale->block, stale->size);
  if (area == nullptr) internal_free(fresh, area_bytes());
  block->area = area;
  block->reused = reused;
  return area != nullptr;
}

void tls_bind(Thread* t, const TlsBlock& block) {
  auto* area = static_cast<TcbArea*>(block.area);
  if (area == nullptr) return;
  t->tls_area = area;
  t->tls_reused = block.reused;
  t->context.thread_pointer = area->tcb;
  field<char*>(area->tcb, kOffStackBlock) = static_cast<char*>(t->stack_lo);
  field<size_t>(area->tcb, kOffStackBlockSize) = t->stack_size;
  list_add(&field<ListNode>(area->tcb, kOffList), stack_user_list());
}

void tls_discard(const TlsBlock& block) {
  auto* area = static_cast<TcbArea*>(block.area);
  if (area == nullptr) return;
  area->next_cached = g_cache;
  g_cache = area;
  ++g_cached;
}

void tls_on_thread_start(Thread* t) {
  if (!g_per_thread) return;
  if (t->tls_reused) {
    errno = 0;
    h_errno = 0;
    uselocale(LC_GLOBAL_LOCALE);  // also sets the ctype table pointers
  } else {
    __ctype_init();
  }
}

void tls_run_destructors() {
  if (g_per_thread) __call_tls_dtors();
}

void tls_release(Thread* t) {
  TcbArea* area = area_of(t);
  if (area == nullptr) return;
  t->tls_area = nullptr;
  list_del(&field<ListNode>(area->tcb, kOffList));
  // Kept for the next thread. Freeing needs free(), which the core must not
  // call: tls_prepare() trims the cache outside the core.
  tls_discard(TlsBlock{area, false});
}

void tls_after_fork_in_child(Thread* survivor) {
  // glibc's fork child rebuilt the loader's thread lists with the survivor's
  // block alone; the others' list links are stale.
  for (Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (t == survivor || area_of(t) == nullptr) continue;
    ListNode* list = &field<ListNode>(area_of(t)->tcb, kOffList);
    list->next = list->prev = list;
    tls_release(t);
  }
}

}  // namespace ptshim
