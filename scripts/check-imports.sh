#!/usr/bin/env bash
# Fails if libptshim.so imports anything outside a deliberate list. The shim
# must never reach malloc, stdio, dlsym, the C++ runtime or any function it
# interposes (pthread_*, sleeps, sched_yield, sigaction): each may call back
# into the shim. Adding an import means adding it here, on purpose.
# (libunwind, used only for reports, does call pthread_mutex_lock: see
# core/diag/unwind.cc for why that re-entry is harmless. free and the loader's TLS
# functions, which call malloc, are called only outside the core, from
# core/thread/tls.cc, as glibc's own thread creation does. dlvsym is called
# at start-up before any thread, to find glibc's pthread_create
# (core/thread/glibc_create.cc) and, when the program has libstdc++, its
# exception functions (core/diag/exception.cc: ptshim links no C++ runtime).
# __pthread_keys is glibc's key table, data the program's keys share:
# core/thread/key.cc. posix_spawn and its attribute
# calls start system()'s shell (shim/system.cc), with environ: glibc's spawn
# makes only internal calls and blocks every signal around its clone.)
set -euo pipefail
lib=${1:?usage: check-imports.sh path/to/libptshim.so}
allowed='
__cxa_finalize __errno_location __libc_single_threaded __register_atfork __sigaction
__sysconf _exit _r_debug abort __clock_gettime dladdr dl_iterate_phdr exit getauxval getcontext
getenv getrlimit makecontext madvise memset memcpy mmap mprotect munmap sigemptyset strcasecmp strncasecmp
strlen strncmp strstr swapcontext strcmp gnu_get_libc_version uselocale __h_errno_location
_dl_allocate_tls _dl_allocate_tls_init _dl_deallocate_tls _dl_get_tls_static_info free __call_tls_dtors __ctype_init
_rtld_global __pthread_keys readlink posix_spawn posix_spawnattr_init posix_spawnattr_destroy
posix_spawnattr_setflags posix_spawnattr_setsigdefault posix_spawnattr_setsigmask environ __environ sigaddset sigismember __sched_cpucount dlvsym
_ULx86_64_get_proc_name _ULx86_64_get_reg _ULx86_64_init_local _ULx86_64_init_local2
_ULx86_64_step unw_backtrace
_Unwind_ForcedUnwind _Unwind_GetCFA _Unwind_Resume __gcc_personality_v0 longjmp
_ITM_deregisterTMCloneTable _ITM_registerTMCloneTable __gmon_start__
'
bad=0
while read -r sym; do
  name=${sym%%@*}
  if ! grep -qw -- "$name" <<<"$allowed"; then
    echo "check-imports: libptshim.so imports '$name', which is not on the allowed list" >&2
    bad=1
  fi
done < <(nm -D --undefined-only "$lib" | awk '{print $NF}')
[ "$bad" = 0 ] && echo "check-imports: $(nm -D --undefined-only "$lib" | wc -l) imports, all allowed"
exit "$bad"
