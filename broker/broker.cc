// Broker: start-up order, housekeeping, reload, shutdown order.
#include "broker/broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/exit_status.h"
#include "base/node_address.h"
#include "broker/single_node_conversion.h"
#include "metrics/process_collector.h"

namespace mq::broker {
namespace {

// The bearer token in http.token_file: its first line (owner-only file).
Result<std::string> load_http_token(const std::string& path) {
  Result<std::string> text = transport::read_owner_only_file(path, "token file");
  if (!text.is_ok()) return Status(text.code(), "http.token_file: " + text.status().message());
  std::string token = text->substr(0, text->find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) {
    return Status(ErrorCode::kInvalidConfig,
                  "http.token_file: " + path + ": the first line is empty");
  }
  return token;
}

// Uptime is measured on the monotonic clock: a wall-clock jump does not
// change how long the broker has run.
int64_t uptime_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Broker::Broker(BrokerConfig config) : config_(std::move(config)) {
  config_.log.fsync_observer = [this](int64_t nanos) {
    metrics_.observe_fsync(static_cast<double>(nanos) / 1e9);
  };
  config_.log.corrupt_read_observer = [this](const std::string& dir, int64_t offset) {
    on_corrupt_read(dir, offset);
  };
}

void Broker::on_corrupt_read(const std::string& dir, int64_t offset) {
  if (!replicas_) return;
  for (const std::shared_ptr<Partition>& p : replicas_->partitions()) {
    if (p->log().dir() != dir) continue;
    const std::string name = p->topic() + "-" + std::to_string(p->index());
    // Who else holds it: a leader, its other in-sync replicas; a follower,
    // its leader (whatever the follower holds, it copied from there).
    std::vector<int32_t> isr;
    if (p->is_leader()) {
      isr = p->isr();
      std::erase(isr, config_.node_id);
    } else if (p->leader_id() >= 0 && p->leader_id() != config_.node_id) {
      isr = {p->leader_id()};
    }
    if (isr.empty()) {
      spdlog::error(
          "partition {}: a batch at or after offset {} fails its CRC and no other in-sync "
          "replica holds it: not repaired (restore the partition from a backup, or it is "
          "repaired once another replica leads)",
          name, offset);
      return;
    }
    // One repair at a time: the first thread to find damage stops the process.
    static std::atomic<bool> repairing{false};
    if (repairing.exchange(true)) return;
    std::string others;
    for (int32_t id : isr) others += (others.empty() ? "" : ",") + std::to_string(id);
    Status marked = p->log().mark_damaged(offset);
    if (!marked.is_ok()) {
      spdlog::error(
          "partition {}: a batch at or after offset {} fails its CRC; marking it for "
          "repair failed: {}",
          name, offset, marked.to_string());
      repairing = false;
      return;
    }
    spdlog::critical(
        "partition {}: a batch at or after offset {} fails its CRC here; in-sync replica(s) {} "
        "hold it. Exiting (status {}) to repair: at the next start this replica is cut at "
        "offset {} and fetches the rest again, out of the ISR and leadership until then",
        name, offset, others, kExitRepairReplica, offset);
    spdlog::default_logger()->flush();
    std::_Exit(kExitRepairReplica);
  }
}

Broker::~Broker() {
  (void)shutdown();
}

Status Broker::start(const std::function<void(const std::string&)>& on_status) {
  started_ms_ = uptime_clock_ms();
  // The first scrub pass a minute after the start (sooner if passes are
  // more frequent), not in the rush of it.
  scrub_.next_pass = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min<int64_t>(
                                                            60'000, config_.scrub_interval_ms));
  auto status = [&](const std::string& line) {
    spdlog::info("{}", line);
    if (on_status) on_status(line);
  };
  // Settings changed through the protocol outlive restarts: laid over the
  // file's before anything reads them.
  {
    std::lock_guard lock(settings_mu_);
    file_config_ = config_;
    MQ_ASSIGN_OR_RETURN(dynamic_, DynamicSettings::load(config_.data_dir));
    MQ_ASSIGN_OR_RETURN(config_, dynamic_.apply(file_config_));
    MQ_RETURN_IF_ERROR(config_.validate());
    for (const auto& [key, value] : dynamic_.values()) {
      status("dynamic setting " + key + " = " + value + " (" + DynamicSettings::kFileName + ")");
    }
    if (!config_.curve_secret_key_file.empty()) {
      Result<transport::CurveKeyPair> keys =
          transport::load_curve_secret_key_file(config_.curve_secret_key_file);
      if (!keys.is_ok()) {
        return Status(keys.code(), "security.curve_secret_key_file: " + keys.status().message());
      }
      config_.curve_keys = std::move(keys).value();
      status("CURVE on every listener; the cluster's public key is " +
             config_.curve_keys.public_key);
    }
    if (!config_.curve_other_public_key_file.empty()) {
      Result<std::string> other =
          transport::load_curve_public_key_file(config_.curve_other_public_key_file);
      if (!other.is_ok()) {
        return Status(other.code(),
                      "security.curve_other_public_key_file: " + other.status().message());
      }
      if (*other == config_.curve_keys.public_key) {
        return Status(ErrorCode::kInvalidConfig,
                      "security.curve_other_public_key_file holds the cluster's own public key: "
                      "give the other one (the new key, or the old one)");
      }
      config_.curve_other_public_key = std::move(other).value();
      status("the cluster's key is changing: this broker also reaches brokers listening with " +
             config_.curve_other_public_key);
    }
    if (!config_.broker_secret_key_file.empty()) {
      Result<transport::CurveKeyPair> keys =
          transport::load_curve_secret_key_file(config_.broker_secret_key_file);
      if (!keys.is_ok()) {
        return Status(keys.code(), "security.broker_secret_key_file: " + keys.status().message());
      }
      config_.broker_keys = std::move(keys).value();
    }
    if (!config_.principals_file.empty()) {
      Result<std::shared_ptr<transport::Principals>> principals =
          transport::Principals::load(config_.principals_file);
      if (!principals.is_ok()) {
        return Status(principals.code(),
                      "security.principals_file: " + principals.status().message());
      }
      config_.principals = std::move(principals).value();
      // Its own key must be there, now and after every reload: the other
      // brokers (and its own listener) would refuse it otherwise.
      const std::string self = transport::broker_principal(config_.node_id);
      Status listed = config_.principals->require(config_.broker_keys.public_key, self);
      if (!listed.is_ok())
        return Status(listed.code(), "security.principals_file " + listed.message());
      status("authentication on: " + std::to_string(config_.principals->size()) + " keys in " +
             config_.principals_file + "; this broker is " + self);
    }
  }
  disk_ =
      std::make_unique<DiskMonitor>(config_.data_dir, config_.min_free_bytes,
                                    std::max<int64_t>(2LL * config_.log.max_batch_bytes, 1 << 20));
  // HTTP first, so /healthz answers and /readyz says "recovering" during recovery.
  Result<std::pair<std::string, int>> http_address =
      metrics::parse_host_port(config_.http_address, "http.address");
  if (!http_address.is_ok()) return http_address.status();
  metrics::HttpHandlers handlers;
  handlers.healthy = [this](std::string* why) { return healthy(why); };
  handlers.ready = [this](std::string* why) {
    *why = stopped_ ? "shutting down" : "recovering partition logs";
    if (!ready_.load()) return false;
    // ready_ is set once start() has made cluster_.
    if (cluster_->member().broker_epoch() == 0) {
      *why = "not registered with the controller yet";
      return false;
    }
    if (!cluster_->member().caught_up()) {
      *why = "catching up with the cluster metadata (client requests wait)";
      return false;
    }
    if (cluster_->member().fenced()) {
      *why = "fenced by the controller";
      return false;
    }
    if (disk_->full()) {
      *why = disk_->why();
      return false;
    }
    return true;
  };
  handlers.status_json = [this] { return status_json(); };
  http_ = std::make_unique<metrics::HttpServer>(
      std::vector<std::shared_ptr<prometheus::Collectable>>{
          metrics_.registry(), std::make_shared<metrics::ProcessCollector>()},
      handlers);
  metrics::HttpSecurity http_security;
  http_security.token_loopback = config_.http_token_loopback;
  if (!config_.http_token_file.empty()) {
    MQ_ASSIGN_OR_RETURN(http_security.token, load_http_token(config_.http_token_file));
  }
  if (!config_.http_tls_key_file.empty()) {
    // Its mode is checked as a secret key file's; the TLS library reads it.
    Result<std::string> key = transport::read_owner_only_file(config_.http_tls_key_file, "file");
    if (!key.is_ok()) return Status(key.code(), "http.tls_key_file: " + key.status().message());
    // OpenSSL would ask for a pass phrase on the terminal, where no one answers.
    if (key->find("ENCRYPTED") != std::string::npos) {
      return Status(ErrorCode::kInvalidConfig,
                    "http.tls_key_file: " + config_.http_tls_key_file +
                        " is encrypted: give the key without a pass phrase (mode 0600 keeps it)");
    }
    http_security.tls_cert_file = config_.http_tls_cert_file;
    http_security.tls_key_file = config_.http_tls_key_file;
  }
  Status http_started = http_->start(http_address->first, http_address->second, http_security);
  if (!http_started.is_ok()) {
    return Status(http_started.code(), "http: " + http_started.message());
  }
  if (!http_security.token.empty() && http_security.tls_cert_file.empty() &&
      !metrics::is_loopback_address(http_address->first) && http_address->first != "localhost") {
    spdlog::warn(
        "http: the bearer token travels in clear text to {}: set http.tls_cert_file and "
        "http.tls_key_file",
        config_.http_address);
  }
  std::string http_note;
  if (!http_security.tls_cert_file.empty()) http_note = "TLS";
  if (!http_security.token.empty()) {
    http_note += std::string(http_note.empty() ? "" : "; ") + "a bearer token asked of clients" +
                 (config_.http_token_loopback ? "" : " not on loopback");
  }
  status("HTTP on " + http_address->first + ":" + std::to_string(http_->port()) +
         (http_note.empty() ? "" : " (" + http_note + ")"));

  status("recovering partition logs in " + config_.data_dir);
  hold_for_test_gate();
  MQ_ASSIGN_OR_RETURN(std::string converted, convert_single_node_data_dir(config_));
  if (!converted.empty()) status(converted);
  MQ_ASSIGN_OR_RETURN(replicas_, ReplicaManager::open(config_));
  disk_->poll();  // the data directory exists now
  status("opened " + std::to_string(replicas_->partitions().size()) + " partition(s) of " +
         std::to_string(replicas_->topics().size()) + " topic(s)");

  const group::CoordinatorConfig coordinator_config{
      .offsets_partitions = config_.offsets_topic_partitions,
      .initial_rebalance_delay_ms = config_.group_initial_rebalance_delay_ms,
      .min_session_timeout_ms = config_.group_min_session_timeout_ms,
      .max_session_timeout_ms = config_.group_max_session_timeout_ms,
      .max_size = config_.group_max_size};
  offsets_storage_ = std::make_unique<OffsetsStorage>(*replicas_);
  coordinator_ = std::make_unique<group::GroupCoordinator>(coordinator_config, *offsets_storage_);
  // A group's coordinator is the leader of its __consumer_offsets
  // partition: the coordinator loads a partition's groups when this broker
  // becomes its leader and drops them when it stops leading it.
  coordinator_->start();
  cluster_ = std::make_unique<ClusterNode>(config_, *replicas_);
  cluster_->set_leadership_listener(
      [coordinator = coordinator_.get()](const std::string& topic, int32_t partition, bool leading,
                                         int32_t leader_epoch) {
        if (topic != group::kOffsetsTopic) return;
        if (leading) {
          coordinator->load_partition(partition, leader_epoch);
        } else {
          coordinator->unload_partition(partition);
        }
      });

  scheduler_ = std::make_unique<Scheduler>(config_.worker_threads);
  // Bind before building the handler: Metadata answers with the real port.
  BrokerIdentity identity{config_.node_id, "", 0};
  handler_ = std::make_unique<RequestHandler>(*replicas_, *scheduler_, metrics_, identity);
  handler_->set_coordinator(coordinator_.get());
  handler_->set_cluster(cluster_.get());
  handler_->set_disk_monitor(disk_.get());
  handler_->set_broker_settings(this);
  delayed_ = std::make_unique<DelayedDelivery>(*replicas_, metrics_);
  handler_->set_delayed_delivery(delayed_.get());
  queue_ = std::make_unique<QueueService>(*replicas_, metrics_);
  handler_->set_queue_service(queue_.get());
  if (config_.authorization) {
    authorizer_ = std::make_unique<Authorizer>(config_.super_users, *cluster_);
    handler_->set_authorizer(authorizer_.get());
  }
  server_ = std::make_unique<Server>(*handler_, *scheduler_, metrics_);
  Status bound = server_->bind({.endpoint = config_.client_listener,
                                .max_request_bytes = config_.max_request_bytes,
                                .buffer_memory_bytes = config_.buffer_memory_bytes,
                                .max_inflight_requests = config_.max_inflight_requests,
                                .max_connections = config_.max_connections,
                                .curve = {.secret_key = config_.curve_keys.secret_key},
                                .authenticator = config_.principals});
  if (!bound.is_ok()) {
    return Status(bound.code(),
                  "listeners.client " + config_.client_listener + ": " + bound.message());
  }
  client_endpoint_ = server_->endpoint();
  split_endpoint(client_endpoint_, &identity.host, &identity.port);
  handler_->set_identity(identity);  // before serve(): no request has been read yet
  {
    const QuorumMember* self = config_.cluster.member(config_.node_id);
    if (config_.cluster.voters.empty()) {
      status("joining the metadata quorum as its only voter (no cluster.voters), node " +
             std::to_string(config_.node_id));
    } else if (self == nullptr) {
      // Listed nowhere: it announces itself to the voters (docs/cluster.md,
      // "Adding a broker").
      status("joining the metadata quorum as dynamic observer " + std::to_string(config_.node_id) +
             " at " + config_.cluster.quorum_listener);
    } else {
      bool voter = std::find(config_.cluster.voters.begin(), config_.cluster.voters.end(), *self) !=
                   config_.cluster.voters.end();
      status("joining the metadata quorum as " + std::string(voter ? "voter " : "observer ") +
             self->to_string());
    }
    MQ_RETURN_IF_ERROR(cluster_->start(client_endpoint_));
    // Creates __consumer_offsets through the controller if no broker has yet.
    offsets_storage_->start_creating(*cluster_, config_, config_.offsets_topic_partitions,
                                     [this](const std::string& why) {
                                       spdlog::critical("stopping: {}", why);
                                       std::lock_guard lock(housekeeping_mu_);
                                       fatal_ = why;
                                     });
  }
  server_->serve();
  http_->add_collectable(std::make_shared<PartitionCollector>(*replicas_));
  http_->add_collectable(std::make_shared<StorageCollector>(*disk_));
  if (config_.principals) {
    http_->add_collectable(
        std::make_shared<SecurityCollector>(config_.principals, authorizer_.get(), *cluster_));
  }
  http_->add_collectable(std::make_shared<GroupCollector>(*coordinator_));
  http_->add_collectable(std::make_shared<ClusterCollector>(
      cluster_->member(), *replicas_,
      [node = cluster_.get()] { return node->follower_statuses(); }));

  delayed_->start();
  {
    // The mover produces to dead-letter topics through this broker's own listener.
    std::string host;
    int32_t port = 0;
    split_endpoint(client_endpoint_, &host, &port);
    if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "[::1]";
    transport::CurveClient own = broker_curve_client(config_);
    dead_letters_ = std::make_unique<DeadLetters>(
        *replicas_, *queue_, host + ":" + std::to_string(port),
        client::CurveSettings{
            .server_key =
                own.server_key + (own.other_server_key.empty() ? "" : "," + own.other_server_key),
            .secret_key = own.secret_key});
    dead_letters_->start();
  }
  housekeeping_ = std::thread([this] { housekeeping(); });
  cleaner_ = std::thread([this] { clean_logs(); });
  ready_ = true;
  status("serving clients on " + client_endpoint_);
  return Status::ok();
}

// Test hook: while the file named by MQD_TEST_RECOVERY_GATE exists, start-up
// waits at the recovery step, so a test can watch /readyz before recovery
// ends. Unset in production, where it costs one getenv.
void Broker::hold_for_test_gate() {
  const char* gate = std::getenv("MQD_TEST_RECOVERY_GATE");
  if (gate == nullptr || *gate == '\0') return;
  spdlog::warn("MQD_TEST_RECOVERY_GATE is set: recovery waits while {} exists", gate);
  while (std::filesystem::exists(gate)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Broker::healthy(std::string* why) const {
  if (server_ && server_->seconds_since_last_loop() > 10) {
    *why = "the network thread has not run for " +
           std::to_string(static_cast<int>(server_->seconds_since_last_loop())) + " s";
    return false;
  }
  return true;
}

void Broker::housekeeping() {
  auto next_retention = std::chrono::steady_clock::now();
  std::unique_lock lock(housekeeping_mu_);
  while (!stopped_) {
    housekeeping_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopped_) break;
    lock.unlock();
    disk_->poll();
    replicas_->flush_due();
    {
      BrokerConfig config = replicas_->config();
      if (config.scrub_bytes_per_second > 0) {
        scrub_step(std::max<int64_t>(1, config.scrub_bytes_per_second / 10),
                   config.scrub_interval_ms);
      }
    }
    if (std::chrono::steady_clock::now() >= next_retention) {
      int deleted = replicas_->apply_retention();
      if (deleted > 0) spdlog::info("retention deleted {} segment(s)", deleted);
      next_retention = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(replicas_->config().retention_check_interval_ms);
    }
    lock.lock();
  }
}

void Broker::scrub_step(int64_t budget_bytes, int64_t interval_ms) {
  const auto now = std::chrono::steady_clock::now();
  if (now < scrub_.next_pass) return;
  std::map<std::string, std::shared_ptr<Partition>> by_name;
  for (const std::shared_ptr<Partition>& p : replicas_->partitions()) {
    by_name[p->topic() + "-" + std::to_string(p->index())] = p;
  }
  if (scrub_.names.empty() && scrub_.partition == 0) {
    for (const auto& [name, p] : by_name) scrub_.names.push_back(name);
  }
  while (budget_bytes > 0 && scrub_.partition < scrub_.names.size()) {
    auto it = by_name.find(scrub_.names[scrub_.partition]);
    if (it == by_name.end()) {  // deleted or moved away since the pass began
      ++scrub_.partition;
      scrub_.offset = -1;
      continue;
    }
    Log& log = it->second->log();
    if (scrub_.offset < log.log_start_offset()) scrub_.offset = log.log_start_offset();
    const int64_t end = log.log_end_offset();
    Result<LogReadResult> read =
        scrub_.offset < end ? log.read(scrub_.offset, static_cast<size_t>(budget_bytes), end)
                            : Result<LogReadResult>(LogReadResult{});
    if (read.is_ok() && !read->bytes.empty() && read->next_offset > scrub_.offset) {
      budget_bytes -= static_cast<int64_t>(read->bytes.size());
      scrub_.bytes += static_cast<int64_t>(read->bytes.size());
      scrub_.offset = read->next_offset;
      continue;
    }
    // The end of this replica, or a read that failed (logged, and repaired
    // by on_corrupt_read where another replica can): the next one.
    if (!read.is_ok() && read.code() == ErrorCode::kCorruptMessage) ++scrub_.damaged;
    ++scrub_.partition;
    scrub_.offset = -1;
  }
  if (scrub_.partition < scrub_.names.size()) return;
  spdlog::info("scrub: read {} replica(s), {} bytes, {} with a batch failing its CRC",
               scrub_.names.size(), scrub_.bytes, scrub_.damaged);
  scrub_ = ScrubCursor{};
  scrub_.next_pass = now + std::chrono::milliseconds(interval_ms);
}

void Broker::clean_logs() {
  auto interval = [this] {
    return std::chrono::milliseconds(replicas_->config().cleaner_interval_ms);
  };
  auto next_pass = std::chrono::steady_clock::now() + interval();
  std::unique_lock lock(housekeeping_mu_);
  while (!stopped_) {
    housekeeping_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopped_ || std::chrono::steady_clock::now() < next_pass) continue;
    lock.unlock();
    replicas_->compact_logs();  // each pass logs what it did
    next_pass = std::chrono::steady_clock::now() + interval();
    lock.lock();
  }
}

void Broker::reload_secrets() {
  // Paths come from the config in force (changing them takes a restart).
  BrokerConfig config = current();
  if (!config.http_token_file.empty()) {
    Result<std::string> token = load_http_token(config.http_token_file);
    if (token.is_ok()) {
      http_->set_token(std::move(token).value());
      spdlog::info("http.token_file: token read again from {}", config.http_token_file);
    } else {
      spdlog::error("http.token_file: keeping the token in force: {}", token.status().message());
    }
  }
  if (config.principals) {
    Status reloaded = config.principals->reload();
    if (reloaded.is_ok()) {
      spdlog::info("principals: {} keys in {}", config.principals->size(),
                   config.principals->path());
    } else {
      spdlog::error("principals: {}; {} keys in force", reloaded.message(),
                    config.principals->size());
    }
  }
}

Result<ConfigDiff> Broker::reload(const BrokerConfig& file_config) {
  std::lock_guard lock(settings_mu_);
  MQ_ASSIGN_OR_RETURN(BrokerConfig next, dynamic_.apply(file_config));
  ConfigDiff diff = diff_configs(config_, next);
  MQ_RETURN_IF_ERROR(apply_dynamic_locked(next));
  file_config_ = file_config;
  return diff;
}

Status Broker::apply_dynamic_locked(const BrokerConfig& next) {
  BrokerConfig applied = config_;
  for (const Setting& s : settings()) {
    if (!s.dynamic) continue;
    // Copy the dynamic value through the table, so static ones stay put.
    MQ_RETURN_IF_ERROR(apply_setting_text(applied, s, value_text(s, next)));
  }
  MQ_RETURN_IF_ERROR(replicas_->apply_defaults(applied));
  disk_->set_min_free_bytes(applied.min_free_bytes);
  server_->set_limits(applied.buffer_memory_bytes, applied.max_inflight_requests,
                      applied.max_connections);
  spdlog::set_level(spdlog::level::from_str(applied.log_level));
  config_ = applied;
  return Status::ok();
}

BrokerConfig Broker::current() const {
  std::lock_guard lock(settings_mu_);
  return config_;
}

std::map<std::string, std::string> Broker::overrides() const {
  std::lock_guard lock(settings_mu_);
  return dynamic_.values();
}

Status Broker::alter(const std::vector<SettingChange>& changes, bool validate_only) {
  std::lock_guard lock(settings_mu_);
  MQ_ASSIGN_OR_RETURN(DynamicSettings next, dynamic_.changed(changes));
  MQ_ASSIGN_OR_RETURN(BrokerConfig effective, next.apply(file_config_));
  MQ_RETURN_IF_ERROR(effective.validate());
  if (validate_only) return Status::ok();
  MQ_RETURN_IF_ERROR(next.save(config_.data_dir));
  dynamic_ = std::move(next);
  MQ_RETURN_IF_ERROR(apply_dynamic_locked(effective));
  for (const SettingChange& c : changes) {
    if (c.value) {
      spdlog::info("dynamic setting {} = {} (AlterConfigs)", c.key, *c.value);
    } else {
      spdlog::info("dynamic setting {} removed: the config file's {} applies (AlterConfigs)", c.key,
                   value_text(*std::ranges::find(settings(), c.key, &Setting::key), file_config_));
    }
  }
  return Status::ok();
}

Status Broker::shutdown() {
  if (stopped_.exchange(true)) return Status::ok();
  ready_ = false;
  // Still serving: clients and followers move to the new leaders while
  // this broker answers NOT_LEADER.
  if (cluster_ && config_.cluster.controlled_shutdown_timeout_ms > 0) {
    cluster_->controlled_shutdown(
        std::chrono::milliseconds(config_.cluster.controlled_shutdown_timeout_ms));
  }
  housekeeping_cv_.notify_all();
  if (housekeeping_.joinable()) housekeeping_.join();
  if (cleaner_.joinable()) cleaner_.join();
  // Order matters: answer the JoinGroups waiting in the coordinator, stop
  // taking requests and drain them, let the workers finish (their late
  // replies are dropped), then close the logs.
  if (offsets_storage_) offsets_storage_->stop_creating();
  if (coordinator_) coordinator_->stop();
  // The dead-letter mover talks to this broker's listener: it stops first.
  if (dead_letters_) dead_letters_->stop();
  if (server_) server_->stop(config_.shutdown_timeout_ms);
  scheduler_.reset();
  server_.reset();
  handler_.reset();
  if (delayed_) delayed_->stop();
  // The metadata stops reaching the coordinator before it goes.
  if (cluster_) cluster_->set_leadership_listener({});
  coordinator_.reset();
  // Followers stop fetching and the quorum member leaves before the logs close.
  if (cluster_) cluster_->stop();
  Status closed = replicas_ ? replicas_->close() : Status::ok();
  if (http_) http_->stop();
  spdlog::info("shut down {}", closed.is_ok() ? "cleanly" : "with errors: " + closed.to_string());
  return closed;
}

std::string Broker::status_json() const {
  nlohmann::json j;
  j["node_id"] = config_.node_id;
  j["version"] = MQ_VERSION;
  j["uptime_seconds"] = (uptime_clock_ms() - started_ms_) / 1000;
  j["ready"] = ready_.load();
  j["client_endpoint"] = client_endpoint_;
  nlohmann::json partitions = nlohmann::json::array();
  if (replicas_ && ready_) {
    j["cluster_id"] = cluster_->member().image()->cluster_id();
    for (const auto& p : replicas_->partitions()) {
      partitions.push_back({{"topic", p->topic()},
                            {"partition", p->index()},
                            {"leader", p->leader_id()},
                            {"role", p->is_leader() ? "leader" : "follower"},
                            {"leader_epoch", p->leader_epoch()},
                            {"log_start_offset", p->log().log_start_offset()},
                            {"log_end_offset", p->log().log_end_offset()},
                            {"high_watermark", p->high_watermark()},
                            {"size_bytes", p->log().size_bytes()}});
    }
  }
  j["partitions"] = partitions;
  if (cluster_) {
    quorum::QuorumStatus q = cluster_->member().quorum_status();
    j["cluster"] = {{"broker_epoch", cluster_->member().broker_epoch()},
                    {"caught_up", cluster_->member().caught_up()},
                    {"fenced", cluster_->member().fenced()},
                    {"quorum",
                     {{"voter", q.voter},
                      {"role", std::string(raft::role_name(q.role))},
                      {"term", q.term},
                      {"leader", q.leader},
                      {"commit_index", q.commit_index},
                      {"applied_index", q.applied_index}}}};
  }
  if (disk_) {
    j["storage"] = {{"free_bytes", disk_->free_bytes()},
                    {"total_bytes", disk_->total_bytes()},
                    {"full", disk_->full()}};
  }
  return j.dump();
}

}  // namespace mq::broker
