// docs/mqctl.md's table of exit codes by case, run row by row: each command
// on a real mqd holding what the table says, its exit code as documented.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/mqctl_fixture.h"

namespace mq::testing {
namespace {

struct Row {
  std::string what;
  std::string command;  // "mqctl ..."
  int exit_code = -1;
};

// The rows of the table whose header is "| case | command | exit |".
std::vector<Row> documented_rows() {
  std::ifstream in(MQ_MQCTL_DOC);
  std::vector<Row> rows;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "| case | command | exit |") {
      inside = true;
      continue;
    }
    if (!inside || line.starts_with("|---")) continue;
    if (!line.starts_with("| ")) break;
    std::vector<std::string> cells;
    std::stringstream split(line.substr(1));
    std::string cell;
    while (std::getline(split, cell, '|')) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    if (cells.size() < 3 || cells[1].size() < 2) continue;
    rows.push_back({cells[0], cells[1].substr(1, cells[1].size() - 2), std::stoi(cells[2])});
  }
  return rows;
}

class MqctlExitCodesTest : public MqctlTest {};

TEST_F(MqctlExitCodesTest, EveryDocumentedCaseExitsWithItsCode) {
  std::vector<Row> rows = documented_rows();
  ASSERT_GE(rows.size(), 30u) << "the table in " << MQ_MQCTL_DOC << " was not found";
  ok("$MQCTL topic create known -p 2");
  ok("seq 1 10 | $MQCTL produce known -p 0");
  ok("seq 1 10 | $MQCTL produce known -p 1");
  ok("$MQCTL consume known -g g -e");
  for (const Row& row : rows) {
    ASSERT_TRUE(row.command.starts_with("mqctl ")) << row.command;
    std::string command = "$MQCTL" + row.command.substr(5) + " </dev/null";
    Shell result = sh(command);
    EXPECT_EQ(result.code, row.exit_code)
        << row.what << ": " << row.command << "\nstdout: " << result.out
        << "\nstderr: " << result.err;
  }
}

}  // namespace
}  // namespace mq::testing
