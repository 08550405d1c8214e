// The trace file's writer: the file is written through a MAP_SHARED mapping
// of a window of it, so an event costs a few stores and no system call, the
// memory used is the window whatever the length of the run, and every byte
// written is in the page cache at once: a process killed by SIGKILL leaves
// all of it in the file.
//
// INVARIANTS:
// - The window [window, window + kWindowSize) maps the file from
//   window_offset (page-aligned); the file is at least that long, so no
//   store faults. pos <= end - 1 always.
// - The file grows by writes of spaces (pwritev), never by ftruncate: it
//   holds no NUL byte at any moment, and its tail past the last event,
//   until it is cut at the end (trace_writer_close), is whitespace that
//   JSON readers skip. An unterminated array after a SIGKILL then ends in
//   ",\n" and spaces, which Perfetto, speedscope and Chrome's viewer accept
//   (strict JSON once the comma is dropped and "]" appended) — unless the
//   kill landed while an event was being written (tens of nanoseconds),
//   which leaves that last line torn.
// - Everything here is raw system calls (never the program's interposed
//   functions): it runs inside the core, and from a dying process's handler.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstring>

#include "core/sched/sched.h"

namespace ptshim {

TraceWindow g_trace_window;

namespace {
constexpr size_t kWindowSize = size_t{1} << 20;

int g_fd = -1;
char* g_window;            // null: no window (not open, or the file could not grow)
uint64_t g_window_offset;  // the file offset the window starts at
uint64_t g_file_size;      // what the spaces written made it
constexpr size_t kSpaces = size_t{64} << 10;
char g_spaces[kSpaces];

uint64_t used_length() {
  return g_window == nullptr
             ? g_window_offset
             : g_window_offset + static_cast<uint64_t>(g_trace_window.pos - g_window);
}

// Spaces up to `size`, 64 KiB per iovec (16 per system call).
bool grow_file_to(uint64_t size) {
  while (g_file_size < size) {
    iovec v[16];
    int n = 0;
    for (uint64_t left = size - g_file_size; n < 16 && left > 0; ++n) {
      v[n].iov_base = g_spaces;
      v[n].iov_len = left < kSpaces ? static_cast<size_t>(left) : kSpaces;
      left -= v[n].iov_len;
    }
    long done = arch::raw_syscall(SYS_pwritev, g_fd, reinterpret_cast<long>(v), n,
                                  static_cast<long>(g_file_size), 0);
    if (done <= 0) return false;
    g_file_size += static_cast<uint64_t>(done);
  }
  return true;
}

bool map_window_at(uint64_t offset, size_t keep) {
  if (!grow_file_to(offset + kWindowSize)) return false;
  long p = arch::raw_syscall(SYS_mmap, 0, kWindowSize, PROT_READ | PROT_WRITE, MAP_SHARED, g_fd,
                             static_cast<long>(offset));
  if (p < 0 && p > -4096) return false;
  g_window = reinterpret_cast<char*>(p);
  g_window_offset = offset;
  g_trace_window.pos = g_window + keep;
  g_trace_window.end = g_window + kWindowSize - 1;
  return true;
}

void unmap_window() {
  if (g_window != nullptr)
    arch::raw_syscall(SYS_munmap, reinterpret_cast<long>(g_window), kWindowSize);
  g_window = nullptr;
  g_trace_window.pos = g_trace_window.end = nullptr;
}
}  // namespace

bool trace_writer_open(int fd) {
  g_fd = fd;
  g_file_size = 0;  // truncated by the caller
  memset(g_spaces, ' ', sizeof g_spaces);
  return map_window_at(0, 0);
}

// The window moves forward to the page that holds pos: what is written of
// that page stays (the new mapping shows the same page of the file).
char* trace_writer_advance(size_t size) {
  if (g_window == nullptr || size > kWindowSize / 2) return nullptr;
  uint64_t used = used_length();
  uint64_t offset = used & ~static_cast<uint64_t>(page_size() - 1);
  unmap_window();
  g_window_offset = used;  // if the file cannot grow, nothing more is written
  if (!map_window_at(offset, static_cast<size_t>(used - offset))) return nullptr;
  trace_clock_refine();
  return g_trace_window.pos;
}

void trace_writer_close() {
  if (g_fd < 0) return;
  uint64_t used = used_length();
  unmap_window();
  arch::raw_syscall(SYS_ftruncate, g_fd, static_cast<long>(used));
  arch::raw_syscall(SYS_close, g_fd);
  g_fd = -1;
}

void trace_writer_forget() {
  unmap_window();
  if (g_fd >= 0) arch::raw_syscall(SYS_close, g_fd);
  g_fd = -1;
}

}  // namespace ptshim
