// The quorum thread: polls the ROUTER, the DEALERs and a wakeup eventfd,
// ticks the RaftNode, steps what arrives and handles each Ready in the
// documented order (persist, send, restore/apply, advance).
#include "quorum/quorum_service.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <zmq.hpp>

#include "quorum/wire.h"
#include "raft/file_storage.h"

namespace mq::quorum {
namespace {

using Clock = std::chrono::steady_clock;
using transport::Frame;
using transport::Frames;

// Messages and replies read per socket per loop iteration, so a flood on one
// socket cannot hold off ticks and the others for long.
constexpr int kReceiveBatch = 256;
// Frames kept of one received message: routing id, header, body, and one
// more to notice a message that has too many.
constexpr size_t kMaxFramesKept = 4;
// Rejected frames logged one by one before only every kRejectLogEvery-th is.
constexpr uint64_t kRejectLogFirst = 10;
constexpr uint64_t kRejectLogEvery = 1000;

std::string leader_suffix(NodeId leader) {
  return leader == raft::kNoNode ? " (leader: none)" : " (leader: " + std::to_string(leader) + ")";
}

Status not_controller(const std::string& why, NodeId leader) {
  return Status(ErrorCode::kNotController, why + leader_suffix(leader));
}

// A one-shot result a caller thread waits on.
class CallSlot {
 public:
  void set(Result<Bytes> result) {
    std::lock_guard lock(mutex_);
    if (result_) return;
    result_.emplace(std::move(result));
    ready_.notify_all();
  }
  std::optional<Result<Bytes>> wait_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    ready_.wait_until(lock, deadline, [&] { return result_.has_value(); });
    return result_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<Result<Bytes>> result_;
};

// Work handed to the quorum thread by other threads.
struct ProposeCommand {
  Bytes data;
  std::function<void(Result<uint64_t>)> done;
};
struct CallCommand {
  Bytes request;
  std::shared_ptr<CallSlot> slot;
  Clock::time_point deadline;
};
struct ReplyCommand {  // a controller handler's answer to a member's call
  std::string routing_id;
  int32_t correlation_id = 0;
  Result<Bytes> result;
};
struct VoterChangeCommand {  // add_voter (endpoint set) or remove_voter
  NodeId id = raft::kNoNode;
  std::optional<std::string> endpoint;
  std::function<void(Result<uint64_t>)> done;
};
using Command = std::variant<ProposeCommand, CallCommand, ReplyCommand, VoterChangeCommand>;

// The queue into the quorum thread and the eventfd that wakes it. Reply
// functions hold it too and may outlive the service: once closed, posts fail.
class Mailbox {
 public:
  Mailbox() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Mailbox() {
    if (fd_ >= 0) ::close(fd_);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  int fd() const { return fd_; }
  void open() {
    std::lock_guard lock(mutex_);
    closed_ = false;
  }
  // False (and `command` untouched) once closed.
  bool post(Command& command) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      commands_.push_back(std::move(command));
    }
    wake();
    return true;
  }
  void wake() {
    uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the thread wakes anyway.
    [[maybe_unused]] ssize_t written = ::write(fd_, &one, sizeof(one));
  }
  std::vector<Command> take() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t got = ::read(fd_, &count, sizeof(count));
    std::lock_guard lock(mutex_);
    return std::exchange(commands_, {});
  }
  // Closes and returns what was still queued.
  std::vector<Command> close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    return std::exchange(commands_, {});
  }

 private:
  int fd_;
  std::mutex mutex_;
  bool closed_ = true;
  std::vector<Command> commands_;
};

// Delivers a handler's reply once. A reply function dropped without being
// called answers UNKNOWN, so the caller does not wait for its timeout.
class ReplyOnce {
 public:
  explicit ReplyOnce(std::function<void(Result<Bytes>)> deliver) : deliver_(std::move(deliver)) {}
  ~ReplyOnce() {
    if (!done_.exchange(true)) {
      deliver_(Status(ErrorCode::kUnknown, "the controller dropped the request without a reply"));
    }
  }
  ReplyOnce(const ReplyOnce&) = delete;
  ReplyOnce& operator=(const ReplyOnce&) = delete;
  void operator()(Result<Bytes> result) {
    if (!done_.exchange(true)) deliver_(std::move(result));
  }

 private:
  std::atomic<bool> done_{false};
  std::function<void(Result<Bytes>)> deliver_;
};

ReplyFn make_reply(std::function<void(Result<Bytes>)> deliver) {
  auto once = std::make_shared<ReplyOnce>(std::move(deliver));
  return [once](Result<Bytes> result) { (*once)(std::move(result)); };
}

struct Received {
  Frames frames;  // at most kMaxFramesKept
  bool too_many_frames = false;
};

// One whole multipart message if one is waiting; frames are not copied.
std::optional<Received> receive(zmq::socket_t& socket) {
  Received out;
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return std::nullopt;
  while (true) {
    bool more = part.more();
    if (out.frames.size() < kMaxFramesKept) {
      auto owned = std::make_shared<zmq::message_t>(std::move(part));
      std::span<const uint8_t> bytes(static_cast<const uint8_t*>(owned->data()), owned->size());
      out.frames.emplace_back(bytes, std::move(owned));
    } else {
      out.too_many_frames = true;
    }
    if (!more) break;
    // The rest of a multipart message arrives with its first frame.
    part = zmq::message_t();
    if (!socket.recv(part, zmq::recv_flags::dontwait)) break;
  }
  return out;
}

// Never blocks: false if the peer is unknown or unreachable, or its queue is full.
bool send(zmq::socket_t& socket, const Frames& frames, const std::string* routing_id) {
  try {
    if (routing_id != nullptr &&
        !socket.send(zmq::buffer(*routing_id),
                     zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq::send_flags flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      if (!socket.send(zmq::message_t(frames[i].data(), frames[i].size()), flags)) return false;
    }
    return true;
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH: the ROUTER no longer knows that peer
  }
}

// ZeroMQ binds an ephemeral port for "*"; port 0 means the same here.
std::string bind_address(const std::string& endpoint) {
  if (endpoint.ends_with(":0")) return endpoint.substr(0, endpoint.size() - 1) + "*";
  return endpoint;
}

}  // namespace

NodeId leader_in(const Status& status) {
  constexpr std::string_view kMarker = "(leader: ";
  const std::string& message = status.message();
  size_t at = message.rfind(kMarker);
  if (at == std::string::npos) return raft::kNoNode;
  std::string_view rest = std::string_view(message).substr(at + kMarker.size());
  NodeId id = raft::kNoNode;
  auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
  if (error != std::errc() || end == rest.data() + rest.size() || *end != ')' || id < 0) {
    return raft::kNoNode;
  }
  return id;
}

struct QuorumService::Impl {
  Impl(QuorumConfig config_in, StateMachine& state_machine_in)
      : config(std::move(config_in)), state_machine(state_machine_in) {}

  Status start();
  void stop();
  void run();

  // Quorum thread.
  bool iterate();
  void process(Command& command);
  void propose(ProposeCommand& command);
  void change_voters(VoterChangeCommand& command);
  void connect_voters();
  void start_call(CallCommand& command);
  void invoke_handler(Bytes request, ReplyFn reply);
  void send_reply(const std::string& routing_id, int32_t correlation_id,
                  const Result<Bytes>& result);
  void receive_from_members();
  void receive_replies();
  void on_raft_message(raft::Message message, const std::string& sender_endpoint);
  void on_call(const std::string& routing_id, InboundCall call);
  void send_raft(const raft::Message& message);
  bool handle_ready();
  void settle_proposals(const raft::Entry& entry);
  void fail_proposals_through(uint64_t index, const Status& error);
  void update_leadership();
  void maybe_snapshot();
  void hand_over_leadership(Clock::time_point now);
  void expire_calls(Clock::time_point now);
  void reject(std::string_view where, const std::string& why);
  void fail_service(const Status& error);
  void shutdown();
  void publish_status(bool running);
  void close_sockets();
  void connect_dealer(NodeId id, const std::string& peer_endpoint);
  Status accept_hello(NodeId from, const std::string& address);
  void forget_dynamic_observers(Clock::time_point now);
  // In the voter set in effect (the log's, else the static one) or an observer.
  bool is_listed(NodeId id) const { return id != config.id && node->is_listed(id); }
  // Listed, or a dynamic observer that announced itself to this node.
  bool is_member(NodeId id) const { return is_listed(id) || dynamic_observers.contains(id); }

  QuorumConfig config;
  StateMachine& state_machine;
  ControllerHandler handler;
  std::string endpoint;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  std::atomic<bool> stop_requested{false};
  // stop() asks the quorum thread to hand a leadership it holds to a voter
  // that has caught up before it stops, so the others need not wait out an
  // election timeout; the thread sets stop_requested once that is done.
  std::atomic<bool> resign_requested{false};
  std::atomic<bool> loop_ended{false};              // run() left its loop (stopped or failed)
  std::optional<Clock::time_point> resign_started;  // quorum thread
  NodeId handed_to = raft::kNoNode;                 // quorum thread
  std::mutex lifecycle_mutex;
  bool started = false;
  std::thread thread;
  std::atomic<std::thread::id> thread_id;  // of the quorum thread while it runs

  mutable std::mutex status_mutex;  // guards published, failure and leader_heard*
  QuorumStatus published;
  Status failure;
  NodeId leader_heard = raft::kNoNode;  // the last other leader a message came from
  Clock::time_point leader_heard_at;

  // Owned by the quorum thread once it runs.
  std::unique_ptr<zmq::context_t> context;
  std::optional<zmq::socket_t> router;
  std::map<NodeId, zmq::socket_t> dealers;
  std::map<NodeId, std::string> dealer_endpoints;  // where each DEALER connects
  bool dealers_changed = false;                    // the poll set must be rebuilt
  uint64_t connected_membership = 0;               // node->membership_version() last connected
  // Unlisted nodes that sent this voter an ObserverHello: where they listen
  // and when they last said so. Forgotten (with their DEALER) once the raft
  // node does not replicate to them and no hello came for 10 election timeouts.
  struct DynamicObserver {
    std::string endpoint;
    Clock::time_point last_hello;
  };
  std::map<NodeId, DynamicObserver> dynamic_observers;
  std::unique_ptr<raft::FileStorage> storage;
  std::optional<raft::RaftNode> node;
  struct PendingProposal {
    uint64_t term = 0;
    std::function<void(Result<uint64_t>)> done;
  };
  std::map<uint64_t, PendingProposal> proposals;  // by index
  struct OutboundCall {
    std::shared_ptr<CallSlot> slot;
    NodeId target = raft::kNoNode;
    Clock::time_point deadline;
  };
  std::map<int32_t, OutboundCall> calls;  // by correlation id
  int32_t next_correlation_id = 0;
  QuorumCounters counters;
  uint64_t published_term = 0;
  NodeId published_leader = raft::kNoNode;
  bool am_controller = false;
  uint64_t leader_term = 0;             // the term this node last became leader in
  uint64_t controller_ready_index = 0;  // its no-op: applied => the controller may act
  Clock::time_point next_tick;
};

Status QuorumService::Impl::start() {
  MQ_RETURN_IF_ERROR(validate(config));
  if (mailbox->fd() < 0) {
    return Status(ErrorCode::kUnknown, std::string("quorum: eventfd: ") + std::strerror(errno));
  }
  MQ_ASSIGN_OR_RETURN(storage, raft::FileStorage::open(config.storage_dir));
  MQ_ASSIGN_OR_RETURN(raft::PersistentState state, storage->load());
  const bool state_has_recorded_set = state.snapshot && !state.snapshot->membership.empty();
  if (state.snapshot) {
    Status restored = state_machine.restore(state.snapshot->index, state.snapshot->data);
    if (!restored) {
      return Status(restored.code(), "quorum: restoring the state machine from the snapshot at " +
                                         std::to_string(state.snapshot->index) + ": " +
                                         restored.message());
    }
    ++counters.snapshots_restored;
  }
  std::string doing = "binding " + config.listen_endpoint;
  try {
    context = std::make_unique<zmq::context_t>(1);
    router.emplace(*context, zmq::socket_type::router);
    router->set(zmq::sockopt::linger, 0);
    router->set(zmq::sockopt::maxmsgsize, config.max_message_bytes);
    router->set(zmq::sockopt::sndhwm, config.send_queue_messages);
    router->set(zmq::sockopt::rcvhwm, config.send_queue_messages * 4);
    router->set(zmq::sockopt::router_mandatory, 1);
    router->bind(bind_address(config.listen_endpoint));
    endpoint = router->get(zmq::sockopt::last_endpoint);
    for (const auto* members : {&config.voters, &config.observers}) {
      for (const auto& [id, peer_endpoint] : *members) {
        if (id == config.id) continue;
        doing = "connecting to node " + std::to_string(id) + " at " + peer_endpoint;
        connect_dealer(id, peer_endpoint);
      }
    }
  } catch (const zmq::error_t& error) {
    close_sockets();
    return Status(ErrorCode::kNetworkError, "quorum: " + doing + ": " + error.what());
  }
  // A dynamic observer announces the endpoint it is bound to, with the port
  // ZeroMQ picked if it asked for port 0.
  raft::RaftConfig raft_config = config.raft_config();
  raft_config.address = endpoint;
  raft_config.directory_id = storage->directory_id();
  Result<raft::RaftNode> created = raft::RaftNode::create(raft_config, std::move(state));
  if (!created) {
    close_sockets();
    return created.status();
  }
  node.emplace(std::move(created).value());
  try {
    connect_voters();  // the voters the log records, beyond the static ones
  } catch (const zmq::error_t& error) {
    close_sockets();
    return Status(ErrorCode::kNetworkError, std::string("quorum: connecting: ") + error.what());
  }
  published_term = node->term();
  next_tick = Clock::now() + std::chrono::milliseconds(config.tick_ms);
  mailbox->open();
  publish_status(true);
  spdlog::info(
      "quorum: node {} ({}) listening on {}, voters {}{}, {} observers, storage {} (directory {})",
      config.id,
      node->is_voter()              ? "voter"
      : node->is_dynamic_observer() ? "dynamic observer"
                                    : "observer",
      endpoint, node->membership().describe(),
      node->membership_index() > 0 || state_has_recorded_set ? " (recorded in the log)" : "",
      config.observers.size(), config.storage_dir, storage->directory_id());
  thread = std::thread([this] { run(); });
  return Status::ok();
}

void QuorumService::Impl::stop() {
  if (thread.joinable() && !stop_requested) {
    resign_requested = true;
    mailbox->wake();
    // Bounded by hand_over_leadership()'s own limit; this wait is a backstop.
    auto deadline = Clock::now() + std::chrono::milliseconds(2 * config.election_timeout_ms);
    while (!stop_requested && !loop_ended && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  stop_requested = true;
  mailbox->wake();
  if (thread.joinable()) thread.join();
  context.reset();
}

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
  dealer.connect(peer_endpoint);
  dealers.insert_or_assign(id, std::move(dealer));
  dealer_endpoints.insert_or_assign(id, peer_endpoint);
  dealers_changed = true;
}

// An ObserverHello reached this node: a voter connects to the sender's
// announced endpoint so that, as leader, it can replicate to it. The raft
// node decides whether to replicate.
Status QuorumService::Impl::accept_hello(NodeId from, const std::string& address) {
  if (from < 0 || from == config.id) {
    return Status(ErrorCode::kInvalidRequest, "node " + std::to_string(from) + " is this node");
  }
  // A listed node announces itself while it has an empty log and no leader
  // (it cannot tell whether it is still listed); only the leader connects
  // to the others (voters pass the hello on to it).
  if (is_listed(from) || node->role() != raft::Role::kLeader) return Status::ok();
  MQ_RETURN_IF_ERROR(check_endpoint(address, false));
  if (address == endpoint) return Status(ErrorCode::kInvalidRequest, "it announces our endpoint");
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

void QuorumService::Impl::run() {
  thread_id = std::this_thread::get_id();
  std::vector<zmq::pollitem_t> items;
  dealers_changed = true;
  while (!stop_requested) {
    if (dealers_changed) {
      // Dynamic observers come and go.
      items.clear();
      items.push_back({router->handle(), 0, ZMQ_POLLIN, 0});
      for (auto& [id, dealer] : dealers) items.push_back({dealer.handle(), 0, ZMQ_POLLIN, 0});
      items.push_back({nullptr, mailbox->fd(), ZMQ_POLLIN, 0});
      dealers_changed = false;
    }
    Clock::time_point wake_at = next_tick;
    for (const auto& [id, call] : calls) wake_at = std::min(wake_at, call.deadline);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - Clock::now());
    try {
      zmq::poll(items.data(), items.size(), std::max(wait, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t& error) {
      if (error.num() == EINTR) continue;
      fail_service(Status(ErrorCode::kNetworkError, std::string("quorum: poll: ") + error.what()));
      break;
    }
    if (!iterate()) break;
  }
  loop_ended = true;
  shutdown();
}

bool QuorumService::Impl::iterate() {
  std::vector<Command> commands = mailbox->take();
  for (Command& command : commands) process(command);
  receive_from_members();
  receive_replies();
  Clock::time_point now = Clock::now();
  if (now >= next_tick) {
    node->tick();
    next_tick += std::chrono::milliseconds(config.tick_ms);
    // A loop held up (a slow fsync) does not make up the ticks it missed in
    // a burst, which could fire elections that no silence justified.
    if (next_tick <= now) next_tick = now + std::chrono::milliseconds(config.tick_ms);
  }
  if (resign_requested) hand_over_leadership(now);
  update_leadership();
  if (!handle_ready()) return false;
  expire_calls(Clock::now());
  forget_dynamic_observers(Clock::now());
  publish_status(true);
  return true;
}

// While stopping: a leader hands its leadership to a voter with its whole
// log (TimeoutNow) and stops once another leader is heard from; a node that
// does not lead stops at once. Gives up after half an election timeout (the
// target may have stopped too): the others then elect a leader as they would
// have without the handover.
void QuorumService::Impl::hand_over_leadership(Clock::time_point now) {
  if (!resign_started) resign_started = now;
  bool out_of_time =
      now - *resign_started >= std::chrono::milliseconds(config.election_timeout_ms / 2);
  if (node->role() == raft::Role::kLeader && !out_of_time) {
    Result<NodeId> target = node->transfer_leadership();
    if (target.is_ok()) {
      handed_to = *target;
      spdlog::info("quorum: node {} stops: handing the leadership to node {}", config.id, *target);
      return;  // TimeoutNow goes out with this iteration's ready
    }
    if (target.code() != ErrorCode::kNotEnoughReplicas) return;  // nobody caught up: next time
    out_of_time = true;  // no quorum would be left to lead: stop as the leader
  }
  bool new_leader = node->leader() != raft::kNoNode && node->leader() != config.id;
  if (handed_to == raft::kNoNode || new_leader || out_of_time) {
    if (handed_to != raft::kNoNode) {
      spdlog::info("quorum: node {} stops: {}", config.id,
                   new_leader ? "node " + std::to_string(node->leader()) + " leads"
                              : std::string("no new leader heard of in time"));
    }
    stop_requested = true;
  }
}

void QuorumService::Impl::process(Command& command) {
  if (auto* propose_command = std::get_if<ProposeCommand>(&command)) {
    propose(*propose_command);
  } else if (auto* call = std::get_if<CallCommand>(&command)) {
    start_call(*call);
  } else if (auto* change = std::get_if<VoterChangeCommand>(&command)) {
    change_voters(*change);
  } else {
    auto& reply = std::get<ReplyCommand>(command);
    send_reply(reply.routing_id, reply.correlation_id, reply.result);
  }
}

void QuorumService::Impl::propose(ProposeCommand& command) {
  if (command.data.size() > config.max_entry_bytes()) {
    command.done(Status(ErrorCode::kMessageTooLarge, "quorum: a proposal of " +
                                                         std::to_string(command.data.size()) +
                                                         " bytes is above the limit of " +
                                                         std::to_string(config.max_entry_bytes())));
    return;
  }
  Result<raft::Proposal> proposal = node->propose(std::move(command.data));
  if (!proposal) {
    command.done(not_controller("node " + std::to_string(config.id) + " is not the quorum leader",
                                node->leader()));
    return;
  }
  proposals.emplace(proposal->index, PendingProposal{proposal->term, std::move(command.done)});
}

void QuorumService::Impl::change_voters(VoterChangeCommand& command) {
  if (command.endpoint) {
    Status valid = check_endpoint(*command.endpoint, false);
    if (!valid) return command.done(Status(ErrorCode::kInvalidRequest, valid.message()));
    auto announced = dynamic_observers.find(command.id);
    if (announced != dynamic_observers.end() && announced->second.endpoint != *command.endpoint) {
      return command.done(Status(ErrorCode::kInvalidRequest,
                                 "node " + std::to_string(command.id) + " listens on " +
                                     announced->second.endpoint + ", not " + *command.endpoint));
    }
  }
  Result<raft::Proposal> proposal = command.endpoint
                                        ? node->add_voter(command.id, *command.endpoint)
                                        : node->remove_voter(command.id);
  if (!proposal) {
    Status error = proposal.status();
    if (error.code() == ErrorCode::kNotLeader) {
      error = not_controller("node " + std::to_string(config.id) + " is not the quorum leader",
                             node->leader());
    }
    return command.done(error);
  }
  spdlog::info("quorum: node {}: {} voter {} at index {}; voters now {}", config.id,
               command.endpoint ? "adds" : "removes", command.id, proposal->index,
               node->membership().describe());
  proposals.emplace(proposal->index, PendingProposal{proposal->term, std::move(command.done)});
}

void QuorumService::Impl::start_call(CallCommand& command) {
  if (Clock::now() >= command.deadline) {
    command.slot->set(Status(ErrorCode::kRequestTimedOut, "controller call timed out"));
    return;
  }
  if (am_controller) {
    ++counters.calls_handled;
    std::shared_ptr<CallSlot> slot = command.slot;
    invoke_handler(std::move(command.request),
                   make_reply([slot](Result<Bytes> result) { slot->set(std::move(result)); }));
    return;
  }
  NodeId leader = node->leader();
  if (leader == raft::kNoNode || leader == config.id) {
    command.slot->set(not_controller(
        leader == config.id
            ? "node " + std::to_string(config.id) + " leads but has not applied its log yet"
            : "no quorum leader is known yet",
        leader));
    return;
  }
  auto dealer = dealers.find(leader);
  if (dealer == dealers.end()) {
    command.slot->set(not_controller("the leader is not a member", leader));
    return;
  }
  int32_t id = next_correlation_id;
  next_correlation_id =
      next_correlation_id == std::numeric_limits<int32_t>::max() ? 0 : next_correlation_id + 1;
  if (!send(dealer->second,
            encode_call_request(id, {.from = config.id, .request = std::move(command.request)}),
            nullptr)) {
    command.slot->set(Status(ErrorCode::kNetworkError, "cannot reach the leader, node " +
                                                           std::to_string(leader) + " now" +
                                                           leader_suffix(leader)));
    return;
  }
  ++counters.calls_sent;
  calls.emplace(id, OutboundCall{std::move(command.slot), leader, command.deadline});
}

void QuorumService::Impl::invoke_handler(Bytes request, ReplyFn reply) {
  if (!handler) {
    reply(Status(ErrorCode::kUnknown,
                 "node " + std::to_string(config.id) + " has no controller handler"));
    return;
  }
  handler(std::move(request), std::move(reply));
}

void QuorumService::Impl::send_reply(const std::string& routing_id, int32_t correlation_id,
                                     const Result<Bytes>& result) {
  ControllerCallResponse response;
  if (result) {
    response.response = result.value();
  } else {
    response.error_code = result.code();
    response.error_message = result.status().message();
    if (result.code() == ErrorCode::kNotController) response.leader_id = leader_in(result.status());
  }
  if (!send(*router, encode_call_response(correlation_id, response), &routing_id)) {
    spdlog::debug("quorum: node {}: the reply to call {} could not be sent (caller gone)",
                  config.id, correlation_id);
  }
}

void QuorumService::Impl::receive_from_members() {
  for (int i = 0; i < kReceiveBatch; ++i) {
    std::optional<Received> received;
    try {
      received = receive(*router);
    } catch (const zmq::error_t& error) {
      reject("quorum endpoint", error.what());
      return;
    }
    if (!received) return;
    if (received->too_many_frames) {
      reject("quorum endpoint", "a message with more than 3 frames");
      continue;
    }
    std::string routing_id(received->frames[0].as_string_view());
    auto decoded = decode_inbound(std::span(received->frames).subspan(1));
    if (!decoded) {
      reject("quorum endpoint", decoded.status().message());
      continue;
    }
    if (auto* message = std::get_if<raft::Message>(&decoded.value())) {
      on_raft_message(std::move(*message), sender_endpoint(received->frames[1]));
    } else {
      on_call(routing_id, std::move(std::get<InboundCall>(decoded.value())));
    }
  }
}

void QuorumService::Impl::on_raft_message(raft::Message message,
                                          const std::string& sender_endpoint) {
  if (const auto* hello = std::get_if<raft::ObserverHello>(&message.body);
      hello != nullptr && message.to == config.id) {
    Status accepted = accept_hello(message.from, hello->address);
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

void QuorumService::Impl::on_call(const std::string& routing_id, InboundCall call) {
  if (!is_member(call.request.from)) {
    reject("quorum endpoint",
           "ControllerCall from node " + std::to_string(call.request.from) + ", not a member");
    return;
  }
  if (!am_controller) {
    send_reply(routing_id, call.correlation_id,
               not_controller("node " + std::to_string(config.id) + " is not the controller",
                              node->leader()));
    return;
  }
  ++counters.calls_handled;
  std::shared_ptr<Mailbox> box = mailbox;
  int32_t correlation_id = call.correlation_id;
  invoke_handler(std::move(call.request.request),
                 make_reply([box, routing_id, correlation_id](Result<Bytes> result) {
                   Command command = ReplyCommand{routing_id, correlation_id, std::move(result)};
                   box->post(command);
                 }));
}

void QuorumService::Impl::receive_replies() {
  for (auto& [peer, dealer] : dealers) {
    for (int i = 0; i < kReceiveBatch; ++i) {
      std::optional<Received> received;
      try {
        received = receive(dealer);
      } catch (const zmq::error_t& error) {
        reject("connection to node " + std::to_string(peer), error.what());
        break;
      }
      if (!received) break;
      if (received->too_many_frames) {
        reject("connection to node " + std::to_string(peer), "a reply with more than 2 frames");
        continue;
      }
      Result<InboundReply> reply = decode_reply(received->frames);
      if (!reply) {
        reject("connection to node " + std::to_string(peer), reply.status().message());
        continue;
      }
      auto call = calls.find(reply->correlation_id);
      if (call == calls.end()) continue;  // timed out or failed over already
      ControllerCallResponse& response = reply->response;
      if (response.error_code == ErrorCode::kNone) {
        call->second.slot->set(std::move(response.response));
      } else {
        call->second.slot->set(
            Status(response.error_code,
                   response.error_message.value_or(std::string(error_name(response.error_code)))));
      }
      calls.erase(call);
    }
  }
}

void QuorumService::Impl::send_raft(const raft::Message& message) {
  auto dealer = dealers.find(message.to);
  if (dealer != dealers.end() &&
      send(dealer->second, encode_raft_frames(message, endpoint), nullptr)) {
    ++counters.messages_sent;
  } else {
    ++counters.messages_dropped;
  }
}

bool QuorumService::Impl::handle_ready() {
  while (node->has_ready()) {
    raft::Ready ready = node->ready();
    // 1. Durable before anything is promised to anyone.
    Status persisted = raft::persist_ready(*storage, ready);
    if (!persisted) {
      fail_service(
          Status(persisted.code(), "quorum: persisting raft state: " + persisted.message()));
      return false;
    }
    // 2. Votes and acknowledgements now describe what is on disk.
    for (const raft::Message& message : ready.messages) send_raft(message);
    // 3. The state machine follows the committed log.
    if (ready.snapshot && ready.restore_from_snapshot) {
      const raft::Snapshot& snapshot = *ready.snapshot;
      Status restored = state_machine.restore(snapshot.index, snapshot.data);
      if (!restored) {
        fail_service(Status(restored.code(), "quorum: restoring the snapshot at " +
                                                 std::to_string(snapshot.index) + ": " +
                                                 restored.message()));
        return false;
      }
      ++counters.snapshots_restored;
      fail_proposals_through(
          snapshot.index, not_controller("replaced by a snapshot from the leader", node->leader()));
    }
    for (const raft::Entry& entry : ready.committed_entries) {
      if (entry.type == raft::EntryType::kCommand) state_machine.apply(entry.index, entry.data);
      settle_proposals(entry);
    }
    // 4.
    node->advance(ready);
    try {
      connect_voters();
    } catch (const zmq::error_t& error) {
      reject("quorum endpoint", std::string("connecting to a voter: ") + error.what());
    }
    update_leadership();
    maybe_snapshot();
  }
  return true;
}

void QuorumService::Impl::settle_proposals(const raft::Entry& entry) {
  while (!proposals.empty() && proposals.begin()->first <= entry.index) {
    auto pending = proposals.extract(proposals.begin());
    if (pending.key() == entry.index && pending.mapped().term == entry.term) {
      pending.mapped().done(entry.index);
    } else {
      pending.mapped().done(not_controller(
          "entry " + std::to_string(pending.key()) + " proposed in term " +
              std::to_string(pending.mapped().term) + " was replaced by another leader's",
          node->leader()));
    }
  }
}

void QuorumService::Impl::fail_proposals_through(uint64_t index, const Status& error) {
  while (!proposals.empty() && proposals.begin()->first <= index) {
    auto pending = proposals.extract(proposals.begin());
    pending.mapped().done(error);
  }
}

void QuorumService::Impl::update_leadership() {
  const bool leading = node->role() == raft::Role::kLeader;
  const uint64_t term = node->term();
  if (leading && leader_term != term) {
    leader_term = term;
    controller_ready_index = node->log().last_index();  // its no-op, appended on election
  }
  // Proposals of a term this node no longer leads in may never commit (or
  // commit under someone else): their outcome is unknown, so they fail now
  // instead of hanging.
  if (!proposals.empty() && (!leading || proposals.begin()->second.term != term)) {
    Status lost = not_controller(
        "node " + std::to_string(config.id) + " lost the leadership before the entry committed",
        node->leader());
    for (auto it = proposals.begin(); it != proposals.end();) {
      if (leading && it->second.term == term) {
        ++it;
        continue;
      }
      auto done = std::move(it->second.done);
      it = proposals.erase(it);
      done(lost);
    }
  }
  const bool controller =
      leading && leader_term == term && node->applied_index() >= controller_ready_index;
  const NodeId leader = node->leader();
  if (term == published_term && leader == published_leader && controller == am_controller) return;
  if (leader != published_leader) {
    // Calls in flight to the old leader are retried at the new one.
    for (auto it = calls.begin(); it != calls.end();) {
      if (it->second.target == leader) {
        ++it;
        continue;
      }
      it->second.slot->set(not_controller("the leader changed", leader));
      it = calls.erase(it);
    }
  }
  published_term = term;
  published_leader = leader;
  am_controller = controller;
  spdlog::info("quorum: node {} term {} leader {}{}", config.id, term,
               leader == raft::kNoNode ? std::string("none") : std::to_string(leader),
               controller ? " (this node is the controller)" : "");
  state_machine.on_leader_change(term, leader, controller);
}

void QuorumService::Impl::maybe_snapshot() {
  const uint64_t applied = node->applied_index();
  if (applied - node->log().snapshot_index() < config.snapshot_every_entries) return;
  Status compacted = node->compact(applied, state_machine.snapshot());
  if (!compacted) {
    spdlog::error("quorum: node {}: snapshot at {}: {}", config.id, applied, compacted.message());
    return;
  }
  ++counters.snapshots_taken;
}

void QuorumService::Impl::expire_calls(Clock::time_point now) {
  for (auto it = calls.begin(); it != calls.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    it->second.slot->set(Status(
        ErrorCode::kRequestTimedOut,
        "no reply from the controller, node " + std::to_string(it->second.target) + ", in time"));
    it = calls.erase(it);
  }
}

void QuorumService::Impl::reject(std::string_view where, const std::string& why) {
  uint64_t count = ++counters.frames_rejected;
  if (count <= kRejectLogFirst || count % kRejectLogEvery == 0) {
    spdlog::warn("quorum: node {}: dropped a message on the {} ({} so far): {}", config.id, where,
                 count, why);
  }
}

void QuorumService::Impl::fail_service(const Status& error) {
  spdlog::critical("quorum: node {} stops: {}", config.id, error.to_string());
  std::lock_guard lock(status_mutex);
  failure = error;
}

void QuorumService::Impl::shutdown() {
  Status stopped = not_controller("the quorum service stopped", raft::kNoNode);
  {
    std::lock_guard lock(status_mutex);
    if (!failure.is_ok()) stopped = failure;
  }
  std::vector<Command> leftover = mailbox->close();
  for (Command& command : leftover) {
    if (auto* propose_command = std::get_if<ProposeCommand>(&command)) {
      propose_command->done(stopped);
    } else if (auto* call = std::get_if<CallCommand>(&command)) {
      call->slot->set(stopped);
    } else if (auto* change = std::get_if<VoterChangeCommand>(&command)) {
      change->done(stopped);
    }
  }
  fail_proposals_through(std::numeric_limits<uint64_t>::max(), stopped);
  for (auto& [id, call] : calls) call.slot->set(stopped);
  calls.clear();
  if (am_controller) {
    am_controller = false;
    state_machine.on_leader_change(node->term(), node->leader(), false);
  }
  close_sockets();
  publish_status(false);
}

void QuorumService::Impl::publish_status(bool running) {
  QuorumStatus status;
  status.id = config.id;
  status.voter = node->is_voter();
  status.directory_id = storage->directory_id();
  status.voters = node->membership().voters;
  status.voters_recorded_at = node->membership_index();
  status.running = running;
  status.role = node->role();
  status.term = node->term();
  status.leader = node->leader();
  status.am_controller = am_controller;
  status.commit_index = node->commit_index();
  status.applied_index = node->applied_index();
  status.snapshot_index = node->log().snapshot_index();
  status.last_log_index = node->log().last_index();
  for (const raft::MemberStatus& member : node->members()) {
    status.members.push_back(MemberProgress{
        .id = member.id,
        .voter = member.voter,
        .directory_id = member.directory_id,
        .directory_mismatch = member.directory_mismatch,
        .dynamic = member.dynamic,
        .match_index = member.match_index,
        .lag = status.last_log_index - std::min(member.match_index, status.last_log_index),
        .state = member.state,
        .recent_active = member.recent_active,
        .heard_ms_ago = member.ticks_since_heard >= raft::Progress::kNeverHeard
                            ? -1
                            : int64_t{member.ticks_since_heard} * config.tick_ms});
  }
  std::sort(status.members.begin(), status.members.end(),
            [](const MemberProgress& a, const MemberProgress& b) { return a.id < b.id; });
  status.counters = counters;
  std::lock_guard lock(status_mutex);
  published = std::move(status);
}

// ---- QuorumService -----------------------------------------------------------

QuorumService::QuorumService(QuorumConfig config, StateMachine& state_machine)
    : impl_(std::make_unique<Impl>(std::move(config), state_machine)) {
  impl_->published.id = impl_->config.id;
  impl_->published.voter = impl_->config.is_voter();
}

QuorumService::~QuorumService() {
  stop();
}

void QuorumService::set_controller_handler(ControllerHandler handler) {
  std::lock_guard lock(impl_->lifecycle_mutex);
  if (!impl_->started) impl_->handler = std::move(handler);
}

Status QuorumService::start() {
  std::lock_guard lock(impl_->lifecycle_mutex);
  if (impl_->started) return Status(ErrorCode::kInvalidRequest, "quorum: already started");
  impl_->started = true;
  return impl_->start();
}

void QuorumService::stop() {
  if (std::this_thread::get_id() == impl_->thread_id.load()) {
    // From a callback on the quorum thread: it leaves its loop after this
    // iteration; joining it is left to a later stop() or the destructor.
    impl_->stop_requested = true;
    return;
  }
  std::lock_guard lock(impl_->lifecycle_mutex);
  impl_->stop();
}

NodeId QuorumService::id() const {
  return impl_->config.id;
}

const std::string& QuorumService::endpoint() const {
  return impl_->endpoint;
}

void QuorumService::propose(Bytes data, std::function<void(Result<uint64_t>)> done) {
  Command command = ProposeCommand{std::move(data), std::move(done)};
  if (!impl_->mailbox->post(command)) {
    std::get<ProposeCommand>(command).done(
        not_controller("the quorum service is not running", raft::kNoNode));
  }
}

void QuorumService::add_voter(NodeId id, std::string endpoint,
                              std::function<void(Result<uint64_t>)> done) {
  Command command = VoterChangeCommand{id, std::move(endpoint), std::move(done)};
  if (!impl_->mailbox->post(command)) {
    std::get<VoterChangeCommand>(command).done(
        not_controller("the quorum service is not running", raft::kNoNode));
  }
}

void QuorumService::remove_voter(NodeId id, std::function<void(Result<uint64_t>)> done) {
  Command command = VoterChangeCommand{id, std::nullopt, std::move(done)};
  if (!impl_->mailbox->post(command)) {
    std::get<VoterChangeCommand>(command).done(
        not_controller("the quorum service is not running", raft::kNoNode));
  }
}

std::future<Result<uint64_t>> QuorumService::propose(Bytes data) {
  auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> future = promise->get_future();
  propose(std::move(data),
          [promise](Result<uint64_t> result) { promise->set_value(std::move(result)); });
  return future;
}

Result<Bytes> QuorumService::call_leader(Bytes request, std::chrono::milliseconds timeout) {
  if (std::this_thread::get_id() == impl_->thread_id.load()) {
    return Status(ErrorCode::kInvalidRequest,
                  "quorum: call_leader on the quorum thread would wait on itself");
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  // Between attempts at a leader that is not known or not ready yet.
  auto backoff = std::chrono::milliseconds(5);
  const auto max_backoff = std::chrono::milliseconds(impl_->config.tick_ms);
  while (true) {
    auto slot = std::make_shared<CallSlot>();
    Command command = CallCommand{request, slot, deadline};
    if (!impl_->mailbox->post(command)) {
      return not_controller("the quorum service is not running", raft::kNoNode);
    }
    // The quorum thread settles every call by its deadline; the margin only
    // covers one loop iteration.
    std::optional<Result<Bytes>> result =
        slot->wait_until(deadline + std::chrono::milliseconds(impl_->config.tick_ms + 100));
    if (!result) {
      return Status(ErrorCode::kRequestTimedOut, "controller call timed out");
    }
    const ErrorCode code = result->code();
    const bool retry = code == ErrorCode::kNotController || code == ErrorCode::kNetworkError;
    if (!retry || Clock::now() + backoff >= deadline) return std::move(*result);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, max_backoff);
  }
}

QuorumStatus QuorumService::status() const {
  std::lock_guard lock(impl_->status_mutex);
  QuorumStatus out = impl_->published;
  if (impl_->leader_heard != raft::kNoNode) {
    out.last_leader_heard = impl_->leader_heard;
    out.last_leader_silence_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - impl_->leader_heard_at)
            .count();
  }
  return out;
}

Status QuorumService::failure() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->failure;
}

}  // namespace mq::quorum
