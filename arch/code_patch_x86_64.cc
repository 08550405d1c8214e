// The jump written over the first bytes of a redirected function:
//
//   +0   ff 25 00 00 00 00    jmp *0(%rip)    indirect, through the next 8 bytes
//   +6   <8-byte address>     the replacement
//
// 14 bytes, no register touched (every argument register is live at a
// function's entry), any distance. The bytes it overwrites are never executed
// again, so they need not be whole instructions; a function that begins with
// endbr64 keeps it (an indirect call must still land on one where IBT is on).
// The page is writable only for the copy; one kernel thread runs the process,
// so nothing executes those bytes meanwhile.
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstdint>

#include "arch/code_patch_x86_64.h"
#include "arch/syscall_x86_64_linux.h"

namespace ptshim::arch {

bool redirect_function(void* function, const void* replacement) {
  auto* p = static_cast<unsigned char*>(function);
  static const unsigned char kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
  if (__builtin_memcmp(p, kEndbr64, sizeof kEndbr64) == 0) p += sizeof kEndbr64;
  const unsigned char jump[6] = {0xff, 0x25, 0, 0, 0, 0};
  auto target = reinterpret_cast<uintptr_t>(replacement);
  constexpr size_t kSize = sizeof jump + sizeof target;

  uintptr_t page = getauxval(AT_PAGESZ);
  uintptr_t lo = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + kSize + page - 1) & ~(page - 1);
  // Executable throughout: this very call may return through the same page
  // (ptshim's system calls run a `syscall; ret` in libc's code).
  if (raw_syscall(SYS_mprotect, static_cast<long>(lo), static_cast<long>(hi - lo),
                  PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    return false;
  }
  __builtin_memcpy(p, jump, sizeof jump);
  __builtin_memcpy(p + sizeof jump, &target, sizeof target);
  raw_syscall(SYS_mprotect, static_cast<long>(lo), static_cast<long>(hi - lo),
              PROT_READ | PROT_EXEC);
  return true;
}

}  // namespace ptshim::arch
