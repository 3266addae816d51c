// Internal to the controller: how one partition's state changes when brokers
// die, restart, shut down or are removed, when its ISR or replicas change, or
// when a leader is elected. The rules (docs/metadata.md §4.3-4.5): ISR keeps
// only live brokers, KIP-966 eligible leader replicas (ELR) hold the members
// that left the ISR while it was below min.insync.replicas, and the leader is
// chosen from the ISR, then the ELR, then (unclean) any live replica. A
// partition left with nobody to elect keeps its last ISR member in the ISR
// (KRaft's rule), so that replica leads again when its broker returns.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "metadata/image.h"

namespace mq::metadata {

// Which brokers may lead or be in an ISR, as the batch being decided will
// leave them: the image's view plus the changes the batch makes.
class BrokerView {
 public:
  explicit BrokerView(const MetadataImage& image);

  // Registered, unfenced and not shutting down.
  bool electable(BrokerId id) const;
  // Restarted without a clean shutdown: drop from every ELR.
  bool lost_data(BrokerId id) const { return lost_data_.contains(id); }

  void fence(BrokerId id) { not_electable_.insert(id), electable_.erase(id); }
  void unfence(BrokerId id) { electable_.insert(id), not_electable_.erase(id); }
  void mark_lost_data(BrokerId id) { lost_data_.insert(id); }

 private:
  const MetadataImage& image_;
  std::set<BrokerId> electable_;      // overrides: electable in this batch
  std::set<BrokerId> not_electable_;  // overrides: fenced or shutting down
  std::set<BrokerId> lost_data_;
};

enum class LeaderPreference : int8_t {
  kKeep,       // keep a live ISR leader; elect only when there is none
  kPreferred,  // move to the first replica when it is live and in the ISR
};

struct PartitionTarget {
  // Overrides of the current state, applied before the rules run.
  std::optional<std::vector<BrokerId>> isr;
  std::optional<std::vector<BrokerId>> replicas;
  std::optional<std::vector<BrokerId>> adding_replicas;
  std::optional<std::vector<BrokerId>> removing_replicas;
  LeaderPreference preference = LeaderPreference::kKeep;
  bool allow_unclean = false;
  int32_t min_insync_replicas = 1;
};

struct PartitionDecision {
  PartitionState next;                    // the state after the change is applied
  std::optional<PartitionChange> change;  // nullopt when nothing changes
};

PartitionDecision decide_partition(const std::string& topic, int32_t partition,
                                   const PartitionState& current, const PartitionTarget& target,
                                   const BrokerView& view);

}  // namespace mq::metadata
