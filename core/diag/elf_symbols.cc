// Names from the loaded objects' own symbol tables, for reports: the function
// that contains a pc, the static object that contains an address.
//
// Invariants:
// - Safe in any report: no malloc, no stdio, no lock. Files are opened and
//   mapped with raw system calls and stay mapped; the per-object state is
//   static; the sorted indexes are carved from a region reserved at start-up
//   (never freed; when it runs out, lookups scan the table instead). A call
//   made while another is under way (a signal's report during a lookup)
//   finds the reader busy and knows nothing.
// - Every offset, size and index read from a file is checked against the
//   file's size before use: a truncated or hostile file gives no name, never
//   a fault.
// - A name is given only for a symbol that contains the address: st_value <=
//   a < st_value + st_size. A zero-size code symbol (hand-written assembly)
//   only from a complete table (.symtab), when it is the nearest symbol at or
//   below the address, nothing earlier reaches past its start, and the
//   address is in its executable section.
// - Among symbols containing the address: the one starting nearest, then the
//   smallest, then global over local over weak, then the first in the table.
//
// Where the tables come from, per object (first that has one): the object's
// .symtab; its separate debug file's .symtab, found by build-id under each
// debug-file directory (.build-id/xx/rest.debug) or by .gnu_debuglink (next
// to the object, in its .debug/, under each debug-file directory), checked by
// build-id (or the link's CRC when the object has none); the object's
// .dynsym (the vdso's, which has no file, in place). MiniDebugInfo
// (.gnu_debugdata, xz) is left to libunwind.
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
using Sym = Elf64_Sym;
using Shdr = Elf64_Shdr;

constexpr size_t kMaxObjects = 512;
constexpr size_t kIndexReserve = size_t{256} << 20;  // virtual; committed as touched
constexpr uint32_t kMaxSymbols = uint32_t{1} << 28;
constexpr uint32_t kMaxSections = uint32_t{1} << 20;
constexpr size_t kMaxBuildId = 64;
constexpr const char* kDefaultDebugDirectory = "/usr/lib/debug";

bool in_bounds(size_t size, uint64_t off, uint64_t len) { return off <= size && len <= size - off; }

// memcmp and strrchr are not among the library's imports (scripts/check-imports.sh).
bool same_bytes(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const uint8_t*>(a);
  const auto* y = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

template <typename T>
bool aligned_for(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % alignof(T) == 0;
}

// ---- one ELF file image: sections, symbol tables, notes --------------------------------

struct Image {
  const uint8_t* bytes;
  size_t size;
  const Shdr* shdrs;  // null: no usable section headers
  uint32_t shnum;
  const char* names;  // section names; null: none
  size_t names_size;
};

bool image_open(const void* bytes, size_t size, Image* im) {
  *im = Image{static_cast<const uint8_t*>(bytes), size, nullptr, 0, nullptr, 0};
  if (size < sizeof(Elf64_Ehdr) || !aligned_for<Elf64_Ehdr>(bytes)) return false;
  const auto* eh = static_cast<const Elf64_Ehdr*>(bytes);
  if (!same_bytes(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Shdr) || eh->e_shoff == 0 ||
      eh->e_shoff % alignof(Shdr) != 0 || !in_bounds(size, eh->e_shoff, sizeof(Shdr))) {
    return false;
  }
  const auto* shdrs = reinterpret_cast<const Shdr*>(im->bytes + eh->e_shoff);
  uint64_t shnum = eh->e_shnum != 0 ? eh->e_shnum : shdrs[0].sh_size;  // extended numbering
  if (shnum == 0 || shnum > kMaxSections || !in_bounds(size, eh->e_shoff, shnum * sizeof(Shdr))) {
    return false;
  }
  im->shdrs = shdrs;
  im->shnum = static_cast<uint32_t>(shnum);
  uint64_t names = eh->e_shstrndx != SHN_XINDEX ? eh->e_shstrndx : shdrs[0].sh_link;
  if (names < shnum && shdrs[names].sh_type == SHT_STRTAB &&
      in_bounds(size, shdrs[names].sh_offset, shdrs[names].sh_size)) {
    im->names = reinterpret_cast<const char*>(im->bytes + shdrs[names].sh_offset);
    im->names_size = shdrs[names].sh_size;
  }
  return true;
}

// The contents of section i, when they lie in the file.
bool section_bytes(const Image& im, uint32_t i, const uint8_t** p, size_t* len) {
  if (i >= im.shnum || im.shdrs[i].sh_type == SHT_NOBITS ||
      !in_bounds(im.size, im.shdrs[i].sh_offset, im.shdrs[i].sh_size)) {
    return false;
  }
  *p = im.bytes + im.shdrs[i].sh_offset;
  *len = im.shdrs[i].sh_size;
  return true;
}

bool section_named(const Image& im, const char* name, const uint8_t** p, size_t* len) {
  if (im.names == nullptr) return false;
  size_t n = strlen(name) + 1;  // with its NUL
  for (uint32_t i = 0; i < im.shnum; ++i) {
    uint64_t at = im.shdrs[i].sh_name;
    if (in_bounds(im.names_size, at, n) && same_bytes(im.names + at, name, n)) {
      return section_bytes(im, i, p, len);
    }
  }
  return false;
}

// The NT_GNU_BUILD_ID note in notes [p, p + len).
bool build_id_in_notes(const uint8_t* p, size_t len, const uint8_t** id, size_t* id_len) {
  size_t at = 0;
  while (in_bounds(len, at, sizeof(Elf64_Nhdr))) {
    Elf64_Nhdr nh;
    memcpy(&nh, p + at, sizeof nh);
    at += sizeof nh;
    uint64_t name_len = (uint64_t{nh.n_namesz} + 3) & ~uint64_t{3};
    uint64_t desc_len = (uint64_t{nh.n_descsz} + 3) & ~uint64_t{3};
    if (!in_bounds(len, at, name_len) || !in_bounds(len, at + name_len, desc_len)) return false;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && same_bytes(p + at, "GNU", 4) &&
        nh.n_descsz > 0 && nh.n_descsz <= kMaxBuildId) {
      *id = p + at + name_len;
      *id_len = nh.n_descsz;
      return true;
    }
    at += name_len + desc_len;
  }
  return false;
}

bool image_build_id(const Image& im, const uint8_t** id, size_t* id_len) {
  for (uint32_t i = 0; i < im.shnum; ++i) {
    const uint8_t* p;
    size_t len;
    if (im.shdrs[i].sh_type == SHT_NOTE && section_bytes(im, i, &p, &len) &&
        build_id_in_notes(p, len, id, id_len)) {
      return true;
    }
  }
  return false;
}

// ---- symbol tables -------------------------------------------------------------------------

enum Kind : uint8_t { kCode, kData };

// The symbols of one kind, sorted by address, built at the first lookup.
struct Index {
  uint32_t* order;  // symbol numbers
  uint64_t* reach;  // reach[i]: the highest end (st_value + st_size) among order[0..i]
  uint32_t n;
  uint8_t state;  // kUnbuilt, kBuilt, kScan (no memory left: linear scans)
};
constexpr uint8_t kUnbuilt = 0, kBuilt = 1, kScan = 2;

struct Table {
  const Sym* syms;
  uint32_t count;
  const char* strs;
  size_t strs_size;
  const Shdr* shdrs;  // the file's, for sections' flags and bounds
  uint32_t shnum;
  bool complete;  // .symtab: every function has its entry, so zero-size symbols are usable
  Index index[2];
};

bool table_open(const Image& im, uint32_t type, Table* t) {
  *t = Table{};
  for (uint32_t i = 0; i < im.shnum; ++i) {
    const Shdr& sh = im.shdrs[i];
    if (sh.sh_type != type) continue;
    const uint8_t* syms;
    size_t syms_len;
    const uint8_t* strs;
    size_t strs_len;
    if (sh.sh_entsize != sizeof(Sym) || !section_bytes(im, i, &syms, &syms_len) ||
        !aligned_for<Sym>(syms) || sh.sh_link >= im.shnum ||
        im.shdrs[sh.sh_link].sh_type != SHT_STRTAB ||
        !section_bytes(im, sh.sh_link, &strs, &strs_len) || syms_len / sizeof(Sym) < 2 ||
        syms_len / sizeof(Sym) > kMaxSymbols) {
      return false;
    }
    t->syms = reinterpret_cast<const Sym*>(syms);
    t->count = static_cast<uint32_t>(syms_len / sizeof(Sym));
    t->strs = reinterpret_cast<const char*>(strs);
    t->strs_size = strs_len;
    t->shdrs = im.shdrs;
    t->shnum = im.shnum;
    t->complete = type == SHT_SYMTAB;
    return true;
  }
  return false;
}

bool executable_section(const Table& t, uint16_t shndx) {
  return shndx < t.shnum && (t.shdrs[shndx].sh_flags & SHF_EXECINSTR) != 0;
}

bool is_candidate(const Table& t, uint32_t i, Kind kind) {
  const Sym& s = t.syms[i];
  if (s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS || s.st_name == 0 ||
      s.st_name >= t.strs_size || t.strs[s.st_name] == '\0' ||
      s.st_value + s.st_size < s.st_value) {
    return false;
  }
  switch (ELF64_ST_TYPE(s.st_info)) {
    case STT_FUNC:
    case STT_GNU_IFUNC:
      return kind == kCode;
    case STT_NOTYPE:
      return kind == kCode && executable_section(t, s.st_shndx);
    case STT_OBJECT:
      return kind == kData && s.st_size > 0;
    default:
      return false;
  }
}

int binding_rank(const Sym& s) {
  switch (ELF64_ST_BIND(s.st_info)) {
    case STB_GLOBAL:
    case STB_GNU_UNIQUE:
      return 0;
    case STB_LOCAL:
      return 1;
    case STB_WEAK:
      return 2;
    default:
      return 3;
  }
}

// Which of two symbols containing the same address names it.
bool better(const Table& t, uint32_t a, uint32_t b) {
  const Sym& x = t.syms[a];
  const Sym& y = t.syms[b];
  if (x.st_value != y.st_value) return x.st_value > y.st_value;
  if (x.st_size != y.st_size) return x.st_size < y.st_size;
  if (binding_rank(x) != binding_rank(y)) return binding_rank(x) < binding_rank(y);
  return a < b;
}

// The index's memory: a bump region reserved at start-up.
uint8_t* g_reserve;
size_t g_reserve_used;

void* reserve_take(size_t bytes) {
  bytes = (bytes + 15) & ~size_t{15};
  if (g_reserve == nullptr || bytes > kIndexReserve - g_reserve_used) return nullptr;
  void* p = g_reserve + g_reserve_used;
  g_reserve_used += bytes;
  return p;
}

// Heapsort of (key[i], order[i]) by key, then symbol number: in place, no
// recursion, n log n whatever the input. The keys sit next to each other, so
// the sort does not wander over the symbol table.
bool before(const uint64_t* key, const uint32_t* order, size_t a, size_t b) {
  return key[a] != key[b] ? key[a] < key[b] : order[a] < order[b];
}

void swap_entries(uint64_t* key, uint32_t* order, size_t a, size_t b) {
  uint64_t k = key[a];
  key[a] = key[b];
  key[b] = k;
  uint32_t o = order[a];
  order[a] = order[b];
  order[b] = o;
}

void sift_down(uint64_t* key, uint32_t* order, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && before(key, order, child, child + 1)) ++child;
    if (!before(key, order, root, child)) return;
    swap_entries(key, order, root, child);
    root = child;
  }
}

void index_build(Table& t, Kind kind) {
  Index& x = t.index[kind];
  // Room for every symbol, so one pass over the table picks the candidates.
  auto* reach = static_cast<uint64_t*>(reserve_take(size_t{t.count} * sizeof(uint64_t)));
  auto* order = static_cast<uint32_t*>(reserve_take(size_t{t.count} * sizeof(uint32_t)));
  if (reach == nullptr || order == nullptr) {
    x.state = kScan;
    return;
  }
  uint32_t n = 0;
  for (uint32_t i = 1; i < t.count; ++i) {
    if (!is_candidate(t, i, kind)) continue;
    reach[n] = t.syms[i].st_value;  // the sort key, until the sort is done
    order[n++] = i;
  }
  for (size_t i = n / 2; i-- > 0;) sift_down(reach, order, i, n);
  for (size_t end = n; end > 1; --end) {
    swap_entries(reach, order, 0, end - 1);
    sift_down(reach, order, 0, end - 1);
  }
  uint64_t highest = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const Sym& s = t.syms[order[i]];
    if (s.st_value + s.st_size > highest) highest = s.st_value + s.st_size;
    reach[i] = highest;
  }
  x.order = order;
  x.reach = reach;
  x.n = n;
  x.state = kBuilt;
}

bool zero_size_usable(const Table& t, uint32_t i, uint64_t a) {
  const Sym& s = t.syms[i];
  if (s.st_size != 0 || !executable_section(t, s.st_shndx)) return false;
  const Shdr& sec = t.shdrs[s.st_shndx];
  return sec.sh_addr <= a && a - sec.sh_addr < sec.sh_size;
}

// The symbol naming a (a link-time address), 0 for none: by the index.
uint32_t lookup_indexed(const Table& t, const Index& x, Kind kind, uint64_t a) {
  size_t lo = 0, hi = x.n;  // the first entry above a
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t.syms[x.order[mid]].st_value <= a) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return 0;
  size_t top = lo - 1;
  uint32_t best = 0;
  for (size_t j = top + 1; j-- > 0 && x.reach[j] > a;) {
    const Sym& s = t.syms[x.order[j]];
    if (s.st_size > 0 && a - s.st_value < s.st_size && (best == 0 || better(t, x.order[j], best))) {
      best = x.order[j];
    }
  }
  if (best != 0 || kind != kCode || !t.complete) return best;
  uint64_t nearest = t.syms[x.order[top]].st_value;
  if (x.reach[top] > nearest) return 0;  // something sized reaches past it, and ends before a
  for (size_t j = top + 1; j-- > 0 && t.syms[x.order[j]].st_value == nearest;) {
    if (zero_size_usable(t, x.order[j], a) && (best == 0 || better(t, x.order[j], best))) {
      best = x.order[j];
    }
  }
  return best;
}

// The same answer by a scan of the whole table, when no index could be made.
uint32_t lookup_scan(const Table& t, Kind kind, uint64_t a) {
  uint32_t best = 0;
  bool any = false;
  uint64_t nearest = 0, highest = 0;
  for (uint32_t i = 1; i < t.count; ++i) {
    const Sym& s = t.syms[i];
    if (s.st_value > a || !is_candidate(t, i, kind)) continue;  // the name's byte last
    any = true;
    if (s.st_value > nearest) nearest = s.st_value;
    if (s.st_value + s.st_size > highest) highest = s.st_value + s.st_size;
    if (s.st_size > 0 && a - s.st_value < s.st_size && (best == 0 || better(t, i, best))) best = i;
  }
  if (best != 0 || !any || kind != kCode || !t.complete || highest > nearest) return best;
  for (uint32_t i = 1; i < t.count; ++i) {
    if (is_candidate(t, i, kind) && t.syms[i].st_value == nearest && zero_size_usable(t, i, a) &&
        (best == 0 || better(t, i, best))) {
      best = i;
    }
  }
  return best;
}

uint32_t table_lookup(Table& t, Kind kind, uint64_t a) {
  Index& x = t.index[kind];
  if (x.state == kUnbuilt) index_build(t, kind);
  return x.state == kBuilt ? lookup_indexed(t, x, kind, a) : lookup_scan(t, kind, a);
}

// The name without a symbol version: a .symtab keeps glibc's
// `__libc_start_main@@GLIBC_2.34` as it was assembled.
void copy_name(const Table& t, uint32_t i, char* out, size_t size) {
  if (size == 0) return;
  size_t at = t.syms[i].st_name, n = 0;
  while (n + 1 < size && at + n < t.strs_size && t.strs[at + n] != '\0' &&
         (n == 0 || t.strs[at + n] != '@')) {
    out[n] = t.strs[at + n];
    ++n;
  }
  out[n] = '\0';
}

// ---- files ---------------------------------------------------------------------------------

bool syscall_failed(long r) { return static_cast<unsigned long>(r) > -4096UL; }

// O_NONBLOCK: a FIFO at a debug file's path must not stop the report.
bool map_file(const char* path, Image* im) {
  long fd =
      arch::raw_syscall(SYS_open, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (syscall_failed(fd)) return false;
  struct stat st;
  void* p = MAP_FAILED;
  if (arch::raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) == 0 && S_ISREG(st.st_mode) &&
      st.st_size >= static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    long r = arch::raw_syscall(SYS_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!syscall_failed(r)) p = reinterpret_cast<void*>(r);
  }
  arch::raw_syscall(SYS_close, fd);
  if (p == MAP_FAILED) return false;
  if (image_open(p, static_cast<size_t>(st.st_size), im)) return true;
  arch::raw_syscall(SYS_munmap, reinterpret_cast<long>(p), st.st_size);
  return false;
}

void unmap(const Image& im) {
  arch::raw_syscall(SYS_munmap, reinterpret_cast<long>(im.bytes), static_cast<long>(im.size));
}

// gdb's .gnu_debuglink checksum: CRC-32 (IEEE), table made at start-up.
uint32_t g_crc_table[256];

void crc_prepare() {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    g_crc_table[i] = c;
  }
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = g_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

// A path built piece by piece in a fixed buffer; too long is no path.
struct Path {
  char buf[4096];
  size_t n = 0;
  bool ok = true;
  Path& add(const char* s, size_t len) {
    if (!ok || len >= sizeof buf - n) {
      ok = false;
      return *this;
    }
    memcpy(buf + n, s, len);
    n += len;
    buf[n] = '\0';
    return *this;
  }
  Path& add(const char* s) { return add(s, strlen(s)); }
  Path& hex(const uint8_t* p, size_t len) {
    for (size_t i = 0; i < len; ++i) {
      char h[2] = {"0123456789abcdef"[p[i] >> 4], "0123456789abcdef"[p[i] & 15]};
      add(h, 2);
    }
    return *this;
  }
};

// One path at a time, static: a report may run on a small thread stack, and
// the reader is never entered twice (g_busy).
Path g_path;

Path& fresh_path() {
  g_path.n = 0;
  g_path.ok = true;
  g_path.buf[0] = '\0';
  return g_path;
}

struct DebugLink {
  const char* name;  // in the object's image
  size_t name_len;
  uint32_t crc;
  bool present;
};

DebugLink debuglink_of(const Image& im) {
  DebugLink link{};
  const uint8_t* p;
  size_t len;
  if (!section_named(im, ".gnu_debuglink", &p, &len)) return link;
  size_t n = 0;
  while (n < len && p[n] != '\0') ++n;
  size_t crc_at = (n + 4) & ~size_t{3};
  if (n == 0 || !in_bounds(len, crc_at, 4)) return link;
  link.name = reinterpret_cast<const char*>(p);
  link.name_len = n;
  memcpy(&link.crc, p + crc_at, 4);
  link.present = true;
  return link;
}

// The object as loaded: what it is known by and its build-id from memory.
struct Loaded {
  const char* path;
  uintptr_t bias;
  const uint8_t* build_id;
  size_t build_id_len;
};

bool debug_file_matches(const Image& debug, const Loaded& obj, const DebugLink* link) {
  Table probe;
  if (!table_open(debug, SHT_SYMTAB, &probe)) return false;
  const uint8_t* id;
  size_t id_len;
  if (obj.build_id != nullptr) {
    return image_build_id(debug, &id, &id_len) && id_len == obj.build_id_len &&
           same_bytes(id, obj.build_id, id_len);
  }
  return link != nullptr && crc32(debug.bytes, debug.size) == link->crc;
}

bool try_debug_file(const Path& path, const Loaded& obj, const DebugLink* link, Image* out) {
  if (!path.ok) return false;
  Image im;
  if (!map_file(path.buf, &im)) return false;
  if (debug_file_matches(im, obj, link)) {
    *out = im;
    return true;
  }
  unmap(im);
  return false;
}

// Calls try for each debug-file directory (PTSHIM_DEBUG_FILE_DIRECTORY, gdb's
// debug-file-directory: a colon-separated list).
template <typename Try>
bool each_debug_directory(Try&& try_one) {
  const char* dirs = options().debug_file_directory;
  if (dirs == nullptr) dirs = kDefaultDebugDirectory;
  for (const char* p = dirs; *p != '\0';) {
    const char* end = p;
    while (*end != '\0' && *end != ':') ++end;
    if (end > p && try_one(p, static_cast<size_t>(end - p))) return true;
    p = *end == ':' ? end + 1 : end;
  }
  return false;
}

bool find_debug_file(const Loaded& obj, const Image* object_image, Image* out) {
  if (obj.build_id != nullptr && obj.build_id_len >= 2) {
    bool found = each_debug_directory([&](const char* dir, size_t len) {
      Path& p = fresh_path();
      p.add(dir, len).add("/.build-id/").hex(obj.build_id, 1).add("/");
      p.hex(obj.build_id + 1, obj.build_id_len - 1).add(".debug");
      return try_debug_file(p, obj, nullptr, out);
    });
    if (found) return true;
  }
  if (object_image == nullptr) return false;
  DebugLink link = debuglink_of(*object_image);
  if (!link.present) return false;
  size_t dir_len = 0;
  for (size_t i = 0; obj.path[i] != '\0'; ++i) {
    if (obj.path[i] == '/') dir_len = i;
  }
  Path& next_to = fresh_path();
  next_to.add(obj.path, dir_len).add("/").add(link.name, link.name_len);
  if (try_debug_file(next_to, obj, &link, out)) return true;
  Path& in_dot_debug = fresh_path();
  in_dot_debug.add(obj.path, dir_len).add("/.debug/").add(link.name, link.name_len);
  if (try_debug_file(in_dot_debug, obj, &link, out)) return true;
  return each_debug_directory([&](const char* dir, size_t len) {
    Path& p = fresh_path();
    p.add(dir, len).add(obj.path, dir_len).add("/").add(link.name, link.name_len);
    return try_debug_file(p, obj, &link, out);
  });
}

// ---- loaded objects ------------------------------------------------------------------------

struct Object {
  uint64_t key;
  uintptr_t bias;
  Table tables[2];  // asked in this order
  uint8_t ntables;
  bool minidebuginfo;  // .gnu_debugdata, which only libunwind reads
};
Object g_objects[kMaxObjects];
size_t g_object_count;
char g_program_path[4096];
bool g_busy;

uint64_t object_key(const char* path, uintptr_t bias) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char* p = path; *p != '\0'; ++p) h = (h ^ static_cast<uint8_t>(*p)) * 0x100000001b3ull;
  return h ^ (bias * 0x9e3779b97f4a7c15ull);
}

// The object as the loader has it (loaded_object_of).
struct Found {
  uintptr_t bias;
  const ElfW(Phdr) * phdr;
  uint16_t phnum;
};

// The build-id note in the object's memory: only where a readable loaded
// segment's file contents hold it.
void build_id_from_memory(const Found& f, Loaded* obj) {
  for (uint16_t i = 0; i < f.phnum; ++i) {
    const ElfW(Phdr)& note = f.phdr[i];
    if (note.p_type != PT_NOTE) continue;
    for (uint16_t j = 0; j < f.phnum; ++j) {
      const ElfW(Phdr)& load = f.phdr[j];
      if (load.p_type != PT_LOAD || (load.p_flags & PF_R) == 0 || note.p_vaddr < load.p_vaddr ||
          note.p_vaddr - load.p_vaddr > load.p_filesz ||
          note.p_filesz > load.p_filesz - (note.p_vaddr - load.p_vaddr)) {
        continue;
      }
      const auto* p = reinterpret_cast<const uint8_t*>(f.bias + note.p_vaddr);
      if (aligned_for<Elf64_Nhdr>(p) &&
          build_id_in_notes(p, note.p_filesz, &obj->build_id, &obj->build_id_len)) {
        return;
      }
    }
  }
}

// The vdso has no file, but the kernel maps its whole image, section
// headers included, in pages of its own: its .dynsym is read in place, as
// far as those pages go (the loaded segment's end, rounded up to a page).
bool vdso_image(const Found& f, Image* im) {
  uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  uintptr_t page = getauxval(AT_PAGESZ);
  if (ehdr == 0 || page == 0) return false;
  for (uint16_t i = 0; i < f.phnum; ++i) {
    const ElfW(Phdr)& ph = f.phdr[i];
    uintptr_t lo = f.bias + ph.p_vaddr;
    if (ph.p_type != PT_LOAD || ehdr < lo || ehdr - lo >= ph.p_memsz) continue;
    uintptr_t end = (lo + ph.p_memsz + page - 1) / page * page;
    return image_open(reinterpret_cast<const void*>(ehdr), end - ehdr, im);
  }
  return false;
}

void object_read(const Found& f, const char* path, Object* o) {
  Image vdso;
  if (path[0] != '/' && vdso_image(f, &vdso)) {
    if (table_open(vdso, SHT_DYNSYM, &o->tables[0])) o->ntables = 1;
    return;
  }
  Loaded obj{path, f.bias, nullptr, 0};
  build_id_from_memory(f, &obj);
  Image file;
  bool have_file = path[0] == '/' && map_file(path, &file);
  if (have_file && obj.build_id != nullptr) {
    // A file replaced since it was loaded describes another object.
    const uint8_t* id;
    size_t id_len;
    if (image_build_id(file, &id, &id_len) &&
        (id_len != obj.build_id_len || !same_bytes(id, obj.build_id, id_len))) {
      unmap(file);
      have_file = false;
    }
  }
  const uint8_t* unused;
  size_t unused_len;
  o->minidebuginfo = have_file && section_named(file, ".gnu_debugdata", &unused, &unused_len);
  if (have_file && table_open(file, SHT_SYMTAB, &o->tables[0])) {
    o->ntables = 1;
    return;
  }
  Image debug;
  if (find_debug_file(obj, have_file ? &file : nullptr, &debug) &&
      table_open(debug, SHT_SYMTAB, &o->tables[o->ntables])) {
    ++o->ntables;
  }
  // The debug file's .symtab holds every .dynsym entry; .dynsym is the last resort.
  if (o->ntables == 0 && have_file && table_open(file, SHT_DYNSYM, &o->tables[0])) {
    o->ntables = 1;
    return;
  }
  if (have_file) unmap(file);
}

// The loaded object holding addr, its tables read at the first question.
Object* object_at(uintptr_t addr) {
  LoadedObject loaded;
  if (!loaded_object_of(addr, &loaded)) return nullptr;
  Found f{loaded.bias, static_cast<const ElfW(Phdr)*>(loaded.phdrs), loaded.phnum};
  const char* path = loaded.path;
  uint64_t key = object_key(path, f.bias);
  for (size_t i = 0; i < g_object_count; ++i) {
    if (g_objects[i].key == key && g_objects[i].bias == f.bias) return &g_objects[i];
  }
  if (g_object_count == kMaxObjects) return nullptr;
  Object* o = &g_objects[g_object_count];
  *o = Object{};
  o->key = key;
  o->bias = f.bias;
  object_read(f, path, o);
  ++g_object_count;  // published whole
  return o;
}

bool symbol_in_object(uintptr_t addr, Kind kind, char* name, size_t size, uintptr_t* offset) {
  if (g_busy) return false;
  g_busy = true;
  bool found = false;
  if (Object* o = object_at(addr)) {
    uint64_t a = addr - o->bias;
    for (uint8_t i = 0; i < o->ntables && !found; ++i) {
      if (uint32_t s = table_lookup(o->tables[i], kind, a)) {
        copy_name(o->tables[i], s, name, size);
        *offset = a - o->tables[i].syms[s].st_value;
        found = true;
      }
    }
  }
  g_busy = false;
  return found;
}

struct ObjectQuery {
  uintptr_t address;
  LoadedObject* out;
  bool found;
};

int find_object(dl_phdr_info* info, size_t, void* data) {
  auto* q = static_cast<ObjectQuery*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (q->address >= lo && q->address - lo < ph.p_memsz) {
      *q->out = LoadedObject{info->dlpi_name, info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum,
                             ph.p_flags};
      q->found = true;
      return 1;
    }
  }
  return 0;
}

}  // namespace

bool loaded_object_of(uintptr_t address, LoadedObject* out) {
  ObjectQuery q{address, out, false};
  dl_iterate_phdr(find_object, &q);
  if (q.found && (out->path == nullptr || out->path[0] == '\0')) out->path = g_program_path;
  return q.found;
}

void elf_symbols_prepare() {
  long n = arch::raw_syscall(SYS_readlink, reinterpret_cast<long>("/proc/self/exe"),
                             reinterpret_cast<long>(g_program_path), sizeof g_program_path - 1);
  g_program_path[n > 0 ? n : 0] = '\0';
  crc_prepare();
  long r = arch::raw_syscall(SYS_mmap, 0, kIndexReserve, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (!syscall_failed(r)) g_reserve = reinterpret_cast<uint8_t*>(r);
}

bool code_symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset) {
  return symbol_in_object(pc, kCode, name, size, offset);
}

bool data_symbol_of(const void* addr, char* name, size_t size, uintptr_t* offset) {
  return symbol_in_object(reinterpret_cast<uintptr_t>(addr), kData, name, size, offset);
}

bool symbol_tables_final(uintptr_t pc) {
  if (g_busy) return false;
  g_busy = true;
  Object* o = object_at(pc);
  g_busy = false;
  return o != nullptr && o->ntables > 0 && !o->minidebuginfo;
}

int elf_image_symbol(const void* image, size_t size, uint64_t vaddr, bool code, char* name,
                     size_t name_size, uint64_t* offset) {
  Image im;
  Table t;
  if (!image_open(image, size, &im) ||
      !(table_open(im, SHT_SYMTAB, &t) || table_open(im, SHT_DYNSYM, &t))) {
    return 0;
  }
  Kind kind = code ? kCode : kData;
  uint32_t s = lookup_scan(t, kind, vaddr);
  if (table_lookup(t, kind, vaddr) != s) return -1;
  if (s == 0) return 0;
  copy_name(t, s, name, name_size);
  *offset = vaddr - t.syms[s].st_value;
  return 1;
}

}  // namespace ptshim
