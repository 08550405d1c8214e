/* compat_tlsmod: loaded by the tls_vars test with dlopen. Its TLS lives in
 * blocks that each thread allocates on first access (global-dynamic). */
#include "tls_vars.h"

__thread int tlsmod_gd = TLSMOD_GD_INIT;
static __thread int tlsmod_ld[2] = {TLSMOD_LD_INIT0, TLSMOD_LD_INIT1};
static __thread int tlsmod_bss;

int* tlsmod_gd_addr(void) { return &tlsmod_gd; }
int* tlsmod_ld_addr(void) { return tlsmod_ld; }
int* tlsmod_bss_addr(void) { return &tlsmod_bss; }
