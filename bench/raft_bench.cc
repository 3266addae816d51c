// Raft: proposals committed per second through a 3-voter cluster in one
// process, messages handed over in memory (no network), storage in memory or
// on disk (FileStorage: every Ready fsynced). Measures the consensus core's
// own cost per proposal and how batching amortizes it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>

#include "raft/file_storage.h"
#include "raft/memory_storage.h"
#include "raft/raft_node.h"

namespace mq::raft {
namespace {

class BenchCluster {
 public:
  explicit BenchCluster(bool on_disk) {
    if (on_disk) {
      const char* tmp = std::getenv("MQ_BENCH_DIR");
      dir_ = std::filesystem::path(tmp != nullptr ? tmp : std::filesystem::temp_directory_path()) /
             ("mq-raft-bench-" + std::to_string(::getpid()));
      std::filesystem::remove_all(dir_);
    }
    for (NodeId id : {1, 2, 3}) {
      std::unique_ptr<RaftStorage> storage;
      if (on_disk) {
        storage = std::move(FileStorage::open(dir_ / std::to_string(id)).value());
      } else {
        storage = std::make_unique<MemoryStorage>();
      }
      RaftConfig config;
      config.id = id;
      config.voters = {1, 2, 3};
      config.random_seed = 7;
      PersistentState state = std::move(storage->load().value());
      nodes_.emplace(
          id, Member{std::move(storage), std::move(RaftNode::create(config, state).value())});
    }
    while (node(1).role() != Role::kLeader) {
      node(1).tick();
      pump();
    }
  }
  ~BenchCluster() {
    nodes_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  RaftNode& node(NodeId id) { return *nodes_.at(id).raft; }

  // Handles every Ready and delivers every message until all is quiet.
  void pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& [id, member] : nodes_) {
        while (member.raft->has_ready()) {
          busy = true;
          Ready ready = member.raft->ready();
          if (!persist_ready(*member.storage, ready).is_ok()) std::abort();
          for (Message& message : ready.messages) queue_.push_back(std::move(message));
          applied_ += id == 1 ? ready.committed_entries.size() : 0;
          member.raft->advance(ready);
        }
      }
      while (!queue_.empty()) {
        busy = true;
        Message message = std::move(queue_.front());
        queue_.pop_front();
        if (!node(message.to).step(message).is_ok()) std::abort();
      }
    }
  }

  uint64_t applied_by_leader() const { return applied_; }

 private:
  struct Member {
    std::unique_ptr<RaftStorage> storage;
    std::optional<RaftNode> raft;
  };
  std::filesystem::path dir_;
  std::map<NodeId, Member> nodes_;
  std::deque<Message> queue_;
  uint64_t applied_ = 0;
};

// range(0): proposals of 100 bytes made before the cluster is pumped once.
void run(benchmark::State& state, bool on_disk) {
  BenchCluster cluster(on_disk);
  const int64_t batch = state.range(0);
  Bytes value(100, 0x61);
  uint64_t before = cluster.applied_by_leader();
  for (auto _ : state) {
    for (int64_t i = 0; i < batch; ++i) {
      if (!cluster.node(1).propose(value).is_ok()) std::abort();
    }
    cluster.pump();
    // A quiet cluster has applied every proposal on the leader.
  }
  uint64_t committed = cluster.applied_by_leader() - before;
  if (committed != static_cast<uint64_t>(state.iterations() * batch)) {
    state.SkipWithError("not every proposal was committed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
}

void BM_CommitInMemory(benchmark::State& state) {
  run(state, false);
}
void BM_CommitOnDisk(benchmark::State& state) {
  run(state, true);
}

BENCHMARK(BM_CommitInMemory)->Arg(1)->Arg(16)->Arg(256);
BENCHMARK(BM_CommitOnDisk)->Arg(1)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace mq::raft

BENCHMARK_MAIN();
