// Named connection profiles, so operators need not repeat --brokers:
// $XDG_CONFIG_HOME/mq/profiles.toml (else ~/.config/mq/profiles.toml):
//
//   current = "prod"          # used when --profile is not given
//   [profiles.prod]
//   brokers = "10.0.0.1:9092,10.0.0.2:9092"
//   timeout = "5s"            # optional
//   output = "json"           # optional: table, json or yaml
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"

namespace mq::ctl {

struct Profile {
  std::optional<std::string> brokers;
  std::optional<std::string> timeout;  // a duration, e.g. "5s"
  std::optional<std::string> output;   // table, json or yaml
  // Encryption (docs/security.md): the brokers' CURVE public key, and the
  // file holding this client's secret key (never the secret itself).
  std::optional<std::string> server_key;
  std::optional<std::string> secret_key_file;
  std::optional<std::string> user;           // password-derived key pair
  std::optional<std::string> password_file;  // its password (mode 0600)
};

struct ProfileStore {
  std::optional<std::string> current;
  std::map<std::string, Profile> profiles;

  // A missing file is an empty store; a malformed one an error naming file and line.
  static Result<ProfileStore> load(const std::string& path);
  // Writes atomically (temporary file + rename), creating the directory.
  Status save(const std::string& path) const;
};

// $XDG_CONFIG_HOME/mq/profiles.toml, else $HOME/.config/mq/profiles.toml.
std::string default_profiles_path();

// Profile names: letters, digits, '.', '_' and '-'; 1 to 64 characters.
Status validate_profile_name(const std::string& name);

}  // namespace mq::ctl
