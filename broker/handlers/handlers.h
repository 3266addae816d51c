// Every API the broker serves: one handler each, in the file of the same
// name, registered with its version range in table.cc.
#pragma once

#include <optional>
#include <span>

#include "broker/handlers/handler.h"
#include "transport/api.h"

namespace mq::broker::handlers {

struct Handler {
  transport::ApiKey api;
  transport::VersionRange versions;  // answered by ApiVersions
  void (*handle)(Call call);
  // A group request: refused COORDINATOR_NOT_AVAILABLE (not
  // LEADER_NOT_AVAILABLE) while a starting broker catches up.
  bool group = false;
  // Answered at once by a starting broker: needs no metadata.
  bool before_catch_up = false;
  // With authorization on, what the request needs on the cluster resource,
  // checked before the handler runs (CLUSTER_AUTHORIZATION_FAILED); the
  // requests about topics and groups check those themselves.
  std::optional<transport::AclOperation> cluster_operation = std::nullopt;
};

// The registered handlers, sorted by api key.
std::span<const Handler> all();
// The handler of `api`, nullptr if this broker serves none.
const Handler* find(transport::ApiKey api);

// Data
void produce(Call call);
void fetch(Call call);
void list_offsets(Call call);
void delete_records(Call call);
void find_messages(Call call);
void list_delayed(Call call);
void cancel_delayed(Call call);
void receive_messages(Call call);
void ack_messages(Call call);
void offset_for_leader_epoch(Call call);
void init_producer_id(Call call);
// Cluster and metadata
void api_versions(Call call);
void metadata(Call call);
void describe_cluster(Call call);
void describe_quorum(Call call);
void add_raft_voter(Call call);
void remove_raft_voter(Call call);
void unregister_broker(Call call);
void describe_log_dirs(Call call);
void describe_acls(Call call);
void create_acls(Call call);
void delete_acls(Call call);
void elect_leaders(Call call);
void alter_partition_reassignments(Call call);
void list_partition_reassignments(Call call);
// Topics and configs
void create_topics(Call call);
void delete_topics(Call call);
void create_partitions(Call call);
void describe_configs(Call call);
void alter_configs(Call call);
// Groups
void find_coordinator(Call call);
void join_group(Call call);
void sync_group(Call call);
void heartbeat(Call call);
void leave_group(Call call);
void offset_commit(Call call);
void offset_fetch(Call call);
void offset_delete(Call call);
void list_groups(Call call);
void describe_groups(Call call);
void delete_groups(Call call);

}  // namespace mq::broker::handlers
