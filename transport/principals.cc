// The principals file: parsing, reloading, lookups.
#include "transport/principals.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "transport/curve.h"

namespace mq::transport {
namespace {

constexpr size_t kMaxPrincipalsFileBytes = 16 << 20;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

// The line's fields, split on spaces and tabs.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

}  // namespace

Status check_principal_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxPrincipalName) {
    return Status(ErrorCode::kInvalidConfig,
                  "a principal name is 1 to " + std::to_string(kMaxPrincipalName) + " characters");
  }
  for (char c : name) {
    if (!name_char(c)) {
      return Status(ErrorCode::kInvalidConfig,
                    "principal name \"" + std::string(name) +
                        "\": only letters, digits and . _ : @ - are allowed");
    }
  }
  if (name.starts_with(kBrokerPrincipalPrefix)) {
    std::string_view id = name.substr(kBrokerPrincipalPrefix.size());
    bool digits = !id.empty() && id.size() <= 10;
    for (char c : id) digits &= c >= '0' && c <= '9';
    if (!digits) {
      return Status(ErrorCode::kInvalidConfig,
                    "principal name \"" + std::string(name) +
                        "\": names starting with broker: are brokers' (broker:NODE_ID)");
    }
  }
  return Status::ok();
}

std::string broker_principal(int32_t node_id) {
  return std::string(kBrokerPrincipalPrefix) + std::to_string(node_id);
}

bool is_broker_principal(std::string_view name) {
  return name.starts_with(kBrokerPrincipalPrefix) && name.size() > kBrokerPrincipalPrefix.size();
}

Result<PrincipalTable> PrincipalTable::parse(std::string_view text, std::string_view origin) {
  PrincipalTable table;
  std::unordered_map<std::string, size_t> line_of_key;
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string_view> fields = fields_of(line);
    if (fields.empty() || fields[0].front() == '#') continue;
    auto error = [&](const std::string& what) {
      return Status(ErrorCode::kInvalidConfig,
                    std::string(origin) + ":" + std::to_string(number) + ": " + what);
    };
    if (fields.size() != 2) {
      return error("expected NAME KEY (a principal name and its CURVE public key), found " +
                   std::to_string(fields.size()) + " fields");
    }
    if (Status name = check_principal_name(fields[0]); !name.is_ok()) {
      return error(name.message());
    }
    if (Status key = check_curve_key(fields[1], "key"); !key.is_ok()) {
      return error(key.message());
    }
    std::string key(fields[1]);
    if (auto seen = line_of_key.find(key); seen != line_of_key.end()) {
      return error("key listed already on line " + std::to_string(seen->second) +
                   " (a key belongs to one principal)");
    }
    line_of_key.emplace(key, number);
    table.by_key_.emplace(std::move(key), std::string(fields[0]));
  }
  return table;
}

Result<PrincipalTable> PrincipalTable::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kInvalidConfig,
                  "principals file " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxPrincipalsFileBytes) {
      return Status(ErrorCode::kInvalidConfig, "principals file " + path + ": larger than 16 MiB");
    }
  }
  return parse(text, path);
}

const std::string* PrincipalTable::principal_of(std::string_view public_key) const {
  auto it = by_key_.find(std::string(public_key));
  return it == by_key_.end() ? nullptr : &it->second;
}

Result<std::shared_ptr<Principals>> Principals::load(const std::string& path) {
  std::shared_ptr<Principals> principals(new Principals(path));
  MQ_RETURN_IF_ERROR(principals->reload());
  return principals;
}

Status Principals::check_required(const PrincipalTable& table) const {
  if (required_key_.empty()) return Status::ok();
  const std::string* listed = table.principal_of(required_key_);
  if (listed != nullptr && *listed == required_name_) return Status::ok();
  return Status(ErrorCode::kInvalidConfig, path_ + " must list this broker's public key " +
                                               required_key_ + " as " + required_name_ +
                                               (listed != nullptr ? ", not as " + *listed : ""));
}

Status Principals::reload() {
  Result<PrincipalTable> parsed = PrincipalTable::load(path_);
  std::lock_guard lock(mu_);
  reload_failed_ = true;
  if (!parsed.is_ok()) return Status(parsed.code(), "not reloaded: " + parsed.status().message());
  Status checked = check_required(*parsed);
  PrincipalTable table = std::move(parsed).value();
  if (!checked.is_ok()) {
    // Whatever else the edit did applies; this broker keeps its own entry.
    std::erase_if(table.by_key_, [&](const auto& entry) { return entry.second == required_name_; });
    table.by_key_[required_key_] = required_name_;
    table_ = std::make_shared<const PrincipalTable>(std::move(table));
    return Status(checked.code(), checked.message() + " (the rest of the file applies; " +
                                      required_name_ + " kept its key)");
  }
  reload_failed_ = false;
  table_ = std::make_shared<const PrincipalTable>(std::move(table));
  return Status::ok();
}

Status Principals::require(std::string public_key, std::string name) {
  std::lock_guard lock(mu_);
  required_key_ = std::move(public_key);
  required_name_ = std::move(name);
  return table_ ? check_required(*table_) : Status::ok();
}

size_t Principals::size() const {
  std::lock_guard lock(mu_);
  return table_ ? table_->size() : 0;
}

std::optional<std::string> Principals::find(std::string_view public_key) const {
  std::shared_ptr<const PrincipalTable> table;
  {
    std::lock_guard lock(mu_);
    table = table_;
  }
  const std::string* name = table ? table->principal_of(public_key) : nullptr;
  if (name == nullptr) return std::nullopt;
  return *name;
}

std::optional<std::string> Principals::principal_of(std::string_view public_key) const {
  std::optional<std::string> name = find(public_key);
  if (!name) refused();
  return name;
}

std::optional<std::string> BrokersOnly::principal_of(std::string_view public_key) const {
  std::optional<std::string> name = all_->find(public_key);
  if (!name || !is_broker_principal(*name)) {
    all_->refused();
    return std::nullopt;
  }
  return name;
}

}  // namespace mq::transport
