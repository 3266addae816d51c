// The group coordinator against an in-memory offsets topic and a manual
// clock: membership, rebalances, fencing, offsets, reload, broadcast, admin.
#include "group/coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace mq::group {
namespace {

using namespace mq::transport;

class MemoryStorage : public GroupStorage {
 public:
  Status append(int32_t partition, std::string batch, Durability durability) override {
    durabilities.push_back(durability);
    if (fail_appends) return Status(ErrorCode::kDiskFull, "disk full");
    if (!append_error.is_ok()) return append_error;
    std::lock_guard lock(mu);
    batches[partition].push_back(std::move(batch));
    return Status::ok();
  }
  // Blocks while `hold_commit_wait` is set (a new leader whose followers
  // have not caught up), then answers `commit_wait`.
  Status wait_committed(int32_t, const std::function<bool()>& cancelled) override {
    while (hold_commit_wait.load()) {
      if (cancelled()) return Status(ErrorCode::kCoordinatorNotAvailable, "cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    waits++;
    return commit_wait;
  }
  Status replay(int32_t partition, const std::function<Status(const Record&)>& each) override {
    RecordBatchReader reader;
    std::vector<Record> records;
    std::lock_guard lock(mu);
    for (const auto& batch : batches[partition]) {
      MQ_RETURN_IF_ERROR(reader.decode(as_bytes(batch), &records));
      for (const auto& r : records) MQ_RETURN_IF_ERROR(each(r));
    }
    return Status::ok();
  }
  std::optional<int32_t> partition_count(const std::string& topic) const override {
    auto it = topics.find(topic);
    if (it == topics.end()) return std::nullopt;
    return it->second;
  }
  int64_t high_watermark(const std::string&, int32_t) const override { return 100; }

  static std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }

  std::mutex mu;  // batches: the loader thread replays while tests append
  std::map<int32_t, std::vector<std::string>> batches;
  std::map<std::string, int32_t> topics{{"t", 6}, {"u", 2}};
  bool fail_appends = false;
  Status append_error = Status::ok();
  std::vector<Durability> durabilities;
  std::atomic<bool> hold_commit_wait{false};
  Status commit_wait = Status::ok();
  std::atomic<int> waits{0};
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void make() {
    coordinator_.reset();
    CoordinatorConfig config;
    config.offsets_partitions = 4;
    config.initial_rebalance_delay_ms = 100;
    config.min_session_timeout_ms = 100;
    config.clock_ms = [this] { return now_; };
    coordinator_ = std::make_unique<GroupCoordinator>(config, storage_);
    ASSERT_TRUE(coordinator_->load().is_ok());
  }
  void advance(int64_t ms) {
    now_ += ms;
    coordinator_->tick();
  }

  JoinGroupRequest join_request(const std::string& member_id,
                                std::vector<std::string> topics = {"t"},
                                std::string assignor = "sticky") {
    JoinGroupRequest r;
    r.group_id = "g";
    r.session_timeout_ms = 1000;
    r.rebalance_timeout_ms = 2000;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    ConsumerSubscription s;
    s.topics = std::move(topics);
    r.protocols.push_back({assignor, encode_subscription(s)});
    return r;
  }
  // Starts a join; the response lands in the returned slot when it completes.
  std::shared_ptr<std::optional<JoinGroupResponse>> join(const JoinGroupRequest& request,
                                                         const std::string& client = "c") {
    auto slot = std::make_shared<std::optional<JoinGroupResponse>>();
    coordinator_->join(request, client, "127.0.0.1", [slot](JoinGroupResponse r) { *slot = r; });
    return slot;
  }
  // The two-step first join: returns the member id.
  std::string new_member(std::vector<std::string> topics = {"t"}, std::string assignor = "sticky",
                         const std::string& client = "c") {
    auto first = join(join_request("", topics, assignor), client);
    EXPECT_TRUE(first->has_value());
    EXPECT_EQ((*first)->error_code, ErrorCode::kMemberIdRequired);
    return (*first)->member_id;
  }
  ConsumerAssignment sync(const std::string& member, int32_t generation,
                          ErrorCode expect = ErrorCode::kNone) {
    SyncGroupRequest r;
    r.group_id = "g";
    r.generation_id = generation;
    r.member_id = member;
    SyncGroupResponse response = coordinator_->sync(r);
    EXPECT_EQ(response.error_code, expect);
    auto decoded = decode_assignment(response.assignment);
    EXPECT_TRUE(decoded.is_ok());
    return decoded.is_ok() ? *decoded : ConsumerAssignment{};
  }
  ErrorCode heartbeat(const std::string& member, int32_t generation) {
    return coordinator_->heartbeat({"g", generation, member, std::nullopt}).error_code;
  }
  OffsetCommitRequest commit_request(const std::string& member, int32_t generation, int64_t offset,
                                     const std::string& topic = "t", int32_t partition = 0) {
    OffsetCommitRequest r;
    r.group_id = "g";
    r.generation_id = generation;
    r.member_id = member;
    auto& t = r.topics.emplace_back();
    t.name = topic;
    t.partitions.push_back({partition, offset, -1, "meta"});
    return r;
  }
  ErrorCode commit(const std::string& member, int32_t generation, int64_t offset,
                   const std::string& topic = "t", int32_t partition = 0) {
    auto r = coordinator_->commit(commit_request(member, generation, offset, topic, partition));
    return r.topics.at(0).partitions.at(0).error_code;
  }
  int64_t committed(const std::string& topic, int32_t partition,
                    const std::string& member_id = "") {
    OffsetFetchRequest r;
    r.group_id = "g";
    r.topics = std::vector<OffsetFetchRequest::Topic>{{topic, {partition}}};
    r.member_id = member_id;
    auto response = coordinator_->fetch_offsets(r);
    EXPECT_EQ(response.error_code, ErrorCode::kNone);
    return response.topics.at(0).partitions.at(0).committed_offset;
  }
  std::string state() { return coordinator_->describe({{"g"}}).groups.at(0).group_state; }
  static size_t count(const ConsumerAssignment& a) {
    size_t n = 0;
    for (const auto& tp : a.partitions) n += tp.partitions.size();
    return n;
  }

  MemoryStorage storage_;
  int64_t now_ = 1'000'000;
  std::unique_ptr<GroupCoordinator> coordinator_;
};

TEST_F(CoordinatorTest, ThreeMembersJoiningTogetherGetTwoPartitionsEach) {
  std::vector<std::string> ids;
  std::vector<std::shared_ptr<std::optional<JoinGroupResponse>>> joins;
  for (int i = 0; i < 3; i++) {
    ids.push_back(new_member());
    joins.push_back(join(join_request(ids.back())));
  }
  EXPECT_FALSE(joins[0]->has_value()) << "waits out the initial delay";
  EXPECT_EQ(state(), "PreparingRebalance");
  advance(150);
  std::set<std::pair<std::string, int32_t>> owned;
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(joins[i]->has_value());
    const JoinGroupResponse& r = **joins[i];
    EXPECT_EQ(r.error_code, ErrorCode::kNone);
    EXPECT_EQ(r.generation_id, 1);
    EXPECT_EQ(r.protocol_name, "sticky");
    EXPECT_EQ(r.leader, ids[0]);
    EXPECT_EQ(r.members.size(), i == 0 ? 3u : 0u) << "only the leader gets the member list";
    ConsumerAssignment a = sync(ids[i], 1);
    EXPECT_EQ(count(a), 2u);
    for (const auto& tp : a.partitions) {
      for (int32_t p : tp.partitions) EXPECT_TRUE(owned.insert({tp.topic, p}).second);
    }
  }
  EXPECT_EQ(owned.size(), 6u);
  EXPECT_EQ(state(), "Stable");
  EXPECT_EQ(heartbeat(ids[1], 1), ErrorCode::kNone);
}

TEST_F(CoordinatorTest, ANewMemberMakesEveryoneRejoinAndTheGenerationGoesUp) {
  std::string a = new_member();
  auto ja = join(join_request(a));
  advance(150);
  ASSERT_TRUE(ja->has_value());
  EXPECT_EQ(count(sync(a, 1)), 6u);

  std::string b = new_member();
  auto jb = join(join_request(b));
  EXPECT_FALSE(jb->has_value()) << "waits for the old member to rejoin";
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kRebalanceInProgress);
  // The old generation can still commit before giving its partitions up.
  EXPECT_EQ(commit(a, 1, 10), ErrorCode::kNone);
  auto ja2 = join(join_request(a));
  ASSERT_TRUE(ja2->has_value() && jb->has_value()) << "everyone rejoined: no need to wait";
  EXPECT_EQ((*ja2)->generation_id, 2);
  EXPECT_EQ(count(sync(a, 2)), 3u);
  EXPECT_EQ(count(sync(b, 2)), 3u);
  // Generation 1 is fenced now.
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(commit(a, 1, 11), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(commit("stranger", 2, 11), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(committed("t", 0), 10);
}

TEST_F(CoordinatorTest, AMemberThatStopsHeartbeatingIsRemovedAndItsPartitionsMove) {
  std::string a = new_member(), b = new_member();
  auto ja = join(join_request(a));
  auto jb = join(join_request(b));
  advance(150);
  sync(a, 1);
  sync(b, 1);
  for (int i = 0; i < 3; i++) {
    advance(300);
    EXPECT_EQ(heartbeat(a, 1), ErrorCode::kNone);  // b stays silent
  }
  advance(300);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kRebalanceInProgress) << "b expired after 1000 ms";
  auto ja2 = join(join_request(a));
  ASSERT_TRUE(ja2->has_value());
  EXPECT_EQ((*ja2)->generation_id, 2);
  EXPECT_EQ(count(sync(a, 2)), 6u);
  EXPECT_EQ(heartbeat(b, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(CoordinatorTest, WallClockJumpsNeitherExpireMembersNorKeepDeadOnesAlive) {
  // Sessions run on the monotonic clock: a wall clock stepped a day forward
  // (NTP, a resumed VM) must not expire everyone, nor a day back keep a
  // silent member in the group for a day.
  int64_t wall = 1'700'000'000'000;
  CoordinatorConfig config;
  config.offsets_partitions = 4;
  config.initial_rebalance_delay_ms = 100;
  config.min_session_timeout_ms = 100;
  config.clock_ms = [this] { return now_; };
  config.wall_clock_ms = [&wall] { return wall; };
  coordinator_ = std::make_unique<GroupCoordinator>(config, storage_);
  ASSERT_TRUE(coordinator_->load().is_ok());
  std::string a = new_member();
  auto joined = join(join_request(a));
  advance(150);
  ASSERT_TRUE(joined->has_value());
  sync(a, 1);
  wall += 24LL * 3600 * 1000;
  advance(500);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kNone) << "a day forward on the wall clock";
  EXPECT_EQ(state(), "Stable");
  wall -= 2 * 24LL * 3600 * 1000;
  advance(500);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kNone) << "a day back";
  advance(1'100);  // silent past its 1000 ms session
  EXPECT_EQ(state(), "Empty") << "expired at its session timeout, whatever the wall clock says";
  coordinator_.reset();  // before `wall` goes
}

TEST_F(CoordinatorTest, MembersThatDoNotRejoinInTimeAreDropped) {
  std::string a = new_member(), b = new_member();
  join(join_request(a));
  join(join_request(b));
  advance(150);
  sync(a, 1);
  sync(b, 1);
  std::string c = new_member();
  auto jc = join(join_request(c));
  auto ja = join(join_request(a));
  // b keeps heartbeating (so it is not expired) but never rejoins.
  for (int i = 0; i < 8 && !jc->has_value(); i++) {
    advance(300);
    heartbeat(b, 1);
  }
  ASSERT_TRUE(jc->has_value()) << "the rebalance timeout (2000 ms) ends the join phase";
  EXPECT_EQ((*jc)->generation_id, 2);
  EXPECT_EQ(count(sync(a, 2)) + count(sync(c, 2)), 6u);
  EXPECT_EQ(heartbeat(b, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(CoordinatorTest, AMemberThatDiesDuringARebalanceIsExpiredAtItsSessionTimeout) {
  std::string a = new_member(), b = new_member();
  join(join_request(a));
  join(join_request(b));
  advance(150);
  sync(a, 1);
  sync(b, 1);
  std::string c = new_member();
  auto jc = join(join_request(c));
  auto ja = join(join_request(a));
  // b is silent from here on: its session (1000 ms) ends before the
  // rebalance timeout (2000 ms) would.
  int64_t waited = 0;
  while (!jc->has_value() && waited < 3000) {
    advance(100);
    waited += 100;
  }
  ASSERT_TRUE(jc->has_value());
  EXPECT_LE(waited, 1200) << "dropped at its session timeout, not the rebalance timeout";
  EXPECT_EQ(count(sync(a, 2)) + count(sync(c, 2)), 6u);
}

TEST_F(CoordinatorTest, LeavingRebalancesAndTheLastToLeaveEmptiesTheGroup) {
  std::string a = new_member(), b = new_member();
  join(join_request(a));
  join(join_request(b));
  advance(150);
  sync(a, 1);
  sync(b, 1);
  auto left = coordinator_->leave({"g", {{b, std::nullopt}, {"nobody", std::nullopt}}});
  EXPECT_EQ(left.members.at(0).error_code, ErrorCode::kNone);
  EXPECT_EQ(left.members.at(1).error_code, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(state(), "PreparingRebalance");
  auto ja = join(join_request(a));
  ASSERT_TRUE(ja->has_value());
  EXPECT_EQ(count(sync(a, 2)), 6u);
  coordinator_->leave({"g", {{a, std::nullopt}}});
  EXPECT_EQ(state(), "Empty");
}

TEST_F(CoordinatorTest, ManualCommitsOnlyForGroupsWithoutMembers) {
  EXPECT_EQ(commit("", -1, 5), ErrorCode::kNone);
  EXPECT_EQ(committed("t", 0), 5);
  EXPECT_EQ(committed("t", 1), -1);
  std::string a = new_member();
  join(join_request(a));
  advance(150);
  EXPECT_EQ(commit("", -1, 6), ErrorCode::kGroupNotEmpty);
  EXPECT_EQ(committed("t", 0), 5);
}

TEST_F(CoordinatorTest, OneCommitIsOneBatchAndBadPartitionsAreRefusedAlone) {
  OffsetCommitRequest r = commit_request("", -1, 7);
  r.topics[0].partitions.push_back({1, 8, -1, std::nullopt});
  r.topics[0].partitions.push_back({99, 8, -1, std::nullopt});
  r.topics[0].partitions.push_back({2, 8, -1, std::string(5000, 'x')});
  r.topics[0].partitions.push_back({3, -5, -1, std::nullopt});
  auto& missing = r.topics.emplace_back();
  missing.name = "nope";
  missing.partitions.push_back({0, 1, -1, std::nullopt});
  size_t batches_before = storage_.batches[coordinator_->partition_for("g")].size();
  auto response = coordinator_->commit(r);
  const auto& ps = response.topics[0].partitions;
  EXPECT_EQ(ps[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(ps[1].error_code, ErrorCode::kNone);
  EXPECT_EQ(ps[2].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(ps[3].error_code, ErrorCode::kOffsetMetadataTooLarge);
  EXPECT_EQ(ps[4].error_code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(response.topics[1].partitions[0].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(storage_.batches[coordinator_->partition_for("g")].size(), batches_before + 1);
  EXPECT_EQ(committed("t", 1), 8);

  storage_.fail_appends = true;
  auto failed = coordinator_->commit(commit_request("", -1, 9));
  EXPECT_EQ(failed.topics[0].partitions[0].error_code, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(committed("t", 0), 7) << "a failed write changes nothing";
}

TEST_F(CoordinatorTest, OffsetsAndGenerationSurviveAReload) {
  std::string a = new_member();
  join(join_request(a));
  advance(150);
  sync(a, 1);
  EXPECT_EQ(commit(a, 1, 42, "t", 3), ErrorCode::kNone);
  make();  // a new coordinator over the same offsets topic
  EXPECT_EQ(committed("t", 3), 42);
  EXPECT_EQ(state(), "Empty") << "members rejoin after a coordinator change";
  EXPECT_EQ(commit(a, 1, 43, "t", 3), ErrorCode::kUnknownMemberId) << "the old member is fenced";
  std::string b = new_member();
  auto jb = join(join_request(b));
  advance(150);
  ASSERT_TRUE(jb->has_value());
  EXPECT_GT((*jb)->generation_id, 1) << "generations continue, never reused";
}

TEST_F(CoordinatorTest, BroadcastGivesEveryoneEverythingAndKeepsOffsetsPerMember) {
  std::string a = new_member({"t"}, "broadcast", "client-a");
  std::string b = new_member({"t"}, "broadcast", "client-b");
  join(join_request(a, {"t"}, "broadcast"), "client-a");
  join(join_request(b, {"t"}, "broadcast"), "client-b");
  advance(150);
  EXPECT_EQ(count(sync(a, 1)), 6u);
  EXPECT_EQ(count(sync(b, 1)), 6u);
  EXPECT_EQ(commit(a, 1, 10), ErrorCode::kNone);
  EXPECT_EQ(commit(b, 1, 20), ErrorCode::kNone);
  EXPECT_EQ(committed("t", 0, a), 10);
  EXPECT_EQ(committed("t", 0, b), 20);
  EXPECT_EQ(committed("t", 0), -1) << "no shared offset";
  make();
  // After a restart, the same client id finds its own offsets again.
  std::string a2 = new_member({"t"}, "broadcast", "client-a");
  auto j = join(join_request(a2, {"t"}, "broadcast"), "client-a");
  advance(150);
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ(committed("t", 0, a2), 10);
}

TEST_F(CoordinatorTest, DeletingGroupsAndOffsets) {
  std::string a = new_member({"t"});
  join(join_request(a, {"t"}));
  advance(150);
  sync(a, 1);
  EXPECT_EQ(commit(a, 1, 1, "t"), ErrorCode::kNone);
  EXPECT_EQ(commit(a, 1, 2, "u"), ErrorCode::kNone);
  auto refused = coordinator_->delete_groups({{"g"}});
  EXPECT_EQ(refused.results[0].error_code, ErrorCode::kGroupNotEmpty);
  OffsetDeleteRequest del{"g", {{"t", {0}}, {"u", {0}}}};
  auto deleted = coordinator_->delete_offsets(del);
  EXPECT_EQ(deleted.topics[0].partitions[0].error_code, ErrorCode::kGroupSubscribedToTopic);
  EXPECT_EQ(deleted.topics[1].partitions[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(committed("u", 0), -1);
  EXPECT_EQ(committed("t", 0), 1);

  coordinator_->leave({"g", {{a, std::nullopt}}});
  auto gone = coordinator_->delete_groups({{"g", "never"}});
  EXPECT_EQ(gone.results[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(gone.results[1].error_code, ErrorCode::kGroupIdNotFound);
  EXPECT_EQ(state(), "Dead");
  make();
  EXPECT_EQ(committed("t", 0), -1) << "tombstones survive the reload";
  EXPECT_TRUE(coordinator_->list({}).groups.empty());
}

TEST_F(CoordinatorTest, BadJoinsGetClearErrors) {
  auto r = join_request("");
  r.session_timeout_ms = 10;
  EXPECT_EQ((*join(r))->error_code, ErrorCode::kInvalidSessionTimeout);
  r = join_request("");
  r.group_id = "";
  EXPECT_EQ((*join(r))->error_code, ErrorCode::kInvalidGroupId);
  r = join_request("", {"t"}, "cooperative-sticky");
  EXPECT_EQ((*join(r))->error_code, ErrorCode::kInconsistentGroupProtocol);
  r = join_request("");
  r.protocols[0].metadata = {1, 2, 3};
  EXPECT_EQ((*join(r))->error_code, ErrorCode::kInconsistentGroupProtocol);
  // A member whose assignors share none with the group's.
  std::string a = new_member({"t"}, "range");
  join(join_request(a, {"t"}, "range"));
  advance(150);
  EXPECT_EQ((*join(join_request("", {"t"}, "roundrobin")))->error_code,
            ErrorCode::kInconsistentGroupProtocol);
  EXPECT_EQ(sync("nobody", 1, ErrorCode::kUnknownMemberId).partitions.size(), 0u);
  EXPECT_EQ(sync(a, 7, ErrorCode::kIllegalGeneration).partitions.size(), 0u);
}

TEST_F(CoordinatorTest, ListDescribeAndStats) {
  std::string a = new_member();
  join(join_request(a), "client-a");
  advance(150);
  sync(a, 1);
  commit(a, 1, 60, "t", 0);
  auto listed = coordinator_->list({});
  ASSERT_EQ(listed.groups.size(), 1u);
  EXPECT_EQ(listed.groups[0].group_state, "Stable");
  EXPECT_TRUE(coordinator_->list({{"Empty"}}).groups.empty());
  auto described = coordinator_->describe({{"g"}});
  ASSERT_EQ(described.groups[0].members.size(), 1u);
  EXPECT_EQ(described.groups[0].members[0].client_id, "client-a");
  EXPECT_EQ(described.groups[0].members[0].client_host, "127.0.0.1");
  EXPECT_EQ(described.groups[0].protocol_data, "sticky");
  auto assignment = decode_assignment(described.groups[0].members[0].member_assignment);
  ASSERT_TRUE(assignment.is_ok());
  EXPECT_EQ(count(*assignment), 6u);
  auto stats = coordinator_->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].members, 1);
  EXPECT_EQ(stats[0].commits, 1u);
  EXPECT_EQ(stats[0].rebalances, 1u);
  ASSERT_EQ(stats[0].lags.size(), 1u);
  EXPECT_EQ(stats[0].lags[0].lag, 40);
}

// ---------------------------------------------------------------- cluster mode

// Cluster mode: partitions are loaded and unloaded as leadership moves.
class ClusterCoordinatorTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    CoordinatorConfig config;
    config.offsets_partitions = 4;
    config.initial_rebalance_delay_ms = 100;
    config.min_session_timeout_ms = 100;
    config.clock_ms = [this] { return now_; };
    coordinator_ = std::make_unique<GroupCoordinator>(config, storage_);
    coordinator_->start();
    partition_ = coordinator_->partition_for("g");
  }
  // Waits (bounded) for the loader thread.
  bool loaded(int32_t partition) {
    for (int i = 0; i < 5000 && !coordinator_->partition_loaded(partition); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return coordinator_->partition_loaded(partition);
  }
  ErrorCode fetch_error() {
    OffsetFetchRequest r;
    r.group_id = "g";
    r.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {0}}};
    return coordinator_->fetch_offsets(r).error_code;
  }
  int32_t partition_ = 0;
};

TEST_F(ClusterCoordinatorTest, NothingIsServedUntilThePartitionIsLoaded) {
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kNotCoordinator);
  EXPECT_EQ((*join(join_request("")))->error_code, ErrorCode::kNotCoordinator);
  EXPECT_EQ(commit("", -1, 5), ErrorCode::kNotCoordinator);
  EXPECT_EQ(fetch_error(), ErrorCode::kNotCoordinator);
  EXPECT_EQ(heartbeat("m", 1), ErrorCode::kNotCoordinator);
  EXPECT_EQ(coordinator_->describe({{"g"}}).groups.at(0).error_code, ErrorCode::kNotCoordinator);
  EXPECT_TRUE(storage_.batches.empty());
  // Another partition loading does not make this group served.
  coordinator_->load_partition((partition_ + 1) % 4, 1);
  ASSERT_TRUE(loaded((partition_ + 1) % 4));
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kNotCoordinator);
  coordinator_->load_partition(partition_, 1);
  ASSERT_TRUE(loaded(partition_));
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kNone);
  EXPECT_EQ(commit("", -1, 5), ErrorCode::kNone);
  EXPECT_EQ(committed("t", 0), 5);
  // Out-of-range partitions (a bad metadata record) are ignored.
  coordinator_->load_partition(-1, 1);
  coordinator_->load_partition(4, 1);
  coordinator_->unload_partition(99);
}

TEST_F(ClusterCoordinatorTest, LoadInProgressUntilTheLogIsCommitted) {
  storage_.hold_commit_wait = true;
  coordinator_->load_partition(partition_, 3);
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kCoordinatorLoadInProgress);
  EXPECT_EQ((*join(join_request("")))->error_code, ErrorCode::kCoordinatorLoadInProgress);
  EXPECT_EQ(commit("", -1, 5), ErrorCode::kCoordinatorLoadInProgress);
  EXPECT_EQ(fetch_error(), ErrorCode::kCoordinatorLoadInProgress);
  EXPECT_EQ(coordinator_->list({}).error_code, ErrorCode::kCoordinatorLoadInProgress);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // still not loaded a while later
  EXPECT_FALSE(coordinator_->partition_loaded(partition_));
  storage_.hold_commit_wait = false;
  ASSERT_TRUE(loaded(partition_));
  EXPECT_EQ(coordinator_->list({}).error_code, ErrorCode::kNone);
}

TEST_F(ClusterCoordinatorTest, AFailedLoadIsRetriedWhileThePartitionIsLedHere) {
  storage_.commit_wait = Status(ErrorCode::kNotCoordinator, "not led here yet");
  coordinator_->load_partition(partition_, 1);
  for (int i = 0; i < 5000 && storage_.waits.load() < 2; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(storage_.waits.load(), 2);
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kCoordinatorLoadInProgress);
  storage_.commit_wait = Status::ok();
  EXPECT_TRUE(loaded(partition_));
}

TEST_F(ClusterCoordinatorTest, UnloadDropsGroupsAndAnswersPendingJoinsNotCoordinator) {
  coordinator_->load_partition(partition_, 1);
  ASSERT_TRUE(loaded(partition_));
  std::string a = new_member();
  join(join_request(a));
  advance(150);
  sync(a, 1);
  ASSERT_EQ(commit(a, 1, 42), ErrorCode::kNone);
  // A second member's join waits for the rebalance when leadership moves.
  std::string b = new_member();
  auto pending = join(join_request(b));
  EXPECT_FALSE(pending->has_value());
  coordinator_->unload_partition(partition_);
  ASSERT_TRUE(pending->has_value());
  EXPECT_EQ((*pending)->error_code, ErrorCode::kNotCoordinator);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kNotCoordinator);
  EXPECT_EQ(commit(a, 1, 43), ErrorCode::kNotCoordinator);
  EXPECT_TRUE(coordinator_->list({}).groups.empty());
  EXPECT_TRUE(coordinator_->stats().empty());
  // Leadership comes back: the committed offset and the generation are in
  // the log; members rejoin.
  coordinator_->load_partition(partition_, 3);
  ASSERT_TRUE(loaded(partition_));
  EXPECT_EQ(committed("t", 0), 42);
  EXPECT_EQ(state(), "Empty");
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::kUnknownMemberId);
}

TEST_F(ClusterCoordinatorTest, ANewLeaderEpochReloadsWhatAnotherLeaderWrote) {
  coordinator_->load_partition(partition_, 1);
  ASSERT_TRUE(loaded(partition_));
  ASSERT_EQ(commit("", -1, 10), ErrorCode::kNone);
  // The same epoch again (an ISR change) keeps the state: no new load.
  int waits = storage_.waits.load();
  coordinator_->load_partition(partition_, 1);
  EXPECT_TRUE(coordinator_->partition_loaded(partition_));
  EXPECT_EQ(storage_.waits.load(), waits);
  // Another leader committed 20 in between (its record is in the log now).
  {
    RecordBatchBuilder builder;
    OffsetsKey key{.group = "g", .topic = "t", .partition = 0};
    OffsetValue value{.offset = 20};
    std::string k = encode_key(key);
    std::string v = encode_offset_value(value);
    builder.add(now_, std::string_view(k), std::optional<std::string_view>(v));
    auto batch = builder.build();
    ASSERT_TRUE(batch.is_ok());
    std::lock_guard lock(storage_.mu);
    storage_.batches[partition_].push_back(*batch);
  }
  EXPECT_EQ(committed("t", 0), 10);
  coordinator_->load_partition(partition_, 5);
  ASSERT_TRUE(loaded(partition_));
  EXPECT_EQ(committed("t", 0), 20);
}

TEST_F(ClusterCoordinatorTest, CommitsWaitForReplicationAndMapLeadershipLoss) {
  coordinator_->load_partition(partition_, 1);
  ASSERT_TRUE(loaded(partition_));
  std::string a = new_member();
  join(join_request(a));
  advance(150);
  sync(a, 1);
  storage_.durabilities.clear();
  ASSERT_EQ(commit(a, 1, 7), ErrorCode::kNone);
  ASSERT_EQ(storage_.durabilities.size(), 1u);
  EXPECT_EQ(storage_.durabilities[0], GroupStorage::Durability::kReplicated);
  // Generation records need not wait for the followers.
  storage_.durabilities.clear();
  LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members.push_back({a, std::nullopt});
  coordinator_->leave(leave);
  ASSERT_EQ(storage_.durabilities.size(), 1u);
  EXPECT_EQ(storage_.durabilities[0], GroupStorage::Durability::kLocal);
  // Leadership lost during the append: NOT_COORDINATOR, nothing cached.
  storage_.append_error = Status(ErrorCode::kNotCoordinator, "moved");
  EXPECT_EQ(commit("", -1, 8), ErrorCode::kNotCoordinator);
  storage_.append_error = Status(ErrorCode::kRequestTimedOut, "slow followers");
  EXPECT_EQ(commit("", -1, 9), ErrorCode::kCoordinatorNotAvailable);
  storage_.append_error = Status(ErrorCode::kNotEnoughReplicasAfterAppend, "isr shrank");
  EXPECT_EQ(commit("", -1, 9), ErrorCode::kNotEnoughReplicasAfterAppend);
  EXPECT_EQ(committed("t", 0), 7);
}

TEST_F(ClusterCoordinatorTest, StopAbandonsALoadInProgress) {
  storage_.hold_commit_wait = true;
  coordinator_->load_partition(partition_, 1);
  coordinator_->stop();
  EXPECT_FALSE(coordinator_->partition_loaded(partition_));
  EXPECT_EQ(coordinator_->group_error("g"), ErrorCode::kCoordinatorNotAvailable);
  coordinator_->load_partition(partition_, 2);  // after stop: ignored
  EXPECT_FALSE(coordinator_->partition_loaded(partition_));
}

}  // namespace
}  // namespace mq::group
