#include "arch/thread_pointer_x86_64.h"

#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "arch/syscall_x86_64_linux.h"

namespace ptshim::arch {

namespace {
constexpr unsigned long kHwcap2Fsgsbase = 1ul << 1;  // HWCAP2_FSGSBASE

bool have_fsgsbase() {
  static const bool have = (getauxval(AT_HWCAP2) & kHwcap2Fsgsbase) != 0;
  return have;
}
}  // namespace

void set_thread_pointer(void* tp) {
  if (have_fsgsbase()) {
    asm volatile("wrfsbase %0" : : "r"(tp) : "memory");
  } else {
    raw_syscall(SYS_arch_prctl, ARCH_SET_FS, reinterpret_cast<long>(tp));
  }
}

}  // namespace ptshim::arch
