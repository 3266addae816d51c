// MetadataStore: applies committed metadata batches and publishes images.
#include "broker/metadata_store.h"

#include <spdlog/spdlog.h>

namespace mq::broker {

MetadataStore::MetadataStore() : image_(std::make_shared<metadata::MetadataImage>()) {}

std::shared_ptr<const metadata::MetadataImage> MetadataStore::image() const {
  std::lock_guard lock(mu_);
  return image_;
}

bool MetadataStore::wait_for(uint64_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_index_ >= index; });
}

bool MetadataStore::wait_for_image(const std::function<bool(const metadata::MetadataImage&)>& done,
                                   std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return applied_cv_.wait_for(lock, timeout, [&] { return done(*image_); });
}

Status MetadataStore::outcome(uint64_t index) const {
  std::lock_guard lock(mu_);
  if (index == rejected_index_ && index != 0) return rejected_status_;
  return Status::ok();
}

uint64_t MetadataStore::applied_index() const {
  std::lock_guard lock(mu_);
  return applied_index_;
}

uint64_t MetadataStore::rejected_batches() const {
  std::lock_guard lock(mu_);
  return rejected_batches_;
}

void MetadataStore::set_image_listener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  image_listener_ = std::move(listener);
}

void MetadataStore::set_leader_listener(
    std::function<void(uint64_t, quorum::NodeId, bool)> listener) {
  std::lock_guard lock(mu_);
  leader_listener_ = std::move(listener);
}

quorum::NodeId MetadataStore::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

bool MetadataStore::am_controller() const {
  std::lock_guard lock(mu_);
  return am_controller_;
}

void MetadataStore::apply(uint64_t index, std::span<const uint8_t> data) {
  std::shared_ptr<const metadata::MetadataImage> current = image();
  Result<metadata::RecordBatch> batch = metadata::decode_batch(data);
  Status status = batch.status();
  std::shared_ptr<metadata::MetadataImage> next;
  if (status.is_ok()) {
    next = std::make_shared<metadata::MetadataImage>(*current);
    status = next->apply(*batch, index);
  }
  if (!status.is_ok()) {
    // Deterministic: every member decodes and validates the same bytes
    // against the same image, so all of them skip this entry.
    spdlog::error("metadata entry {} rejected: {}", index, status.to_string());
    std::function<void()> listener;
    {
      std::lock_guard lock(mu_);
      rejected_index_ = index;
      rejected_status_ = status;
      rejected_batches_++;
      applied_index_ = index;
    }
    applied_cv_.notify_all();
    return;
  }
  publish(std::move(next), index);
}

Status MetadataStore::restore(uint64_t index, std::span<const uint8_t> snapshot) {
  MQ_ASSIGN_OR_RETURN(metadata::MetadataImage restored,
                      metadata::MetadataImage::decode_snapshot(snapshot));
  publish(std::make_shared<metadata::MetadataImage>(std::move(restored)), index);
  return Status::ok();
}

quorum::Bytes MetadataStore::snapshot() {
  return image()->encode_snapshot();
}

void MetadataStore::on_leader_change(uint64_t term, quorum::NodeId leader, bool am_controller) {
  std::function<void(uint64_t, quorum::NodeId, bool)> listener;
  {
    std::lock_guard lock(mu_);
    leader_ = leader;
    am_controller_ = am_controller;
    listener = leader_listener_;
  }
  spdlog::info("metadata quorum: term {}, leader {}{}", term, leader,
               am_controller ? " (this node is the active controller)" : "");
  if (listener) listener(term, leader, am_controller);
}

void MetadataStore::publish(std::shared_ptr<const metadata::MetadataImage> next, uint64_t index) {
  std::function<void()> listener;
  {
    std::lock_guard lock(mu_);
    image_ = std::move(next);
    applied_index_ = index;
    listener = image_listener_;
  }
  applied_cv_.notify_all();
  if (listener) listener();
}

}  // namespace mq::broker
