// Queue consumption's two APIs (per-message acknowledgement; docs/messaging.md,
// "Queue consumption"), both answered by each partition's leader, which keeps
// the group's state in the partition's own log (store/queue_state.h):
//
// ReceiveMessages (api key 10): hands out messages to one consumer of a queue
// group, each invisible to the group's other consumers until invisible_ms
// passes or it is acknowledged. Answered once the hand-out is committed.
//   ReceiveMessagesRequest v0
//     group                    string (1..255 bytes)
//     max_messages             int32 (over all partitions, 1..10000)
//     max_bytes                int32 (per partition, >= 1; at least one message is sent)
//     invisible_ms             int32 (1000..43200000)
//     key_ordered              bool (a key is not handed out while an earlier
//                              message of that key is not done)
//     start                    int8 (0 earliest, 1 latest: where a group new
//                              to the partition starts)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//   ReceiveMessagesResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         error_message        nullable string
//         invisible_until_ms   int64
//         backlog              int64 (messages not yet handed out, below the high watermark)
//         messages             array of
//           offset             int64
//           delivery           int32 (1 the first time)
//         records              records frame (whole batches holding the messages,
//                              and possibly others, which the client leaves out)
//
// AckMessages (api key 11): what a consumer did with messages it received:
// acknowledge, give back (nack), or change their invisible time. Each names
// the delivery it answers; one handed out again since is refused. Answered
// once the change is committed.
//   AckMessagesRequest v0
//     group                    string
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//         messages             array of
//           offset             int64
//           delivery           int32
//           action             int8 (0 ack, 1 nack, 2 change invisible time)
//           delay_ms           int32 (nack: -1 the retry schedule, else 0..43200000 ms
//                              until it is handed out again; change: the new
//                              invisible time from now, 1000..43200000; ack: 0)
//   AckMessagesResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code; the partition's)
//         error_message        nullable string
//         results              array of (one per message asked, in order)
//           offset             int64
//           error_code         int16 (NOT_FOUND: not in flight any more;
//                              ILLEGAL_GENERATION: handed out again since)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

constexpr int32_t kReceiveMaxMessages = 10000;
constexpr int32_t kInvisibleMinMs = 1000;
constexpr int32_t kInvisibleMaxMs = 12 * 3600 * 1000;
// At most this many messages per partition in one AckMessagesRequest.
constexpr size_t kAckMessagesMax = 10000;

// Dead letters (docs/messaging.md, "Dead letters"): a queue group's messages
// handed out queue.max.deliveries times without an ack are copied to the
// group's dead-letter topic, with these headers besides their own.
inline constexpr std::string_view kDlqGroupHeader = "mq.dlq.group";
inline constexpr std::string_view kDlqTopicHeader = "mq.dlq.topic";
inline constexpr std::string_view kDlqPartitionHeader = "mq.dlq.partition";
inline constexpr std::string_view kDlqOffsetHeader = "mq.dlq.offset";
inline constexpr std::string_view kDlqDeliveriesHeader = "mq.dlq.deliveries";
inline constexpr std::string_view kDlqReasonHeader = "mq.dlq.reason";
// The one reason so far: handed out queue.max.deliveries times, never acknowledged.
inline constexpr std::string_view kDlqReasonMaxDeliveries = "max-deliveries";

// The group's dead-letter topic: "dlq." + the group id, each character a
// topic name may not hold replaced by '_', cut to 249 bytes. Groups whose
// ids differ only there share a topic; each letter names its group.
inline std::string dead_letter_topic(std::string_view group) {
  std::string name = "dlq.";
  for (char c : group) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    name.push_back(legal ? c : '_');
  }
  if (name.size() > 249) name.resize(249);
  return name;
}
// The consumer group whose committed offsets say how far `mqctl dlq
// redrive` has gone through a group's dead letters.
inline std::string dead_letter_redrive_group(std::string_view group) {
  return "dlq-redrive." + std::string(group);
}

enum class QueueStart : int8_t { kEarliest = 0, kLatest = 1 };
enum class AckAction : int8_t { kAck = 0, kNack = 1, kChangeInvisible = 2, kRedrive = 3 };

struct ReceiveMessagesResponse;

struct ReceiveMessagesRequest {
  static constexpr ApiKey kApiKey = ApiKey::kReceiveMessages;
  using Response = ReceiveMessagesResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions to receive from

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::string group;                         // the queue group
  int32_t max_messages = 32;                 // over all partitions
  int32_t max_bytes = 1 << 20;               // per partition
  int32_t invisible_ms = 30000;              // how long the messages stay invisible
  bool key_ordered = false;                  // one unfinished message per key at a time
  QueueStart start = QueueStart::kEarliest;  // where a group new to a partition starts
  std::vector<Topic> topics;                 // where to receive from

  bool operator==(const ReceiveMessagesRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group", m.group);
    c("max_messages", m.max_messages);
    c("max_bytes", m.max_bytes);
    c("invisible_ms", m.invisible_ms);
    c("key_ordered", m.key_ordered);
    c("start", m.start);
    c("topics", m.topics);
  }
};

struct ReceiveMessagesResponse {
  static constexpr ApiKey kApiKey = ApiKey::kReceiveMessages;

  struct Topic {
    struct Partition {
      struct Message {
        int64_t offset = 0;    // the message's offset
        int32_t delivery = 1;  // how many times it has been handed out, this one included

        bool operator==(const Message&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("offset", m.offset);
          c("delivery", m.delivery);
        }
      };

      int32_t partition_index = 0;               // partition number
      ErrorCode error_code = ErrorCode::kNone;   // per-partition error; nothing handed out if set
      std::optional<std::string> error_message;  // what went wrong, when it is set
      int64_t invisible_until_ms = 0;            // the messages are invisible to others until then
      int64_t backlog = 0;            // messages below the high watermark never handed out
      std::vector<Message> messages;  // handed out to this consumer, by offset
      Frame records;                  // whole batches holding them (and maybe others)

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("error_message", m.error_message);
        c("invisible_until_ms", m.invisible_until_ms);
        c("backlog", m.backlog);
        c("messages", m.messages);
        c("records", m.records);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // per partition

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::vector<Topic> topics;  // per topic

  bool operator==(const ReceiveMessagesResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

struct AckMessagesResponse;

struct AckMessagesRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAckMessages;
  using Response = AckMessagesResponse;

  struct Topic {
    struct Partition {
      struct Message {
        int64_t offset = 0;                  // the message's offset
        int32_t delivery = 1;                // the delivery this answers
        AckAction action = AckAction::kAck;  // what to do
        int32_t delay_ms = 0;                // nack: -1 schedule / ms; change: new invisible ms

        bool operator==(const Message&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("offset", m.offset);
          c("delivery", m.delivery);
          c("action", m.action);
          c("delay_ms", m.delay_ms);
        }
      };

      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check
      std::vector<Message> messages;      // what was done with which message

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
        c("messages", m.messages);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // per partition

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::string group;          // the queue group
  std::vector<Topic> topics;  // per topic

  bool operator==(const AckMessagesRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group", m.group);
    c("topics", m.topics);
  }
};

struct AckMessagesResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAckMessages;

  struct Topic {
    struct Partition {
      struct Result {
        int64_t offset = 0;                       // as asked
        ErrorCode error_code = ErrorCode::kNone;  // NOT_FOUND, ILLEGAL_GENERATION, ...

        bool operator==(const Result&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("offset", m.offset);
          c("error_code", m.error_code);
        }
      };

      int32_t partition_index = 0;               // partition number
      ErrorCode error_code = ErrorCode::kNone;   // the partition's error; results empty if set
      std::optional<std::string> error_message;  // what went wrong, when it is set
      std::vector<Result> results;               // one per message asked, in order

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("error_message", m.error_message);
        c("results", m.results);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // per partition

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::vector<Topic> topics;  // per topic

  bool operator==(const AckMessagesResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
