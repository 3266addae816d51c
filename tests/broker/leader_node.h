// An in-process broker for replication tests: the ReplicaManager, Scheduler,
// RequestHandler and Server that broker::Broker composes, on 127.0.0.1 with
// an ephemeral port and a temp data dir, with its partitions reachable so a
// test can make them leaders or followers the way the metadata log will.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "broker/broker_metrics.h"
#include "broker/replica_manager.h"
#include "broker/request_handler.h"
#include "broker/scheduler.h"
#include "broker/server.h"
#include "store/log.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"

namespace mq::testing {

class LeaderNode {
 public:
  explicit LeaderNode(int32_t node_id = 1) {
    config_.node_id = node_id;
    config_.data_dir = dir_.path() + "/data";
    config_.client_listener = "tcp://127.0.0.1:0";
    config_.offsets_topic_partitions = 1;
  }
  ~LeaderNode() { stop(); }

  // Opens the logs, creates `topic` with one partition and serves clients.
  void start(const std::string& topic, const broker::TopicOverrides& configs = {}) {
    auto replicas = broker::ReplicaManager::open(config_);
    ASSERT_TRUE(replicas.is_ok()) << replicas.status().to_string();
    replicas_ = std::move(replicas).value();
    add_topic(topic, configs);
    scheduler_ = std::make_unique<broker::Scheduler>(2);
    handler_ = std::make_unique<broker::RequestHandler>(*replicas_, *scheduler_, metrics_,
                                                        broker::BrokerIdentity{config_.node_id});
    server_ = std::make_unique<broker::Server>(*handler_, *scheduler_, metrics_);
    ASSERT_TRUE(server_->bind({.endpoint = config_.client_listener}).is_ok());
    server_->serve();
  }

  void stop() {
    if (server_) server_->stop(1000);
    for (auto& p :
         replicas_ ? replicas_->partitions() : std::vector<std::shared_ptr<broker::Partition>>{}) {
      p->cancel_all_waits();
    }
    scheduler_.reset();
    if (replicas_) (void)replicas_->close();
    server_.reset();
    handler_.reset();
    replicas_.reset();
  }

  // Another topic of one partition, as the metadata log would name it.
  void add_topic(const std::string& topic, const broker::TopicOverrides& configs = {}) {
    ASSERT_TRUE(replicas_->put_topic({topic, 1, 1, configs}).is_ok());
    ASSERT_TRUE(replicas_->open_replica(topic, 0).is_ok());
  }
  std::shared_ptr<broker::Partition> partition(const std::string& topic) {
    return replicas_->partition(topic, 0);
  }
  const std::string& endpoint() const { return server_->endpoint(); }

  // A client connection with versions negotiated.
  std::unique_ptr<transport::Connection> connect() {
    auto conn = transport::Connection::connect(endpoint());
    EXPECT_TRUE(conn.is_ok());
    EXPECT_TRUE((*conn)->negotiate_versions(5000).is_ok());
    return std::move(conn).value();
  }

 private:
  TempDir dir_;
  broker::BrokerConfig config_;
  broker::BrokerMetrics metrics_;
  std::unique_ptr<broker::ReplicaManager> replicas_;
  std::unique_ptr<broker::Scheduler> scheduler_;
  std::unique_ptr<broker::RequestHandler> handler_;
  std::unique_ptr<broker::Server> server_;
};

// Every batch of `log` from its start to its end, as stored.
inline std::string log_bytes(const Log& log) {
  std::string out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    Result<LogReadResult> read = log.read(offset, 1 << 20);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    if (!read.is_ok() || read->bytes.empty()) break;
    out += read->bytes;
    offset = read->next_offset;
  }
  return out;
}

}  // namespace mq::testing
