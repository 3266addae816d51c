// The inside of QuorumService, shared by the files that implement it:
// quorum_service.cc (the quorum thread: raft driver, proposals, voter
// changes, status), quorum_peers.cc (the ROUTER and DEALERs: members,
// dynamic observers, raft messages in and out) and quorum_calls.cc (the
// controller-call RPC). Not for use outside quorum/.
#pragma once

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "quorum/quorum_service.h"
#include "quorum/wire.h"
#include "raft/file_storage.h"
#include "transport/zap.h"
#include "transport/zmq_frames.h"

namespace mq::quorum {
namespace detail {

using Clock = std::chrono::steady_clock;
using transport::Frame;
using transport::Frames;

// Messages and replies read per socket per loop iteration, so a flood on one
// socket cannot hold off ticks and the others for long.
constexpr int kReceiveBatch = 256;
// Rejected frames logged one by one before only every kRejectLogEvery-th is.
constexpr uint64_t kRejectLogFirst = 10;
constexpr uint64_t kRejectLogEvery = 1000;

inline std::string leader_suffix(NodeId leader) {
  return leader == raft::kNoNode ? " (leader: none)" : " (leader: " + std::to_string(leader) + ")";
}

inline Status not_controller(const std::string& why, NodeId leader) {
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

inline ReplyFn make_reply(std::function<void(Result<Bytes>)> deliver) {
  auto once = std::make_shared<ReplyOnce>(std::move(deliver));
  return [once](Result<Bytes> result) { (*once)(std::move(result)); };
}

// One whole multipart message if one is waiting (transport/zmq_frames.h, no
// wait, frames not copied); one of more than `max_frames` frames comes back
// with limit_error set.
Result<std::optional<transport::ReceivedMessage>> receive(zmq::socket_t& socket, size_t max_frames);
// Never blocks: false if the peer is unknown or unreachable, or its queue is full.
bool send(zmq::socket_t& socket, const Frames& frames, const std::string* routing_id);

// ZeroMQ binds an ephemeral port for "*"; port 0 means the same here.
inline std::string bind_address(const std::string& endpoint) {
  if (endpoint.ends_with(":0")) return endpoint.substr(0, endpoint.size() - 1) + "*";
  return endpoint;
}

}  // namespace detail

// This header is included only by quorum/'s own implementation files.
using namespace detail;  // NOLINT(google-build-using-namespace)

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
  void invoke_handler(NodeId from, Bytes request, ReplyFn reply);
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
  Status accept_hello(NodeId from, const raft::ObserverHello& hello);
  void forget_dynamic_observers(Clock::time_point now);
  // In the voter set in effect (the log's, else the static one) or an observer.
  bool is_listed(NodeId id) const { return id != config.id && node->is_listed(id); }
  // Listed, or a dynamic observer that announced itself to this node.
  bool is_member(NodeId id) const { return is_listed(id) || dynamic_observers.contains(id); }

  QuorumConfig config;
  StateMachine& state_machine;
  ControllerHandler handler;
  std::string endpoint;    // bound, with the port ZeroMQ picked for port 0
  std::string advertised;  // where the members reach this node (advertised_endpoint)
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
  std::unique_ptr<transport::ZapDomain> zap;  // the router's authentication, if on
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

}  // namespace mq::quorum
