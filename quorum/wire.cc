// Encoding and decoding of the quorum endpoint's messages.
#include "quorum/wire.h"

#include <vector>

#include "transport/codec.h"
#include "transport/header.h"

namespace mq::quorum {
namespace {

using transport::ApiKey;
using transport::Frame;
using transport::Frames;

constexpr std::string_view kClientIdPrefix = "quorum-";

// "quorum-<id>", and " <endpoint>" when the sender says where it listens.
std::string client_id(NodeId from, std::string_view endpoint) {
  std::string id = std::string(kClientIdPrefix) + std::to_string(from);
  if (!endpoint.empty()) id += " " + std::string(endpoint);
  return id;
}

// Headers of our own making always encode: the client id is short.
Frame request_header(ApiKey key, int16_t version, int32_t correlation_id, uint16_t flags,
                     NodeId from, std::string_view endpoint = {}) {
  return transport::encode_request_header({.api_key = key,
                                           .api_version = version,
                                           .correlation_id = correlation_id,
                                           .flags = flags,
                                           .client_id = client_id(from, endpoint)})
      .value();
}

bool is_raft_key(ApiKey key) {
  return key == ApiKey::kVote || key == ApiKey::kAppendEntries || key == ApiKey::kInstallSnapshot;
}

// AppendEntriesRequest and AppendEntriesResponse gained a trailing request_id
// (uint64) without a new api version. A body from an earlier build is the
// current layout minus those last 8 bytes: decoded with 8 zero bytes added it
// yields request_id 0, which makes the leader treat every refusal as before
// (docs/raft.md, "A member that lost its log"). Padding can only complete a
// body whose other fields end exactly where it ends: request_id is last and
// fixed-size, so any other truncation still fails.
Result<raft::Message> decode_raft_message(std::span<const uint8_t> body, int16_t version) {
  Result<raft::Message> message = raft::decode_message(body, version);
  if (message || version != 0) return message;
  std::vector<uint8_t> padded(body.begin(), body.end());
  padded.resize(body.size() + sizeof(uint64_t), 0);
  Result<raft::Message> legacy = raft::decode_message(padded, 0);
  if (legacy && (std::holds_alternative<raft::AppendEntriesRequest>(legacy->body) ||
                 std::holds_alternative<raft::AppendEntriesResponse>(legacy->body))) {
    return legacy;
  }
  return message;
}

}  // namespace

Frames encode_raft_frames(const raft::Message& message, std::string_view sender_endpoint,
                          int16_t version) {
  Frames frames;
  frames.push_back(request_header(raft::api_key(message), version, 0, transport::kNoResponse,
                                  message.from, sender_endpoint));
  frames.emplace_back(raft::encode_message(message, version));
  return frames;
}

std::string sender_endpoint(const Frame& header) {
  Result<transport::RequestHeader> decoded = transport::decode_request_header(header.bytes());
  if (!decoded) return "";
  const std::string& id = decoded->client_id;
  size_t space = id.find(' ');
  if (!id.starts_with(kClientIdPrefix) || space == std::string::npos) return "";
  std::string endpoint = id.substr(space + 1);
  return check_endpoint(endpoint, false).is_ok() ? endpoint : "";
}

Frames encode_call_request(int32_t correlation_id, const ControllerCallRequest& request) {
  Frames frames;
  frames.push_back(request_header(ApiKey::kControllerCall, 0, correlation_id, 0, request.from));
  frames.emplace_back(transport::encode_struct(request));
  return frames;
}

Frames encode_call_response(int32_t correlation_id, const ControllerCallResponse& response) {
  Frames frames;
  frames.push_back(
      transport::encode_response_header(
          {.api_key = ApiKey::kControllerCall, .api_version = 0, .correlation_id = correlation_id})
          .value());
  frames.emplace_back(transport::encode_struct(response));
  return frames;
}

Result<std::variant<raft::Message, InboundCall>> decode_inbound(std::span<const Frame> frames) {
  if (frames.size() != 2) {
    return Status(ErrorCode::kInvalidRequest,
                  "quorum message has " + std::to_string(frames.size()) + " frames, not 2");
  }
  MQ_ASSIGN_OR_RETURN(transport::RequestHeader header,
                      transport::decode_request_header(frames[0].bytes()));
  const int16_t max_version = is_raft_key(header.api_key) ? raft::kMessageVersion : 0;
  if (header.api_version < 0 || header.api_version > max_version) {
    return Status(ErrorCode::kInvalidRequest, std::string(transport::api_name(header.api_key)) +
                                                  " version " + std::to_string(header.api_version) +
                                                  " is not served (0 to " +
                                                  std::to_string(max_version) + ")");
  }
  if (is_raft_key(header.api_key)) {
    if (header.flags != transport::kNoResponse) {
      return Status(ErrorCode::kInvalidRequest, "raft message without the kNoResponse flag");
    }
    MQ_ASSIGN_OR_RETURN(raft::Message message,
                        decode_raft_message(frames[1].bytes(), header.api_version));
    if (raft::api_key(message) != header.api_key) {
      return Status(ErrorCode::kInvalidRequest,
                    raft::describe(message) + " arrived on api key " +
                        std::to_string(static_cast<int16_t>(header.api_key)));
    }
    return std::variant<raft::Message, InboundCall>(std::move(message));
  }
  if (header.api_key == ApiKey::kControllerCall) {
    if (header.flags != 0) {
      return Status(ErrorCode::kInvalidRequest,
                    "ControllerCall with flags " + std::to_string(header.flags) + ", not 0");
    }
    MQ_ASSIGN_OR_RETURN(ControllerCallRequest request,
                        transport::decode_struct<ControllerCallRequest>(
                            frames[1].bytes(), ErrorCode::kInvalidRequest, "ControllerCall"));
    return std::variant<raft::Message, InboundCall>(
        InboundCall{header.correlation_id, std::move(request)});
  }
  return Status(ErrorCode::kInvalidRequest,
                "api key " + std::to_string(static_cast<int16_t>(header.api_key)) +
                    " is not served on the quorum endpoint");
}

Result<InboundReply> decode_reply(std::span<const Frame> frames) {
  if (frames.empty() || frames.size() > 2) {
    return Status(ErrorCode::kCorruptMessage,
                  "quorum reply has " + std::to_string(frames.size()) + " frames, not 1 or 2");
  }
  MQ_ASSIGN_OR_RETURN(transport::ResponseHeader header,
                      transport::decode_response_header(frames[0].bytes()));
  if (header.api_key != ApiKey::kControllerCall || header.api_version != 0) {
    return Status(ErrorCode::kCorruptMessage,
                  "quorum reply on api key " +
                      std::to_string(static_cast<int16_t>(header.api_key)) + " version " +
                      std::to_string(header.api_version) + ", not ControllerCall v0");
  }
  if (header.error_code != ErrorCode::kNone) {
    if (frames.size() != 1) {
      return Status(ErrorCode::kCorruptMessage, "quorum reply with an error and a body");
    }
    return InboundReply{header.correlation_id,
                        {.error_code = header.error_code, .error_message = header.error_message}};
  }
  if (frames.size() != 2) return Status(ErrorCode::kCorruptMessage, "quorum reply without a body");
  MQ_ASSIGN_OR_RETURN(
      ControllerCallResponse response,
      transport::decode_struct<ControllerCallResponse>(
          frames[1].bytes(), ErrorCode::kCorruptMessage, "ControllerCall response"));
  return InboundReply{header.correlation_id, std::move(response)};
}

}  // namespace mq::quorum
