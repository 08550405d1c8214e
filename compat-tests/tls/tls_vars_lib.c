/* compat_tlslib: a shared library linked normally with the tls_vars test. */
#include "tls_vars.h"

__thread int tlslib_counter = TLSLIB_COUNTER_INIT;
__thread char tlslib_name[16] = TLSLIB_NAME_INIT;
static __thread long tlslib_private[3] = TLSLIB_PRIVATE_INIT;

int* tlslib_counter_addr(void) { return &tlslib_counter; }
int tlslib_counter_get(void) { return tlslib_counter; }
void tlslib_counter_add(int delta) { tlslib_counter += delta; }

long* tlslib_private_addr(void) { return tlslib_private; }
long tlslib_private_sum(void) { return tlslib_private[0] + tlslib_private[1] + tlslib_private[2]; }
void tlslib_private_add(long delta) {
  for (int i = 0; i < 3; i++) tlslib_private[i] += delta;
}
