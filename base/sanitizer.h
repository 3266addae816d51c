// Happens-before edges ThreadSanitizer cannot see by itself: ownership that
// passes between threads inside a library built without -fsanitize=thread
// (libzmq's lock-free pipes). A release on one thread followed by an
// acquire of the same address on another orders everything before the
// release before everything after the acquire. No-ops outside the TSAN build.
#pragma once

#if defined(MQ_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace mq {

inline void tsan_release([[maybe_unused]] void* address) {
#if defined(MQ_TSAN)
  __tsan_release(address);
#endif
}

inline void tsan_acquire([[maybe_unused]] void* address) {
#if defined(MQ_TSAN)
  __tsan_acquire(address);
#endif
}

}  // namespace mq
