// The heartbeat loop: one Heartbeat per interval for the posted member, over
// the thread's own connection to the coordinator.
#include "client/heartbeat_thread.h"

#include <algorithm>
#include <chrono>

#include "client/clock.h"
#include "client/coordinator.h"
#include "transport/connection.h"
#include "transport/group_membership.h"

namespace mq::client {
namespace {

// The thread's connection, reopened when the coordinator's endpoint changes
// or a call on it failed.
class CoordinatorLink {
 public:
  CoordinatorLink(std::string client_id, int timeout_ms, transport::CurveClient curve)
      : client_id_(std::move(client_id)), timeout_ms_(timeout_ms), curve_(std::move(curve)) {}

  template <class Request>
  Result<typename Request::Response> call(const std::string& endpoint, const Request& request,
                                          int timeout_ms) {
    if (connection_ == nullptr || connection_->endpoint() != endpoint) {
      connection_.reset();
      MQ_ASSIGN_OR_RETURN(connection_,
                          transport::Connection::connect(endpoint, {.client_id = client_id_,
                                                                    .send_timeout_ms = timeout_ms_,
                                                                    .curve = curve_}));
      Status negotiated = connection_->negotiate_versions(timeout_ms).status();
      if (!negotiated.is_ok()) {
        connection_.reset();
        return negotiated;
      }
    }
    Result<typename Request::Response> response = connection_->call(request, timeout_ms);
    if (!response.is_ok()) connection_.reset();
    return response;
  }

 private:
  std::string client_id_;
  int timeout_ms_;
  transport::CurveClient curve_;
  std::unique_ptr<transport::Connection> connection_;
};

}  // namespace

HeartbeatThread::HeartbeatThread(HeartbeatSettings settings)
    : settings_(std::move(settings)), last_poll_ms_(steady_ms()), thread_([this] { run(); }) {}

HeartbeatThread::~HeartbeatThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HeartbeatThread::beat(const std::string& endpoint, int32_t generation_id,
                           const std::string& member_id) {
  {
    std::lock_guard lock(mu_);
    member_ = Member{endpoint, generation_id, member_id};
    ++member_version_;
    last_success_ms_ = steady_ms();
    event_.reset();
  }
  wake_.notify_all();
}

void HeartbeatThread::pause() {
  std::lock_guard lock(mu_);
  member_.reset();
  ++member_version_;
}

void HeartbeatThread::note_poll() {
  std::lock_guard lock(mu_);
  last_poll_ms_ = steady_ms();
}

std::optional<HeartbeatThread::Event> HeartbeatThread::take_event() {
  std::lock_guard lock(mu_);
  return std::exchange(event_, std::nullopt);
}

int64_t HeartbeatThread::heartbeats_sent() const {
  std::lock_guard lock(mu_);
  return heartbeats_ok_;
}

void HeartbeatThread::run() {
  CoordinatorLink link(settings_.client_id, settings_.request_timeout_ms, settings_.curve);
  std::unique_lock lock(mu_);
  int64_t next_beat_ms = 0;
  uint64_t version_seen = member_version_;
  while (!stop_) {
    if (member_version_ != version_seen) {
      version_seen = member_version_;
      next_beat_ms = 0;  // a new generation's first heartbeat goes out at once
    }
    int64_t now = steady_ms();
    if (!member_ || now < next_beat_ms) {
      auto wait = member_ ? std::chrono::milliseconds(next_beat_ms - now)
                          : std::chrono::milliseconds(settings_.heartbeat_interval_ms);
      wake_.wait_for(lock, wait);
      continue;
    }
    Member member = *member_;
    uint64_t version = member_version_;
    bool poll_expired = now - last_poll_ms_ > settings_.max_poll_interval_ms;
    // A request takes at most a heartbeat interval, so a dead coordinator is
    // noticed well within the session timeout.
    int timeout_ms = std::min(settings_.request_timeout_ms, settings_.heartbeat_interval_ms);
    lock.unlock();
    Status status;
    if (poll_expired) {
      // The application stopped polling: leave, so the group moves the
      // partitions now instead of waiting for a rebalance timeout.
      transport::LeaveGroupRequest request{.group_id = settings_.group_id};
      request.members.push_back(
          {.member_id = member.member_id, .group_instance_id = settings_.group_instance_id});
      (void)link.call(member.endpoint, request, timeout_ms);
    } else {
      Result<transport::HeartbeatResponse> response =
          link.call(member.endpoint,
                    transport::HeartbeatRequest{.group_id = settings_.group_id,
                                                .generation_id = member.generation_id,
                                                .member_id = member.member_id,
                                                .group_instance_id = settings_.group_instance_id},
                    timeout_ms);
      status = response.is_ok() && response->error_code != ErrorCode::kNone
                   ? Status(response->error_code,
                            "heartbeat of member " + member.member_id + " (generation " +
                                std::to_string(member.generation_id) +
                                "): " + std::string(error_name(response->error_code)))
                   : response.status();
    }
    lock.lock();
    now = steady_ms();
    next_beat_ms = now + settings_.heartbeat_interval_ms;
    if (version != member_version_ || stop_) continue;  // the consumer moved on meanwhile
    if (poll_expired) {
      event_ = Event{
          EventKind::kLeftGroup,
          Status(ErrorCode::kUnknownMemberId, "poll() was not called for max_poll_interval_ms (" +
                                                  std::to_string(settings_.max_poll_interval_ms) +
                                                  " ms): the member left the group")};
      member_.reset();
    } else if (status.is_ok()) {
      last_success_ms_ = now;
      ++heartbeats_ok_;
    } else if (status.code() == ErrorCode::kRebalanceInProgress) {
      // The coordinator heard us and the generation is still ours until the
      // join phase ends: keep beating until the consumer rejoins (pause()),
      // or the member would be expired at its session timeout meanwhile.
      last_success_ms_ = now;
      event_ = Event{EventKind::kRebalance, status};
    } else if (is_fencing_error(status.code()) || status.code() == ErrorCode::kFencedInstanceId) {
      event_ = Event{EventKind::kFenced, status};
      member_.reset();
    } else if (now - last_success_ms_ > settings_.session_timeout_ms) {
      event_ = Event{EventKind::kSessionLost,
                     Status(status.code(), "no heartbeat answered within session_timeout_ms (" +
                                               std::to_string(settings_.session_timeout_ms) +
                                               " ms); last error: " + status.to_string())};
      member_.reset();
    } else if (is_coordinator_error(status.code()) || status.code() == ErrorCode::kNetworkError ||
               status.code() == ErrorCode::kRequestTimedOut) {
      // Keep beating at the old address until the consumer finds the new one.
      event_ = Event{EventKind::kCoordinatorLost, status};
      next_beat_ms = now + std::min(settings_.heartbeat_interval_ms, 100);
    }
  }
}

}  // namespace mq::client
