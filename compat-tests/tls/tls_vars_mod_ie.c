/* compat_tlsmod_ie: loaded by the tls_vars test with dlopen. Its variable
 * uses the initial-exec model, so it must live in static TLS: the loader
 * places it in the surplus of every existing thread's static TLS block (and
 * copies its initial value there) when the module is loaded. */
#include "tls_vars.h"

__thread int tlsmod_ie __attribute__((tls_model("initial-exec"))) = TLSMOD_IE_INIT;

int* tlsmod_ie_addr(void) { return &tlsmod_ie; }
int tlsmod_ie_get(void) { return tlsmod_ie; }
