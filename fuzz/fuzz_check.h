#pragma once
// A fuzz target checks the promises of the code it drives, not only that it does not crash:
// a broken promise aborts, so libFuzzer saves the input that broke it.
#include <cstdio>
#include <cstdlib>

namespace synscope::fuzz {

inline void check(bool ok, const char* promise) {
  if (!ok) {
    std::fprintf(stderr, "broken promise: %s\n", promise);
    std::abort();
  }
}

}  // namespace synscope::fuzz
