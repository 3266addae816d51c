// Invariants of the Raft core that must never break: checked in every build
// type (the simulation runs optimized), and fatal, because a node that keeps
// going after one could acknowledge what it later loses.
#pragma once

#include <cstdio>
#include <cstdlib>

#define MQ_RAFT_INVARIANT(condition, what)                                                        \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "raft invariant broken at %s:%d: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                                   \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
