#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  ShimEntry entry(__func__);
  return key_create(key, destructor);
}

PTSHIM_EXPORT int pthread_key_delete(pthread_key_t key) {
  ShimEntry entry(__func__);
  return key_delete(key);
}

PTSHIM_EXPORT void* pthread_getspecific(pthread_key_t key) {
  ShimEntry entry(__func__);
  return key_get(key);
}

PTSHIM_EXPORT int pthread_setspecific(pthread_key_t key, const void* value) {
  ShimEntry entry(__func__);
  return key_set(key, value);
}
