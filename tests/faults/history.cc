#include "tests/faults/history.h"

#include <array>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

namespace mq::faults {
namespace {

constexpr std::array<std::string_view, 4> kTypeNames = {"invoke", "ok", "fail", "info"};
constexpr std::array<std::string_view, 9> kFnNames = {
    "send", "poll", "commit", "assign", "revoke", "final-read", "fault", "heal", "replica-read"};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status bad_line(const std::string& why) {
  return Status(ErrorCode::kCorruptMessage, "history line: " + why);
}

template <size_t N>
Result<size_t> index_of(const std::array<std::string_view, N>& names, const std::string& name,
                        const char* what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return i;
  }
  return bad_line(std::string("unknown ") + what + " \"" + name + "\"");
}

}  // namespace

std::string_view op_type_name(OpType type) {
  return kTypeNames[static_cast<size_t>(type)];
}
std::string_view op_fn_name(OpFn fn) {
  return kFnNames[static_cast<size_t>(fn)];
}

std::string encode_op(const Op& op) {
  nlohmann::json j;
  j["t"] = op.time_us;
  j["process"] = op.process;
  j["type"] = op_type_name(op.type);
  j["f"] = op_fn_name(op.fn);
  if (!op.value.empty()) j["value"] = op.value;
  if (op.partition >= 0) j["partition"] = op.partition;
  if (op.offset >= 0) j["offset"] = op.offset;
  if (!op.reads.empty()) {
    nlohmann::json reads = nlohmann::json::array();
    for (const Read& r : op.reads) reads.push_back({r.partition, r.offset, r.value});
    j["reads"] = std::move(reads);
  }
  if (!op.offsets.empty()) {
    nlohmann::json offsets = nlohmann::json::object();
    for (const auto& [p, o] : op.offsets) offsets[std::to_string(p)] = o;
    j["offsets"] = std::move(offsets);
  }
  if (!op.partitions.empty()) j["partitions"] = op.partitions;
  if (!op.error.empty()) j["error"] = op.error;
  return j.dump();
}

Result<Op> decode_op(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad_line("not a JSON object");
  try {
    Op op;
    op.time_us = j.at("t").get<int64_t>();
    op.process = j.at("process").get<std::string>();
    MQ_ASSIGN_OR_RETURN(size_t type, index_of(kTypeNames, j.at("type").get<std::string>(), "type"));
    MQ_ASSIGN_OR_RETURN(size_t fn, index_of(kFnNames, j.at("f").get<std::string>(), "f"));
    op.type = static_cast<OpType>(type);
    op.fn = static_cast<OpFn>(fn);
    op.value = j.value("value", std::string());
    op.partition = j.value("partition", -1);
    op.offset = j.value("offset", int64_t{-1});
    if (j.contains("reads")) {
      for (const auto& r : j.at("reads")) {
        if (!r.is_array() || r.size() != 3)
          return bad_line("a read is not [partition, offset, value]");
        op.reads.push_back({r[0].get<int32_t>(), r[1].get<int64_t>(), r[2].get<std::string>()});
      }
    }
    if (j.contains("offsets")) {
      for (const auto& [p, o] : j.at("offsets").items()) {
        op.offsets[std::stoi(p)] = o.get<int64_t>();
      }
    }
    if (j.contains("partitions")) op.partitions = j.at("partitions").get<std::vector<int32_t>>();
    op.error = j.value("error", std::string());
    return op;
  } catch (const std::exception& e) {
    return bad_line(e.what());
  }
}

std::string describe(const Op& op) {
  std::string out = "[" + std::to_string(op.time_us / 1000) + " ms] " + op.process + " " +
                    std::string(op_type_name(op.type)) + " " + std::string(op_fn_name(op.fn));
  if (!op.value.empty()) out += " '" + op.value + "'";
  if (op.partition >= 0)
    out += " at p" + std::to_string(op.partition) + "@" + std::to_string(op.offset);
  size_t shown = 0;
  for (const Read& r : op.reads) {
    if (++shown > 6) {
      out += " ... (" + std::to_string(op.reads.size()) + " reads)";
      break;
    }
    out +=
        " p" + std::to_string(r.partition) + "@" + std::to_string(r.offset) + "='" + r.value + "'";
  }
  for (const auto& [p, o] : op.offsets) out += " p" + std::to_string(p) + "->" + std::to_string(o);
  for (int32_t p : op.partitions) out += " p" + std::to_string(p);
  if (!op.error.empty()) out += ": " + op.error;
  return out;
}

History::History() : start_ns_(now_ns()) {}

size_t History::add(Op op) {
  std::lock_guard lock(mu_);
  op.time_us = (now_ns() - start_ns_) / 1000;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

std::vector<Op> History::ops() const {
  std::lock_guard lock(mu_);
  return ops_;
}

Status History::write(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Status(ErrorCode::kUnknown, "cannot write " + path);
  std::lock_guard lock(mu_);
  for (const Op& op : ops_) out << encode_op(op) << '\n';
  out.flush();
  if (!out) return Status(ErrorCode::kUnknown, "writing " + path + " failed");
  return Status::ok();
}

Result<std::vector<Op>> History::read(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kNotFound, "cannot read " + path);
  std::vector<Op> ops;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Result<Op> op = decode_op(line);
    if (!op)
      return Status(op.code(), path + ":" + std::to_string(number) + ": " + op.status().message());
    ops.push_back(std::move(op).value());
  }
  return ops;
}

}  // namespace mq::faults
