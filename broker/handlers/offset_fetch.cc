// OffsetFetch: a group's committed offsets, all or the partitions asked for.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_offsets.h"

namespace mq::broker::handlers {

void offset_fetch(Call call) {
  serve_group<transport::OffsetFetchRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.fetch_offsets(r); });
}

}  // namespace mq::broker::handlers
