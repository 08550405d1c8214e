// The checks of the unit tests (core/**/*_test.cc): no framework, one line
// per failed check, then exactly "N passed, M failed". A test's main ends
// with `return ptshim::testing::finish();`, non-zero when a check failed.
//
// Test-only: this folder holds headers only, so the library's globs
// (core/*.cc, top CMakeLists.txt) take nothing from it.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <utility>

namespace ptshim::testing {

inline int g_passed;
inline int g_failed;

// Values as text for failure lines: integers, enums, pointers, strings.
struct Text {
  char buf[64];
};
template <typename T>
Text describe(const T& v) {
  Text t;
  if constexpr (std::is_same_v<T, bool>) {
    snprintf(t.buf, sizeof t.buf, "%s", v ? "true" : "false");
  } else if constexpr (std::is_enum_v<T>) {
    snprintf(t.buf, sizeof t.buf, "%lld", static_cast<long long>(v));
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    snprintf(t.buf, sizeof t.buf, "%lld", static_cast<long long>(v));
  } else if constexpr (std::is_integral_v<T>) {
    snprintf(t.buf, sizeof t.buf, "%llu", static_cast<unsigned long long>(v));
  } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    snprintf(t.buf, sizeof t.buf, "%p", static_cast<const void*>(v));
  } else {
    snprintf(t.buf, sizeof t.buf, "(value)");
  }
  return t;
}

inline bool check(bool ok, const char* file, int line, const char* what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    printf("FAIL %s:%d: %s\n", file, line, what);
  }
  return ok;
}

template <typename A, typename B>
bool check_eq(const A& a, const B& b, const char* file, int line, const char* a_text,
              const char* b_text) {
  bool ok;
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool> &&
                !std::is_same_v<B, bool>) {
    ok = std::cmp_equal(a, b);
  } else {
    ok = a == b;
  }
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    printf("FAIL %s:%d: %s == %s (%s vs %s)\n", file, line, a_text, b_text, describe(a).buf,
           describe(b).buf);
  }
  return ok;
}

// Strings, either of which may be null.
inline bool check_streq(const char* a, const char* b, const char* file, int line,
                        const char* a_text, const char* b_text) {
  bool ok = (a == nullptr || b == nullptr) ? a == b : strcmp(a, b) == 0;
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    printf("FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", file, line, a_text, b_text,
           a ? a : "(null)", b ? b : "(null)");
  }
  return ok;
}

inline int finish() {
  printf("%d passed, %d failed\n", g_passed, g_failed);
  fflush(stdout);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace ptshim::testing

#define CHECK(cond) ::ptshim::testing::check((cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b) ::ptshim::testing::check_eq((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_STREQ(a, b) ::ptshim::testing::check_streq((a), (b), __FILE__, __LINE__, #a, #b)
