// ProducerStateTable: sequence checks, history, snapshots.
#include "store/producer_state.h"

#include <sstream>

#include "store/checkpoint.h"

namespace mq {
namespace {

constexpr std::string_view kProducerStateKind = "mq-producer-state";
constexpr int kProducerStateVersion = 1;

int32_t next_sequence(int32_t s) {
  return s == INT32_MAX ? 0 : s + 1;
}

// Whether `seq` lies behind `last` in sequence space (which wraps at 2^31).
bool is_behind(int32_t seq, int32_t last) {
  int64_t d = (static_cast<int64_t>(last) - seq) & 0x7FFFFFFF;
  return d < (int64_t{1} << 30);
}

}  // namespace

Result<std::optional<ProducerBatch>> ProducerStateTable::check(const BatchHeader& h) const {
  if (!h.is_idempotent()) return std::optional<ProducerBatch>();
  std::string who = "producer " + std::to_string(h.producer_id);
  if (h.base_sequence < 0 || h.producer_epoch < 0) {
    return Status(ErrorCode::kInvalidRequest, who + ": idempotent batch without epoch or sequence");
  }
  auto it = producers_.find(h.producer_id);
  if (it == producers_.end()) {
    if (h.base_sequence == 0) return std::optional<ProducerBatch>();
    return Status(ErrorCode::kUnknownProducerId, who + ": no state, and sequence " +
                                                     std::to_string(h.base_sequence) + " is not 0");
  }
  const ProducerEntry& e = it->second;
  if (h.producer_epoch < e.epoch) {
    return Status(ErrorCode::kInvalidProducerEpoch,
                  who + ": epoch " + std::to_string(h.producer_epoch) + " is fenced by epoch " +
                      std::to_string(e.epoch));
  }
  if (h.producer_epoch > e.epoch || e.batches.empty()) {
    if (h.base_sequence == 0) return std::optional<ProducerBatch>();
    return Status(
        ErrorCode::kOutOfOrderSequence,
        who + ": new epoch must start at sequence 0, got " + std::to_string(h.base_sequence));
  }
  int32_t last_seq = h.last_sequence();
  for (size_t i = 0; i < e.batches.size(); i++) {
    const ProducerBatch& b = e.batches[i];
    if (b.first_sequence != h.base_sequence) continue;
    if (b.last_sequence == last_seq) return std::optional<ProducerBatch>(b);
    // A batch the log stored in pieces (records left out as duplicates):
    // a retry of it matches the consecutive pieces together.
    for (size_t k = i + 1; k < e.batches.size(); k++) {
      if (e.batches[k].first_sequence != next_sequence(e.batches[k - 1].last_sequence)) break;
      if (e.batches[k].last_sequence == last_seq) {
        return std::optional<ProducerBatch>(
            ProducerBatch{b.first_sequence, last_seq, b.base_offset, e.batches[k].last_offset});
      }
    }
  }
  int32_t expected = next_sequence(e.batches.back().last_sequence);
  if (h.base_sequence == expected) return std::optional<ProducerBatch>();
  if (is_behind(h.base_sequence, e.batches.back().last_sequence)) {
    return Status(ErrorCode::kDuplicateSequence,
                  who + ": sequence " + std::to_string(h.base_sequence) +
                      " was already written (older than the last " +
                      std::to_string(kProducerHistory) + " batches)");
  }
  return Status(ErrorCode::kOutOfOrderSequence, who + ": expected sequence " +
                                                    std::to_string(expected) + ", got " +
                                                    std::to_string(h.base_sequence));
}

void ProducerStateTable::update(const BatchHeader& h, int64_t now_ms) {
  if (!h.is_idempotent()) return;
  ProducerEntry& e = producers_[h.producer_id];
  if (h.producer_epoch != e.epoch) {
    e.epoch = h.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back({h.base_sequence, h.last_sequence(), h.base_offset, h.last_offset()});
  while (e.batches.size() > kProducerHistory) e.batches.pop_front();
  e.last_timestamp = std::max(e.last_timestamp, now_ms);
}

void ProducerStateTable::expire(int64_t now_ms, int64_t expiration_ms) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    if (it->second.last_timestamp < now_ms - expiration_ms) {
      it = producers_.erase(it);
    } else {
      ++it;
    }
  }
}

const ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

Status ProducerStateTable::write_snapshot(const std::string& path, int64_t offset) const {
  std::vector<std::string> lines;
  lines.reserve(producers_.size() + 1);
  lines.push_back("offset " + std::to_string(offset));
  for (const auto& [pid, e] : producers_) {
    std::string line = std::to_string(pid) + " " + std::to_string(e.epoch) + " " +
                       std::to_string(e.last_timestamp) + " " + std::to_string(e.batches.size());
    for (const auto& b : e.batches) {
      line += " " + std::to_string(b.first_sequence) + " " + std::to_string(b.last_sequence) + " " +
              std::to_string(b.base_offset) + " " + std::to_string(b.last_offset);
    }
    lines.push_back(std::move(line));
  }
  return write_checkpoint(path, kProducerStateKind, kProducerStateVersion, lines);
}

Result<int64_t> ProducerStateTable::load_snapshot(const std::string& path) {
  producers_.clear();
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> lines,
                      read_checkpoint(path, kProducerStateKind, kProducerStateVersion));
  auto bad = [&](const std::string& line) {
    producers_.clear();
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  int64_t offset = -1;
  if (lines.empty()) return bad("");
  {
    std::istringstream in(lines[0]);
    std::string word;
    if (!(in >> word >> offset) || word != "offset" || offset < 0) return bad(lines[0]);
  }
  for (size_t i = 1; i < lines.size(); i++) {
    std::istringstream in(lines[i]);
    int64_t pid, last_ts;
    int epoch;
    size_t n;
    if (!(in >> pid >> epoch >> last_ts >> n) || pid < 0 || epoch < 0 || epoch > INT16_MAX ||
        n > kProducerHistory) {
      return bad(lines[i]);
    }
    ProducerEntry e;
    e.epoch = static_cast<int16_t>(epoch);
    e.last_timestamp = last_ts;
    for (size_t k = 0; k < n; k++) {
      ProducerBatch b{};
      if (!(in >> b.first_sequence >> b.last_sequence >> b.base_offset >> b.last_offset)) {
        return bad(lines[i]);
      }
      e.batches.push_back(b);
    }
    producers_[pid] = std::move(e);
  }
  return offset;
}

}  // namespace mq
