// Encoding, decoding and description of Raft messages.
#include "raft/messages.h"

#include <utility>

namespace mq::raft {
namespace {

constexpr std::string_view kKindNames[] = {
    "VoteRequest",
    "VoteResponse",
    "AppendEntriesRequest",
    "AppendEntriesResponse",
    "InstallSnapshotRequest",
    "InstallSnapshotResponse",
    "ObserverHello",
    "TimeoutNow",
};
static_assert(std::size(kKindNames) == std::variant_size_v<MessageBody>);

// Default-constructs the body alternative number `kind`.
template <size_t... I>
MessageBody body_of_kind(size_t kind, std::index_sequence<I...>) {
  MessageBody body;
  ((kind == I ? (body = std::variant_alternative_t<I, MessageBody>{}, 0) : 0), ...);
  return body;
}

}  // namespace

uint64_t message_term(const Message& message) {
  return std::visit([](const auto& body) { return body.term; }, message.body);
}

bool is_request(const Message& message) {
  return std::holds_alternative<VoteRequest>(message.body) ||
         std::holds_alternative<AppendEntriesRequest>(message.body) ||
         std::holds_alternative<InstallSnapshotRequest>(message.body) ||
         std::holds_alternative<TimeoutNow>(message.body);
}

transport::ApiKey api_key(const Message& message) {
  switch (message.body.index()) {
    case 0:
    case 1:
    case 7:  // TimeoutNow: starts an election
      return transport::ApiKey::kVote;
    case 2:
    case 3:
    case 6:  // ObserverHello: asks to be sent appends
      return transport::ApiKey::kAppendEntries;
    default:
      return transport::ApiKey::kInstallSnapshot;
  }
}

std::string describe(const Message& message) {
  std::string text = std::string(kKindNames[message.body.index()]) + " " +
                     std::to_string(message.from) + "->" + std::to_string(message.to) + " term " +
                     std::to_string(message_term(message));
  if (const auto* append = std::get_if<AppendEntriesRequest>(&message.body)) {
    text += " prev " + std::to_string(append->prev_log_index) + "/" +
            std::to_string(append->prev_log_term) + " entries " +
            std::to_string(append->entries.size()) + " commit " +
            std::to_string(append->leader_commit);
  } else if (const auto* response = std::get_if<AppendEntriesResponse>(&message.body)) {
    text += response->success ? " match " + std::to_string(response->match_index)
                              : " rejects " + std::to_string(response->rejected_index);
  } else if (const auto* vote = std::get_if<VoteRequest>(&message.body)) {
    if (vote->pre_vote) text += " pre-vote";
  } else if (const auto* granted = std::get_if<VoteResponse>(&message.body)) {
    text += granted->granted ? " granted" : " rejected";
  } else if (const auto* hello = std::get_if<ObserverHello>(&message.body)) {
    text += " at " + hello->address;
  } else if (const auto* handover = std::get_if<TimeoutNow>(&message.body)) {
    text += " candidate " + std::to_string(handover->candidate);
  }
  return text;
}

std::string encode_message(const Message& message, int16_t version) {
  std::string out;
  transport::Frames records;
  transport::BodyEncoder encoder(version, &out, &records);
  encoder.put(static_cast<int8_t>(message.body.index()));
  encoder.put(message.from);
  encoder.put(message.to);
  std::visit([&](const auto& body) { encoder.put(body); }, message.body);
  return out;
}

Result<Message> decode_message(std::span<const uint8_t> bytes, int16_t version) {
  transport::BodyDecoder decoder(version, bytes, {}, ErrorCode::kCorruptMessage, "raft message");
  int8_t kind = 0;
  Message message;
  decoder("kind", kind);
  decoder("from", message.from);
  decoder("to", message.to);
  if (decoder.ok()) {
    if (kind < 0 || static_cast<size_t>(kind) >= std::variant_size_v<MessageBody>) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft message: unknown kind " + std::to_string(kind));
    }
    message.body = body_of_kind(static_cast<size_t>(kind),
                                std::make_index_sequence<std::variant_size_v<MessageBody>>{});
    std::visit([&](auto& body) { decoder("body", body); }, message.body);
  }
  MQ_RETURN_IF_ERROR(decoder.finish());
  return message;
}

}  // namespace mq::raft
