// Loading and saving profiles.toml with toml++.
#include "ctl/profiles.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctl/duration.h"
#include "ctl/output.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::ctl {
namespace {

Status invalid(const std::string& path, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, path + ": " + why);
}

}  // namespace

std::string default_profiles_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/mq/profiles.toml";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/mq/profiles.toml";
}

Status validate_profile_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      ok = false;
    }
  }
  if (ok) return Status::ok();
  return Status(ErrorCode::kInvalidConfig,
                "invalid profile name \"" + name + "\" (letters, digits, '.', '_', '-')");
}

Result<ProfileStore> ProfileStore::load(const std::string& path) {
  ProfileStore store;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return store;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return invalid(path, "line " + std::to_string(e.source().begin.line) + ": " +
                             std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    if (key == "current") {
      if (!node.is_string()) return invalid(path, "\"current\" must be a string");
      store.current = node.as_string()->get();
    } else if (key == "profiles") {
      if (!node.is_table()) return invalid(path, "\"profiles\" must be a table");
      for (const auto& [name, entry] : *node.as_table()) {
        const toml::table* table = entry.as_table();
        if (table == nullptr)
          return invalid(path, "profile \"" + std::string(name.str()) + "\" must be a table");
        Profile profile;
        for (const auto& [field, value] : *table) {
          std::string where =
              "profiles." + std::string(name.str()) + "." + std::string(field.str());
          if (!value.is_string()) return invalid(path, where + " must be a string");
          std::string text = value.as_string()->get();
          if (field == "brokers") {
            profile.brokers = text;
          } else if (field == "timeout") {
            Result<int64_t> ms = parse_duration_ms(text);
            if (!ms.is_ok()) return invalid(path, where + ": " + ms.status().message());
            profile.timeout = text;
          } else if (field == "output") {
            Result<OutputFormat> format = parse_output_format(text);
            if (!format.is_ok()) return invalid(path, where + ": " + format.status().message());
            profile.output = text;
          } else if (field == "server_key") {
            Result<std::vector<std::string>> keys = transport::parse_server_keys(text, where);
            if (!keys.is_ok()) return invalid(path, keys.status().message());
            profile.server_key = text;
          } else if (field == "secret_key_file") {
            profile.secret_key_file = text;
          } else if (field == "user") {
            Status user = transport::check_principal_name(text);
            if (!user.is_ok()) return invalid(path, where + ": " + user.message());
            profile.user = text;
          } else if (field == "password_file") {
            profile.password_file = text;
          } else {
            return invalid(path, "unknown key " + where);
          }
        }
        store.profiles[std::string(name.str())] = profile;
      }
    } else {
      return invalid(path, "unknown key \"" + std::string(key.str()) + "\"");
    }
  }
  return store;
}

Status ProfileStore::save(const std::string& path) const {
  toml::table root;
  if (current) root.insert("current", *current);
  toml::table all;
  for (const auto& [name, profile] : profiles) {
    toml::table table;
    if (profile.brokers) table.insert("brokers", *profile.brokers);
    if (profile.timeout) table.insert("timeout", *profile.timeout);
    if (profile.output) table.insert("output", *profile.output);
    if (profile.server_key) table.insert("server_key", *profile.server_key);
    if (profile.secret_key_file) table.insert("secret_key_file", *profile.secret_key_file);
    if (profile.user) table.insert("user", *profile.user);
    if (profile.password_file) table.insert("password_file", *profile.password_file);
    all.insert(name, std::move(table));
  }
  root.insert("profiles", std::move(all));
  std::error_code ec;
  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  if (ec)
    return Status(ErrorCode::kStorageError,
                  "cannot create " + target.parent_path().string() + ": " + ec.message());
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# mqctl profiles (mqctl profile create|use|list|delete)\n" << root << "\n";
    out.flush();
    if (!out) return Status(ErrorCode::kStorageError, "cannot write " + temporary);
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) return Status(ErrorCode::kStorageError, "cannot replace " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace mq::ctl
