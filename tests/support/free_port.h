// free_port(): a TCP port on 127.0.0.1 for a listener a test configures
// before the process that binds it starts.
//
// The port comes from below the kernel's ephemeral range (32768-60999 by
// default), where ports bound to 0 (an mqd's HTTP server, a quorum
// endpoint) and the local ports of outgoing connections are taken from: a
// port from that range, checked free and released, could be handed to such
// a socket before its listener binds it ("Address already in use"). Below
// it, only another free_port() competes; each process starts at its own
// point of the range and walks it, skipping ports in use.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace mq::testing {

inline bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

inline int free_port() {
  constexpr int kFirst = 10'000;
  constexpr int kLast = 32'000;  // below the ephemeral range
  static std::atomic<int> next{kFirst + static_cast<int>(::getpid() * 7919L % (kLast - kFirst))};
  for (int tries = 0; tries < kLast - kFirst; ++tries) {
    int port = next.fetch_add(1);
    if (port >= kLast) {
      next = kFirst;
      port = next.fetch_add(1);
    }
    if (port_is_free(port)) return port;
  }
  std::fprintf(stderr, "free_port: no free port in %d-%d\n", kFirst, kLast);
  return 0;
}

}  // namespace mq::testing
