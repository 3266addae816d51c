// Docs that stay true: every repository path and every code symbol that
// README.md and docs/*.md name in `code spans` must still exist. A path is a
// span whose first component is a folder of the repository (`broker/`,
// `tests/support/mqd_cluster.h`) or a doc named by file name (`raft.md`); a
// symbol is a qualified name (`QuorumService::add_voter`) or a call
// (`await_everywhere()`), which must appear as a word in the sources.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mq {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = MQ_SOURCE_DIR;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> documents() {
  std::vector<fs::path> out = {kRoot / "README.md"};
  for (const auto& entry : fs::directory_iterator(kRoot / "docs")) {
    if (entry.path().extension() == ".md") out.push_back(entry.path());
  }
  return out;
}

// The inline code spans of a Markdown text, outside fenced blocks, with
// their line numbers.
std::vector<std::pair<int, std::string>> code_spans(const std::string& text) {
  std::vector<std::pair<int, std::string>> out;
  std::istringstream lines(text);
  bool fenced = false;
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.starts_with("```")) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    for (size_t open = line.find('`'); open != std::string::npos;) {
      size_t close = line.find('`', open + 1);
      if (close == std::string::npos) break;
      out.emplace_back(number, line.substr(open + 1, close - open - 1));
      open = line.find('`', close + 1);
    }
  }
  return out;
}

// Every source and build file's text, for symbol lookups.
const std::string& sources() {
  static const std::string all = [] {
    std::string text;
    for (const auto& entry : fs::recursive_directory_iterator(kRoot)) {
      std::string path = entry.path().string();
      // Not the build trees, and not this test, which names what is gone.
      if (path.find("/build") != std::string::npos || path.find("/.git") != std::string::npos ||
          entry.path().filename() == "doc_references_test.cc") {
        continue;
      }
      auto ext = entry.path().extension();
      if (ext == ".h" || ext == ".cc" || ext == ".sh" || ext == ".txt") text += read(entry.path());
    }
    return text;
  }();
  return all;
}

bool has_word(const std::string& word) {
  const std::string& text = sources();
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    bool starts = at == 0 || !is_word(text[at - 1]);
    bool ends = at + word.size() >= text.size() || !is_word(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

const std::set<std::string> kFolders = {"base",   "bench",     "broker",  "client",   "ctl",
                                        "docs",   "examples",  "group",   "metadata", "metrics",
                                        "quorum", "raft",      "scripts", "store",    "systemd",
                                        "tests",  "transport", ".ci"};

// Why `span` names something that is gone, or "" if it is not a reference
// or still exists.
std::string check(const std::string& span) {
  static const std::regex path(R"(^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-*]*)*$)");
  static const std::regex doc(R"(^[a-z0-9_\-]+\.md$)");
  static const std::regex qualified(
      R"(^(?:[A-Za-z_][A-Za-z0-9_]*::)+([A-Za-z_~][A-Za-z0-9_]*)(?:<[^>]*>)?(?:\(.*\))?$)");
  // A call with no arguments or plain ones: `topk(10, x{...})` is PromQL.
  static const std::regex call(R"(^([a-z_][a-z0-9_]*)\([A-Za-z0-9_, .*&:]*\)$)");
  std::smatch m;
  if (std::regex_match(span, doc)) {
    return fs::exists(kRoot / "docs" / span) || fs::exists(kRoot / span) ? "" : "no such doc";
  }
  if (span.find('/') != std::string::npos && std::regex_match(span, path)) {
    std::string first = span.substr(0, span.find('/'));
    if (!kFolders.contains(first) || span.find('*') != std::string::npos) return "";
    return fs::exists(kRoot / span) ? "" : "no such path";
  }
  if (std::regex_match(span, m, qualified)) {
    // std:: and the like are not ours.
    if (span.starts_with("std::") || span.starts_with("zmq::")) return "";
    return has_word(m[1].str()) ? "" : "no symbol " + m[1].str() + " in the sources";
  }
  if (std::regex_match(span, m, call)) {
    return has_word(m[1].str()) ? "" : "no symbol " + m[1].str() + " in the sources";
  }
  return "";
}

TEST(DocReferencesTest, EveryPathAndSymbolTheDocsNameExists) {
  int checked = 0;
  for (const fs::path& doc : documents()) {
    std::string text = read(doc);
    ASSERT_FALSE(text.empty()) << doc;
    for (const auto& [line, span] : code_spans(text)) {
      ++checked;
      std::string why = check(span);
      EXPECT_TRUE(why.empty()) << fs::relative(doc, kRoot).string() << ":" << line << ": `" << span
                               << "`: " << why;
    }
  }
  EXPECT_GT(checked, 1000) << "the docs' code spans were not found";
}

TEST(DocReferencesTest, TheCheckCatchesWhatIsGone) {
  EXPECT_EQ(check("broker/request_handler.cc"), "");
  EXPECT_EQ(check("broker/no_such_file.cc"), "no such path");
  EXPECT_EQ(check("raft.md"), "");
  EXPECT_EQ(check("no-such-doc.md"), "no such doc");
  EXPECT_EQ(check("QuorumService::add_voter"), "");
  EXPECT_EQ(check("QuorumService::no_such_member_function"),
            "no symbol no_such_member_function in the sources");
  EXPECT_EQ(check("await_everywhere()"), "");
  EXPECT_EQ(check("no_such_function_anywhere()"),
            "no symbol no_such_function_anywhere in the sources");
  EXPECT_EQ(check("data_dir/__quorum"), "") << "not a repository path";
  EXPECT_EQ(check("std::vector"), "");
  EXPECT_EQ(check("topk(10, mq_group_lag{group=\"G\"})"), "") << "PromQL, not ours";
}

}  // namespace
}  // namespace mq
