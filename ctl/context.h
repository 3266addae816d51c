// What every mqctl command runs with: the resolved global options (brokers,
// timeout, output format), the streams it prints to, and the conventions all
// commands share — errors as one line on stderr naming the thing and the
// cause, data on stdout, and the documented exit codes.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "base/status.h"
#include "client/admin.h"
#include "client/config.h"
#include "ctl/client_settings.h"
#include "ctl/output.h"

namespace mq::ctl {

// Documented in docs/mqctl.md; scripts depend on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,     // the operation failed (broker error, unreachable cluster, ...)
  kExitUsage = 2,      // bad flags or arguments
  kExitNotFound = 3,   // a named topic (or other resource) does not exist
  kExitUnhealthy = 4,  // cluster health: unhealthy; or some items of a batch failed
  kExitPartial = 4,    // the same code: printed, but some of it could not be read or done
};

struct Streams {
  FILE* in = stdin;
  FILE* out = stdout;
  FILE* err = stderr;
  bool in_is_terminal = false;
  bool out_is_terminal = false;
  bool err_is_terminal = false;
};

class Context {
 public:
  explicit Context(Streams streams) : io(streams) {}

  Streams io;
  std::string brokers = "127.0.0.1:9092";
  int timeout_ms = 10'000;
  OutputFormat output = OutputFormat::kTable;
  bool verbose = false;
  std::string profiles_path;
  // -X key=value: applied last by the *_config() below, and again by a
  // command that changes its config after them (produce --linger, bench).
  ClientOverrides client_overrides;
  // Encryption (--server-key, --secret-key-file, or the profile's).
  client::CurveSettings curve;

  // "mqctl: <message>" on stderr.
  void error(const std::string& message) const;
  // The same, only with -v.
  void note(const std::string& message) const;

  // Reports `status` as "mqctl: <what>: <cause>" and returns its exit code
  // (3 for a missing topic, 1 otherwise). An unreachable cluster is said as such.
  int fail(const std::string& what, const Status& status) const;
  // "mqctl: <kind> "<name>" not found"; returns kExitNotFound.
  int not_found(const std::string& kind, const std::string& name) const;
  // The partition count of `topic` to produce to it, asked as a producer
  // asks (the broker creates a missing topic if its topics.auto_create
  // allows), within --timeout. kExitOk, or the exit code of the error it
  // printed: a missing topic is kExitNotFound and says auto-creation is off.
  int partitions_for_producing(const std::string& topic, int32_t* partitions) const;
  // Reports a bad argument and returns kExitUsage.
  int usage(const std::string& message) const;

  // Prints `document` as JSON or YAML, or as the text `as_table` makes of it.
  void print(const nlohmann::ordered_json& document,
             const std::function<std::string(const nlohmann::ordered_json&)>& as_table) const;

  client::AdminConfig admin_config() const;
  // Client settings from the global options: large batches for throughput,
  // requests bounded by --timeout, idempotence with acks=all.
  client::ProducerConfig producer_config(int acks) const;
  // Reads from the earliest offset when a position is lost; fetches wait at
  // most half of --timeout.
  client::ConsumerConfig consumer_config() const;
  // Applies the -X settings that belong to `config`.
  template <class Config>
  void apply_client_settings(Config& config) const {
    ClientConfigs configs;
    if constexpr (std::is_same_v<Config, client::ProducerConfig>) configs.producer = &config;
    if constexpr (std::is_same_v<Config, client::ConsumerConfig>) configs.consumer = &config;
    if constexpr (std::is_same_v<Config, client::AdminConfig>) configs.admin = &config;
    client_overrides.apply(configs);
  }
  // The admin client, or nullptr after saying why on stderr.
  std::unique_ptr<client::Admin> open_admin() const;

  // On a terminal asks `question` on stderr and reads y/N from stdin; off a
  // terminal (scripts, pipes) or with `assume_yes` the answer is yes.
  bool confirm(const std::string& question, bool assume_yes) const;
};

// Exit code for a failed status: kExitNotFound for unknown topics, else kExitFailed.
int exit_code_for(const Status& status);

// TOPIC_AUTHORIZATION_FAILED when the metadata says the ACLs hide `topic`
// from this principal (it may exist), else ok: not to be taken for missing.
Status hidden_topic(const client::ClusterMetadata& metadata, const std::string& topic);

// Milliseconds since the epoch, by the wall clock.
int64_t now_ms();

}  // namespace mq::ctl
