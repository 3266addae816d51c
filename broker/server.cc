// Server: the network thread's loop.
#include "broker/server.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <chrono>

namespace mq::broker {

using Clock = std::chrono::steady_clock;

namespace {
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
}  // namespace

Server::~Server() {
  stop(0);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Server::bind(const ServerOptions& options) {
  options_ = options;
  set_limits(options.buffer_memory_bytes, options.max_inflight_requests, options.max_connections);
  transport::ListenerOptions listener_options;
  listener_options.endpoint = options.endpoint;
  listener_options.max_message_bytes = options.max_request_bytes;
  listener_options.max_connections = options.max_connections;
  listener_options.curve = options.curve;
  listener_options.authenticator = options.authenticator;
  MQ_ASSIGN_OR_RETURN(listener_, transport::Listener::bind(listener_options));
  endpoint_ = listener_->endpoint();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status(ErrorCode::kUnknown, "eventfd failed");
  return Status::ok();
}

void Server::serve() {
  running_ = true;
  last_loop_ns_ = now_ns();
  thread_ = std::thread([this] { loop(); });
}

void Server::stop(int64_t timeout_ms) {
  if (!running_.exchange(false)) return;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  // Requests already on their way (a producer's pipelined batches) are
  // still read and answered, after a controlled shutdown with NOT_LEADER
  // and the new leader, instead of being lost with the connection: reading
  // stops once nothing came and nothing is in flight for kQuiet, or after
  // kMaxGrace.
  constexpr auto kQuiet = std::chrono::milliseconds(20);
  constexpr auto kMaxGrace = std::chrono::milliseconds(300);
  auto grace_end = std::min(deadline, Clock::now() + kMaxGrace);
  while (Clock::now() < grace_end) {
    bool quiet = now_ns() - last_request_ns_.load() >=
                     std::chrono::duration_cast<std::chrono::nanoseconds>(kQuiet).count() &&
                 in_flight_requests_.load() == 0;
    if (quiet) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // From here on what still arrives is answered at once with a retriable
  // error (the client asks another broker) while the requests in flight
  // finish; only then does reading stop and the socket close.
  handler_.refuse_new_requests();
  while (in_flight_requests_.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  accepting_ = false;
  if (in_flight_requests_.load() > 0) {
    spdlog::warn("shutting down with {} request(s) still in flight", in_flight_requests_.load());
  }
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  listener_.reset();
  int fd;
  {
    // Late replies (a long poll finishing after this) check the fd under the lock.
    std::lock_guard lock(outbound_mu_);
    fd = wake_fd_;
    wake_fd_ = -1;
  }
  if (fd >= 0) ::close(fd);
}

double Server::seconds_since_last_loop() const {
  return static_cast<double>(now_ns() - last_loop_ns_.load()) / 1e9;
}

void Server::send_ready_responses() {
  std::deque<Outbound> ready;
  {
    std::lock_guard lock(outbound_mu_);
    ready.swap(outbound_);
  }
  for (auto& out : ready) {
    int64_t bytes = out.request_bytes + static_cast<int64_t>(transport::total_size(out.frames));
    if (!out.frames.empty()) {
      Status st = listener_->send_to(out.peer, std::move(out.frames));
      if (!st.is_ok()) spdlog::debug("response dropped: {}", st.to_string());
    }
    buffered_bytes_ -= bytes;
    in_flight_requests_--;
    // The peer's next request may start now.
    auto it = peers_.find(out.peer);
    if (it == peers_.end()) continue;
    if (it->second.empty()) {
      peers_.erase(it);
    } else {
      transport::InboundRequest next = std::move(it->second.front().first);
      int64_t next_bytes = it->second.front().second;
      it->second.pop_front();
      dispatch(std::move(next), next_bytes);
    }
  }
}

void Server::dispatch(transport::InboundRequest request, int64_t bytes) {
  std::string peer = request.peer;
  scheduler_.run([this, request = std::move(request), peer, bytes]() mutable {
    handler_.handle(std::move(request), [this, peer, bytes](transport::Frames frames) {
      std::lock_guard lock(outbound_mu_);
      if (wake_fd_ < 0) return;  // stopped: nobody will send it
      buffered_bytes_ += static_cast<int64_t>(transport::total_size(frames));
      outbound_.push_back({peer, std::move(frames), bytes});
      uint64_t one = 1;
      (void)::write(wake_fd_, &one, sizeof(one));
    });
  });
}

void Server::update_connection_metrics() {
  const transport::ListenerStats& now = listener_->stats();
  if (now.connections_refused > connections_seen_.connections_refused) {
    spdlog::warn("refused {} connection(s): limits.max_connections = {} are open",
                 now.connections_refused - connections_seen_.connections_refused,
                 connection_limit_.load());
  }
  metrics_.update_connections(now.connections_open,
                              now.connections_accepted - connections_seen_.connections_accepted,
                              now.connections_refused - connections_seen_.connections_refused);
  connections_seen_ = now;
}

bool Server::has_room() const {
  return buffered_bytes_.load() < buffer_limit_.load() &&
         in_flight_requests_.load() < inflight_limit_.load();
}

void Server::loop() {
  while (!stopping_.load()) {
    last_loop_ns_ = now_ns();
    bool can_read = accepting_.load() && has_room();
    zmq_pollitem_t items[3] = {
        {listener_->native_handle(), 0, static_cast<short>(can_read ? ZMQ_POLLIN : 0), 0},
        {nullptr, wake_fd_, ZMQ_POLLIN, 0},
        {listener_->connection_events_handle(), 0, ZMQ_POLLIN, 0}};
    int rc = zmq_poll(items, 3, 100);
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      spdlog::error("zmq_poll: {}", zmq_strerror(zmq_errno()));
      continue;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      uint64_t count;
      (void)::read(wake_fd_, &count, sizeof(count));
    }
    if (items[2].revents & ZMQ_POLLIN) {
      listener_->set_max_connections(connection_limit_.load());
      listener_->process_connection_events();
      update_connection_metrics();
    }
    send_ready_responses();
    uint64_t rejected = listener_->stats().requests_rejected;
    if (rejected > rejected_seen_) {
      metrics_.add_rejected_requests(rejected - rejected_seen_);
      rejected_seen_ = rejected;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    // Drain what is readable now, within the memory budget.
    for (int i = 0; i < 256 && has_room(); i++) {
      Result<std::optional<transport::InboundRequest>> received = listener_->receive(0);
      if (!received.is_ok()) {
        spdlog::warn("receive: {}", received.status().to_string());
        break;
      }
      if (!received->has_value()) break;
      transport::InboundRequest request = std::move(**received);
      last_request_ns_ = now_ns();
      int64_t bytes =
          static_cast<int64_t>(request.body.size() + transport::total_size(request.records));
      buffered_bytes_ += bytes;
      in_flight_requests_++;
      // One request per peer at a time, in arrival order (as Kafka does per
      // connection): a producer's pipelined batches must reach the log in the
      // order it sent them, whatever worker picks them up.
      auto [it, idle] = peers_.try_emplace(request.peer);
      if (idle) {
        dispatch(std::move(request), bytes);
      } else {
        it->second.emplace_back(std::move(request), bytes);
      }
    }
  }
  send_ready_responses();
}

}  // namespace mq::broker
