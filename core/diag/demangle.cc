// C++ and Rust names in reports, demangled by libiberty's demanglers
// (cp-demangle.c and rust-demangle.c, those of GCC and binutils) through
// their callback entry points, cplus_demangle_v3_callback and
// rust_demangle_callback, which allocate nothing: the parse lives in arrays
// on the stack and the text goes to a callback in pieces. (Rust's punycode
// identifiers, which its decoder allocates for, are left undecoded.)
//
// INVARIANTS
// - Only the callback entry point is reached. The build (CMakeLists.txt,
//   "the demangler") renames cp-demangle.o's references to malloc, realloc,
//   free, memmove, __sprintf_chk, __snprintf_chk and __stack_chk_fail to the
//   ptshim_demangler_* functions below, so the objects import nothing: the
//   allocating entry points they also contain fail instead of allocating,
//   and their formatted prints ("%d", "%lu", "%lx") are ours.
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
typedef void (*demangle_callbackref)(const char* text, size_t n, void* opaque);
int cplus_demangle_v3_callback(const char* mangled, int options, demangle_callbackref callback,
                               void* opaque);
// rust-demangle.c: legacy (_ZN...17h<hash>E) and v0 (_R) Rust symbols.
int rust_demangle_callback(const char* mangled, int options, demangle_callbackref callback,
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
void* ptshim_demangler_memmove(void* to, const void* from, size_t n) {
  auto* d = static_cast<char*>(to);
  const auto* f = static_cast<const char*>(from);
  if (d < f) {
    for (size_t i = 0; i < n; ++i) d[i] = f[i];
  } else {
    for (size_t i = n; i > 0; --i) d[i - 1] = f[i - 1];
  }
  return to;
}
// rust-demangle's snprintf(buf, size, "%lu" or "%lx", n), its only formats.
int ptshim_demangler_snprintf_chk(char* out, size_t size, int, size_t, const char* format, ...) {
  va_list args;
  va_start(args, format);
  unsigned long value = va_arg(args, unsigned long);
  va_end(args);
  unsigned base = strcmp(format, "%lx") == 0 ? 16 : 10;
  if (base == 10 && strcmp(format, "%lu") != 0) {
    ptshim::fatal("ptshim: demangler: unexpected snprintf");
  }
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  int len = static_cast<int>(n);
  size_t i = 0;
  for (; n > 0 && i + 1 < size; ++i) out[i] = digits[--n];
  if (size > 0) out[i] = '\0';
  return len;  // as snprintf: the length it wanted
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

// A legacy Rust symbol is an Itanium one that ends in a 17h<16 hex digits>E
// path segment: the C++ demangler would print the hash and $LT$-style
// escapes, so the Rust one goes first (it refuses anything else).
bool rust_symbol(const char* s) {
  if (s[0] == '_' && s[1] == 'R') return true;
  size_t n = strlen(s);
  if (n < 24 || s[0] != '_' || s[1] != 'Z' || s[2] != 'N' || s[n - 1] != 'E') return false;
  return strncmp(s + n - 20, "17h", 3) == 0;
}

void run_job(void* p) {
  auto* job = static_cast<Job*>(p);
  if ((job->flags & DMGL_TYPES) == 0 && rust_symbol(job->mangled) &&
      rust_demangle_callback(job->mangled, job->flags, append, &job->sink) != 0) {
    job->ok = true;
    return;
  }
  job->sink.len = 0;  // a failed Rust attempt may have written some
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

}  // namespace

// In place: every abbreviation is shorter than what it replaces.
size_t abbreviate_std_names(char* text, size_t len) {
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

namespace {
size_t demangle_with(const char* mangled, int flags, char* out, size_t size) {
  if (size == 0 || g_stack == nullptr || g_busy || strlen(mangled) > kMaxMangled) return 0;
  g_busy = true;
  Job job{mangled, flags, Sink{out, size, 0}, false};
  arch::call_on_stack(run_job, &job, g_stack + kStackSize);
  g_busy = false;
  if (!job.ok || job.sink.len == 0) return 0;
  out[job.sink.len] = '\0';
  return abbreviate_std_names(out, job.sink.len);
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
  // C names, and the loader's, are left alone.
  if (symbol[0] != '_' || (symbol[1] != 'Z' && symbol[1] != 'R')) return 0;
  // LLVM's (Thin)LTO renames a local symbol it promotes: "<mangled>.llvm.<digits>",
  // which neither demangler takes. The name is the mangled part.
  const char* suffix = strstr(symbol, ".llvm.");
  if (suffix != nullptr && suffix[6] != '\0') {
    const char* p = suffix + 6;
    while (*p >= '0' && *p <= '9') ++p;
    static char stem[kMaxMangled + 1];  // reports are written one at a time
    size_t n = static_cast<size_t>(suffix - symbol);
    if (*p == '\0' && n <= kMaxMangled) {
      memcpy(stem, symbol, n);
      stem[n] = '\0';
      return demangle_with(stem, DMGL_PARAMS | DMGL_ANSI, out, size);
    }
  }
  return demangle_with(symbol, DMGL_PARAMS | DMGL_ANSI, out, size);
}

size_t demangle_type(const char* type_name, char* out, size_t size) {
  return demangle_with(type_name, DMGL_PARAMS | DMGL_ANSI | DMGL_TYPES, out, size);
}

}  // namespace ptshim
