#pragma once
#include <pthread.h>

enum lookup { kRtldNext, kRtldDefault, kLibcHandle, kVersion2_2_5, kVersion2_34 };

/* pthread_create as found by `how`; -1 if the lookup failed. */
int lib_create(enum lookup how, pthread_t* t, const pthread_attr_t* attr, void* (*start)(void*),
               void* arg);
/* pthread_attr_init, _setstacksize and _setdetachstate as glibc defines them. */
int lib_glibc_attr(pthread_attr_t* attr, size_t stack_size, int detach_state);
