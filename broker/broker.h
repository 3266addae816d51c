// mqd as one object: recovers the partitions, then serves clients and the
// HTTP endpoints, runs housekeeping (fsync intervals, retention), reloads
// dynamic settings and shuts down cleanly. main.cc adds signals and systemd.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "broker/authorizer.h"
#include "broker/broker_metrics.h"
#include "broker/cluster_node.h"
#include "broker/config.h"
#include "broker/dead_letters.h"
#include "broker/delayed_delivery.h"
#include "broker/disk_monitor.h"
#include "broker/dynamic_settings.h"
#include "broker/offsets_storage.h"
#include "broker/queue_service.h"
#include "broker/replica_manager.h"
#include "broker/request_handler.h"
#include "broker/scheduler.h"
#include "broker/server.h"
#include "metrics/http_server.h"

namespace mq::broker {

class Broker : public BrokerSettings {
 public:
  explicit Broker(BrokerConfig config);
  ~Broker();

  // Opens the logs (recovery), binds the client listener and the HTTP
  // server. `on_status` receives start-up progress lines (for systemd STATUS=).
  Status start(const std::function<void(const std::string&)>& on_status = {});
  // Applies the dynamic settings of `config`; returns the keys that changed
  // and those that need a restart (left as they were).
  // The dynamic settings changed through the protocol stay laid over
  // `config` (DynamicSettings).
  Result<ConfigDiff> reload(const BrokerConfig& config);
  // SIGHUP, before reload() and whatever becomes of it: rereads the
  // principals file and http.token_file; one that does not load leaves
  // what is in force, with an error in the log.
  void reload_secrets();

  // BrokerSettings, for AlterConfigs / DescribeConfigs on this broker.
  BrokerConfig current() const override;
  std::map<std::string, std::string> overrides() const override;
  Status alter(const std::vector<SettingChange>& changes, bool validate_only) override;
  // Drains in-flight requests (bounded by server.shutdown_timeout_ms), closes
  // every log cleanly. Idempotent.
  Status shutdown();

  const std::string& client_endpoint() const { return client_endpoint_; }
  int http_port() const { return http_ ? http_->port() : -1; }
  bool ready() const { return ready_.load(); }
  // False (with the reason) when the network thread is stuck: /healthz, and
  // main.cc withholds the systemd watchdog ping.
  bool healthy(std::string* why) const;
  // A configuration error found after start-up (the offsets topic's
  // partition count): main.cc stops the broker and exits 1.
  std::optional<std::string> fatal() const {
    std::lock_guard lock(housekeeping_mu_);
    return fatal_;
  }
  std::string status_json() const;

 private:
  void housekeeping();
  // A read found a batch failing its CRC in the log at `dir`, at or after
  // `offset`. If another in-sync replica holds the partition, this one is
  // marked to be cut there (Log::mark_damaged) and mqd exits: it comes back
  // unclean, so it leaves every ISR and leadership, cuts the damage away and
  // fetches the rest from the new leader. Without another in-sync replica it
  // only logs: nothing else holds the data.
  void on_corrupt_read(const std::string& dir, int64_t offset);
  // One housekeeping tick's share of the scrub: reads up to `budget` bytes
  // of the replica under the cursor from where it stopped (Log::read checks
  // each batch's CRC; damage goes to on_corrupt_read). Housekeeping thread.
  void scrub_step(int64_t budget_bytes, int64_t interval_ms);
  struct ScrubCursor {
    std::chrono::steady_clock::time_point next_pass;
    size_t partition = 0;            // index in the pass's sorted list
    int64_t offset = -1;             // next offset to read there; -1: its log start
    int64_t bytes = 0;               // read in this pass
    int damaged = 0;                 // replicas whose read failed in this pass
    std::vector<std::string> names;  // the pass's replicas, "topic-partition"
  };
  ScrubCursor scrub_;
  // Compaction of the compacted partitions every log.cleaner_interval_ms, on
  // its own thread so a long pass never delays the interval fsyncs.
  void clean_logs();
  void hold_for_test_gate();
  // Applies the dynamic settings of `next` (the file's with the overrides);
  // settings_mu_ held.
  Status apply_dynamic_locked(const BrokerConfig& next);

  // config_ is the running configuration; its dynamic part changes under
  // settings_mu_ (SIGHUP, AlterConfigs), readers of it on other threads go
  // through current().
  mutable std::mutex settings_mu_;
  BrokerConfig config_;
  BrokerConfig file_config_;  // as the config file says, without the overrides
  DynamicSettings dynamic_;
  BrokerMetrics metrics_;
  std::unique_ptr<ReplicaManager> replicas_;
  std::unique_ptr<DiskMonitor> disk_;
  std::unique_ptr<OffsetsStorage> offsets_storage_;
  std::unique_ptr<group::GroupCoordinator> coordinator_;
  std::unique_ptr<ClusterNode> cluster_;
  std::unique_ptr<Authorizer> authorizer_;  // with security.authorization only
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<DelayedDelivery> delayed_;
  std::unique_ptr<QueueService> queue_;
  std::unique_ptr<DeadLetters> dead_letters_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<metrics::HttpServer> http_;
  std::string client_endpoint_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};
  int64_t started_ms_ = 0;
  mutable std::mutex housekeeping_mu_;
  std::optional<std::string> fatal_;  // guarded by housekeeping_mu_
  std::condition_variable housekeeping_cv_;
  std::thread housekeeping_;
  std::thread cleaner_;
};

}  // namespace mq::broker
