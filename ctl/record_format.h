// The -f template of `mqctl consume`: literal text with placeholders
//   {key} {value} {headers} {topic} {partition} {offset} {timestamp}
// and the escapes \n \t \\ ; {{ and }} print literal braces. A null key or
// value prints as nothing; {headers} prints "k1=v1,k2=v2".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/record.h"

namespace mq::ctl {

class RecordFormat {
 public:
  // Names the offending placeholder or escape on error.
  static Result<RecordFormat> parse(std::string_view spec);

  // Appends `record` rendered by the template to `out`.
  void render(const client::ConsumerRecord& record, std::string& out) const;

 private:
  enum class Field { kLiteral, kKey, kValue, kHeaders, kTopic, kPartition, kOffset, kTimestamp };
  struct Part {
    Field field = Field::kLiteral;
    std::string literal;
  };
  std::vector<Part> parts_;
};

}  // namespace mq::ctl
