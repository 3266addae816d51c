#include "tests/faults/replicas.h"

#include "store/log.h"
#include "store/record_batch.h"

namespace mq::faults {

Result<std::vector<Read>> read_replica(const std::string& dir, int32_t partition) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<Log> log, Log::open(dir, LogConfig{}));
  std::vector<Read> reads;
  int64_t offset = log->log_start_offset();
  while (offset < log->log_end_offset()) {
    MQ_ASSIGN_OR_RETURN(LogReadResult read, log->read(offset, 1 << 20));
    if (read.next_offset < 0) break;
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(read.bytes.data()),
                                   read.bytes.size());
    BatchCursor cursor(bytes);
    for (std::span<const uint8_t> batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      MQ_RETURN_IF_ERROR(verify_batch(batch).status());
      RecordBatchReader reader;
      std::vector<Record> records;
      MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
      for (const Record& r : records) {
        if (r.offset < offset) continue;
        reads.push_back({partition, r.offset, std::string(r.value.value_or(""))});
      }
    }
    if (read.next_offset <= offset) break;
    offset = read.next_offset;
  }
  return reads;
}

}  // namespace mq::faults
