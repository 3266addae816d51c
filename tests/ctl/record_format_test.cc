// consume -f templates.
#include "ctl/record_format.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

// Every allocation of this test binary is counted, so that a test can see
// render() allocate nothing. Not inlined: GCC would otherwise see free()
// meet a pointer from the built-in operator new and warn.
namespace {
std::atomic<int64_t> allocations{0};
}  // namespace

[[gnu::noinline]] void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace mq::ctl {
namespace {

client::ConsumerRecord sample() {
  return {.topic = "orders",
          .partition = 2,
          .offset = 41,
          .timestamp_ms = 1700000000000,
          .key = "k",
          .value = "v",
          .headers = {{"a", "1"}, {"b", std::nullopt}}};
}

std::string render(const std::string& spec, const client::ConsumerRecord& record = sample()) {
  Result<RecordFormat> format = RecordFormat::parse(spec);
  EXPECT_TRUE(format.is_ok()) << format.status().message();
  std::string out;
  if (format.is_ok()) format->render(record, out);
  return out;
}

TEST(RecordFormat, FillsEveryPlaceholder) {
  EXPECT_EQ(render("{topic}/{partition}@{offset} {timestamp} {key}={value} [{headers}]"),
            "orders/2@41 1700000000000 k=v [a=1,b=]");
}

TEST(RecordFormat, TranslatesEscapesAndDoubledBraces) {
  EXPECT_EQ(render("{key}\\t{value}\\n"), "k\tv\n");
  EXPECT_EQ(render("\\\\{{key}}"), "\\{key}");
}

TEST(RecordFormat, NullKeyAndValuePrintNothing) {
  client::ConsumerRecord record = sample();
  record.key.reset();
  record.value.reset();
  record.headers.clear();
  EXPECT_EQ(render("<{key}|{value}|{headers}>", record), "<||>");
}

TEST(RecordFormat, PrintsAHeaderByNameAndNothingWhenAbsentOrNull) {
  client::ConsumerRecord record = sample();
  record.headers = {{"trace", "t1"}, {"b", std::nullopt}, {"trace", "t2"}, {"a:b", "colon"}};
  EXPECT_EQ(render("[{header.trace}|{header.b}|{header.nope}]", record), "[t1||]")
      << "the first header of that name";
  EXPECT_EQ(render("{header.a:b:text}", record), "colon") << "a name with ':' spells out :text";
  EXPECT_EQ(render("{header.trace:hex}", record), "7431");
}

TEST(RecordFormat, SizesAreBytesAndMinusOneForNull) {
  client::ConsumerRecord record = sample();
  record.key = "";
  record.value = std::string(1000, 'x');
  EXPECT_EQ(render("{key_size} {value_size}", record), "0 1000");
  record.key.reset();
  record.value.reset();
  EXPECT_EQ(render("{key_size} {value_size}", record), "-1 -1");
}

TEST(RecordFormat, EncodesKeyValueAndHeaders) {
  client::ConsumerRecord record = sample();
  record.key = std::string("\x00\xff", 2);
  record.value = "foobar";
  record.headers = {{"a", "\x01"}, {"b", std::nullopt}, {"c", "fo"}};
  EXPECT_EQ(render("{key:hex} {value:base64} {value:hex} {value:text} {value}", record),
            "00ff Zm9vYmFy 666f6f626172 foobar foobar");
  EXPECT_EQ(render("{headers:base64}", record), "a=AQ==,b=,c=Zm8=");
  EXPECT_EQ(render("{headers:hex}", record), "a=01,b=,c=666f");
  record.key.reset();
  EXPECT_EQ(render("<{key:hex}|{key:base64}>", record), "<|>") << "null is still nothing";
}

TEST(RecordFormat, TimestampIsoIsUtcWithMilliseconds) {
  client::ConsumerRecord record = sample();
  struct Case {
    int64_t ms;
    const char* iso;
  } cases[] = {{1796551200250, "2026-12-06T10:00:00.250Z"},
               {1700000000000, "2023-11-14T22:13:20.000Z"},
               {1709208000000, "2024-02-29T12:00:00.000Z"},
               {951868800999, "2000-03-01T00:00:00.999Z"},
               {0, "1970-01-01T00:00:00.000Z"},
               {-1, "1969-12-31T23:59:59.999Z"},
               {-2208988800000, "1900-01-01T00:00:00.000Z"}};
  for (const Case& c : cases) {
    record.timestamp_ms = c.ms;
    EXPECT_EQ(render("{timestamp:iso}", record), c.iso) << c.ms;
    EXPECT_EQ(render("{timestamp}", record), std::to_string(c.ms)) << "still epoch ms";
  }
}

TEST(RecordFormat, RendersWithoutAllocating) {
  Result<RecordFormat> format = RecordFormat::parse(
      "{topic}/{partition}@{offset} {timestamp} {timestamp:iso} {key:hex}={value:base64} "
      "{header.a} {header.b:hex} [{headers}] {key_size} {value_size}\\n");
  ASSERT_TRUE(format.is_ok()) << format.status().message();
  client::ConsumerRecord record = sample();
  std::string out;
  out.reserve(4096);
  int64_t before = allocations.load();
  for (int i = 0; i < 10; ++i) format->render(record, out);
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_NE(
      out.find("orders/2@41 1700000000000 2023-11-14T22:13:20.000Z 6b=dg== 1  [a=1,b=] 1 1\n"),
      std::string::npos)
      << out;
}

TEST(RecordFormat, RejectsUnknownPlaceholdersAndBadEscapesNamingThem) {
  struct Case {
    const char* spec;
    const char* says;
  } cases[] = {{"{nope}", "unknown placeholder {nope}"},
               {"{value", "unclosed {"},
               {"value}", "a } without {"},
               {"\\x", "unknown escape \\x"},
               {"abc\\", "a lone \\"},
               {"{header}", "unknown placeholder {header} (known: {key} {value} {header.NAME}"},
               {"{header.}", "{header.} needs a header name"},
               {"{header.:hex}", "{header.:hex} needs a header name"},
               {"{offset:hex}", "{offset:hex}: {offset} takes no encoding"},
               {"{key_size:hex}", "{key_size:hex}: {key_size} takes no encoding"},
               {"{partition:text}", "{partition:text}: {partition} takes no encoding"},
               {"{timestamp:hex}", "{timestamp:hex}: {timestamp} takes only :iso"},
               {"{timestamp:}", "{timestamp:}: {timestamp} takes only :iso"},
               {"{key:rot13}", "unknown encoding \"rot13\" in {key:rot13} (known: :text :hex"},
               {"{value:}", "unknown encoding \"\" in {value:}"},
               {"{header.a:b}", "unknown encoding \"b\" in {header.a:b}"},
               {"{key:hex:x}", "unknown encoding \"hex:x\" in {key:hex:x}"},
               {"{value_sizes}", "unknown placeholder {value_sizes}"},
               {"%s", nullptr},
               {"{header.x-trace:base64}{timestamp:iso}{headers:text}", nullptr}};
  for (const Case& c : cases) {
    Result<RecordFormat> format = RecordFormat::parse(c.spec);
    if (c.says == nullptr) {
      EXPECT_TRUE(format.is_ok()) << c.spec << ": kcat syntax is plain text here";
      continue;
    }
    ASSERT_FALSE(format.is_ok()) << c.spec;
    EXPECT_NE(format.status().message().find(c.says), std::string::npos)
        << format.status().message();
    EXPECT_EQ(format.status().message().rfind(std::string("invalid -f \"") + c.spec + "\": ", 0),
              0u)
        << format.status().message();
  }
}

}  // namespace
}  // namespace mq::ctl
