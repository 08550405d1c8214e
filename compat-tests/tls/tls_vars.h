/* The libraries of the tls_vars test: compat_tlslib is linked with the
 * program as usual; compat_tlsmod and compat_tlsmod_ie are loaded with
 * dlopen by path and their functions found with dlsym. */
#ifndef COMPAT_TLS_VARS_H
#define COMPAT_TLS_VARS_H

/* ---- compat_tlslib (linked) ---- */
#define TLSLIB_COUNTER_INIT 31337
#define TLSLIB_PRIVATE_INIT \
  { 11, 22, 33 }
#define TLSLIB_NAME_INIT "tlslib"
/* Accessed directly by the program (the initial-exec model, from a PIE) and
 * by the library's own functions (global-dynamic). */
extern __thread int tlslib_counter;
extern __thread char tlslib_name[16];
int* tlslib_counter_addr(void);
int tlslib_counter_get(void);
void tlslib_counter_add(int delta);
/* A static (local-dynamic) array inside the library. */
long* tlslib_private_addr(void);
long tlslib_private_sum(void);
void tlslib_private_add(long delta);

/* ---- compat_tlsmod (dlopen'ed; global- and local-dynamic) ---- */
#define TLSMOD_GD_INIT 777
#define TLSMOD_LD_INIT0 555
#define TLSMOD_LD_INIT1 556
typedef int* (*tlsmod_addr_fn)(void);
/* tlsmod_gd is also looked up with dlsym, which gives the calling thread's
 * copy. Functions: tlsmod_gd_addr, tlsmod_ld_addr (int[2]), tlsmod_bss_addr
 * (an int starting at 0). */

/* ---- compat_tlsmod_ie (dlopen'ed; initial-exec, in static TLS) ---- */
#define TLSMOD_IE_INIT 999
/* Functions: tlsmod_ie_addr, tlsmod_ie_get (reads through the IE access). */
typedef int (*tlsmod_get_fn)(void);

#endif /* COMPAT_TLS_VARS_H */
