// C++ names in reports, demangled by libiberty's demangler (cp-demangle.c,
// the one in GCC and binutils) through its callback entry point,
// cplus_demangle_v3_callback, which allocates nothing: the parse lives in
// arrays on the stack and the text goes to a callback in pieces.
//
// INVARIANTS
// - Only the callback entry point is reached. The build (CMakeLists.txt,
//   "the demangler") renames cp-demangle.o's references to malloc, realloc,
//   free, __sprintf_chk and __stack_chk_fail to the ptshim_demangler_*
//   functions below, so the object imports nothing: the allocating entry
//   points it also contains fail instead of allocating, and its one
//   formatted print ("%d") is ours.
// - The parse needs about 72 bytes of stack per character of the mangled
//   name (two components and a substitution slot each), more than a 16 KiB
//   thread stack or the signal stack can spare, so it runs on a stack of its
//   own, reserved with the other report buffers before any fault. Names
//   longer than kMaxMangled stay mangled.
// - Reports are written one at a time (g_reporting); a demangle that begins
//   while one runs (a report from a signal handler that interrupted it)
//   answers "not demangled" rather than share the stack.
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include "core/diag/diag.h"

extern "C" {
// From libiberty's demangle.h, which cannot be included beside glibc's
// <string.h> in C++ (their basename declarations differ).
int cplus_demangle_v3_callback(const char* mangled, int options,
                               void (*callback)(const char* text, size_t n, void* opaque),
                               void* opaque);
constexpr int DMGL_PARAMS = 1 << 0;  // function arguments
constexpr int DMGL_ANSI = 1 << 1;    // const, volatile
constexpr int DMGL_TYPES = 1 << 4;   // type encodings too, without _Z

// cp-demangle.o's references, renamed by the build. Its allocating entry
// points get no memory and report failure; ptshim never calls them.
void* ptshim_demangler_malloc(size_t) { return nullptr; }
void* ptshim_demangler_realloc(void*, size_t) { return nullptr; }
void ptshim_demangler_free(void*) {}
// d_append_num's sprintf(buf, "%d", n), the only format the object uses.
int ptshim_demangler_sprintf_chk(char* out, int, size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int value = va_arg(args, int);
  va_end(args);
  char digits[16];
  size_t n = 0;
  unsigned magnitude = value < 0 ? 0u - static_cast<unsigned>(value) : static_cast<unsigned>(value);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  size_t len = n + (value < 0 ? 1 : 0);
  if (len + 1 > size || strcmp(format, "%d") != 0)
    ptshim::fatal("ptshim: demangler: unexpected sprintf");
  char* p = out;
  if (value < 0) *p++ = '-';
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
  return static_cast<int>(len);
}
[[noreturn]] void ptshim_demangler_stack_chk_fail() {
  ptshim::fatal("ptshim: demangler: stack smashing detected");
}
}

namespace ptshim {

namespace {
constexpr size_t kMaxMangled = 4096;
constexpr size_t kStackSize = size_t{1} << 20;  // 72 bytes a character, with room to spare
char* g_stack;                                  // its lowest page is the guard
bool g_busy;

struct Sink {
  char* out;
  size_t size;  // of out, with the terminating NUL
  size_t len;
};

void append(const char* text, size_t n, void* opaque) {
  auto* sink = static_cast<Sink*>(opaque);
  size_t room = sink->size - 1 - sink->len;
  if (n > room) n = room;
  memcpy(sink->out + sink->len, text, n);
  sink->len += n;
}

struct Job {
  const char* mangled;
  int flags;
  Sink sink;
  bool ok;
};

void run_job(void* p) {
  auto* job = static_cast<Job*>(p);
  job->ok = cplus_demangle_v3_callback(job->mangled, job->flags, append, &job->sink) != 0;
}

// The standard library's long spellings of its typedefs, as people write them.
struct Abbreviation {
  const char* spelled;
  const char* written;
};
constexpr Abbreviation kAbbreviations[] = {
    {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
     "std::string"},
    {"std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string"},
    {"std::basic_ostream<char, std::char_traits<char> >", "std::ostream"},
    {"std::basic_istream<char, std::char_traits<char> >", "std::istream"},
};

// In place: every abbreviation is shorter than what it replaces.
size_t abbreviate(char* text, size_t len) {
  for (const Abbreviation& a : kAbbreviations) {
    size_t from = strlen(a.spelled), to = strlen(a.written);
    for (char* at = strstr(text, a.spelled); at != nullptr; at = strstr(at + to, a.spelled)) {
      memcpy(at, a.written, to);
      // Leftwards, so a forward copy is right (memmove is not an import).
      for (char *dst = at + to, *src = at + from; (*dst++ = *src++) != '\0';) {
      }
      len -= from - to;
    }
  }
  return len;
}

size_t demangle_with(const char* mangled, int flags, char* out, size_t size) {
  if (size == 0 || g_stack == nullptr || g_busy || strlen(mangled) > kMaxMangled) return 0;
  g_busy = true;
  Job job{mangled, flags, Sink{out, size, 0}, false};
  arch::call_on_stack(run_job, &job, g_stack + kStackSize);
  g_busy = false;
  if (!job.ok || job.sink.len == 0) return 0;
  out[job.sink.len] = '\0';
  return abbreviate(out, job.sink.len);
}
}  // namespace

void demangle_reserve() {
  void* stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) return;  // names stay mangled
  mprotect(stack, page_size(), PROT_NONE);
  g_stack = static_cast<char*>(stack);
}

size_t demangle(const char* symbol, char* out, size_t size) {
  if (symbol[0] != '_' || symbol[1] != 'Z') return 0;  // C names, and the loader's
  return demangle_with(symbol, DMGL_PARAMS | DMGL_ANSI, out, size);
}

size_t demangle_type(const char* type_name, char* out, size_t size) {
  return demangle_with(type_name, DMGL_PARAMS | DMGL_ANSI | DMGL_TYPES, out, size);
}

}  // namespace ptshim
