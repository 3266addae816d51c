// Whole quorums of QuorumService objects in one process, on loopback ports
// and temporary storage, with a state machine that records what it applied.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quorum/quorum_service.h"
#include "tests/support/eventually.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"

namespace mq::quorum::testing {

using namespace std::chrono_literals;

using mq::testing::free_port;

inline Bytes bytes(const std::string& text) {
  return Bytes(text.begin(), text.end());
}
inline std::string text(std::span<const uint8_t> data) {
  return std::string(data.begin(), data.end());
}

using mq::testing::eventually;
// The quorum reacts within milliseconds: eventually(condition, limit, kPoll)
// polls often, and a wait timed by a test ends close to when it could.
inline constexpr std::chrono::milliseconds kPoll = 5ms;

// Applies entries to a list; its snapshot is the whole list, so a member
// restored from one must end with exactly the sequence the others applied.
class RecordingMachine : public StateMachine {
 public:
  struct Applied {
    uint64_t index = 0;
    std::string data;
    bool operator==(const Applied&) const = default;
  };

  void apply(uint64_t index, std::span<const uint8_t> data) override {
    std::lock_guard lock(mutex_);
    EXPECT_TRUE(applied_.empty() || index > applied_.back().index)
        << "entry " << index << " applied after " << applied_.back().index;
    applied_.push_back({index, text(data)});
  }

  Status restore(uint64_t index, std::span<const uint8_t> snapshot) override {
    std::lock_guard lock(mutex_);
    std::vector<Applied> restored;
    size_t at = 0;
    while (at < snapshot.size()) {
      uint64_t entry_index = 0;
      uint32_t size = 0;
      if (snapshot.size() - at < 12) return Status(ErrorCode::kCorruptMessage, "short snapshot");
      std::memcpy(&entry_index, snapshot.data() + at, 8);
      std::memcpy(&size, snapshot.data() + at + 8, 4);
      at += 12;
      if (snapshot.size() - at < size) return Status(ErrorCode::kCorruptMessage, "short entry");
      restored.push_back({entry_index, text(snapshot.subspan(at, size))});
      at += size;
    }
    applied_ = std::move(restored);
    ++restores_;
    last_restore_index_ = index;
    return Status::ok();
  }

  Bytes snapshot() override {
    std::lock_guard lock(mutex_);
    Bytes out;
    for (const Applied& entry : applied_) {
      uint32_t size = static_cast<uint32_t>(entry.data.size());
      const auto* index = reinterpret_cast<const uint8_t*>(&entry.index);
      out.insert(out.end(), index, index + 8);
      const auto* length = reinterpret_cast<const uint8_t*>(&size);
      out.insert(out.end(), length, length + 4);
      out.insert(out.end(), entry.data.begin(), entry.data.end());
    }
    ++snapshots_;
    return out;
  }

  void on_leader_change(uint64_t term, NodeId leader, bool am_controller) override {
    std::lock_guard lock(mutex_);
    EXPECT_GE(term, last_term_);
    last_term_ = term;
    last_leader_ = leader;
    if (am_controller) ++controller_turns_;
  }

  std::vector<Applied> applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
  }
  size_t applied_count() const {
    std::lock_guard lock(mutex_);
    return applied_.size();
  }
  int restores() const {
    std::lock_guard lock(mutex_);
    return restores_;
  }
  uint64_t last_restore_index() const {
    std::lock_guard lock(mutex_);
    return last_restore_index_;
  }
  int controller_turns() const {
    std::lock_guard lock(mutex_);
    return controller_turns_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Applied> applied_;
  int restores_ = 0;
  uint64_t last_restore_index_ = 0;
  int snapshots_ = 0;
  uint64_t last_term_ = 0;
  NodeId last_leader_ = raft::kNoNode;
  int controller_turns_ = 0;
};

struct QuorumOptions {
  int voters = 3;
  int observers = 0;
  int tick_ms = 10;
  int election_timeout_ms = 300;
  uint64_t snapshot_every_entries = 10'000;
};

// Members 1..voters are voters, the next ones observers; add_dynamic_observer()
// adds members that no config lists.
class TestQuorum {
 public:
  explicit TestQuorum(QuorumOptions options = {}) : options_(options) {
    int members = options.voters + options.observers;
    for (int id = 1; id <= members; ++id) {
      std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
      (id <= options.voters ? voters_ : observers_)[id] = endpoint;
    }
    nodes_.resize(static_cast<size_t>(members) + 1);
  }
  ~TestQuorum() {
    for (auto& node : nodes_) {
      if (node.service) node.service->stop();
    }
  }

  QuorumConfig config(NodeId id) const {
    QuorumConfig config;
    config.id = id;
    config.voters = voters_;
    config.observers = observers_;
    // A dynamic observer binds an ephemeral port and announces it.
    config.listen_endpoint = voters_.contains(id)            ? voters_.at(id)
                             : observers_.contains(id)       ? observers_.at(id)
                             : fixed_endpoints_.contains(id) ? fixed_endpoints_.at(id)
                                                             : "tcp://127.0.0.1:0";
    config.storage_dir = dir_.path() + "/node-" + std::to_string(id);
    config.tick_ms = options_.tick_ms;
    config.election_timeout_ms = options_.election_timeout_ms;
    config.heartbeat_interval_ms = options_.tick_ms;
    config.snapshot_every_entries = options_.snapshot_every_entries;
    config.random_seed = 7;
    return config;
  }

  // Starts member `id` with a fresh state machine (as a restarted process has).
  void start(NodeId id, ControllerHandler handler = {}) {
    Node& node = nodes_[static_cast<size_t>(id)];
    node.machine = std::make_unique<RecordingMachine>();
    node.service = std::make_unique<QuorumService>(config(id), *node.machine);
    if (handler) node.service->set_controller_handler(std::move(handler));
    Status started = node.service->start();
    ASSERT_TRUE(started) << started.to_string();
  }
  // A member id no config lists; start() it like the others. It binds an
  // ephemeral port, or a fixed one with `fixed_port` (as a node that may be
  // made a voter must: its endpoint is recorded).
  NodeId add_dynamic_observer(bool fixed_port = false) {
    nodes_.emplace_back();
    if (fixed_port) fixed_endpoints_[members()] = "tcp://127.0.0.1:" + std::to_string(free_port());
    return members();
  }
  void start_all() {
    for (NodeId id = 1; id < static_cast<NodeId>(nodes_.size()); ++id) start(id);
  }
  void stop(NodeId id) {
    Node& node = nodes_[static_cast<size_t>(id)];
    node.service->stop();
    node.service.reset();
  }
  void wipe(NodeId id) { std::filesystem::remove_all(config(id).storage_dir); }
  bool running(NodeId id) const { return nodes_[static_cast<size_t>(id)].service != nullptr; }

  QuorumService& service(NodeId id) { return *nodes_[static_cast<size_t>(id)].service; }
  RecordingMachine& machine(NodeId id) { return *nodes_[static_cast<size_t>(id)].machine; }
  NodeId members() const { return static_cast<NodeId>(nodes_.size()) - 1; }
  std::chrono::milliseconds election_timeout() const {
    return std::chrono::milliseconds(options_.election_timeout_ms);
  }

  // The running member that is the controller, once exactly one is and the
  // other running members agree; kNoNode after `timeout`.
  NodeId wait_for_controller(std::chrono::milliseconds timeout) {
    NodeId found = raft::kNoNode;
    eventually(
        [&] {
          found = raft::kNoNode;
          for (NodeId id = 1; id <= members(); ++id) {
            if (!running(id)) continue;
            if (service(id).status().am_controller) {
              if (found != raft::kNoNode) return false;
              found = id;
            }
          }
          if (found == raft::kNoNode) return false;
          for (NodeId id = 1; id <= members(); ++id) {
            if (running(id) && service(id).status().leader != found) return false;
          }
          return true;
        },
        timeout, kPoll);
    return found;
  }

  // Proposes "<prefix>-<i>" for i in [0, count) on `id` and waits for all.
  std::vector<uint64_t> propose_all(NodeId id, const std::string& prefix, int count) {
    std::vector<std::future<Result<uint64_t>>> futures;
    for (int i = 0; i < count; ++i) {
      futures.push_back(service(id).propose(bytes(prefix + "-" + std::to_string(i))));
    }
    std::vector<uint64_t> indexes;
    for (auto& future : futures) {
      if (future.wait_for(30s) != std::future_status::ready) {
        ADD_FAILURE() << "a proposal was neither applied nor failed in 30 s";
        return indexes;
      }
      Result<uint64_t> result = future.get();
      EXPECT_TRUE(result) << result.status().to_string();
      if (result) indexes.push_back(result.value());
    }
    return indexes;
  }

  // Waits until every running member applied up to `index`.
  bool wait_applied(uint64_t index, std::chrono::milliseconds timeout) {
    return eventually(
        [&] {
          for (NodeId id = 1; id <= members(); ++id) {
            if (running(id) && service(id).status().applied_index < index) return false;
          }
          return true;
        },
        timeout, kPoll);
  }

 private:
  struct Node {
    std::unique_ptr<RecordingMachine> machine;
    std::unique_ptr<QuorumService> service;
  };

  QuorumOptions options_;
  mq::testing::TempDir dir_;
  std::map<NodeId, std::string> voters_;
  std::map<NodeId, std::string> observers_;
  std::map<NodeId, std::string> fixed_endpoints_;  // dynamic observers with a fixed port
  std::vector<Node> nodes_;                        // by id; [0] unused
};

}  // namespace mq::quorum::testing
