// The messages of the quorum endpoint (docs/protocol.md §16). Every message
// is two ZeroMQ frames, the project's request or response header (transport/
// header.h) and a body; members send from a DEALER to each other's ROUTER.
//
//   Raft message (one-way)            header: api_key = raft::api_key(message)
//     frame 0  request header           (200 Vote, 202 AppendEntries,
//     frame 1  raft::encode_message      203 InstallSnapshot), version 0,
//                                        correlation_id 0, flags kNoResponse,
//                                        client_id "quorum-<from>"
//
//   ControllerCall request            ControllerCall response (ROUTER -> DEALER)
//     frame 0  request header           frame 0  response header
//              api_key 206, version 0,           api_key 206, version 0,
//              correlation_id >= 0               correlation_id echoed
//     frame 1  from     int32                frame 1  error_code    int16
//              request  bytes                         error_message nullable string
//                                                     leader_id     int32 (-1 unknown)
//                                                     response      bytes
//
// Decoding never throws and never trusts a length: anything that does not
// fit is an error naming what was wrong, and the service drops the message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "quorum/quorum_config.h"
#include "raft/messages.h"
#include "transport/frame.h"

namespace mq::quorum {

struct ControllerCallRequest {
  NodeId from = raft::kNoNode;  // the calling member
  Bytes request;                // the application's bytes

  bool operator==(const ControllerCallRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("from", m.from);
    c("request", m.request);
  }
};

struct ControllerCallResponse {
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  NodeId leader_id = raft::kNoNode;  // NOT_CONTROLLER: the leader the callee knows of
  Bytes response;                    // the application's bytes when error_code is NONE

  bool operator==(const ControllerCallResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("leader_id", m.leader_id);
    c("response", m.response);
  }
};

struct InboundCall {
  int32_t correlation_id = 0;
  ControllerCallRequest request;
};

struct InboundReply {
  int32_t correlation_id = 0;
  ControllerCallResponse response;
};

// Raft messages travel at api version raft::kMessageVersion (0 is still
// read). The header's client id is "quorum-<from>", followed by " <endpoint>"
// when the sender gives where it listens: a node that does not know the
// sender yet (a voter added after its log ends) answers there.
transport::Frames encode_raft_frames(const raft::Message& message,
                                     std::string_view sender_endpoint = {},
                                     int16_t version = raft::kMessageVersion);
// The endpoint a raft message's header names, or "" (none, or not tcp://host:port).
std::string sender_endpoint(const transport::Frame& header);
transport::Frames encode_call_request(int32_t correlation_id, const ControllerCallRequest& request);
transport::Frames encode_call_response(int32_t correlation_id,
                                       const ControllerCallResponse& response);

// What arrives on the ROUTER, without the routing id: a raft message or a
// ControllerCall request. kInvalidRequest saying what was wrong otherwise
// (frame count, header, api key or version, flags, body, a raft message on
// the wrong api key).
Result<std::variant<raft::Message, InboundCall>> decode_inbound(
    std::span<const transport::Frame> frames);

// What arrives on a DEALER: a ControllerCall response. A response header
// carrying a request-level error becomes a response with that error and no
// body. kCorruptMessage saying what was wrong otherwise.
Result<InboundReply> decode_reply(std::span<const transport::Frame> frames);

}  // namespace mq::quorum
