// A real mqd whose data directory is on a small tmpfs: when it fills,
// produce fails with DISK_FULL, fetches keep working, /readyz and the
// metrics say so, nothing acknowledged is damaged, and produce resumes by
// itself once space returns. Needs permission to mount a tmpfs (root, as in
// CI); skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mount.h>

#include <fstream>

#include "store/record_batch.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace mq::transport;
using testing::MqdProcess;
using testing::TempDir;

constexpr int kTimeoutMs = 10000;

std::string batch_of(int first, int count, size_t value_bytes) {
  RecordBatchBuilder builder;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (int i = first; i < first + count; i++) {
    std::string value = std::to_string(i);
    value.resize(value_bytes, '.');
    builder.add(now_ms, std::nullopt, value);
  }
  return *builder.build();
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_point_ = dir_.file("fs");
    std::filesystem::create_directory(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=8m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "): the disk-full test needs root";
    }
    mounted_ = true;
    // Space to give back later: held by a file on the same filesystem.
    std::ofstream(mount_point_ + "/reserve") << std::string(3 << 20, 'r');
  }
  void TearDown() override {
    conn_.reset();
    broker_.reset();
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  void start(const std::string& extra) {
    broker_ = std::make_unique<MqdProcess>(mount_point_ + "/data",
                                           "[group]\noffsets_topic_partitions = 1\n" + extra);
    ASSERT_TRUE(broker_->start()) << broker_->log();
    auto c = Connection::connect(broker_->endpoint());
    ASSERT_TRUE(c.is_ok());
    conn_ = std::move(c).value();
    ASSERT_TRUE(conn_->negotiate_versions(kTimeoutMs).is_ok());
  }
  ProduceResponse::Topic::Partition produce(const std::string& batch) {
    ProduceRequest req;
    req.acks = 1;
    req.topics.push_back({.name = "d", .partitions = {{0, Frame(batch)}}});
    auto resp = conn_->call(req, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok()) << resp.status().to_string();
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0) : ProduceResponse::Topic::Partition{};
  }
  // Every value in the partition, in order.
  std::vector<std::string> consume_all() {
    std::vector<std::string> values;
    int64_t offset = 0;
    RecordBatchReader reader;
    std::vector<Record> records;
    for (int round = 0; round < 1000; round++) {
      FetchRequest req;
      req.max_wait_ms = 0;
      req.topics.push_back(
          {.name = "d",
           .partitions = {
               {.partition_index = 0, .fetch_offset = offset, .partition_max_bytes = 1 << 20}}});
      auto resp = conn_->call(req, kTimeoutMs);
      EXPECT_TRUE(resp.is_ok());
      if (!resp.is_ok()) break;
      const auto& p = resp->topics.at(0).partitions.at(0);
      EXPECT_EQ(p.error_code, ErrorCode::kNone);
      if (p.records.empty()) break;
      BatchCursor cursor(p.records.bytes());
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        EXPECT_TRUE(verify_batch(batch).is_ok());
        EXPECT_TRUE(reader.decode(batch, &records).is_ok());
        for (const auto& r : records) {
          if (r.offset < offset) continue;
          values.emplace_back(r.value->substr(0, r.value->find('.')));
          offset = r.offset + 1;
        }
      }
    }
    return values;
  }
  std::string get(const std::string& path, int* status = nullptr) {
    httplib::Client http("127.0.0.1", broker_->http_port());
    auto r = http.Get(path);
    if (status != nullptr) *status = r ? r->status : -1;
    return r ? r->body : "";
  }

  TempDir dir_;
  std::string mount_point_;
  bool mounted_ = false;
  std::unique_ptr<MqdProcess> broker_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(DiskFullTest, ProduceFailsClearlyFetchContinuesAndItRecoversWhenSpaceReturns) {
  start("[storage]\nmin_free_bytes = 0\n");
  CreateTopicsRequest create;
  create.topics.push_back({.name = "d", .num_partitions = 1, .replication_factor = 1});
  ASSERT_EQ(conn_->call(create, kTimeoutMs)->topics[0].error_code, ErrorCode::kNone);

  // Fill the disk: 64 KiB batches until one is refused.
  int acked = 0;
  ProduceResponse::Topic::Partition refused;
  for (int i = 0; i < 200; i++) {
    auto r = produce(batch_of(acked, 64, 1000));
    if (r.error_code != ErrorCode::kNone) {
      refused = r;
      break;
    }
    acked += 64;
  }
  ASSERT_EQ(refused.error_code, ErrorCode::kDiskFull) << refused.error_message.value_or("");
  EXPECT_GT(acked, 0);
  int status = 0;
  std::string why = get("/readyz", &status);
  EXPECT_EQ(status, 503);
  EXPECT_NE(why.find("full"), std::string::npos) << why;
  EXPECT_NE(get("/metrics").find("mq_storage_full 1"), std::string::npos);
  get("/healthz", &status);
  EXPECT_EQ(status, 200) << "still alive and serving";

  // Everything acknowledged is there, in order; nothing half-written.
  std::vector<std::string> values = consume_all();
  ASSERT_EQ(values.size(), static_cast<size_t>(acked));
  for (int i = 0; i < acked; i++) ASSERT_EQ(values[i], std::to_string(i));
  EXPECT_EQ(produce(batch_of(acked, 1, 10)).error_code, ErrorCode::kDiskFull);

  // Space returns: produce resumes by itself.
  std::filesystem::remove(mount_point_ + "/reserve");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (get("/metrics").find("mq_storage_full 0") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  get("/readyz", &status);
  EXPECT_EQ(status, 200);
  auto resumed = produce(batch_of(acked, 10, 10));
  ASSERT_EQ(resumed.error_code, ErrorCode::kNone) << resumed.error_message.value_or("");
  acked += 10;
  EXPECT_TRUE(broker_->wait_for_log("produce resumes")) << broker_->log();

  // And it all survives a restart.
  conn_.reset();
  ASSERT_EQ(broker_->stop(SIGTERM), 0) << broker_->log();
  start("[storage]\nmin_free_bytes = 0\n");
  values = consume_all();
  ASSERT_EQ(values.size(), static_cast<size_t>(acked));
  EXPECT_EQ(values.back(), std::to_string(acked - 1));
}

TEST_F(DiskFullTest, BelowTheFreeSpaceReserveProduceIsRefusedBeforeWriting) {
  // 8 MiB filesystem, 3 MiB held by the reserve file: under 6 MiB free.
  start("[storage]\nmin_free_bytes = 6291456\n");
  CreateTopicsRequest create;
  create.topics.push_back({.name = "d", .num_partitions = 1, .replication_factor = 1});
  ASSERT_EQ(conn_->call(create, kTimeoutMs)->topics[0].error_code, ErrorCode::kNone);
  auto refused = produce(batch_of(0, 1, 10));
  EXPECT_EQ(refused.error_code, ErrorCode::kDiskFull);
  EXPECT_NE(refused.error_message.value_or("").find("storage.min_free_bytes = 6291456"),
            std::string::npos)
      << refused.error_message.value_or("");
  EXPECT_TRUE(consume_all().empty()) << "nothing was written";
  EXPECT_NE(get("/metrics").find("mq_storage_produce_refused_total 1"), std::string::npos);
  std::filesystem::remove(mount_point_ + "/reserve");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  ErrorCode code = ErrorCode::kDiskFull;
  while (code != ErrorCode::kNone && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    code = produce(batch_of(0, 1, 10)).error_code;
  }
  EXPECT_EQ(code, ErrorCode::kNone);
}

}  // namespace
}  // namespace mq
