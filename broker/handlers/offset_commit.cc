// OffsetCommit: stores a group's offsets in __consumer_offsets
// (GroupCoordinator::commit checks the member and generation).
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_offsets.h"

namespace mq::broker::handlers {

void offset_commit(Call call) {
  serve_group<transport::OffsetCommitRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.commit(r); });
}

}  // namespace mq::broker::handlers
