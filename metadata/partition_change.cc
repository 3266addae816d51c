// The partition rules shared by every controller operation: ISR membership,
// KIP-966 eligible leader replicas, leader election, reassignment completion.
#include "metadata/partition_change.h"

#include <algorithm>

namespace mq::metadata {
namespace {

// The members of `ids` that satisfy `keep`, in replica order.
template <class Keep>
std::vector<BrokerId> in_replica_order(const std::vector<BrokerId>& replicas,
                                       const std::vector<BrokerId>& ids, Keep keep) {
  std::vector<BrokerId> out;
  for (BrokerId id : replicas) {
    if (contains(ids, id) && keep(id)) out.push_back(id);
  }
  return out;
}

// The replica a partition that has no one to elect keeps in its ISR, as KRaft
// does: the last ISR member (the leader first), since it may hold more than
// any other replica, so it leads again as soon as its broker is back. A member
// that lost data in an unclean restart is kept only while no eligible leader
// replica (which holds every committed record) remains, the ELR members that
// lost data too then counting as well: with every holder of the committed
// data having restarted uncleanly, nobody is known to hold more than they do,
// and waiting for nobody would leave the partition offline for good.
std::optional<BrokerId> last_isr_member(const PartitionState& current, const PartitionState& next,
                                        const BrokerView& view) {
  std::vector<BrokerId> holders;
  auto add = [&](BrokerId id) {
    if (contains(next.replicas, id) && !contains(holders, id)) {
      holders.push_back(id);
    }
  };
  if (contains(current.isr, current.leader)) add(current.leader);
  for (BrokerId id : next.replicas) {
    if (contains(current.isr, id)) add(id);
  }
  for (BrokerId id : holders) {
    if (!view.lost_data(id)) return id;
  }
  if (!next.elr.empty()) return std::nullopt;  // they hold what the others may have lost
  for (BrokerId id : next.replicas) {
    if (contains(current.elr, id)) add(id);
  }
  if (holders.empty()) return std::nullopt;
  return holders.front();
}

}  // namespace

BrokerView::BrokerView(const MetadataImage& image) : image_(image) {}

bool BrokerView::electable(BrokerId id) const {
  if (electable_.contains(id)) return true;
  if (not_electable_.contains(id)) return false;
  const BrokerState* broker = image_.broker(id);
  return broker != nullptr && !broker->fenced && !broker->in_controlled_shutdown;
}

PartitionDecision decide_partition(const std::string& topic, int32_t partition,
                                   const PartitionState& current, const PartitionTarget& target,
                                   const BrokerView& view) {
  PartitionState next = current;
  if (target.replicas) next.replicas = *target.replicas;
  if (target.adding_replicas) next.adding_replicas = *target.adding_replicas;
  if (target.removing_replicas) next.removing_replicas = *target.removing_replicas;
  if (target.isr) next.isr = *target.isr;

  auto any = [](BrokerId) { return true; };
  auto live = [&](BrokerId id) { return view.electable(id); };

  // A reassignment completes once every target replica is in the ISR: the
  // removed replicas leave, and with them their ISR and ELR places.
  if (next.reassigning()) {
    std::vector<BrokerId> final_replicas = next.target_replicas();
    bool caught_up = std::all_of(final_replicas.begin(), final_replicas.end(),
                                 [&](BrokerId id) { return contains(next.isr, id) && live(id); });
    if (caught_up) {
      next.replicas = final_replicas;
      next.adding_replicas.clear();
      next.removing_replicas.clear();
    }
  }

  // The ISR holds only live replicas. Members that leave it while it is
  // below min.insync.replicas keep the committed data (the high watermark
  // cannot advance then), so they become eligible leader replicas — unless
  // they lost data in an unclean restart.
  next.isr = in_replica_order(next.replicas, next.isr, live);
  std::vector<BrokerId> left_isr = in_replica_order(next.replicas, current.isr, [&](BrokerId id) {
    return !contains(next.isr, id) && !view.lost_data(id);
  });
  std::vector<BrokerId> elr_before = in_replica_order(next.replicas, current.elr, any);
  bool elr_lost_member = std::any_of(current.elr.begin(), current.elr.end(),
                                     [&](BrokerId id) { return view.lost_data(id); });
  if (static_cast<int32_t>(next.isr.size()) >= target.min_insync_replicas) {
    next.elr.clear();
    next.last_known_elr.clear();
  } else {
    std::vector<BrokerId> elr = elr_before;
    elr.insert(elr.end(), left_isr.begin(), left_isr.end());
    next.elr = in_replica_order(next.replicas, elr, [&](BrokerId id) {
      return !contains(next.isr, id) && !view.lost_data(id);
    });
    next.last_known_elr = in_replica_order(next.replicas, current.last_known_elr, any);
    // The last members of an ELR that empties because they lost data are
    // remembered: an unclean election prefers them (KIP-966 last known ELR).
    if (next.elr.empty() && next.isr.empty() && elr_lost_member) {
      next.last_known_elr = in_replica_order(next.replicas, current.elr, any);
    }
  }

  // The leader: the preferred replica when asked for and possible, else the
  // current one if still in the ISR, else the first live ISR member in
  // replica order, else the first live ELR member, else (unclean) any live
  // replica, preferring the last known ELR.
  BrokerId leader = kNoLeader;
  const BrokerId preferred = next.replicas.front();
  if (target.preference == LeaderPreference::kPreferred && contains(next.isr, preferred)) {
    leader = preferred;
  } else if (current.leader != kNoLeader && contains(next.isr, current.leader)) {
    leader = current.leader;
  } else if (!next.isr.empty()) {
    leader = next.isr.front();
  } else if (std::vector<BrokerId> elr = in_replica_order(next.replicas, next.elr, live);
             !elr.empty()) {
    leader = elr.front();
    next.isr = {leader};
    next.elr.erase(std::find(next.elr.begin(), next.elr.end(), leader));
  } else if (target.allow_unclean) {
    std::vector<BrokerId> known = in_replica_order(next.replicas, next.last_known_elr, live);
    std::vector<BrokerId> anyone = in_replica_order(next.replicas, next.replicas, live);
    if (!known.empty() || !anyone.empty()) {
      leader = !known.empty() ? known.front() : anyone.front();
      next.isr = {leader};
      next.elr.clear();
      next.last_known_elr.clear();
    }
  }
  if (leader == kNoLeader && next.isr.empty()) {
    if (std::optional<BrokerId> kept = last_isr_member(current, next, view)) {
      next.isr = {*kept};
      next.elr.erase(std::remove(next.elr.begin(), next.elr.end(), *kept), next.elr.end());
    }
  }
  next.leader = leader;

  PartitionDecision decision;
  if (next == current) {
    decision.next = std::move(next);
    return decision;
  }
  PartitionChange change;
  change.topic = topic;
  change.partition = partition;
  change.partition_epoch = current.partition_epoch;
  if (next.leader != current.leader) {
    change.leader = next.leader;
    ++next.leader_epoch;
  }
  ++next.partition_epoch;
  if (next.replicas != current.replicas) change.replicas = next.replicas;
  if (next.isr != current.isr) change.isr = next.isr;
  if (next.elr != current.elr) change.elr = next.elr;
  if (next.last_known_elr != current.last_known_elr) change.last_known_elr = next.last_known_elr;
  if (next.adding_replicas != current.adding_replicas) {
    change.adding_replicas = next.adding_replicas;
  }
  if (next.removing_replicas != current.removing_replicas) {
    change.removing_replicas = next.removing_replicas;
  }
  decision.next = std::move(next);
  decision.change = std::move(change);
  return decision;
}

}  // namespace mq::metadata
