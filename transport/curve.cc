// CURVE keys: generation, Z85 checks, key files, socket options.
#include "transport/curve.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mq::transport {
namespace {

Status config_error(const std::string& message) {
  return Status(ErrorCode::kInvalidConfig, message);
}

// The one key a key file's text holds: its first line that is neither
// blank nor a '#' comment, trimmed.
Result<std::string> key_in_text(const std::string& text, const std::string& path,
                                std::string_view what) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_last_not_of(" \t\r");
    std::string key = line.substr(start, end - start + 1);
    MQ_RETURN_IF_ERROR(check_curve_key(key, std::string(what) + " " + path));
    return key;
  }
  return config_error(std::string(what) + " " + path + ": no key in it");
}

Status write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status(ErrorCode::kInvalidConfig, path + ": " + std::strerror(errno));
  // The mode is exact whatever the umask.
  errno = 0;
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int saved = errno != 0 ? errno : EIO;  // a short write sets none
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status(ErrorCode::kInvalidConfig, path + ": " + std::strerror(saved));
  }
  return Status::ok();
}

}  // namespace

bool curve_available() {
  return zmq_has("curve") != 0;
}

Result<CurveKeyPair> generate_curve_key_pair() {
  if (!curve_available()) {
    return config_error("this libzmq was built without CURVE (libsodium)");
  }
  char public_key[kCurveKeyChars + 1] = {};
  char secret_key[kCurveKeyChars + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status(ErrorCode::kUnknown,
                  std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Status check_curve_key(std::string_view key, std::string_view what) {
  if (key.size() != kCurveKeyChars) {
    return config_error(std::string(what) + ": a CURVE key is " + std::to_string(kCurveKeyChars) +
                        " characters of Z85, not " + std::to_string(key.size()));
  }
  uint8_t decoded[32];
  std::string text(key);
  if (zmq_z85_decode(decoded, text.c_str()) == nullptr) {
    return config_error(std::string(what) + ": not a Z85 key (a character outside Z85's alphabet)");
  }
  return Status::ok();
}

Result<std::string> curve_public_of(std::string_view secret_key) {
  MQ_RETURN_IF_ERROR(check_curve_key(secret_key, "secret key"));
  if (!curve_available()) {
    return config_error("this libzmq was built without CURVE (libsodium)");
  }
  char public_key[kCurveKeyChars + 1] = {};
  std::string secret(secret_key);
  if (zmq_curve_public(public_key, secret.c_str()) != 0) {
    return config_error(std::string("secret key: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(public_key);
}

Result<std::string> read_owner_only_file(const std::string& path, std::string_view what) {
  const std::string named = std::string(what) + " " + path;
  // The mode is checked on the file that is read (no window between the two).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return config_error(named + ": " + std::strerror(errno));
  struct stat st {};
  Status checked = Status::ok();
  if (::fstat(fd, &st) != 0) {
    checked = config_error(named + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    checked = config_error(named + ": not a file");
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    checked = config_error(named + " is readable by others (mode " + mode +
                           "): chmod 600 it, and replace the secret if others may have read it");
  } else if (st.st_size > (1 << 16)) {
    checked = config_error(named + ": larger than 64 KiB");
  }
  std::string text;
  if (checked.is_ok()) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1 << 16)) {
      text.append(buf, static_cast<size_t>(n));
    }
    if (n < 0) checked = config_error(named + ": " + std::strerror(errno));
  }
  ::close(fd);
  MQ_RETURN_IF_ERROR(checked);
  return text;
}

Result<std::string> load_password_file(const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::string text, read_owner_only_file(path, "password file"));
  std::string password = text.substr(0, text.find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return config_error("password file " + path + ": the first line is empty");
  return password;
}

Result<CurveKeyPair> load_curve_secret_key_file(const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::string text, read_owner_only_file(path, "secret key file"));
  MQ_ASSIGN_OR_RETURN(std::string secret, key_in_text(text, path, "secret key file"));
  MQ_ASSIGN_OR_RETURN(std::string public_key, curve_public_of(secret));
  return CurveKeyPair{std::move(public_key), std::move(secret)};
}

Result<CurveKeyPair> derive_curve_key_pair(std::string_view server_key, std::string_view user,
                                           std::string_view password) {
  MQ_RETURN_IF_ERROR(check_curve_key(server_key, "server public key"));
  if (user.empty()) return config_error("a user name is needed to derive a key from a password");
  if (password.empty()) return config_error("empty password for user " + std::string(user));
  if (sodium_init() < 0) return Status(ErrorCode::kUnknown, "libsodium failed to initialise");
  static_assert(crypto_pwhash_SALTBYTES == 16);
  unsigned char salt[crypto_pwhash_SALTBYTES];
  const std::string salted = "mq user " + std::string(server_key) + " " + std::string(user);
  crypto_generichash(salt, sizeof salt, reinterpret_cast<const unsigned char*>(salted.data()),
                     salted.size(), nullptr, 0);
  uint8_t secret[32];
  if (crypto_pwhash(secret, sizeof secret, password.data(), password.size(), salt,
                    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status(ErrorCode::kUnknown, "deriving a key from the password: out of memory");
  }
  char z85[kCurveKeyChars + 1] = {};
  zmq_z85_encode(z85, secret, sizeof secret);
  sodium_memzero(secret, sizeof secret);
  CurveKeyPair pair;
  pair.secret_key = z85;
  sodium_memzero(z85, sizeof z85);
  MQ_ASSIGN_OR_RETURN(pair.public_key, curve_public_of(pair.secret_key));
  return pair;
}

Result<std::string> load_curve_public_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return config_error("public key file " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  // A secret key file named by mistake: refused before its key is echoed
  // anywhere (mqd logs the public keys it uses).
  if (text.str().find("# mq CURVE secret key") != std::string::npos) {
    return config_error("public key file " + path +
                        " holds a secret key (give the .public file beside it)");
  }
  return key_in_text(text.str(), path, "public key file");
}

Status write_curve_key_files(const std::string& prefix, const CurveKeyPair& pair) {
  const std::string secret_path = prefix + ".secret";
  const std::string public_path = prefix + ".public";
  struct stat st {};
  if (::stat(public_path.c_str(), &st) == 0) {
    return config_error(public_path + " exists already: not overwritten");
  }
  MQ_RETURN_IF_ERROR(write_file(
      secret_path,
      "# mq CURVE secret key: keep it to its owner (mode 0600)\n" + pair.secret_key + "\n", 0600));
  Status written = write_file(
      public_path, "# mq CURVE public key: give it to those who connect\n" + pair.public_key + "\n",
      0644);
  if (!written.is_ok()) ::unlink(secret_path.c_str());
  return written;
}

Status apply_curve_server(void* socket, const CurveServer& curve) {
  if (!curve.enabled()) return Status::ok();
  MQ_RETURN_IF_ERROR(check_curve_key(curve.secret_key, "server secret key"));
  const int on = 1;
  if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, curve.secret_key.data(),
                     curve.secret_key.size()) != 0) {
    return config_error(std::string("CURVE server options: ") + zmq_strerror(zmq_errno()));
  }
  return Status::ok();
}

CurveClient CurveClient::swapped() const {
  CurveClient other = *this;
  std::swap(other.server_key, other.other_server_key);
  if (!other_secret_key.empty() || !other_public_key.empty()) {
    std::swap(other.public_key, other.other_public_key);
    std::swap(other.secret_key, other.other_secret_key);
  }
  return other;
}

Result<std::vector<std::string>> parse_server_keys(std::string_view text, std::string_view what) {
  std::vector<std::string> keys;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string_view key = text.substr(start, comma - start);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    MQ_RETURN_IF_ERROR(check_curve_key(key, what));
    keys.emplace_back(key);
    start = comma + 1;
  }
  if (keys.size() > 2) {
    return config_error(std::string(what) +
                        ": at most two keys (one per cluster key: the cluster's, and the other "
                        "one while it changes)");
  }
  if (keys.size() == 2 && keys[0] == keys[1]) {
    return config_error(std::string(what) + ": the same key twice");
  }
  return keys;
}

Status apply_curve_client(void* socket, const CurveClient& curve) {
  if (!curve.enabled()) return Status::ok();
  MQ_RETURN_IF_ERROR(check_curve_key(curve.server_key, "server public key"));
  CurveKeyPair own{curve.public_key, curve.secret_key};
  if (own.secret_key.empty()) {
    MQ_ASSIGN_OR_RETURN(own, generate_curve_key_pair());
  } else if (own.public_key.empty()) {
    MQ_ASSIGN_OR_RETURN(own.public_key, curve_public_of(own.secret_key));
  }
  MQ_RETURN_IF_ERROR(check_curve_key(own.secret_key, "client secret key"));
  if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, curve.server_key.data(),
                     curve.server_key.size()) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, own.public_key.data(), own.public_key.size()) !=
          0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, own.secret_key.data(), own.secret_key.size()) !=
          0) {
    return config_error(std::string("CURVE client options: ") + zmq_strerror(zmq_errno()));
  }
  return Status::ok();
}

}  // namespace mq::transport
