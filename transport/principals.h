// Principals: who may connect once authentication is on (docs/security.md).
// The principals file maps CURVE public keys to names, one "NAME KEY" line
// each ('#' comments and blank lines ignored):
//
//   # brokers authenticate each other with their own key pairs
//   broker:1  rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//   orders-service  Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID
//
// A name is 1 to 128 characters of [A-Za-z0-9._:@-]; "broker:ID" (ID a
// node id) is reserved for brokers. A name may have several keys (a client
// rotating its key pair); a key belongs to one name.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace mq::transport {

inline constexpr std::string_view kBrokerPrincipalPrefix = "broker:";
inline constexpr size_t kMaxPrincipalName = 128;

// INVALID_CONFIG unless `name` is a valid principal name.
Status check_principal_name(std::string_view name);
// The principal name of broker `node_id`.
std::string broker_principal(int32_t node_id);
// Whether `name` is a broker's principal.
bool is_broker_principal(std::string_view name);

// One parsed principals file.
class PrincipalTable {
 public:
  // Errors name `origin` (the file) and the line.
  static Result<PrincipalTable> parse(std::string_view text, std::string_view origin);
  // Reads and parses the file at `path` (at most 16 MiB).
  static Result<PrincipalTable> load(const std::string& path);

  // The principal of a Z85 public key, or nullptr.
  const std::string* principal_of(std::string_view public_key) const;
  size_t size() const { return by_key_.size(); }

 private:
  friend class Principals;                               // keeps a broker's own entry (reload())
  std::unordered_map<std::string, std::string> by_key_;  // Z85 key -> name
};

// Decides who may connect to a listener. Thread-safe: ZeroMQ's ZAP handler
// asks during handshakes, the listener's thread on every request (so a key
// removed from the file stops being served at the next request).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The principal a client public key (Z85) authenticates as, or nullopt
  // (counted as a refusal).
  virtual std::optional<std::string> principal_of(std::string_view public_key) const = 0;
  // Counts a refusal made elsewhere (a handshake that is not CURVE).
  virtual void refused() const {}
};

// The principals file of a broker: loaded at start, reloaded on SIGHUP.
class Principals final : public Authenticator {
 public:
  static Result<std::shared_ptr<Principals>> load(const std::string& path);

  // Reads the file again. On error the table in use stays, the error is
  // returned (the broker logs it) and reload_failed() is true until a
  // reload succeeds. A file without the required principal (require()) is
  // applied with that one entry kept (so the keys it removes are refused at
  // once), and is an error too.
  Status reload();
  // From now on the file must give `public_key` to `name` (a broker's own
  // key: a file without it would cut the broker off from the others);
  // INVALID_CONFIG if the file in force does not.
  Status require(std::string public_key, std::string name);
  bool reload_failed() const { return reload_failed_.load(std::memory_order_relaxed); }

  std::optional<std::string> principal_of(std::string_view public_key) const override;
  void refused() const override { rejected_.fetch_add(1, std::memory_order_relaxed); }
  // principal_of without counting a miss.
  std::optional<std::string> find(std::string_view public_key) const;
  const std::string& path() const { return path_; }
  size_t size() const;

  // Handshakes and requests turned away because of their key.
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  explicit Principals(std::string path) : path_(std::move(path)) {}
  // INVALID_CONFIG unless `table` gives required_key_ to required_name_.
  Status check_required(const PrincipalTable& table) const;

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const PrincipalTable> table_;
  std::string required_key_;  // empty: none
  std::string required_name_;
  mutable std::atomic<uint64_t> rejected_{0};
  std::atomic<bool> reload_failed_{false};
};

// Admits only the brokers among `all`'s principals (the quorum listener).
class BrokersOnly final : public Authenticator {
 public:
  explicit BrokersOnly(std::shared_ptr<const Principals> all) : all_(std::move(all)) {}
  std::optional<std::string> principal_of(std::string_view public_key) const override;
  void refused() const override { all_->refused(); }

 private:
  std::shared_ptr<const Principals> all_;
};

}  // namespace mq::transport
