// Source lines in reports: file:line[:column] after a frame, and one line
// per inlined level, from an external symbolizer (llvm-symbolizer or
// binutils addr2line) that ptshim starts from the report path itself
// (docs/design.md, "Source lines").
//
// INVARIANTS
// - Nothing here allocates or uses stdio: queries, answers, the cache and
//   the symbolizer's argv and environment are static buffers; every system
//   call is arch::raw_syscall.
// - A report never waits for a symbolizer longer than the limits below (per
//   answer, per report); a symbolizer that is late, dies or answers what was
//   not asked is killed, its object is asked no more, and the
//   frames print as they would without it (function+offset).
// - The symbolizer is invisible to the program: a raw clone with exit
//   signal 0 (its end sends no SIGCHLD, and wait4 / waitid without __WALL
//   or __WCLONE, the program's and ptshim's own child-wait emulation in
//   core/signal/child.cc, neither see nor reap it) starts it as its own
//   child and exits at once; ptshim reaps that one with __WALL. The
//   symbolizer itself is then an orphan, init's to reap: it cannot be
//   ptshim's child, since execve makes a process's exit signal SIGCHLD
//   again. It is killed through a pidfd (no pid reuse), and it ends by
//   itself when its socket closes with the process. It runs without
//   LD_PRELOAD, with every signal at its default action and unblocked,
//   stdin and stdout on one socket (MSG_NOSIGNAL: a dead symbolizer cannot
//   raise SIGPIPE), stderr on /dev/null and no other descriptor.
// - It stays alive between reports (a thread dump may come again); a fork's
//   child or a program that closed or reused its socket starts another.
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <initializer_list>

#include "core/diag/diag.h"

extern char** environ;

namespace ptshim {

namespace {
// ---- limits ---------------------------------------------------------------------------------
// An object's first answer includes loading its line tables and, for a new
// process, exec: llvm-symbolizer starts in 45 ms (165 on a loaded machine),
// addr2line in 2 to 17. Later answers come in well under a millisecond. A
// report: all its waits together (docs/design.md, "Source lines").
constexpr uint64_t kFirstAnswerLimitNs = 1 * kNsPerSec;
constexpr uint64_t kAnswerLimitNs = 100'000'000;
constexpr uint64_t kReportLimitNs = 2 * kNsPerSec;
// A seeded run's reports are compared between replays (explore): its limits
// are long enough that a loaded machine does not change what they say.
constexpr uint64_t kSeededLimitFactor = 5;
// Queries with more than this apart belong to different reports, for a
// report that does not call symbolizer_report_begin.
constexpr uint64_t kReportGapNs = kNsPerSec;
constexpr int kFailuresBeforeOff = 3;  // dead or garbled symbolizers, then no more tries

constexpr size_t kPathMax = 512;
constexpr size_t kMaxObjects = 64;
constexpr size_t kMaxProcesses = 4;  // addr2line: one per object
constexpr size_t kMaxLevels = 8;     // inlined levels kept per pc
constexpr size_t kCacheSlots = 1024;
constexpr size_t kLevelPool = 4096;
constexpr size_t kTextPool = 256 * 1024;
constexpr size_t kAnswerMax = 16 * 1024;
constexpr size_t kMaxEnv = 256;
constexpr size_t kFunctionMax = 200;

enum class Kind : uint8_t { kLlvm, kAddr2line };
// addr2line's answers have no end of their own: each query is followed by
// this address, whose answer ("??" twice) closes it.
constexpr char kAddr2lineFence[] = "0xffffffffffffff00";

// ---- objects --------------------------------------------------------------------------------
struct Object {
  char path[kPathMax];
  bool failed;    // its symbolizer was late or broken: asked no more
  bool answered;  // its line tables are loaded: later answers are quick
};
Object g_objects[kMaxObjects];
size_t g_object_count;

// ---- the symbolizer and its processes -------------------------------------------------------
char g_symbolizer[kPathMax];
Kind g_kind;
bool g_looked;  // g_symbolizer settled (found, or empty: none)
int g_failures;
const char* g_env[kMaxEnv + 1];

struct Process {
  long pid;      // 0: slot free
  int fd;        // our end of its socket
  int pidfd;     // -1: kill by pid
  long owner;    // the pid that started it (a fork's child does not own it)
  uint64_t dev;  // the socket's identity, in case the program closed and reused fd
  uint64_t ino;
  size_t object;  // addr2line: the object it reads
  uint64_t used;  // last use, for replacing the oldest
};
Process g_processes[kMaxProcesses];
uint64_t g_use_clock;

// ---- the per-report budget ------------------------------------------------------------------
uint64_t g_report_deadline;
uint64_t g_last_query;

// ---- answers --------------------------------------------------------------------------------
struct Level {
  uint32_t function;  // offsets into g_text
  uint32_t file;      // 0: unknown
  uint32_t line;
  uint32_t column;  // 0: unknown
};
struct Entry {
  uint32_t object;  // index + 1; 0: free slot
  uintptr_t offset;
  uint16_t first;  // into g_levels
  uint8_t levels;  // innermost first; the last is the frame's own function
  uint8_t more;    // inlined levels not kept
};
Entry g_cache[kCacheSlots];
size_t g_cache_used;
Level g_levels[kLevelPool];
size_t g_levels_used;
char g_text[kTextPool];
size_t g_text_used = 1;  // offset 0 is "no text"

char g_answer[kAnswerMax];
size_t g_answer_len;

long sys(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) {
  return arch::raw_syscall(nr, a1, a2, a3, a4, a5, a6);
}

bool starts_with(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool copy(char* out, size_t size, const char* a, const char* b = "", const char* c = "") {
  size_t n = 0;
  for (const char* part : {a, b, c}) {
    for (const char* p = part; *p != '\0'; ++p) {
      if (n + 1 >= size) return false;
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return true;
}

// ---- choosing the symbolizer ----------------------------------------------------------------
const char* base_name(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  return base;
}

bool executable(const char* path) {
  return sys(SYS_access, reinterpret_cast<long>(path), X_OK) == 0;
}

// The first directory of PATH that holds `name`.
bool find_on_path(const char* name, char* out) {
  const char* path = nullptr;
  for (const char** e = g_env; *e != nullptr; ++e) {
    if (starts_with(*e, "PATH=")) path = *e + 5;
  }
  if (path == nullptr) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path != '\0') {
    const char* end = path;
    while (*end != '\0' && *end != ':') ++end;
    char dir[kPathMax];
    size_t n = static_cast<size_t>(end - path);
    if (n > 0 && n < sizeof dir && path[0] == '/') {
      memcpy(dir, path, n);
      dir[n] = '\0';
      if (copy(out, kPathMax, dir, "/", name) && executable(out)) return true;
    }
    path = *end == ':' ? end + 1 : end;
  }
  return false;
}

// Settles which symbolizer reports use: PTSHIM_SYMBOLIZER's, else addr2line,
// else llvm-symbolizer (addr2line starts in 2 to 17 ms, llvm-symbolizer in
// 45 to 165: docs/design.md, "Source lines"). Its output format follows from
// its name: anything called *addr2line* speaks addr2line's (llvm-addr2line
// too), anything else llvm-symbolizer's.
bool symbolizer_found() {
  if (!g_looked) {
    g_looked = true;
    g_symbolizer[0] = '\0';
    if (options().symbolizer != nullptr) {
      copy(g_symbolizer, sizeof g_symbolizer, options().symbolizer);
    } else if (!find_on_path("addr2line", g_symbolizer) &&
               !find_on_path("llvm-symbolizer", g_symbolizer)) {
      g_symbolizer[0] = '\0';
    }
    g_kind =
        strstr(base_name(g_symbolizer), "addr2line") != nullptr ? Kind::kAddr2line : Kind::kLlvm;
  }
  return g_symbolizer[0] != '\0';
}

// ---- processes ------------------------------------------------------------------------------
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  uint64_t mask;
};

// In the child of the clone: nothing but system calls on copies of the
// parent's memory, then execve. Never returns.
[[noreturn]] void become_symbolizer(int socket, const char* const* argv) {
  // Above the standard descriptors first: a program that closed stdin got
  // the socket there, with its close-on-exec flag, which dup2 onto itself
  // would keep.
  long high = sys(SYS_fcntl, socket, F_DUPFD, 3);
  sys(SYS_dup2, high, 0);
  sys(SYS_dup2, high, 1);
  long null = sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"), O_WRONLY);
  if (null >= 0) sys(SYS_dup2, null, 2);
  sys(SYS_close_range, 3, ~0u, 0);
  KernelSigaction dfl{};  // SIG_DFL, no flags
  for (int sig = 1; sig < 65; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8);
    }
  }
  uint64_t none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
  sys(SYS_execve, reinterpret_cast<long>(argv[0]), reinterpret_cast<long>(argv),
      reinterpret_cast<long>(g_env));
  sys(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Middle processes of `start` not reaped yet (a loaded machine had not run
// them to their end in time): tried again at the next start.
long g_unreaped[8];

bool reaped(long pid) {
  int status;
  return sys(SYS_wait4, pid, reinterpret_cast<long>(&status), WNOHANG | __WALL, 0) != 0;
}

// Waits (boundedly) for the short-lived middle process of `start`.
void reap_middle(long pid) {
  for (long& old : g_unreaped) {
    if (old != 0 && reaped(old)) old = 0;
  }
  for (int tries = 0; tries < 100; ++tries) {
    if (reaped(pid)) return;  // reaped, or gone
    timespec pause{0, 100'000};
    sys(SYS_nanosleep, reinterpret_cast<long>(&pause), 0);
  }
  for (long& old : g_unreaped) {
    if (old == 0) {
      old = pid;
      return;
    }
  }
}

void stop(Process& p) {
  if (p.pidfd >= 0) {
    sys(SYS_pidfd_send_signal, p.pidfd, SIGKILL, 0, 0);
    sys(SYS_close, p.pidfd);
  } else {
    sys(SYS_kill, p.pid, SIGKILL);
  }
  sys(SYS_close, p.fd);
  p.pid = 0;
}

// Polls until `pfd` is readable or the deadline passes.
bool wait_readable(pollfd& pfd, uint64_t deadline) {
  for (;;) {
    uint64_t now = real_monotonic_now_ns();
    if (now >= deadline) return false;
    long wait_ms = static_cast<long>((deadline - now + 999'999) / 1'000'000);
    long r = sys(SYS_poll, reinterpret_cast<long>(&pfd), 1, wait_ms);
    if (r != -EINTR) return r == 1;
  }
}

bool socket_identity(int fd, uint64_t* dev, uint64_t* ino) {
  struct stat st;
  if (sys(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0 || !S_ISSOCK(st.st_mode)) return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

// A process this process may still talk to: a fork's child inherited only
// the parent's descriptors (and must not close them: their numbers may be
// the program's now), and the program may have closed or reused ours.
bool process_usable(Process& p) {
  if (p.pid == 0) return false;
  uint64_t dev, ino;
  if (p.owner != sys(SYS_getpid) || !socket_identity(p.fd, &dev, &ino) || dev != p.dev ||
      ino != p.ino) {
    p.pid = 0;  // forgotten, not closed
    return false;
  }
  return true;
}

bool start(Process& p, size_t object, uint64_t deadline) {
  int sv[2];
  if (sys(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, reinterpret_cast<long>(sv)) !=
      0) {
    return false;
  }
  const char* argv[8];
  int n = 0;
  argv[n++] = g_symbolizer;
  if (g_kind == Kind::kAddr2line) {
    for (const char* a : {"-a", "-f", "-i", "-C", "-e"}) argv[n++] = a;
    argv[n++] = g_objects[object].path;
  } else {
    for (const char* a : {"--inlines", "-C", "-a"}) argv[n++] = a;
  }
  argv[n] = nullptr;
  // Every signal blocked across the clone: none may run a handler in the
  // child before its dispositions are reset.
  uint64_t all = ~uint64_t{0}, before = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all),
      reinterpret_cast<long>(&before), 8);
  long middle = sys(SYS_clone, 0 /* no flags, exit signal 0 */, 0, 0, 0, 0);
  if (middle == 0) {
    long pid = sys(SYS_clone, 0, 0, 0, 0, 0);
    if (pid == 0) become_symbolizer(sv[1], argv);
    auto pid32 = static_cast<int32_t>(pid);  // first on the socket: before any answer
    sys(SYS_write, sv[1], reinterpret_cast<long>(&pid32), sizeof pid32);
    sys(SYS_exit_group, 0);
  }
  sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&before), 0, 8);
  sys(SYS_close, sv[1]);
  if (middle > 0) reap_middle(middle);
  int32_t pid = -1;
  pollfd pfd{sv[0], POLLIN, 0};
  if (middle < 0 || !socket_identity(sv[0], &p.dev, &p.ino) || !wait_readable(pfd, deadline) ||
      sys(SYS_recvfrom, sv[0], reinterpret_cast<long>(&pid), sizeof pid, MSG_DONTWAIT, 0, 0) !=
          sizeof pid ||
      pid <= 0) {
    sys(SYS_close, sv[0]);
    return false;
  }
  p.pid = pid;
  p.pidfd = static_cast<int>(sys(SYS_pidfd_open, pid, 0));
  p.fd = sv[0];
  p.owner = sys(SYS_getpid);
  p.object = object;
  return true;
}

Process* process_for(size_t object, uint64_t deadline) {
  Process* oldest = &g_processes[0];
  for (Process& p : g_processes) {
    if (!process_usable(p)) continue;
    if (g_kind == Kind::kLlvm || p.object == object) return &p;
  }
  for (Process& p : g_processes) {
    if (p.pid == 0) {
      oldest = &p;
      break;
    }
    if (p.used < oldest->used) oldest = &p;
  }
  if (oldest->pid != 0) stop(*oldest);
  return start(*oldest, object, deadline) ? oldest : nullptr;
}

// ---- asking ---------------------------------------------------------------------------------
uint64_t limit(uint64_t ns) { return options().seeded ? ns * kSeededLimitFactor : ns; }

struct Query {
  char text[kPathMax + 64];
  size_t len;
  void add(const char* s) {
    while (*s != '\0' && len + 1 < sizeof text) text[len++] = *s++;
  }
  void add_hex(uintptr_t v) {
    char digits[17];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    add("0x");
    while (n > 0) {
      char one[2] = {digits[--n], '\0'};
      add(one);
    }
  }
};

// The answer to one query is complete: llvm-symbolizer ends it with an
// empty line, addr2line's is followed by the fence's two "??" lines.
bool complete() {
  if (g_kind == Kind::kLlvm) {
    return g_answer_len >= 2 && g_answer[g_answer_len - 1] == '\n' &&
           g_answer[g_answer_len - 2] == '\n';
  }
  constexpr size_t kFence = sizeof kAddr2lineFence - 1;
  g_answer[g_answer_len] = '\0';
  const char* fence = strstr(g_answer, kAddr2lineFence);
  if (fence == nullptr || (fence != g_answer && fence[-1] != '\n')) return false;
  int lines = 0;
  for (const char* p = fence + kFence; *p != '\0'; ++p) lines += *p == '\n';
  return lines >= 3;
}

// Sends the query and reads the whole answer into g_answer before the
// deadline. False: late, dead or too long.
bool exchange(Process& p, const Query& q, uint64_t deadline) {
  if (sys(SYS_sendto, p.fd, reinterpret_cast<long>(q.text), static_cast<long>(q.len),
          MSG_NOSIGNAL | MSG_DONTWAIT, 0) != static_cast<long>(q.len)) {
    return false;
  }
  g_answer_len = 0;
  for (;;) {
    uint64_t now = real_monotonic_now_ns();
    if (now >= deadline) return false;
    pollfd pfd{p.fd, POLLIN, 0};
    long wait_ms = static_cast<long>((deadline - now + 999'999) / 1'000'000);
    long r = sys(SYS_poll, reinterpret_cast<long>(&pfd), 1, wait_ms);
    if (r == -EINTR) continue;
    if (r <= 0) return false;
    long n = sys(SYS_recvfrom, p.fd, reinterpret_cast<long>(g_answer + g_answer_len),
                 static_cast<long>(kAnswerMax - 1 - g_answer_len), MSG_DONTWAIT, 0, 0);
    if (n == -EAGAIN || n == -EINTR) continue;
    if (n <= 0) return false;  // it died (EOF) or the socket broke
    g_answer_len += static_cast<size_t>(n);
    if (complete()) return true;
    if (g_answer_len == kAnswerMax - 1) return false;
  }
}

// ---- reading answers ------------------------------------------------------------------------
// The next line of the answer (NUL-terminated in place), or null.
char* next_line(char** cursor, const char* end) {
  char* line = *cursor;
  if (line >= end) return nullptr;
  char* nl = line;
  while (nl < end && *nl != '\n') ++nl;
  if (nl == end) return nullptr;
  *nl = '\0';
  *cursor = nl + 1;
  return line;
}

bool parse_number(const char* s, const char* end, uint32_t* out) {
  if (s == end) return false;
  uint64_t v = 0;
  for (const char* p = s; p < end; ++p) {
    if (*p < '0' || *p > '9' || v > 0xffffffffu / 10) return false;
    v = v * 10 + static_cast<uint64_t>(*p - '0');
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

uint32_t keep_text(const char* s, size_t n) {
  if (g_text_used + n + 1 > kTextPool) return 0;
  auto at = static_cast<uint32_t>(g_text_used);
  memcpy(g_text + at, s, n);
  g_text[at + n] = '\0';
  g_text_used += n + 1;
  return at;
}

// "file:line:column" (llvm-symbolizer) or "file:line" and maybe
// " (discriminator N)" (addr2line). False when it is neither: garbage.
bool parse_location(char* s, Level* level) {
  char* end = s + strlen(s);
  if (char* disc = strstr(s, " (discriminator "); disc != nullptr) end = disc;
  char* colon = end;
  while (colon > s && colon[-1] != ':') --colon;
  if (colon == s) return false;
  uint32_t last;
  if (!parse_number(colon, end, &last)) {
    if (g_kind == Kind::kAddr2line && end - colon == 1 && *colon == '?') {
      last = 0;  // "??:?": no line
    } else {
      return false;
    }
  }
  char* file_end = colon - 1;
  level->line = last;
  level->column = 0;
  if (g_kind == Kind::kLlvm) {
    char* colon2 = file_end;
    while (colon2 > s && colon2[-1] != ':') --colon2;
    if (colon2 == s || !parse_number(colon2, file_end, &level->line)) return false;
    level->column = last;
    file_end = colon2 - 1;
  }
  size_t n = static_cast<size_t>(file_end - s);
  bool unknown = n == 0 || (n == 2 && s[0] == '?' && s[1] == '?') || level->line == 0;
  level->file = unknown ? 0 : keep_text(s, n);
  return true;
}

// An inlined level in a system header: the standard library's templates
// (std::thread's constructor, std::__invoke, Rust's thread::spawn), whose
// lines are noise in a report about the program; they are left out.
bool in_system_header(const Level& level) {
  if (level.file == 0) return false;
  const char* file = g_text + level.file;
  // C and C++ headers; Rust's standard library, whose sources its debug
  // information names /rustc/<commit>/library/...
  return strncmp(file, "/usr/include/", 13) == 0 || strncmp(file, "/rustc/", 7) == 0;
}

// The answer for `offset` into levels; false when it is not an answer to
// that query (the symbolizer is broken).
bool parse_answer(uintptr_t offset, Level* levels, size_t* count, size_t* more) {
  char* cursor = g_answer;
  const char* end = g_answer + g_answer_len;
  char* echo = next_line(&cursor, end);
  // The address comes back first (-a): an answer to another query is garbage.
  Query want{};
  if (g_kind == Kind::kAddr2line) {
    char padded[19] = "0x0000000000000000";
    for (int i = 17; offset != 0 && i >= 2; --i, offset >>= 4)
      padded[i] = "0123456789abcdef"[offset & 15];
    want.add(padded);
  } else {
    want.add_hex(offset);
  }
  want.text[want.len] = '\0';
  if (echo == nullptr || strcmp(echo, want.text) != 0) return false;
  *count = 0;
  *more = 0;
  Level all[kMaxLevels * 4];
  size_t n = 0;
  for (;;) {
    char* function = next_line(&cursor, end);
    if (function == nullptr) return false;
    if (g_kind == Kind::kLlvm ? function[0] == '\0' : strcmp(function, kAddr2lineFence) == 0) break;
    char* location = next_line(&cursor, end);
    if (location == nullptr) return false;
    Level level{};
    if (!parse_location(location, &level)) return false;
    if (n == sizeof all / sizeof all[0]) {
      ++*more;
      continue;
    }
    size_t length = strlen(function);
    if (length > kFunctionMax) length = kFunctionMax;
    bool unnamed = strcmp(function, "??") == 0;
    level.function = unnamed ? 0 : keep_text(function, length);
    all[n++] = level;
  }
  if (n == 0) return false;
  // Keep the frame's own level (the last) and the innermost of the others
  // that are not in system headers, which reports leave out anyway.
  size_t keep = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    if (in_system_header(all[i])) continue;
    if (keep + 1 < kMaxLevels) {
      levels[keep++] = all[i];
    } else {
      ++*more;
    }
  }
  levels[keep++] = all[n - 1];
  *count = keep;
  return true;
}

// ---- the cache ------------------------------------------------------------------------------
void cache_clear() {
  memset(g_cache, 0, sizeof g_cache);
  g_cache_used = 0;
  g_levels_used = 0;
  g_text_used = 1;
}

Entry* cache_slot(size_t object, uintptr_t offset) {
  size_t h = (offset * 0x9e3779b97f4a7c15u + object * 31) % kCacheSlots;
  for (size_t i = 0; i < kCacheSlots; ++i) {
    Entry& e = g_cache[(h + i) % kCacheSlots];
    if (e.object == 0 || (e.object == object + 1 && e.offset == offset)) return &e;
  }
  return nullptr;
}

// ---- where a pc is --------------------------------------------------------------------------
// Whether the object has line tables of its own (a .debug_line section with
// contents). One whose lines are only in a separate debug file (libc.so.6
// with libc6-dbg installed: 4 MB, 100 to 250 ms to load) is not asked: a
// report has no time for that (docs/design.md, "Source lines").
bool has_own_line_table(const char* path) {
  long fd = sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool found = false;
  ElfW(Ehdr) eh;
  ElfW(Shdr) strtab;
  auto read_at = [fd](void* to, size_t size, uint64_t at) {
    return sys(SYS_pread64, fd, reinterpret_cast<long>(to), static_cast<long>(size),
               static_cast<long>(at)) == static_cast<long>(size);
  };
  if (read_at(&eh, sizeof eh, 0) && eh.e_ident[EI_MAG0] == ELFMAG0 &&
      eh.e_ident[EI_MAG1] == ELFMAG1 && eh.e_ident[EI_MAG2] == ELFMAG2 &&
      eh.e_ident[EI_MAG3] == ELFMAG3 && eh.e_shentsize == sizeof(ElfW(Shdr)) &&
      eh.e_shstrndx < eh.e_shnum &&
      read_at(&strtab, sizeof strtab, eh.e_shoff + uint64_t{eh.e_shstrndx} * sizeof(ElfW(Shdr)))) {
    for (unsigned i = 0; i < eh.e_shnum && !found; ++i) {
      ElfW(Shdr) sh;
      char name[16];
      if (!read_at(&sh, sizeof sh, eh.e_shoff + uint64_t{i} * sizeof sh)) break;
      if (sh.sh_type == SHT_NOBITS || sh.sh_size == 0 || sh.sh_name >= strtab.sh_size) continue;
      size_t room = strtab.sh_size - sh.sh_name < sizeof name - 1 ? strtab.sh_size - sh.sh_name
                                                                  : sizeof name - 1;
      if (!read_at(name, room, strtab.sh_offset + sh.sh_name)) continue;
      name[room] = '\0';
      found = strcmp(name, ".debug_line") == 0 || strcmp(name, ".zdebug_line") == 0;
    }
  }
  sys(SYS_close, fd);
  return found;
}

// The object's index, interned; false for what no symbolizer can read (the
// vDSO, a path a query line cannot carry).
bool object_index(const char* path, size_t* index) {
  if (path[0] != '/') return false;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '"') return false;
  }
  for (size_t i = 0; i < g_object_count; ++i) {
    if (strcmp(g_objects[i].path, path) == 0) {
      *index = i;
      return true;
    }
  }
  if (g_object_count == kMaxObjects || !copy(g_objects[g_object_count].path, kPathMax, path)) {
    return false;
  }
  g_objects[g_object_count].failed = !has_own_line_table(path);
  *index = g_object_count++;
  return true;
}

void fail(Process* p, size_t object) {
  if (p != nullptr) stop(*p);
  g_objects[object].failed = true;
  ++g_failures;
}

const Entry* source_of(uintptr_t pc) {
  if (options().symbolizer_off || !options().backtraces) return nullptr;
  LoadedObject where;
  if (!loaded_object_of(pc, &where)) return nullptr;
  size_t object;
  if (!object_index(where.path, &object)) return nullptr;
  uintptr_t offset = pc - where.bias;
  Entry* slot = cache_slot(object, offset);
  if (slot != nullptr && slot->object != 0) return slot->levels != 0 ? slot : nullptr;
  if (g_objects[object].failed || g_failures >= kFailuresBeforeOff || !symbolizer_found()) {
    return nullptr;
  }
  uint64_t now = real_monotonic_now_ns();
  if (now - g_last_query > kReportGapNs) symbolizer_report_begin();
  g_last_query = now;
  if (now >= g_report_deadline) return nullptr;  // this report has waited enough
  uint64_t deadline =
      now + limit(g_objects[object].answered ? kAnswerLimitNs : kFirstAnswerLimitNs);
  if (deadline > g_report_deadline) deadline = g_report_deadline;
  if (slot == nullptr || g_cache_used * 2 > kCacheSlots ||
      g_levels_used + kMaxLevels > kLevelPool ||
      g_text_used + kMaxLevels * (kFunctionMax + kPathMax) > kTextPool) {
    cache_clear();
    slot = cache_slot(object, offset);
  }
  Process* p = process_for(object, deadline);
  if (p == nullptr) {
    fail(nullptr, object);
    return nullptr;
  }
  p->used = ++g_use_clock;
  Query q{};
  if (g_kind == Kind::kAddr2line) {
    q.add_hex(offset);
    q.add("\n");
    q.add(kAddr2lineFence);
  } else {
    q.add("\"");
    q.add(g_objects[object].path);
    q.add("\" ");
    q.add_hex(offset);
  }
  q.add("\n");
  size_t count = 0, more = 0;
  if (!exchange(*p, q, deadline) ||
      !parse_answer(offset, g_levels + g_levels_used, &count, &more)) {
    fail(p, object);
    return nullptr;
  }
  g_objects[object].answered = true;
  // Cached, known or not: a collapsed recursion and a thread dump ask again.
  bool known = false;
  for (size_t i = 0; i < count; ++i) known = known || g_levels[g_levels_used + i].file != 0;
  *slot = Entry{static_cast<uint32_t>(object + 1), offset, static_cast<uint16_t>(g_levels_used),
                static_cast<uint8_t>(known ? count : 0), static_cast<uint8_t>(more)};
  ++g_cache_used;
  if (!known) return nullptr;
  g_levels_used += count;
  return slot;
}

void write_location(Writer& w, const Level& level) {
  if (level.file == 0) {
    w.str("??");
    return;
  }
  w.str(g_text + level.file).chr(':').dec(level.line);
  if (level.column != 0) w.chr(':').dec(level.column);
}
}  // namespace

void symbolizer_prepare() {
  // The environment the symbolizer gets: the program's, read now (a report
  // may come when environ is being changed), without LD_PRELOAD (it must
  // not run under ptshim), DEBUGINFOD_URLS (no network from a report) or
  // LLVM_SYMBOLIZER_OPTS (its output format is ptshim's to choose).
  size_t k = 0;
  for (char** e = environ; e != nullptr && *e != nullptr && k < kMaxEnv; ++e) {
    if (starts_with(*e, "LD_PRELOAD=") || starts_with(*e, "DEBUGINFOD_URLS=") ||
        starts_with(*e, "LLVM_SYMBOLIZER_OPTS=")) {
      continue;
    }
    g_env[k++] = *e;
  }
  g_env[k] = nullptr;
}

void symbolizer_report_begin() {
  g_report_deadline = real_monotonic_now_ns() + limit(kReportLimitNs);
}

void write_source(Writer& w, uintptr_t lookup_pc) {
  const Entry* e = source_of(lookup_pc);
  if (e == nullptr) return;
  const Level& own = g_levels[e->first + e->levels - 1];
  if (own.file == 0) return;
  write_location(w.chr(' '), own);
}

void write_program_source(Writer& w, uintptr_t lookup_pc) {
  const Entry* e = source_of(lookup_pc);
  if (e == nullptr) return;
  // The innermost kept level: system headers' were never kept.
  const Level& inner = g_levels[e->first];
  if (inner.file == 0) return;
  write_location(w.chr(' '), inner);
}

namespace {

bool same_level(const Level& a, const Level& b) {
  return a.line == b.line && a.column == b.column &&
         (a.function == b.function || (a.function != 0 && b.function != 0 &&
                                       strcmp(g_text + a.function, g_text + b.function) == 0)) &&
         (a.file == b.file ||
          (a.file != 0 && b.file != 0 && strcmp(g_text + a.file, g_text + b.file) == 0));
}

void write_function(Writer& w, const Level& level) {
  if (level.function == 0) {
    w.str("??");
    return;
  }
  static char name[1024];  // reports are written one at a time
  size_t n = strlen(g_text + level.function);
  if (n >= sizeof name) n = sizeof name - 1;
  memcpy(name, g_text + level.function, n);
  name[n] = '\0';
  abbreviate_std_names(name, n);
  w.str(name);
}
}  // namespace

void write_inlined(Writer& w, uintptr_t lookup_pc, const char* indent) {
  const Entry* e = source_of(lookup_pc);
  if (e == nullptr || e->levels < 2) return;
  // From the frame's function inward: each line's function was inlined at
  // the location on the line above, and the pc is in the last one. Levels in
  // system headers are left out; a recursion inlined into itself is one line.
  if (e->more != 0) {
    w.str(indent).str("(").dec(e->more).str(e->more == 1 ? " inlined level" : " inlined levels");
    w.str(" not shown)\n");
  }
  for (size_t i = e->levels - 1; i-- > 0;) {
    const Level& level = g_levels[e->first + i];
    if (in_system_header(level)) continue;
    size_t repeats = 1;
    while (i > 0 && same_level(g_levels[e->first + i - 1], level)) {
      --i;
      ++repeats;
    }
    write_function(w.str(indent).str("inlined here: "), level);
    write_location(w.chr(' '), level);
    if (repeats > 1) w.str(" (").dec(repeats).str(" times)");
    w.chr('\n');
  }
}

}  // namespace ptshim
