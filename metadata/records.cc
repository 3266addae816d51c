// Encoding, decoding and description of metadata records.
#include "metadata/records.h"

#include <utility>

namespace mq::metadata {
namespace {

constexpr std::string_view kTypeNames[] = {
    "RegisterBroker",
    "UnregisterBroker",
    "FenceBroker",
    "UnfenceBroker",
    "BrokerControlledShutdown",
    "Topic",
    "Partition",
    "PartitionChange",
    "RemoveTopic",
    "Config",
    "ProducerIds",
    "ClusterId",
    "ProducerEpoch",
    "Acl",
    "RemoveAcl",
};
static_assert(std::size(kTypeNames) == std::variant_size_v<Record>);

template <size_t... I>
Record record_of_type(size_t type, std::index_sequence<I...>) {
  Record record;
  ((type == I ? (record = std::variant_alternative_t<I, Record>{}, 0) : 0), ...);
  return record;
}

std::string list(const std::vector<BrokerId>& ids) {
  std::string text = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(ids[i]);
  }
  return text + "]";
}

// A batch: a version and the records, each its own self-describing byte string.
struct BatchWire {
  int16_t version = kBatchVersion;
  std::vector<Bytes> records;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("records", m.records);
  }
};

Status corrupt(std::string what) {
  return Status(ErrorCode::kCorruptMessage, "metadata record: " + std::move(what));
}

}  // namespace

RecordType record_type(const Record& record) {
  return static_cast<RecordType>(record.index());
}

std::string_view record_type_name(RecordType type) {
  auto index = static_cast<size_t>(type);
  return index < std::size(kTypeNames) ? kTypeNames[index] : "Unknown";
}

std::string describe(const Record& record) {
  std::string text(record_type_name(record_type(record)));
  if (const auto* r = std::get_if<RegisterBroker>(&record)) {
    text += " " + std::to_string(r->broker_id) + " incarnation " +
            std::to_string(r->incarnation_id) + (r->clean_shutdown ? " clean" : " unclean");
  } else if (const auto* p = std::get_if<Partition>(&record)) {
    text += " " + p->topic + "-" + std::to_string(p->partition) + " replicas " + list(p->replicas) +
            " leader " + std::to_string(p->leader);
  } else if (const auto* c = std::get_if<PartitionChange>(&record)) {
    text += " " + c->topic + "-" + std::to_string(c->partition);
    if (c->leader != kLeaderUnchanged) text += " leader " + std::to_string(c->leader);
    if (c->isr) text += " isr " + list(*c->isr);
    if (c->elr) text += " elr " + list(*c->elr);
    if (c->replicas) text += " replicas " + list(*c->replicas);
  } else if (const auto* t = std::get_if<Topic>(&record)) {
    text += " " + t->name + " partitions " + std::to_string(t->partition_count);
  } else if (const auto* a = std::get_if<Acl>(&record)) {
    text += " " + transport::describe(a->acl);
  } else if (const auto* ra = std::get_if<RemoveAcl>(&record)) {
    text += " " + transport::describe(ra->acl);
  } else if (const auto* e = std::get_if<ProducerEpoch>(&record)) {
    text += " producer " + std::to_string(e->producer_id) + " epoch " +
            std::to_string(e->producer_epoch);
  }
  std::visit(
      [&](const auto& r) {
        if constexpr (requires { r.broker_epoch; }) {
          text +=
              " broker " + std::to_string(r.broker_id) + " epoch " + std::to_string(r.broker_epoch);
        }
      },
      record);
  return text;
}

Result<Bytes> encode_record(const Record& record) {
  std::string out;
  transport::Frames unused;
  transport::BodyEncoder encoder(kRecordVersion, &out, &unused);
  encoder.put(static_cast<int8_t>(record.index()));
  encoder.put(kRecordVersion);
  std::visit([&](const auto& body) { encoder.put(body); }, record);
  MQ_RETURN_IF_ERROR(encoder.status());
  return Bytes(out.begin(), out.end());
}

Result<Record> decode_record(std::span<const uint8_t> bytes) {
  transport::BodyDecoder decoder(kRecordVersion, bytes, {}, ErrorCode::kCorruptMessage,
                                 "metadata record");
  int8_t type = 0;
  int16_t version = 0;
  decoder("type", type);
  decoder("version", version);
  Record record;
  if (decoder.ok()) {
    if (type < 0 || static_cast<size_t>(type) >= std::variant_size_v<Record>) {
      return corrupt("unknown type " + std::to_string(type));
    }
    if (version != kRecordVersion) {
      return corrupt(std::string(kTypeNames[type]) + " version " + std::to_string(version) +
                     " is not supported (this build reads version 0)");
    }
    record = record_of_type(static_cast<size_t>(type),
                            std::make_index_sequence<std::variant_size_v<Record>>{});
    std::visit([&](auto& body) { decoder("body", body); }, record);
  }
  MQ_RETURN_IF_ERROR(decoder.finish());
  if (const auto* config = std::get_if<Config>(&record)) {
    auto resource = static_cast<int8_t>(config->resource);
    if (config->resource != ConfigResource::kCluster &&
        config->resource != ConfigResource::kTopic && config->resource != ConfigResource::kBroker) {
      return corrupt("Config resource type " + std::to_string(resource) + " is unknown");
    }
  }
  const transport::AclBinding* acl = nullptr;
  if (const auto* a = std::get_if<Acl>(&record)) acl = &a->acl;
  if (const auto* a = std::get_if<RemoveAcl>(&record)) acl = &a->acl;
  if (acl != nullptr) {
    if (Status valid = transport::validate(*acl); !valid.is_ok()) return corrupt(valid.message());
  }
  return record;
}

Result<Bytes> encode_batch(const RecordBatch& batch) {
  BatchWire wire;
  wire.records.reserve(batch.size());
  for (const Record& record : batch) {
    MQ_ASSIGN_OR_RETURN(Bytes bytes, encode_record(record));
    wire.records.push_back(std::move(bytes));
  }
  std::string out;
  transport::Frames unused;
  transport::BodyEncoder encoder(kBatchVersion, &out, &unused);
  encoder.put(wire);
  MQ_RETURN_IF_ERROR(encoder.status());
  return Bytes(out.begin(), out.end());
}

Result<RecordBatch> decode_batch(std::span<const uint8_t> bytes) {
  MQ_ASSIGN_OR_RETURN(BatchWire wire, transport::decode_struct<BatchWire>(
                                          bytes, ErrorCode::kCorruptMessage, "metadata batch"));
  if (wire.version != kBatchVersion) {
    return Status(ErrorCode::kCorruptMessage, "metadata batch version " +
                                                  std::to_string(wire.version) +
                                                  " is not supported (this build reads version 0)");
  }
  RecordBatch batch;
  batch.reserve(wire.records.size());
  for (size_t i = 0; i < wire.records.size(); ++i) {
    Result<Record> record = decode_record(wire.records[i]);
    if (!record.is_ok()) {
      return Status(ErrorCode::kCorruptMessage, "metadata batch record " + std::to_string(i) +
                                                    ": " + record.status().message());
    }
    batch.push_back(std::move(record).value());
  }
  return batch;
}

}  // namespace mq::metadata
