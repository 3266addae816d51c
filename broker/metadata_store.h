// MetadataStore: the cluster metadata as this broker knows it — the quorum's
// state machine. The quorum thread applies every committed RecordBatch to a
// copy of the image and publishes the copy; readers on any thread take the
// latest image (a shared_ptr to an immutable MetadataImage) without locks
// held while they use it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "metadata/image.h"
#include "quorum/state_machine.h"

namespace mq::broker {

class MetadataStore : public quorum::StateMachine {
 public:
  MetadataStore();

  std::shared_ptr<const metadata::MetadataImage> image() const;
  // Waits until the entry at `index` was applied (or rejected). False on timeout.
  bool wait_for(uint64_t index, std::chrono::milliseconds timeout) const;
  // Waits until `done` holds for the image, checked now and at every new
  // image (under the store's lock: keep it quick, and do not call the store
  // from it). False on timeout.
  bool wait_for_image(const std::function<bool(const metadata::MetadataImage&)>& done,
                      std::chrono::milliseconds timeout) const;
  // ok if the batch at `index` (already applied) changed the image; the
  // image's reason if it was rejected (every member rejects it alike).
  Status outcome(uint64_t index) const;
  uint64_t applied_index() const;
  uint64_t rejected_batches() const;

  // Called on the quorum thread after every change of the image; must not block.
  void set_image_listener(std::function<void()> listener);
  // Called on the quorum thread when the leader or this node's controller
  // role changes; must not block.
  void set_leader_listener(
      std::function<void(uint64_t term, quorum::NodeId leader, bool am_controller)> listener);
  quorum::NodeId leader() const;
  bool am_controller() const;

  void apply(uint64_t index, std::span<const uint8_t> data) override;
  Status restore(uint64_t index, std::span<const uint8_t> snapshot) override;
  quorum::Bytes snapshot() override;
  void on_leader_change(uint64_t term, quorum::NodeId leader, bool am_controller) override;

 private:
  void publish(std::shared_ptr<const metadata::MetadataImage> next, uint64_t index);

  mutable std::mutex mu_;
  mutable std::condition_variable applied_cv_;
  std::shared_ptr<const metadata::MetadataImage> image_;
  uint64_t applied_index_ = 0;
  uint64_t rejected_index_ = 0;
  Status rejected_status_;
  uint64_t rejected_batches_ = 0;
  quorum::NodeId leader_ = -1;
  bool am_controller_ = false;
  std::function<void()> image_listener_;
  std::function<void(uint64_t, quorum::NodeId, bool)> leader_listener_;
};

}  // namespace mq::broker
