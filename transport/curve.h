// CURVE (CurveZMQ, ZeroMQ RFC 26): encrypted connections between clients
// and brokers, and between brokers (docs/security.md). A key is 32 bytes,
// written as 40 characters of Z85 (ZeroMQ RFC 32).
//
// A broker listens with the cluster's server key pair; a client pins the
// server's public key and brings a key pair of its own (its identity once
// authentication is on). Key files hold one Z85 key on a line; lines
// starting with '#' and blank lines are ignored. A secret key file must not
// be readable by anyone but its owner (mode 0600 or stricter): loading one
// that is, is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq::transport {

inline constexpr size_t kCurveKeyChars = 40;

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// Whether this libzmq was built with CURVE.
bool curve_available();
// A fresh key pair (ZeroMQ's zmq_curve_keypair).
Result<CurveKeyPair> generate_curve_key_pair();
// The public key of a Z85 secret key; INVALID_CONFIG for a malformed one.
Result<std::string> curve_public_of(std::string_view secret_key);
// INVALID_CONFIG unless `key` is 40 characters of Z85 (`what` names it).
Status check_curve_key(std::string_view key, std::string_view what);

// The text of a file only its owner may read (a secret key, a password):
// errors for a missing or unreadable file, a file readable by group or
// others, and one over 64 KiB. `what` names the file in errors.
Result<std::string> read_owner_only_file(const std::string& path, std::string_view what);
// The first line of a password file (read_owner_only_file), without its
// line end; INVALID_CONFIG for an empty one.
Result<std::string> load_password_file(const std::string& path);

// The key pair of a secret key file (the public half derived). Errors name
// the file: missing, unreadable, readable by group or others, malformed.
Result<CurveKeyPair> load_curve_secret_key_file(const std::string& path);
// The key in a public key file.
Result<std::string> load_curve_public_key_file(const std::string& path);
// The key pair of a user name and password, for clients that cannot hold
// a key file: the secret key is Argon2id (libsodium's crypto_pwhash, 64 MiB,
// 2 passes) of the password, salted with a hash of the cluster's public key
// (`server_key`) and the user name, so one password gives other keys in
// other clusters. The broker is given only the public key (`mqctl passwd`).
// Takes about a tenth of a second.
Result<CurveKeyPair> derive_curve_key_pair(std::string_view server_key, std::string_view user,
                                           std::string_view password);

// Writes `pair` to PREFIX.secret (mode 0600, never over an existing file)
// and PREFIX.public (0644), each with a comment line saying what it is.
Status write_curve_key_files(const std::string& prefix, const CurveKeyPair& pair);

// What a listening socket needs: its secret key (empty: plain text).
struct CurveServer {
  std::string secret_key;
  bool enabled() const { return !secret_key.empty(); }
};

// What a connecting socket needs: the server's public key and its own key
// pair (empty server_key: plain text). A client without a key pair of its
// own gets a fresh one per connection (connections are encrypted; the
// client is anonymous to the broker).
//
// While the cluster's key pair changes (docs/security.md, "Changing the
// cluster's key") a client knows both public keys: `other_server_key` is
// the one a broker may listen with instead, and other_public_key /
// other_secret_key the key pair this client uses with it (empty: the same
// as with server_key). A connection whose handshake the broker drops or
// fails makes the next connection to that endpoint use the other key; the
// key that last worked with an endpoint is used first (process-wide).
struct CurveClient {
  std::string server_key;
  std::string public_key;
  std::string secret_key;
  std::string other_server_key;
  std::string other_public_key;
  std::string other_secret_key;
  bool enabled() const { return !server_key.empty(); }
  // The same client with the other server key (and its key pair) in front.
  CurveClient swapped() const;
};

// "KEY" or "KEY1,KEY2" (the cluster's public key, or both while it changes:
// Z85 has no comma): the keys, or INVALID_CONFIG naming `what` for a
// malformed key, more than two, or the same key twice.
Result<std::vector<std::string>> parse_server_keys(std::string_view text, std::string_view what);

// Sets the socket options (before bind/connect): `socket` is a libzmq
// socket handle. A client without a key pair gets a fresh one here.
Status apply_curve_server(void* socket, const CurveServer& curve);
Status apply_curve_client(void* socket, const CurveClient& curve);

}  // namespace mq::transport
