// Unit tests of the ELF symbol reader (elf_symbols.cc): which symbol names an
// address in a hand-made image (containment, aliases, nesting, zero-size
// symbols, .symtab against .dynsym); that the index and a scan of the table
// always agree; that truncated and corrupted images, placed against an
// unmapped page, give no name and no fault; and the lookups of this very
// program's own functions and static objects.
//
// `unit-elf_symbols --measure [LIBRARY]` prints timings instead: 20 pcs
// spread over the code of each of 5 objects (this program, libstdc++, libc,
// libm, LIBRARY, default libLLVM-14), the first lookup in each object, then
// three rounds of all 100.
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "core/diag/diag.h"
#include "core/testing/check.h"

using namespace ptshim;

namespace {

// ---- a hand-made image -----------------------------------------------------------------------

struct SymSpec {
  const char* name;
  unsigned char bind, type;
  uint16_t shndx;
  uint64_t value, size;
};

constexpr uint16_t kText = 1, kData = 2;
const SymSpec kSyms[] = {
    {"f_weak", STB_WEAK, STT_FUNC, kText, 0x1000, 0x10},
    {"f_local", STB_LOCAL, STT_FUNC, kText, 0x1000, 0x10},
    {"f_global", STB_GLOBAL, STT_FUNC, kText, 0x1000, 0x10},
    {"undefined", STB_GLOBAL, STT_FUNC, SHN_UNDEF, 0x1000, 0x100},
    {"file.c", STB_LOCAL, STT_FILE, SHN_ABS, 0, 0},
    {"outer", STB_GLOBAL, STT_FUNC, kText, 0x1040, 0x40},
    {"inner", STB_LOCAL, STT_FUNC, kText, 0x1050, 0x8},
    {"asm_label", STB_LOCAL, STT_NOTYPE, kText, 0x10a0, 0},
    {"obj", STB_GLOBAL, STT_OBJECT, kData, 0x2000, 8},
    {"_ZZ4mainE1m", STB_LOCAL, STT_OBJECT, kData, 0x2010, 40},
    {"tls", STB_GLOBAL, STT_TLS, kData, 0x2040, 8},
};
constexpr size_t kNumSyms = sizeof kSyms / sizeof kSyms[0] + 1;  // with the null symbol

struct Built {
  alignas(8) uint8_t bytes[4096];
  size_t size;
};

// Ehdr | symbols | .strtab | .shstrtab | section headers:
// null, .text (NOBITS, code), .data (NOBITS), the table, .strtab, .shstrtab.
Built build_image(uint32_t table_type) {
  Built b{};
  size_t at = sizeof(Elf64_Ehdr);
  size_t syms_at = at;
  at += kNumSyms * sizeof(Elf64_Sym);
  size_t strs_at = at;
  size_t strs_len = 1;  // the empty name
  for (const SymSpec& s : kSyms) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<uint32_t>(strs_len);
    sym.st_info = ELF64_ST_INFO(s.bind, s.type);
    sym.st_shndx = s.shndx;
    sym.st_value = s.value;
    sym.st_size = s.size;
    size_t i = static_cast<size_t>(&s - kSyms) + 1;
    memcpy(b.bytes + syms_at + i * sizeof sym, &sym, sizeof sym);
    size_t n = strlen(s.name) + 1;
    memcpy(b.bytes + strs_at + strs_len, s.name, n);
    strs_len += n;
  }
  at += strs_len;
  const char shstr[] = "\0.text\0.data\0.symtab\0.strtab\0.shstrtab";
  size_t shstr_at = at;
  memcpy(b.bytes + at, shstr, sizeof shstr);
  at += sizeof shstr;
  at = (at + 7) & ~size_t{7};
  size_t sh_at = at;
  Elf64_Shdr sh[6]{};
  sh[1] = {1, SHT_NOBITS, SHF_ALLOC | SHF_EXECINSTR, 0x1000, 0, 0x100, 0, 0, 16, 0};
  sh[2] = {7, SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 0x2000, 0, 0x100, 0, 0, 8, 0};
  sh[3] = {13, table_type, 0, 0, syms_at, kNumSyms * sizeof(Elf64_Sym), 4, 1, 8, sizeof(Elf64_Sym)};
  sh[4] = {21, SHT_STRTAB, 0, 0, strs_at, strs_len, 0, 0, 1, 0};
  sh[5] = {29, SHT_STRTAB, 0, 0, shstr_at, sizeof shstr, 0, 0, 1, 0};
  memcpy(b.bytes + sh_at, sh, sizeof sh);
  at += sizeof sh;
  Elf64_Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  eh.e_shoff = sh_at;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 6;
  eh.e_shstrndx = 5;
  memcpy(b.bytes, &eh, sizeof eh);
  b.size = at;
  return b;
}

// A name for vaddr, or "" for none; "DISAGREE" when the index and the scan differ.
struct Answer {
  char name[64];
  uint64_t offset;
};
Answer ask(const void* image, size_t size, uint64_t vaddr, bool code) {
  Answer a{};
  int r = elf_image_symbol(image, size, vaddr, code, a.name, sizeof a.name, &a.offset);
  if (r < 0) strcpy(a.name, "DISAGREE");
  if (r == 0) a.name[0] = '\0';
  return a;
}

void test_choices() {
  Built b = build_image(SHT_SYMTAB);
  struct Case {
    uint64_t vaddr;
    bool code;
    const char* name;
    uint64_t offset;
  } cases[] = {
      {0x1000, true, "f_global", 0},  // aliases: global over local over weak
      {0x100f, true, "f_global", 0xf},
      {0x1010, true, "", 0},  // past its end: the export before it would mislead
      {0x1020, true, "", 0},  // the same, further
      {0x1040, true, "outer", 0},
      {0x1052, true, "inner", 2},  // nested: the innermost
      {0x1058, true, "outer", 0x18},
      {0x10a0, true, "asm_label", 0},  // zero-size, nearest, in .text
      {0x10f0, true, "asm_label", 0x50},
      {0x1100, true, "", 0},  // beyond .text
      {0x0fff, true, "", 0},
      {0x2004, true, "", 0},  // data is not code
      {0x2004, false, "obj", 4},
      {0x2008, false, "", 0},
      {0x2010, false, "_ZZ4mainE1m", 0},
      {0x2037, false, "_ZZ4mainE1m", 0x27},
      {0x2040, false, "", 0},  // thread-local: not an address in the object
      {0x1000, false, "", 0},
  };
  for (const Case& c : cases) {
    Answer a = ask(b.bytes, b.size, c.vaddr, c.code);
    if (!CHECK_STREQ(a.name, c.name)) printf("  at 0x%llx\n", (unsigned long long)c.vaddr);
    if (c.name[0] != '\0') CHECK_EQ(a.offset, c.offset);
  }
  // A dynamic table is not complete: zero-size symbols are not used.
  Built d = build_image(SHT_DYNSYM);
  CHECK_STREQ(ask(d.bytes, d.size, 0x10f0, true).name, "");
  CHECK_STREQ(ask(d.bytes, d.size, 0x1052, true).name, "inner");
  // A small output buffer truncates the name.
  char small[4];
  uint64_t off;
  CHECK_EQ(elf_image_symbol(b.bytes, b.size, 0x1000, true, small, sizeof small, &off), 1);
  CHECK_STREQ(small, "f_g");
}

// ---- hostile images, against an unmapped page --------------------------------------------

struct Fence {
  uint8_t* guard;  // PROT_NONE
  uint8_t* base;
  size_t room;
};

Fence fence_make(size_t room) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  room = (room + page - 1) / page * page;
  auto* p = static_cast<uint8_t*>(
      mmap(nullptr, room + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  mprotect(p + room, page, PROT_NONE);
  return Fence{p + room, p, room};
}

// The first n bytes of image, ending at the guard page (rounded to 8, as
// images are aligned).
const uint8_t* fence_place(const Fence& f, const uint8_t* image, size_t n) {
  uint8_t* at = f.guard - ((n + 7) & ~size_t{7});
  memcpy(at, image, n);
  return at;
}

const uint64_t kProbes[] = {0x1000, 0x1052, 0x10f0, 0x2004, 0x2010, 0, ~uint64_t{0}};

void probe_all(const uint8_t* image, size_t n, int* disagreements) {
  for (uint64_t v : kProbes) {
    for (bool code : {true, false}) {
      if (strcmp(ask(image, n, v, code).name, "DISAGREE") == 0) ++*disagreements;
    }
  }
}

void test_truncated() {
  Built b = build_image(SHT_SYMTAB);
  Fence f = fence_make(sizeof b.bytes);
  int disagreements = 0, found_before_end = 0;
  for (size_t n = 0; n < b.size; ++n) {
    const uint8_t* image = fence_place(f, b.bytes, n);
    probe_all(image, n, &disagreements);
    if (ask(image, n, 0x1000, true).name[0] != '\0') ++found_before_end;
  }
  CHECK_EQ(disagreements, 0);
  // The section headers come last: no prefix of the image is usable.
  CHECK_EQ(found_before_end, 0);
  CHECK_STREQ(ask(fence_place(f, b.bytes, b.size), b.size, 0x1000, true).name, "f_global");
}

void test_corrupted() {
  Fence f = fence_make(sizeof(Built::bytes));
  int disagreements = 0;
  for (uint32_t type : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
    Built b = build_image(type);
    for (size_t i = 0; i < b.size; ++i) {
      for (uint8_t v : {uint8_t{0}, uint8_t{1}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
        Built c = b;
        c.bytes[i] = v;
        probe_all(fence_place(f, c.bytes, c.size), c.size, &disagreements);
      }
    }
    // Whole 8-byte fields set to extremes: offsets, sizes, counts, values.
    for (size_t i = 0; i + 8 <= b.size; i += 4) {
      for (uint64_t v : {~uint64_t{0}, uint64_t{1} << 63, uint64_t{0x7fffffff}, uint64_t{4096}}) {
        Built c = b;
        memcpy(c.bytes + i, &v, 8);
        probe_all(fence_place(f, c.bytes, c.size), c.size, &disagreements);
      }
    }
  }
  CHECK_EQ(disagreements, 0);
}

// This program itself, from its file, cut short at many lengths.
void test_own_file_truncated() {
  int fd = open("/proc/self/exe", O_RDONLY);
  off_t size = lseek(fd, 0, SEEK_END);
  auto* whole = static_cast<uint8_t*>(mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
  close(fd);
  Fence f = fence_make(static_cast<size_t>(size));
  int disagreements = 0;
  for (size_t n = 0; n <= static_cast<size_t>(size); n += 509) {
    probe_all(fence_place(f, whole, n), n, &disagreements);
  }
  CHECK_EQ(disagreements, 0);
}

// ---- this program's own symbols, through the loaded-object path -------------------------

__attribute__((noinline)) int local_helper(int x) {
  asm volatile("" : "+r"(x));
  return x * 3 + 1;
}
int g_static_counter[4];

// ---- --measure -------------------------------------------------------------------------------

struct CodeRange {
  const char* name;
  uintptr_t lo, hi;
};
struct Ranges {
  CodeRange r[64];
  size_t n;
};

int collect_code(dl_phdr_info* info, size_t, void* data) {
  auto* rs = static_cast<Ranges*>(data);
  for (int i = 0; i < info->dlpi_phnum && rs->n < 64; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    rs->r[rs->n++] = {info->dlpi_name[0] != '\0' ? info->dlpi_name : "(program)", lo,
                      lo + ph.p_memsz};
  }
  return 0;
}

double ms_now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

int measure(const char* library) {
  if (dlopen(library, RTLD_NOW) == nullptr || dlopen("libstdc++.so.6", RTLD_NOW) == nullptr ||
      dlopen("libm.so.6", RTLD_NOW) == nullptr) {
    printf("cannot load %s, libstdc++.so.6 or libm.so.6\n", library);
    return 1;
  }
  elf_symbols_prepare();
  Ranges rs{};
  dl_iterate_phdr(collect_code, &rs);
  const char* wanted[] = {"(program)", "libstdc++", "libc.so", "libm.so", library};
  uintptr_t pcs[100];
  size_t n = 0;
  for (const char* w : wanted) {
    for (size_t i = 0; i < rs.n; ++i) {
      if (strstr(rs.r[i].name, w) == nullptr) continue;
      for (int k = 0; k < 20; ++k) pcs[n++] = rs.r[i].lo + (rs.r[i].hi - rs.r[i].lo) / 20 * k + 17;
      break;
    }
  }
  char name[256];
  uintptr_t offset;
  for (size_t i = 0; i < n; i += 20) {
    double t0 = ms_now();
    code_symbol_of(pcs[i], name, sizeof name, &offset);
    printf("first lookup in %s: %.3f ms\n", wanted[i / 20], ms_now() - t0);
  }
  for (int round = 0; round < 3; ++round) {
    double t0 = ms_now();
    int named = 0;
    for (size_t i = 0; i < n; ++i) named += code_symbol_of(pcs[i], name, sizeof name, &offset);
    printf("%zu lookups: %.3f ms, %d named\n", n, ms_now() - t0, named);
  }
  return 0;
}

}  // namespace

__attribute__((noinline)) int exported_helper(int x) { return local_helper(x) + 2; }

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--measure") == 0) {
    return measure(argc > 2 ? argv[2] : "/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1");
  }
  elf_symbols_prepare();
  test_choices();
  test_truncated();
  test_corrupted();
  test_own_file_truncated();

  char name[128];
  uintptr_t offset = 99;
  auto pc = reinterpret_cast<uintptr_t>(&exported_helper);
  CHECK(code_symbol_of(pc + 1, name, sizeof name, &offset));
  CHECK_STREQ(name, "_Z15exported_helperi");
  CHECK_EQ(offset, uintptr_t{1});
  // A local function, which only .symtab names (the -flto build may suffix it).
  CHECK(code_symbol_of(reinterpret_cast<uintptr_t>(&local_helper), name, sizeof name, &offset));
  CHECK(strncmp(name, "_ZN12_GLOBAL__N_112local_helperEi", 33) == 0);
  CHECK_EQ(offset, uintptr_t{0});
  CHECK(data_symbol_of(&g_static_counter[2], name, sizeof name, &offset));
  CHECK(strncmp(name, "_ZN12_GLOBAL__N_116g_static_counterE", 36) == 0);
  CHECK_EQ(offset, 2 * sizeof(int));
  static long function_local = 5;
  CHECK(data_symbol_of(&function_local, name, sizeof name, &offset));
  CHECK(strncmp(name, "_ZZ4mainE14function_local", 25) == 0);
  // libc's functions, from its .symtab, its debug file or its .dynsym.
  CHECK(code_symbol_of(reinterpret_cast<uintptr_t>(&write), name, sizeof name, &offset));
  CHECK(symbol_tables_final(reinterpret_cast<uintptr_t>(&write)));
  // The vdso, read in place: its functions by their names.
  {
    auto* vdso = reinterpret_cast<const uint8_t*>(getauxval(AT_SYSINFO_EHDR));
    int named = 0;
    for (size_t at = 0; vdso != nullptr && at < 4096; at += 16) {
      if (code_symbol_of(reinterpret_cast<uintptr_t>(vdso + at), name, sizeof name, &offset) &&
          strstr(name, "gettime") != nullptr) {
        ++named;
      }
    }
    CHECK(vdso == nullptr || named > 0);
  }
  // Not in any object: no name.
  CHECK(!code_symbol_of(0x1000, name, sizeof name, &offset));
  CHECK(!data_symbol_of(name, name, sizeof name, &offset));  // the stack
  return ptshim::testing::finish();
}
