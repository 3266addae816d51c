// Which of a client's two server keys to use with each broker while the
// cluster's key changes (docs/security.md, "Changing the cluster's key").
// A broker listening with the other key drops the handshake without a
// word, which looks like a broker restarting or refusing a connection; so a
// key that has worked with an endpoint is given up only after two drops in
// a row, and one that never worked after the first. Process-wide (one per
// endpoint and key pair), so every owner that reconnects learns it.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

namespace mq::transport {

struct CurveClient;

class ServerKeyChoices {
 public:
  // The process's choices (Connection uses these).
  static ServerKeyChoices& process();
  // The map key of `endpoint` with `curve`'s two server keys.
  static std::string key(const std::string& endpoint, const CurveClient& curve);

  // Whether the next connection uses the other server key.
  bool use_other(const std::string& key);
  // A connection that used the other key (or not) completed its handshake.
  void handshake_succeeded(const std::string& key, bool other);
  // ... or was dropped during it. True when the next connection uses
  // another key than this one did.
  bool handshake_dropped(const std::string& key, bool other);

 private:
  struct Choice {
    bool other = false;
    bool worked = false;  // a handshake completed with the key in use
    int drops = 0;        // dropped handshakes with it since
  };
  std::mutex mu_;
  std::unordered_map<std::string, Choice> choices_;
};

}  // namespace mq::transport
