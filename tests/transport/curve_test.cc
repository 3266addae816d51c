// CURVE keys (generation, Z85 checks, key files and their permissions) and
// encrypted connections end to end: a Connection with the listener's public
// key is served; a plain-text one or one with another key is not, and is
// told it is a handshake failure; a recorded session replayed byte for byte
// is not served.
#include "transport/curve.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/transport/test_broker.h"
#include "transport/connection.h"
#include "transport/server_key_choices.h"

namespace mq::transport {
namespace {

using mq::testing::TempDir;
using testing::TestBroker;

void write(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(CurveKeysTest, AFreshPairIsZ85AndItsPublicHalfIsDerived) {
  ASSERT_TRUE(curve_available());
  Result<CurveKeyPair> pair = generate_curve_key_pair();
  ASSERT_TRUE(pair.is_ok()) << pair.status().to_string();
  EXPECT_EQ(pair->public_key.size(), kCurveKeyChars);
  EXPECT_EQ(pair->secret_key.size(), kCurveKeyChars);
  EXPECT_TRUE(check_curve_key(pair->public_key, "k").is_ok());
  Result<std::string> derived = curve_public_of(pair->secret_key);
  ASSERT_TRUE(derived.is_ok());
  EXPECT_EQ(*derived, pair->public_key);
  EXPECT_NE(generate_curve_key_pair()->secret_key, pair->secret_key);
}

TEST(CurveKeysTest, MalformedKeysAreRefusedSayingWhy) {
  Status short_key = check_curve_key("abc", "--server-key");
  EXPECT_EQ(short_key.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(short_key.message().find("--server-key: a CURVE key is 40 characters"),
            std::string::npos)
      << short_key.message();
  Status bad_char = check_curve_key(std::string(39, 'a') + "\"", "k");
  EXPECT_EQ(bad_char.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad_char.message().find("not a Z85 key"), std::string::npos) << bad_char.message();
  EXPECT_FALSE(curve_public_of("nope").is_ok());
}

TEST(CurveKeysTest, KeyFilesRoundTripAndASecretOthersCanReadIsRefused) {
  TempDir dir;
  const std::string prefix = dir.path() + "/cluster";
  CurveKeyPair pair = generate_curve_key_pair().value();
  ASSERT_TRUE(write_curve_key_files(prefix, pair).is_ok());
  struct stat st {};
  ASSERT_EQ(::stat((prefix + ".secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((prefix + ".public").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  Result<CurveKeyPair> loaded = load_curve_secret_key_file(prefix + ".secret");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->secret_key, pair.secret_key);
  EXPECT_EQ(loaded->public_key, pair.public_key);
  EXPECT_EQ(load_curve_public_key_file(prefix + ".public").value(), pair.public_key);
  // The secret file where a public one belongs: refused, its key not echoed.
  Result<std::string> mixed_up = load_curve_public_key_file(prefix + ".secret");
  ASSERT_FALSE(mixed_up.is_ok());
  EXPECT_NE(mixed_up.status().message().find("holds a secret key"), std::string::npos);
  EXPECT_EQ(mixed_up.status().message().find(pair.secret_key), std::string::npos);
  // Never over an existing pair.
  Status again = write_curve_key_files(prefix, pair);
  EXPECT_FALSE(again.is_ok());

  // Readable by others: refused, naming the mode and the cure.
  ASSERT_EQ(::chmod((prefix + ".secret").c_str(), 0644), 0);
  Result<CurveKeyPair> open = load_curve_secret_key_file(prefix + ".secret");
  ASSERT_FALSE(open.is_ok());
  EXPECT_NE(open.status().message().find("readable by others (mode 0644)"), std::string::npos)
      << open.status().message();
  ASSERT_EQ(::chmod((prefix + ".secret").c_str(), 0640), 0);
  EXPECT_FALSE(load_curve_secret_key_file(prefix + ".secret").is_ok());

  // Missing, empty, malformed.
  EXPECT_FALSE(load_curve_secret_key_file(dir.path() + "/none").is_ok());
  write(dir.path() + "/empty", "# nothing here\n\n", 0600);
  Result<CurveKeyPair> empty = load_curve_secret_key_file(dir.path() + "/empty");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("no key in it"), std::string::npos);
  write(dir.path() + "/bad", "not-a-key\n", 0600);
  EXPECT_FALSE(load_curve_secret_key_file(dir.path() + "/bad").is_ok());
  // Comments, blanks and surrounding spaces are fine.
  write(dir.path() + "/spaced", "# key\n\n  " + pair.secret_key + "  \n", 0400);
  EXPECT_TRUE(load_curve_secret_key_file(dir.path() + "/spaced").is_ok());
}

// What one ApiVersions exchange over a new connection with `options` gives.
Status exchange(const TestBroker& broker, const ConnectionOptions& options) {
  Result<std::unique_ptr<Connection>> connection = Connection::connect(broker.endpoint(), options);
  if (!connection.is_ok()) return connection.status();
  return (*connection)->negotiate_versions(3000).status();
}

TEST(CurveConnectionTest, OnlyClientsWithTheServersPublicKeyAreServed) {
  CurveKeyPair server = generate_curve_key_pair().value();
  TestBroker broker(ListenerOptions{.curve = {.secret_key = server.secret_key}});
  ASSERT_TRUE(broker.status().is_ok()) << broker.status().to_string();

  // The right key, with a fresh client key pair or a given one.
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key}}).is_ok());
  CurveKeyPair client = generate_curve_key_pair().value();
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key,
                                          .secret_key = client.secret_key}})
                  .is_ok());

  // Plain text against CURVE: dropped in the handshake, and told so.
  // The client reads the broker's greeting first (AUTHENTICATION_FAILED:
  // "the broker requires CURVE"), or the broker closes first (retriable,
  // "closed during the handshake (does the broker require CURVE? ...)").
  Status plain = exchange(broker, {});
  ASSERT_FALSE(plain.is_ok());
  EXPECT_TRUE(plain.code() == ErrorCode::kAuthenticationFailed || is_retriable(plain.code()))
      << plain.to_string();
  EXPECT_NE(plain.message().find("requires CURVE"), std::string::npos) << plain.to_string();
  // Another server key: dropped silently by the broker, as a broker
  // restarting would: retriable, and the message says what to check.
  Status wrong = exchange(broker, {.curve = {.server_key = client.public_key}});
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_TRUE(is_retriable(wrong.code())) << wrong.to_string();
  EXPECT_NE(wrong.message().find("closed during the handshake"), std::string::npos)
      << wrong.to_string();
  // A malformed key is an error before anything is sent.
  Status malformed = exchange(broker, {.curve = {.server_key = "short"}});
  EXPECT_EQ(malformed.code(), ErrorCode::kInvalidConfig) << malformed.to_string();

  // The broker is unharmed: the right client is still served.
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key}}).is_ok());
}

TEST(CurveConnectionTest, ACurveClientAgainstAPlainListenerIsToldSo) {
  TestBroker broker;
  CurveKeyPair server = generate_curve_key_pair().value();
  Status refused = exchange(broker, {.curve = {.server_key = server.public_key}});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_TRUE(refused.code() == ErrorCode::kAuthenticationFailed || is_retriable(refused.code()))
      << refused.to_string();
  EXPECT_TRUE(refused.message().find("does not use CURVE") != std::string::npos ||
              refused.message().find("does the broker use CURVE?") != std::string::npos)
      << refused.to_string();
  EXPECT_TRUE(exchange(broker, {}).is_ok());
}

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A TCP relay for one connection to 127.0.0.1:`port` that records the bytes
// each side sent.
class RecordingRelay {
 public:
  explicit RecordingRelay(int port) : target_port_(port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 1) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { relay(); });
  }
  ~RecordingRelay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  std::string from_client() {
    std::lock_guard lock(mu_);
    return from_client_;
  }
  std::string from_server() {
    std::lock_guard lock(mu_);
    return from_server_;
  }

 private:
  void relay() {
    pollfd accept_poll{listen_fd_, POLLIN, 0};
    while (!stop_ && ::poll(&accept_poll, 1, 50) == 0) {
    }
    if (stop_) return;
    int client = ::accept(listen_fd_, nullptr, nullptr);
    int server = connect_to(target_port_);
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char buf[65536];
    while (!stop_) {
      if (::poll(fds, 2, 50) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2; i++) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          closed = true;
          break;
        }
        {
          std::lock_guard lock(mu_);
          (i == 0 ? from_client_ : from_server_).append(buf, static_cast<size_t>(n));
        }
        if (::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) closed = true;
      }
      if (closed) break;
    }
    ::close(client);
    ::close(server);
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string from_client_;
  std::string from_server_;
};

// Sends `bytes` on a new TCP connection to `port` and returns all that comes
// back until the peer closes or `quiet` passes without a byte; `*closed`
// says which.
std::string replay(int port, const std::string& bytes, std::chrono::milliseconds quiet,
                   bool* closed) {
  int fd = connect_to(port);
  *closed = false;
  if (fd < 0) return "";
  std::string received;
  size_t sent = 0;
  char buf[65536];
  while (true) {
    if (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      *closed = true;
      break;
    }
    received.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return received;
}

TEST(CurveConnectionTest, AReplayedSessionIsNotServed) {
  CurveKeyPair server = generate_curve_key_pair().value();
  TestBroker broker(ListenerOptions{.curve = {.secret_key = server.secret_key}});
  ASSERT_TRUE(broker.status().is_ok()) << broker.status().to_string();
  std::string client_bytes;
  std::string server_bytes;
  {
    // A real session through the relay: handshake, one request, its answer.
    RecordingRelay relay(port_of(broker.endpoint()));
    auto connection =
        Connection::connect(relay.endpoint(), {.curve = {.server_key = server.public_key}});
    ASSERT_TRUE(connection.is_ok());
    ASSERT_TRUE((*connection)->negotiate_versions(3000).is_ok());
    connection->reset();
    client_bytes = relay.from_client();
    server_bytes = relay.from_server();
  }
  ASSERT_GT(client_bytes.size(), 64u);
  // The same bytes again, on a new connection: the replayed INITIATE
  // carries a cookie the broker did not give this connection (it is
  // encrypted to short-term keys of the recorded one), so the broker closes
  // the connection before any request is read: the ApiVersions answer
  // never comes, and the connection does not stay open (as it would once a
  // handshake succeeded: the recording ends without a goodbye).
  bool closed = false;
  std::string answered =
      replay(port_of(broker.endpoint()), client_bytes, std::chrono::milliseconds(2000), &closed);
  EXPECT_TRUE(closed) << "the broker keeps a replayed connection open";
  EXPECT_LT(answered.size() + 100, server_bytes.size())
      << "replayed: " << answered.size() << " bytes back, the real session " << server_bytes.size();
  EXPECT_EQ(broker.produce_requests() + broker.rejected_requests(), 0);
  // The broker is unharmed.
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key}}).is_ok());
}

TEST(CurveKeysTest, ServerKeysAreOneOrTwo) {
  CurveKeyPair a = generate_curve_key_pair().value();
  CurveKeyPair b = generate_curve_key_pair().value();
  EXPECT_EQ(parse_server_keys(a.public_key, "k").value(), std::vector<std::string>{a.public_key});
  EXPECT_EQ(parse_server_keys(a.public_key + ", " + b.public_key, "k").value(),
            (std::vector<std::string>{a.public_key, b.public_key}));
  Result<std::vector<std::string>> three =
      parse_server_keys(a.public_key + "," + b.public_key + "," + a.public_key, "--server-key");
  EXPECT_NE(three.status().message().find("at most two"), std::string::npos);
  EXPECT_NE(parse_server_keys(a.public_key + "," + a.public_key, "k")
                .status()
                .message()
                .find("the same key twice"),
            std::string::npos);
  EXPECT_EQ(parse_server_keys(a.public_key + ",", "k").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(parse_server_keys("", "k").code(), ErrorCode::kInvalidConfig);
  CurveClient client{.server_key = a.public_key,
                     .secret_key = "s1",
                     .other_server_key = b.public_key,
                     .other_secret_key = "s2"};
  CurveClient swapped = client.swapped();
  EXPECT_EQ(swapped.server_key, b.public_key);
  EXPECT_EQ(swapped.secret_key, "s2");
  EXPECT_EQ(swapped.other_secret_key, "s1");
  client.other_secret_key.clear();
  EXPECT_EQ(client.swapped().secret_key, "s1") << "one key pair for both server keys";
}

TEST(CurveKeysTest, AKeyThatWorkedIsGivenUpOnlyAfterTwoDropsInARow) {
  ServerKeyChoices choices;
  const std::string endpoint = "tcp://127.0.0.1:1\nA\nB";
  EXPECT_FALSE(choices.use_other(endpoint)) << "the first key first";
  // A key that never worked: one drop and the next connection tries the other.
  EXPECT_TRUE(choices.handshake_dropped(endpoint, false));
  EXPECT_TRUE(choices.use_other(endpoint));
  // A drop of a connection made before that switch changes nothing.
  EXPECT_TRUE(choices.handshake_dropped(endpoint, false));
  EXPECT_TRUE(choices.use_other(endpoint));
  // Once the other key worked, a broker restarting (one drop) keeps it ...
  choices.handshake_succeeded(endpoint, true);
  EXPECT_FALSE(choices.handshake_dropped(endpoint, true));
  EXPECT_TRUE(choices.use_other(endpoint));
  // ... and a success in between starts the count again ...
  choices.handshake_succeeded(endpoint, true);
  EXPECT_FALSE(choices.handshake_dropped(endpoint, true));
  // ... while a second drop in a row (the broker listens with the first key
  // now) switches back.
  EXPECT_TRUE(choices.handshake_dropped(endpoint, true));
  EXPECT_FALSE(choices.use_other(endpoint));
  EXPECT_FALSE(choices.use_other("tcp://127.0.0.1:2\nA\nB")) << "each endpoint its own";
}

TEST(CurveConnectionTest, AClientWithBothKeysReachesBrokersOnEither) {
  CurveKeyPair old_key = generate_curve_key_pair().value();
  CurveKeyPair new_key = generate_curve_key_pair().value();
  TestBroker on_old(ListenerOptions{.curve = {.secret_key = old_key.secret_key}});
  TestBroker on_new(ListenerOptions{.curve = {.secret_key = new_key.secret_key}});
  ASSERT_TRUE(on_old.status().is_ok() && on_new.status().is_ok());
  ConnectionOptions both{
      .curve = {.server_key = old_key.public_key, .other_server_key = new_key.public_key}};
  // The broker on the old key: the first key works at once.
  EXPECT_TRUE(exchange(on_old, both).is_ok());
  // The broker on the new key drops the first handshake; the next
  // connection uses the other key, and from then on it is used first.
  Status first = exchange(on_new, both);
  ASSERT_FALSE(first.is_ok());
  EXPECT_TRUE(is_retriable(first.code())) << first.to_string();
  EXPECT_NE(first.message().find("the next connection to it uses the other one"), std::string::npos)
      << first.to_string();
  EXPECT_TRUE(exchange(on_new, both).is_ok());
  EXPECT_TRUE(exchange(on_new, both).is_ok());
  EXPECT_TRUE(exchange(on_old, both).is_ok()) << "each endpoint keeps its own choice";
  // A client that knows only the old key never reaches the new one.
  ConnectionOptions old_only{.curve = {.server_key = old_key.public_key}};
  EXPECT_FALSE(exchange(on_new, old_only).is_ok());
  EXPECT_FALSE(exchange(on_new, old_only).is_ok());
}

}  // namespace
}  // namespace mq::transport
