// OffsetDelete: forgets a group's committed offsets of some partitions
// (refused for partitions the group is consuming).
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_offsets.h"

namespace mq::broker::handlers {

void offset_delete(Call call) {
  serve_group<transport::OffsetDeleteRequest>(
      call,
      [](Context&, group::GroupCoordinator& c, const auto& r) { return c.delete_offsets(r); });
}

}  // namespace mq::broker::handlers
