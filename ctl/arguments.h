// Parsers for the small argument syntaxes that several commands share:
// key=value pairs, partition lists, delimiters with escapes, node ids. Each error
// names the flag and the bad text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace mq::ctl {

// "key=value" (the value may contain '=' and may be empty; the key may not).
Result<std::pair<std::string, std::string>> parse_key_value(std::string_view flag,
                                                            std::string_view text);

// "0,2,5" or "0-3,7": distinct partition numbers >= 0, in ascending order.
Result<std::vector<int32_t>> parse_partition_list(std::string_view flag, std::string_view text);

// A delimiter or separator as typed: \n \t \r \0 \\ are escapes; must not be empty.
Result<std::string> parse_delimiter(std::string_view flag, std::string_view text);

// --acks: "all" or "-1", "1", "0".
Result<int> parse_acks(std::string_view text);

// A byte rate: an integer >= 1 with an optional unit (B, KB, MB, GB in
// powers of 1000; KiB, MiB, GiB in powers of 1024; any case) and an optional
// "/s": "1048576", "50MB", "10MiB/s".
Result<int64_t> parse_byte_rate(std::string_view flag, std::string_view text);

// A node id: an integer >= 0.
Result<int32_t> parse_node_id(std::string_view what, std::string_view text);

}  // namespace mq::ctl
