// The history of a fault run: every operation the workload invoked and how
// it completed, every fault the nemesis injected, and the final read of
// every partition. One JSON object per line (docs/faults.md, "History");
// the checker (checker.h) reads nothing else, so a history file alone
// reproduces a verdict.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq::faults {

// One record at one offset of one partition, as a reader saw it.
struct Read {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
  bool operator==(const Read&) const = default;
};

enum class OpType : uint8_t {
  kInvoke,  // the operation started
  kOk,      // it completed: its effect happened
  kFail,    // it failed: its effect did not happen
  kInfo,    // unknown outcome (a send that timed out may still be stored), or a note
};

enum class OpFn : uint8_t {
  kSend,         // a producer's record: value; ok: partition and offset
  kPoll,         // a consumer's poll: reads
  kCommit,       // a consumer's commit: offsets (next offset to read, per partition)
  kAssign,       // a consumer was given partitions (a new assignment starts)
  kRevoke,       // a consumer gave up partitions
  kFinalRead,    // after the faults: every partition read from its start to its end
  kFault,        // the nemesis: `error` describes the fault, kInfo when it begins
  kHeal,         // ... and when it ends
  kReplicaRead,  // after the final read, the cluster stopped: one in-sync
                 // replica's records of one partition, read from its node's disk
};

struct Op {
  int64_t time_us = 0;  // since the run started
  std::string process;  // "producer-1", "consumer-2", "final", "nemesis", "node-3"
  OpType type = OpType::kInvoke;
  OpFn fn = OpFn::kSend;
  std::string value;                   // kSend
  int32_t partition = -1;              // kSend (ok)
  int64_t offset = -1;                 // kSend (ok)
  std::vector<Read> reads;             // kPoll, kFinalRead
  std::map<int32_t, int64_t> offsets;  // kCommit
  std::vector<int32_t> partitions;     // kAssign, kRevoke
  std::string error;                   // kFail, kInfo: why; kFault, kHeal: what

  bool operator==(const Op&) const = default;
};

std::string_view op_type_name(OpType type);
std::string_view op_fn_name(OpFn fn);

// One line of JSON, and back (an error names what is wrong with the line).
std::string encode_op(const Op& op);
Result<Op> decode_op(std::string_view line);

// A short human form for reports: "consumer-2 ok poll p1@17='producer-1-40' ...".
std::string describe(const Op& op);

// Thread-safe collector: every workload thread and the nemesis append here;
// the time is taken under the lock, so the history is in time order.
class History {
 public:
  History();
  // Appends `op` with the current time; returns its index.
  size_t add(Op op);
  std::vector<Op> ops() const;
  Status write(const std::string& path) const;
  static Result<std::vector<Op>> read(const std::string& path);

 private:
  mutable std::mutex mu_;
  int64_t start_ns_ = 0;
  std::vector<Op> ops_;
};

}  // namespace mq::faults
