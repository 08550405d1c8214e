#include "shim/c11.h"

using namespace ptshim;

PTSHIM_EXPORT void call_once(once_flag* flag, void (*func)()) {
  ShimEntry entry(__func__);
  once_call(reinterpret_cast<int*>(flag), func);
}

PTSHIM_EXPORT int tss_create(tss_t* key, tss_dtor_t destructor) {
  ShimEntry entry(__func__);
  return c11_result(key_create(key, destructor));
}

PTSHIM_EXPORT void tss_delete(tss_t key) {
  ShimEntry entry(__func__);
  key_delete(key);
}

PTSHIM_EXPORT void* tss_get(tss_t key) {
  ShimEntry entry(__func__);
  return key_get(key);
}

PTSHIM_EXPORT int tss_set(tss_t key, void* value) {
  ShimEntry entry(__func__);
  return c11_result(key_set(key, value));
}
