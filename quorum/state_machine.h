// StateMachine: what the application hands the quorum. The quorum thread
// applies the committed log to it in order, rebuilds it from snapshots and
// asks it for snapshots; it also learns who leads, so the application can
// start and stop its controller role.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "quorum/quorum_config.h"

namespace mq::quorum {

// Every method runs on the quorum thread, one at a time, and must not block
// on the quorum (waiting for a proposal's future inside apply() would stall
// the thread that resolves it). Proposing and replying from here is fine.
class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // A committed command entry, in log order with no gaps among commands. The
  // no-op entries of new leaders are not passed on (they still advance the
  // applied index).
  virtual void apply(uint64_t index, std::span<const uint8_t> data) = 0;

  // Replaces the whole state with `snapshot`, the state up to and including
  // entry `index`: at start (the stored snapshot, when there is one) and
  // when the leader sends one to a member that is too far behind. An error
  // stops the quorum (QuorumService::failure()).
  virtual Status restore(uint64_t index, std::span<const uint8_t> snapshot) = 0;

  // The state up to the last entry applied, for restore() to rebuild.
  virtual Bytes snapshot() = 0;

  // Called whenever the term, the known leader (raft::kNoNode while none is
  // known) or `am_controller` changes. `am_controller` turns true once this
  // node leads *and* has applied every entry committed before its term, so
  // the controller acts on complete state; it turns false as soon as the
  // node stops leading.
  virtual void on_leader_change(uint64_t term, NodeId leader, bool am_controller) {
    (void)term;
    (void)leader;
    (void)am_controller;
  }
};

}  // namespace mq::quorum
