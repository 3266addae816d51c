// The quorum's peer transport: the ROUTER every member sends to, a DEALER
// to each member (the listed ones, the voters the log records, dynamic
// observers that announced themselves, a leader not known before), and the
// raft messages that travel over them.
#include "quorum/service_impl.h"

namespace mq::quorum {

namespace detail {

Result<std::optional<transport::ReceivedMessage>> receive(zmq::socket_t& socket,
                                                          size_t max_frames) {
  return transport::receive_message(socket, 0,
                                    {.max_message_bytes = SIZE_MAX, .max_frames = max_frames});
}

bool send(zmq::socket_t& socket, const Frames& frames, const std::string* routing_id) {
  if (routing_id == nullptr) return transport::send_message(socket, frames, true).is_ok();
  Frames routed;
  routed.reserve(frames.size() + 1);
  routed.push_back(Frame::copy_of(*routing_id));
  routed.insert(routed.end(), frames.begin(), frames.end());
  return transport::send_message(socket, routed, true).is_ok();
}

}  // namespace detail

void QuorumService::Impl::close_sockets() {
  router.reset();
  dealers.clear();
  dealer_endpoints.clear();
  dynamic_observers.clear();
}

// A DEALER to every voter the set in effect records with an endpoint (a
// voter added at run time is in no configuration file). Throws zmq::error_t.
void QuorumService::Impl::connect_voters() {
  if (connected_membership == node->membership_version()) return;
  connected_membership = node->membership_version();
  for (const raft::Voter& voter : node->membership().voters) {
    if (voter.id == config.id || voter.address.empty()) continue;
    auto known = dealer_endpoints.find(voter.id);
    if (known != dealer_endpoints.end() && known->second == voter.address) continue;
    if (!check_endpoint(voter.address, false).is_ok()) continue;
    spdlog::info("quorum: node {}: voter {} is at {}", config.id, voter.id, voter.address);
    connect_dealer(voter.id, voter.address);
  }
}

// Throws zmq::error_t.
void QuorumService::Impl::connect_dealer(NodeId id, const std::string& peer_endpoint) {
  zmq::socket_t dealer(*context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::maxmsgsize, config.max_message_bytes);
  dealer.set(zmq::sockopt::sndhwm, config.send_queue_messages);
  dealer.set(zmq::sockopt::rcvhwm, config.send_queue_messages);
  // Nothing queues for a peer that is not connected: raft resends.
  dealer.set(zmq::sockopt::immediate, 1);
  dealer.set(zmq::sockopt::reconnect_ivl, config.reconnect_interval_ms);
  dealer.set(zmq::sockopt::reconnect_ivl_max, config.reconnect_interval_max_ms);
  // ZMTP heartbeats, as the client's connections have: a peer that is cut
  // off or stopped (its TCP connection still open) is disconnected after 5 s
  // without traffic, so messages stop queueing for it (immediate) instead of
  // arriving stale when it returns.
  dealer.set(zmq::sockopt::heartbeat_ivl, 1'000);
  dealer.set(zmq::sockopt::heartbeat_timeout, 5'000);
  dealer.set(zmq::sockopt::heartbeat_ttl, 10'000);
  // The keys were checked when the service started.
  (void)transport::apply_curve_client(dealer.handle(), config.curve_client);
  dealer.connect(peer_endpoint);
  // While the cluster's key changes, a second connection to the same peer
  // with the other server key (ZeroMQ takes the key when connecting): the
  // one whose handshake the peer accepts carries the messages (immediate:
  // none queue on the other, which keeps being dropped and retried). ZeroMQ
  // ignores a second connect to an endpoint it already connects to, so the
  // second one names a source address, any ("tcp://0.0.0.0:0;host:port"):
  // another endpoint to ZeroMQ, the same peer.
  constexpr std::string_view kTcp = "tcp://";
  if (!config.curve_client.other_server_key.empty() && peer_endpoint.starts_with(kTcp)) {
    (void)transport::apply_curve_client(dealer.handle(), config.curve_client.swapped());
    dealer.connect("tcp://0.0.0.0:0;" + peer_endpoint.substr(kTcp.size()));
  }
  dealers.insert_or_assign(id, std::move(dealer));
  dealer_endpoints.insert_or_assign(id, peer_endpoint);
  dealers_changed = true;
}

// An ObserverHello reached this node: a voter connects to the sender's
// announced endpoint so that, as leader, it can replicate to it. The raft
// node decides whether to replicate. A voter of the set in effect that
// announces itself hears no leader: if it names its recorded directory and
// another address than this node reaches it at, the leader connects there
// (the raft node records the address in the voter set).
Status QuorumService::Impl::accept_hello(NodeId from, const raft::ObserverHello& hello) {
  const std::string& address = hello.address;
  if (from < 0 || from == config.id) {
    return Status(ErrorCode::kInvalidRequest, "node " + std::to_string(from) + " is this node");
  }
  if (node->role() != raft::Role::kLeader) return Status::ok();
  if (const raft::Voter* voter = node->membership().find(from); voter != nullptr) {
    auto known = dealer_endpoints.find(from);
    if (address.empty() || voter->directory_id.empty() ||
        hello.directory_id != voter->directory_id ||
        (known != dealer_endpoints.end() && known->second == address)) {
      return Status::ok();
    }
    MQ_RETURN_IF_ERROR(check_endpoint(address, false));
    try {
      connect_dealer(from, address);
    } catch (const zmq::error_t& error) {
      return Status(ErrorCode::kNetworkError, "connecting to " + address + ": " + error.what());
    }
    spdlog::info("quorum: node {}: voter {} announced itself at {} (recorded at {})", config.id,
                 from, address, voter->address);
    return Status::ok();
  }
  // A listed observer announces itself while it has an empty log and no
  // leader (it cannot tell whether it is still listed); only the leader
  // connects to the others (voters pass the hello on to it).
  if (is_listed(from)) return Status::ok();
  MQ_RETURN_IF_ERROR(check_endpoint(address, false));
  if (address == advertised || address == endpoint) {
    return Status(ErrorCode::kInvalidRequest, "it announces our endpoint");
  }
  for (const auto& [id, member_endpoint] : dealer_endpoints) {
    if (member_endpoint == address && id != from && is_listed(id)) {
      return Status(ErrorCode::kInvalidRequest,
                    "it announces the endpoint of node " + std::to_string(id));
    }
  }
  DynamicObserver& observer = dynamic_observers[from];
  observer.last_hello = Clock::now();
  if (observer.endpoint == address) return Status::ok();
  try {
    connect_dealer(from, address);
  } catch (const zmq::error_t& error) {
    dynamic_observers.erase(from);
    dealers.erase(from);
    return Status(ErrorCode::kNetworkError, "connecting to " + address + ": " + error.what());
  }
  spdlog::info("quorum: node {}: node {} announced itself as an observer at {}{}", config.id, from,
               address, observer.endpoint.empty() ? "" : " (was " + observer.endpoint + ")");
  observer.endpoint = address;
  return Status::ok();
}

void QuorumService::Impl::forget_dynamic_observers(Clock::time_point now) {
  const auto expiry = std::chrono::milliseconds(config.election_timeout_ms) * 10;
  for (auto it = dynamic_observers.begin(); it != dynamic_observers.end();) {
    if (node->replicates_to_dynamic_observer(it->first) || now - it->second.last_hello < expiry) {
      ++it;
      continue;
    }
    spdlog::info("quorum: node {}: forgets observer {} at {} (silent)", config.id, it->first,
                 it->second.endpoint);
    if (!is_listed(it->first)) {  // made a voter meanwhile: keep its DEALER
      dealers.erase(it->first);
      dealer_endpoints.erase(it->first);
      dealers_changed = true;
    }
    it = dynamic_observers.erase(it);
  }
}

void QuorumService::Impl::receive_from_members() {
  for (int i = 0; i < kReceiveBatch; ++i) {
    // Routing id, header, body.
    auto polled = receive(*router, 3);
    if (!polled) {
      reject("quorum endpoint", polled.status().message());
      return;
    }
    if (!polled.value()) return;
    transport::ReceivedMessage* received = &*polled.value();
    if (!received->limit_error.is_ok()) {
      reject("quorum endpoint", received->limit_error.message());
      continue;
    }
    std::optional<std::string> principal;
    if (config.authenticator) {
      // Checked on every message: a broker key removed from the principals
      // file stops counting at once, not at the next handshake.
      principal = config.authenticator->principal_of(received->user_id);
      if (!principal) {
        reject("quorum endpoint", "a message from a key that is not a broker's (any more)");
        continue;
      }
    }
    std::string routing_id(received->frames[0].as_string_view());
    auto decoded = decode_inbound(std::span(received->frames).subspan(1));
    if (!decoded) {
      reject("quorum endpoint", decoded.status().message());
      continue;
    }
    if (auto* message = std::get_if<raft::Message>(&decoded.value())) {
      // A broker speaks for itself only; but a voter passes an observer's
      // hello on to the leader under the observer's id (raft_node.cc).
      const auto* hello = std::get_if<raft::ObserverHello>(&message->body);
      const bool relayed = hello != nullptr && hello->forwarded;
      if (principal && !relayed && *principal != transport::broker_principal(message->from)) {
        reject("quorum endpoint",
               raft::describe(*message) + ": sent with " + *principal + "'s key");
        continue;
      }
      on_raft_message(std::move(*message), sender_endpoint(received->frames[1]));
    } else {
      InboundCall& call = std::get<InboundCall>(decoded.value());
      if (principal && *principal != transport::broker_principal(call.request.from)) {
        reject("quorum endpoint", "a ControllerCall from node " +
                                      std::to_string(call.request.from) + " sent with " +
                                      *principal + "'s key");
        continue;
      }
      on_call(routing_id, std::move(call));
    }
  }
}

void QuorumService::Impl::on_raft_message(raft::Message message,
                                          const std::string& sender_endpoint) {
  if (const auto* hello = std::get_if<raft::ObserverHello>(&message.body);
      hello != nullptr && message.to == config.id) {
    Status accepted = accept_hello(message.from, *hello);
    if (!accepted) {
      reject("quorum endpoint", raft::describe(message) + ": " + accepted.message());
      return;
    }
  } else if (message.to != config.id) {
    reject("quorum endpoint", raft::describe(message) + ": not for this node");
    return;
  }
  // The raft node decides whom it takes messages from (a leader it has not
  // heard of, added after its log ends, may be one: docs/raft.md).
  Status stepped = node->step(message);
  if (!stepped) {
    reject("quorum endpoint", stepped.message());
    return;
  }
  if (!dealers.contains(message.from) && !sender_endpoint.empty() &&
      !std::holds_alternative<raft::ObserverHello>(message.body)) {
    try {
      spdlog::info("quorum: node {}: node {}, not known here yet, is at {}", config.id,
                   message.from, sender_endpoint);
      connect_dealer(message.from, sender_endpoint);
    } catch (const zmq::error_t& error) {
      reject("quorum endpoint", "connecting to " + sender_endpoint + ": " + error.what());
    }
  }
  ++counters.messages_received;
  if (message.from == node->leader()) {
    std::lock_guard lock(status_mutex);
    leader_heard = message.from;
    leader_heard_at = Clock::now();
  }
}

void QuorumService::Impl::send_raft(const raft::Message& message) {
  auto dealer = dealers.find(message.to);
  if (dealer != dealers.end() &&
      send(dealer->second, encode_raft_frames(message, advertised), nullptr)) {
    ++counters.messages_sent;
  } else {
    ++counters.messages_dropped;
  }
}

}  // namespace mq::quorum
