// InitProducerId: a new idempotent producer id (epoch 0), or the next epoch
// of an existing one, which fences the producer instance that held it.
#include "transport/init_producer_id.h"

#include <spdlog/spdlog.h>

#include "broker/authorizer.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

InitProducerIdResponse init(Context& ctx, const InitProducerIdRequest& request) {
  InitProducerIdResponse response;
  bool new_id = request.producer_id == -1 && request.producer_epoch == -1;
  bool existing_id = request.producer_id >= 0 && request.producer_epoch >= 0;
  if (request.transactional_id || (!new_id && !existing_id)) {
    // The response has no message: the cases are in docs/protocol.md.
    response.error_code = ErrorCode::kInvalidRequest;
  } else if (new_id) {
    Result<int64_t> id = ctx.replicas.allocate_producer_id();
    if (id.is_ok()) {
      response.producer_id = *id;
      response.producer_epoch = 0;
    } else {
      response.error_code = id.code();
    }
  } else {
    Result<ProducerIdAndEpoch> bumped =
        ctx.replicas.bump_producer_epoch(request.producer_id, request.producer_epoch);
    if (bumped.is_ok()) {
      response.producer_id = bumped->producer_id;
      response.producer_epoch = bumped->producer_epoch;
    } else {
      spdlog::info("InitProducerId for producer {} epoch {}: {}", request.producer_id,
                   request.producer_epoch, bumped.status().to_string());
      response.error_code = bumped.code();
    }
  }
  return response;
}

}  // namespace

void init_producer_id(Call call) {
  serve<InitProducerIdRequest>(call, [&call](Context& ctx, const InitProducerIdRequest& request) {
    if (ctx.authorizer != nullptr &&
        !ctx.authorizer->allow_idempotent_write(call.request.principal)) {
      InitProducerIdResponse refused;
      refused.error_code = ErrorCode::kClusterAuthorizationFailed;
      return refused;
    }
    return init(ctx, request);
  });
}

}  // namespace mq::broker::handlers
