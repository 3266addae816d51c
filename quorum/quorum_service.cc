// The quorum thread: polls the ROUTER, the DEALERs and a wakeup eventfd,
// ticks the RaftNode, steps what arrives and handles each Ready in the
// documented order (persist, send, restore/apply, advance); proposals,
// voter changes, status and the public QuorumService.
#include <cerrno>
#include <cstring>
#include <limits>

#include "quorum/service_impl.h"

namespace mq::quorum {

Status QuorumService::Impl::start() {
  MQ_RETURN_IF_ERROR(validate(config));
  if (mailbox->fd() < 0) {
    return Status(ErrorCode::kUnknown, std::string("quorum: eventfd: ") + std::strerror(errno));
  }
  MQ_ASSIGN_OR_RETURN(storage, raft::FileStorage::open(config.storage_dir));
  MQ_ASSIGN_OR_RETURN(raft::PersistentState state, storage->load());
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
    if (Status curve = transport::apply_curve_server(router->handle(), config.curve_server);
        !curve.is_ok()) {
      close_sockets();
      return Status(curve.code(), "quorum: " + curve.message());
    }
    if (config.authenticator) {
      Result<std::unique_ptr<transport::ZapDomain>> zap_domain =
          transport::ZapDomain::open(*context, config.authenticator);
      if (!zap_domain.is_ok()) {
        close_sockets();
        return Status(zap_domain.code(), "quorum: " + zap_domain.status().message());
      }
      zap = std::move(zap_domain).value();
      router->set(zmq::sockopt::zap_domain, zap->name());
    }
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
  advertised = advertised_endpoint(config, endpoint);
  raft::RaftConfig raft_config = config.raft_config();
  raft_config.address = advertised;
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
      "quorum: node {} ({}) listening on {}, voters {}, {} observers, storage {} (directory {})",
      config.id,
      node->is_voter()              ? "voter"
      : node->is_dynamic_observer() ? "dynamic observer"
                                    : "observer",
      endpoint, node->membership().describe(), config.observers.size(), config.storage_dir,
      storage->directory_id());
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
  zap.reset();
  context.reset();
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
