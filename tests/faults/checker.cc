#include "tests/faults/checker.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <unordered_map>

namespace mq::faults {
namespace {

constexpr std::array<std::string_view, kAnomalyKinds> kAnomalyNames = {
    "lost-write",        "duplicate",     "inconsistent-offset",
    "nonmonotonic-poll", "skipped-poll",  "never-committed-read",
    "commit-backwards",  "unknown-value", "damaged-replica"};

std::string at(int32_t partition, int64_t offset) {
  return "p" + std::to_string(partition) + "@" + std::to_string(offset);
}

// Where each value sits in the final log, and what each offset holds.
struct FinalLog {
  std::map<int32_t, std::map<int64_t, std::string>> records;  // partition -> offset -> value
  std::unordered_map<std::string, std::vector<std::pair<int32_t, int64_t>>> where;
  std::map<std::pair<int32_t, int64_t>, size_t> op_of;  // the final read that saw it

  const std::string* value_at(int32_t partition, int64_t offset) const {
    auto p = records.find(partition);
    if (p == records.end()) return nullptr;
    auto o = p->second.find(offset);
    return o == p->second.end() ? nullptr : &o->second;
  }
  // The final log's last offset of a partition (-1: none).
  int64_t last_offset(int32_t partition) const {
    auto p = records.find(partition);
    return p == records.end() || p->second.empty() ? -1 : p->second.rbegin()->first;
  }
  // How many records the final log holds strictly between two offsets.
  int64_t held_between(int32_t partition, int64_t after, int64_t before) const {
    auto p = records.find(partition);
    if (p == records.end() || before <= after + 1) return 0;
    auto from = p->second.upper_bound(after);
    auto to = p->second.lower_bound(before);
    return std::distance(from, to);
  }
};

class Checker {
 public:
  explicit Checker(const std::vector<Op>& history) : history_(history) {}

  Result<Verdict> run() {
    MQ_RETURN_IF_ERROR(load_final_log());
    check_final_log();
    check_sends();
    check_polls();
    check_commits();
    check_replicas();
    return std::move(verdict_);
  }

 private:
  void add(AnomalyKind kind, std::string what, std::vector<size_t> ops) {
    verdict_.anomalies.push_back({kind, std::move(what), std::move(ops)});
  }

  Status load_final_log() {
    bool any = false;
    std::map<int32_t, int64_t> last;
    for (size_t i = 0; i < history_.size(); ++i) {
      const Op& op = history_[i];
      if (op.fn != OpFn::kFinalRead || op.type != OpType::kOk) continue;
      any = true;
      for (const Read& r : op.reads) {
        auto previous = last.find(r.partition);
        if (previous != last.end() && r.offset <= previous->second) {
          return Status(
              ErrorCode::kInvalidRequest,
              "the final read is not one pass over the log: " + at(r.partition, r.offset) +
                  " after " + at(r.partition, previous->second));
        }
        if (previous != last.end() && r.offset > previous->second + 1) {
          add(AnomalyKind::kSkippedPoll,
              "the final log has a hole: " + at(r.partition, previous->second) + " then " +
                  at(r.partition, r.offset),
              {i});
        }
        last[r.partition] = r.offset;
        final_.records[r.partition][r.offset] = r.value;
        final_.where[r.value].emplace_back(r.partition, r.offset);
        final_.op_of[{r.partition, r.offset}] = i;
        ++verdict_.final_records;
      }
    }
    if (!any) return Status(ErrorCode::kInvalidRequest, "the history has no final read");
    return Status::ok();
  }

  void check_final_log() {
    for (const Op& op : history_) {
      if (op.fn == OpFn::kSend && op.type == OpType::kInvoke) sent_.insert(op.value);
      if (op.fn == OpFn::kFault && op.type == OpType::kInfo) ++verdict_.faults;
    }
    for (const auto& [value, places] : final_.where) {
      std::vector<size_t> ops;
      for (const auto& place : places) ops.push_back(final_.op_of.at(place));
      if (places.size() > 1) {
        std::string list;
        for (const auto& [p, o] : places) list += (list.empty() ? "" : ", ") + at(p, o);
        add(AnomalyKind::kDuplicate,
            "'" + value + "' is stored " + std::to_string(places.size()) + " times: " + list, ops);
      }
      if (!sent_.contains(value)) {
        add(AnomalyKind::kUnknownValue,
            "the log holds '" + value + "' at " + at(places[0].first, places[0].second) +
                ", which no producer sent",
            ops);
      }
    }
  }

  void check_sends() {
    for (size_t i = 0; i < history_.size(); ++i) {
      const Op& op = history_[i];
      if (op.fn != OpFn::kSend) continue;
      if (op.type == OpType::kFail) ++verdict_.sends_failed;
      if (op.type == OpType::kInfo) ++verdict_.sends_unknown;
      if (op.type != OpType::kOk) continue;
      ++verdict_.sends_ok;
      auto elsewhere = final_.where.find(op.value);
      if (op.offset < 0) {
        // Acknowledged without an offset: an idempotent retry of a batch
        // stored too long ago for the leader to say where (DUPLICATE_SEQUENCE).
        ++verdict_.sends_ok_offset_unknown;
        if (elsewhere != final_.where.end()) continue;
        add(AnomalyKind::kLostWrite,
            "'" + op.value + "' was acknowledged (offset unknown) and is not in the log", {i});
        continue;
      }
      const std::string* stored = final_.value_at(op.partition, op.offset);
      if (stored != nullptr && *stored == op.value) continue;
      if (elsewhere != final_.where.end()) {
        const auto& [p, o] = elsewhere->second.front();
        add(AnomalyKind::kInconsistentOffset,
            "'" + op.value + "' was acknowledged at " + at(op.partition, op.offset) +
                " but the log holds it at " + at(p, o),
            {i, final_.op_of.at({p, o})});
        continue;
      }
      std::vector<size_t> ops = {i};
      std::string there = " (the log ends before it)";
      if (stored != nullptr) {
        there = " (the log holds '" + *stored + "' there)";
        ops.push_back(final_.op_of.at({op.partition, op.offset}));
      }
      add(AnomalyKind::kLostWrite,
          "'" + op.value + "' was acknowledged at " + at(op.partition, op.offset) +
              " and is not in the log" + there,
          ops);
    }
  }

  void check_polls() {
    // What each reader saw at each offset, to compare readers with each other
    // even where the final log has nothing.
    std::map<std::pair<int32_t, int64_t>, std::pair<std::string, size_t>> seen;
    // The last offset each consumer read of each partition in its current
    // assignment, and in any assignment.
    std::map<std::string, std::map<int32_t, std::pair<int64_t, size_t>>> last, ever;
    // The highest offset any commit begun so far may have stored, whatever
    // its outcome, and the commit that asked for it.
    std::map<int32_t, std::pair<int64_t, size_t>> committed;
    for (size_t i = 0; i < history_.size(); ++i) {
      const Op& op = history_[i];
      if (op.fn == OpFn::kAssign || op.fn == OpFn::kRevoke) {
        if (op.type == OpType::kOk) last.erase(op.process);
        continue;
      }
      if (op.fn == OpFn::kCommit && op.type == OpType::kInvoke) {
        for (const auto& [partition, offset] : op.offsets) {
          auto& highest = committed[partition];
          if (offset > highest.first) highest = {offset, i};
        }
        continue;
      }
      if (op.fn != OpFn::kPoll || op.type != OpType::kOk) continue;
      ++verdict_.polls;
      for (const Read& r : op.reads) {
        ++verdict_.records_polled;
        auto [other, inserted] = seen.try_emplace({r.partition, r.offset}, r.value, i);
        if (!inserted && other->second.first != r.value) {
          add(AnomalyKind::kInconsistentOffset,
              "readers disagree at " + at(r.partition, r.offset) + ": '" + other->second.first +
                  "' and '" + r.value + "'",
              {other->second.second, i});
        }
        const std::string* stored = final_.value_at(r.partition, r.offset);
        if (stored == nullptr || *stored != r.value) {
          auto elsewhere = final_.where.find(r.value);
          if (elsewhere == final_.where.end()) {
            add(AnomalyKind::kNeverCommittedRead,
                "read '" + r.value + "' at " + at(r.partition, r.offset) +
                    ", which the final log does not hold",
                {i});
          } else if (inserted || other->second.first == r.value) {
            const auto& [p, o] = elsewhere->second.front();
            add(AnomalyKind::kInconsistentOffset,
                "read '" + r.value + "' at " + at(r.partition, r.offset) +
                    " but the log holds it at " + at(p, o),
                {i, final_.op_of.at({p, o})});
          }
        }
        auto& mine = last[op.process];
        auto previous = mine.find(r.partition);
        if (previous == mine.end()) {
          check_first_read(op, i, r, committed, ever[op.process]);
        } else {
          const auto [before, before_op] = previous->second;
          if (r.offset <= before) {
            add(AnomalyKind::kNonMonotonicPoll,
                op.process + " read " + at(r.partition, r.offset) + " after " +
                    at(r.partition, before) + " in one assignment",
                {before_op, i});
          } else if (int64_t missed = final_.held_between(r.partition, before, r.offset);
                     missed > 0) {
            add(AnomalyKind::kSkippedPoll,
                op.process + " read " + at(r.partition, r.offset) + " right after " +
                    at(r.partition, before) + ", skipping " + std::to_string(missed) +
                    " record(s) the log holds",
                {before_op, i});
          }
        }
        mine[r.partition] = {r.offset, i};
        ever[op.process][r.partition] = {r.offset, i};
      }
    }
  }

  // A consumer's first read of a partition in an assignment starts where
  // the group committed (or, with no commit, at the log's first record),
  // or where this consumer itself had read up to. Records the log holds
  // before that read and past both points were skipped by the group: a
  // rebalance that loses messages.
  void check_first_read(const Op& op, size_t i, const Read& r,
                        const std::map<int32_t, std::pair<int64_t, size_t>>& committed,
                        const std::map<int32_t, std::pair<int64_t, size_t>>& own) {
    auto commit = committed.find(r.partition);
    const int64_t resume = commit == committed.end() ? 0 : commit->second.first;
    int64_t missed = final_.held_between(r.partition, resume - 1, r.offset);
    if (missed == 0) return;
    auto mine = own.find(r.partition);
    if (mine != own.end() && final_.held_between(r.partition, mine->second.first, r.offset) == 0)
      return;
    std::vector<size_t> ops = {i};
    if (commit != committed.end()) ops.insert(ops.begin(), commit->second.second);
    if (mine != own.end()) ops.insert(ops.begin(), mine->second.second);
    add(AnomalyKind::kSkippedPoll,
        op.process + " began its assignment of p" + std::to_string(r.partition) + " at " +
            at(r.partition, r.offset) + ", skipping " + std::to_string(missed) +
            " record(s) the log holds after " +
            (commit == committed.end() ? std::string("its start (nothing committed)")
                                       : "the committed offset " + std::to_string(resume)),
        std::move(ops));
  }

  void check_commits() {
    struct Commit {
      size_t invoke = 0, ok = 0;
      int64_t invoked_us = 0, done_us = 0;
      const std::map<int32_t, int64_t>* offsets = nullptr;
    };
    std::vector<Commit> commits;
    std::map<std::string, size_t> pending;  // process -> its commit's invoke
    for (size_t i = 0; i < history_.size(); ++i) {
      const Op& op = history_[i];
      if (op.fn != OpFn::kCommit) continue;
      if (op.type == OpType::kInvoke) {
        pending[op.process] = i;
        continue;
      }
      auto invoke = pending.find(op.process);
      if (invoke == pending.end()) continue;
      if (op.type == OpType::kOk) {
        ++verdict_.commits_ok;
        commits.push_back({invoke->second, i, history_[invoke->second].time_us, op.time_us,
                           &history_[invoke->second].offsets});
      }
      pending.erase(invoke);
    }
    // A commit that completed before another began must not be ahead of it.
    for (const Commit& a : commits) {
      for (const Commit& b : commits) {
        if (a.done_us >= b.invoked_us) continue;
        for (const auto& [partition, offset] : *b.offsets) {
          auto earlier = a.offsets->find(partition);
          if (earlier == a.offsets->end() || earlier->second <= offset) continue;
          add(AnomalyKind::kCommitBackwards,
              "p" + std::to_string(partition) + " committed at " + std::to_string(earlier->second) +
                  ", then at " + std::to_string(offset),
              {a.invoke, a.ok, b.invoke, b.ok});
        }
      }
    }
  }

  // Every in-sync replica holds the log the clients read, record for
  // record: a follower that kept a divergent tail differs here even if it
  // never led again.
  void check_replicas() {
    for (size_t i = 0; i < history_.size(); ++i) {
      const Op& op = history_[i];
      if (op.fn != OpFn::kReplicaRead) continue;
      if (op.type == OpType::kFail) {
        add(AnomalyKind::kDamagedReplica,
            op.process + "'s in-sync replica of p" + std::to_string(op.partition) +
                " cannot be read: " + op.error,
            {i});
        continue;
      }
      if (op.type != OpType::kOk) continue;
      ++verdict_.replicas_read;
      // In sync, it holds at least what the clients read.
      const int64_t final_last = final_.last_offset(op.partition);
      const int64_t replica_last = op.reads.empty() ? -1 : op.reads.back().offset;
      if (op.partition >= 0 && replica_last < final_last) {
        add(AnomalyKind::kDamagedReplica,
            op.process + "'s in-sync replica of p" + std::to_string(op.partition) +
                " ends at offset " + std::to_string(replica_last) +
                ", the log the clients read at " + std::to_string(final_last),
            {i});
      }
      for (const Read& r : op.reads) {
        // Past the end the final read took: written after it, not comparable.
        if (r.offset > final_.last_offset(r.partition)) break;
        const std::string* stored = final_.value_at(r.partition, r.offset);
        if (stored != nullptr && *stored == r.value) continue;
        auto reference = final_.op_of.find({r.partition, r.offset});
        std::vector<size_t> ops = {i};
        if (reference != final_.op_of.end()) ops.push_back(reference->second);
        add(AnomalyKind::kInconsistentOffset,
            op.process + "'s replica holds '" + r.value + "' at " + at(r.partition, r.offset) +
                (stored == nullptr ? ", a hole in the log the clients read"
                                   : " where the log the clients read holds '" + *stored + "'"),
            std::move(ops));
        break;  // one per replica: a divergent tail differs at every offset
      }
    }
  }

  const std::vector<Op>& history_;
  FinalLog final_;
  std::set<std::string> sent_;
  Verdict verdict_;
};

}  // namespace

std::string_view anomaly_name(AnomalyKind kind) {
  return kAnomalyNames[static_cast<size_t>(kind)];
}

uint64_t Verdict::count(AnomalyKind kind) const {
  return static_cast<uint64_t>(
      std::ranges::count_if(anomalies, [kind](const Anomaly& a) { return a.kind == kind; }));
}

std::string Verdict::report(const std::vector<Op>& history, size_t per_kind) const {
  std::string out = "sends: " + std::to_string(sends_ok) + " acknowledged (" +
                    std::to_string(sends_ok_offset_unknown) + " without an offset), " +
                    std::to_string(sends_failed) + " failed, " + std::to_string(sends_unknown) +
                    " unknown; polls: " + std::to_string(polls) + " (" +
                    std::to_string(records_polled) +
                    " records); commits: " + std::to_string(commits_ok) +
                    "; final log: " + std::to_string(final_records) + " records, " +
                    std::to_string(replicas_read) + " replicas compared" +
                    "; faults: " + std::to_string(faults) + "\n";
  out += "anomalies: " + std::to_string(anomalies.size());
  for (size_t k = 0; k < kAnomalyKinds; ++k) {
    auto kind = static_cast<AnomalyKind>(k);
    if (uint64_t n = count(kind); n > 0) {
      out += ", " + std::string(anomaly_name(kind)) + " " + std::to_string(n);
    }
  }
  out += "\n";
  std::array<size_t, kAnomalyKinds> shown{};
  for (const Anomaly& a : anomalies) {
    if (shown[static_cast<size_t>(a.kind)]++ >= per_kind) continue;
    out += std::string(anomaly_name(a.kind)) + ": " + a.what + "\n";
    for (size_t i : a.ops) {
      if (i < history.size()) out += "    " + describe(history[i]) + "\n";
    }
  }
  return out;
}

Result<Verdict> check(const std::vector<Op>& history) {
  return Checker(history).run();
}

}  // namespace mq::faults
