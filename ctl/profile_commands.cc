// mqctl profile create|use|list|delete: named sets of brokers, timeout and
// output format, kept in profiles.toml (see ctl/profiles.h).
#include <filesystem>
#include <memory>

#include "client/config.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/profiles.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct ProfileFlags {
  std::string name;
  std::string brokers;
  std::string timeout;
  std::string output;
  std::string server_key;
  std::string secret_key_file;
  std::string user;
  std::string password_file;
  bool use = false;
  bool force = false;
};

// Loads the store, or reports why not (returns nullopt).
std::optional<ProfileStore> load_store(const Context& ctx) {
  Result<ProfileStore> store = ProfileStore::load(ctx.profiles_path);
  if (!store.is_ok()) {
    ctx.fail("cannot read profiles", store.status());
    return std::nullopt;
  }
  return std::move(store).value();
}

int save_store(const Context& ctx, const ProfileStore& store) {
  Status saved = store.save(ctx.profiles_path);
  return saved.is_ok() ? kExitOk : ctx.fail("cannot save profiles", saved);
}

int profile_create(Context& ctx, const ProfileFlags& flags) {
  Status name_ok = validate_profile_name(flags.name);
  if (!name_ok.is_ok()) return ctx.usage(name_ok.message());
  if (flags.brokers.empty() && flags.timeout.empty() && flags.output.empty() &&
      flags.server_key.empty()) {
    return ctx.usage(
        "profile create: give at least one of --brokers, --timeout, --output, --server-key");
  }
  if (!flags.secret_key_file.empty() && flags.server_key.empty()) {
    return ctx.usage("--secret-key-file needs --server-key (the brokers' public key)");
  }
  if (!flags.user.empty() && flags.server_key.empty()) {
    return ctx.usage("--user needs --server-key (the brokers' public key)");
  }
  if (!flags.user.empty() && !flags.secret_key_file.empty()) {
    return ctx.usage("--user and --secret-key-file are two ways to authenticate: give one");
  }
  if (!flags.password_file.empty() && flags.user.empty()) {
    return ctx.usage("--password-file needs --user");
  }
  Profile profile;
  if (!flags.brokers.empty()) {
    Result<std::vector<std::string>> parsed = client::parse_bootstrap_servers(flags.brokers);
    if (!parsed.is_ok()) return ctx.usage("--brokers: " + parsed.status().message());
    profile.brokers = flags.brokers;
  }
  if (!flags.timeout.empty()) {
    Result<int64_t> ms = parse_duration_ms(flags.timeout);
    if (!ms.is_ok()) return ctx.usage("--timeout: " + ms.status().message());
    profile.timeout = flags.timeout;
  }
  if (!flags.output.empty()) {
    Result<OutputFormat> format = parse_output_format(flags.output);
    if (!format.is_ok()) return ctx.usage("--output: " + format.status().message());
    profile.output = flags.output;
  }
  if (!flags.server_key.empty()) {
    Result<std::vector<std::string>> keys =
        transport::parse_server_keys(flags.server_key, "--server-key");
    if (!keys.is_ok()) return ctx.usage(keys.status().message());
    profile.server_key = flags.server_key;
  }
  if (!flags.secret_key_file.empty()) {
    // Checked now (readable, owner only, a key), kept as a path.
    Result<transport::CurveKeyPair> keys =
        transport::load_curve_secret_key_file(flags.secret_key_file);
    if (!keys.is_ok()) return ctx.usage("--secret-key-file: " + keys.status().message());
    profile.secret_key_file = std::filesystem::absolute(flags.secret_key_file).string();
  }
  if (!flags.user.empty()) {
    Status name = transport::check_principal_name(flags.user);
    if (!name.is_ok()) return ctx.usage("--user: " + name.message());
    profile.user = flags.user;
  }
  if (!flags.password_file.empty()) {
    // Checked now (readable, owner only, not empty), kept as a path: the
    // password itself is never written to the profiles file.
    Result<std::string> password = transport::load_password_file(flags.password_file);
    if (!password.is_ok()) return ctx.usage("--password-file: " + password.status().message());
    profile.password_file = std::filesystem::absolute(flags.password_file).string();
  }
  std::optional<ProfileStore> store = load_store(ctx);
  if (!store) return kExitFailed;
  if (store->profiles.contains(flags.name) && !flags.force) {
    ctx.error("profile \"" + flags.name + "\" exists (--force replaces it)");
    return kExitFailed;
  }
  store->profiles[flags.name] = profile;
  if (flags.use) store->current = flags.name;
  int code = save_store(ctx, *store);
  if (code == kExitOk) ctx.note("saved " + ctx.profiles_path);
  return code;
}

int profile_use(Context& ctx, const ProfileFlags& flags) {
  std::optional<ProfileStore> store = load_store(ctx);
  if (!store) return kExitFailed;
  if (!store->profiles.contains(flags.name)) return ctx.not_found("profile", flags.name);
  store->current = flags.name;
  return save_store(ctx, *store);
}

int profile_delete(Context& ctx, const ProfileFlags& flags) {
  std::optional<ProfileStore> store = load_store(ctx);
  if (!store) return kExitFailed;
  if (store->profiles.erase(flags.name) == 0) {
    return ctx.not_found("profile", flags.name);
  }
  if (store->current == flags.name) store->current.reset();
  return save_store(ctx, *store);
}

int profile_list(Context& ctx) {
  std::optional<ProfileStore> store = load_store(ctx);
  if (!store) return kExitFailed;
  json doc = json::array();
  auto optional = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
  for (const auto& [name, profile] : store->profiles) {
    doc.push_back({{"name", name},
                   {"current", store->current == name},
                   {"brokers", optional(profile.brokers)},
                   {"timeout", optional(profile.timeout)},
                   {"output", optional(profile.output)}});
  }
  ctx.print(doc, [](const json& profiles) {
    Table table({"NAME", "CURRENT", "BROKERS", "TIMEOUT", "OUTPUT"});
    for (const auto& p : profiles) {
      table.add_row({cell(p["name"]), p["current"].get<bool>() ? "*" : "", cell(p["brokers"]),
                     cell(p["timeout"]), cell(p["output"])});
    }
    return table.render();
  });
  return kExitOk;
}

}  // namespace

void add_profile_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* profile = root.add_subcommand(
      "profile", "Named brokers/timeout/output defaults ($XDG_CONFIG_HOME/mq/profiles.toml)");
  profile->require_subcommand(1);
  auto flags = std::make_shared<ProfileFlags>();
  auto bind = [&ctx, &action, flags](CLI::App* command, int (*run)(Context&, const ProfileFlags&)) {
    command->callback(
        [&ctx, &action, flags, run] { action = [&ctx, flags, run] { return run(ctx, *flags); }; });
  };

  CLI::App* create = profile->add_subcommand("create", "Save a profile");
  create->add_option("name", flags->name, "Profile name")->required();
  create->add_option("-b,--brokers", flags->brokers, "Brokers HOST:PORT,...");
  create->add_option("--server-key", flags->server_key,
                     "The brokers' CURVE public key (40 characters of Z85)");
  create->add_option("--secret-key-file", flags->secret_key_file,
                     "File holding this client's CURVE secret key (mode 0600)");
  create->add_option("--user", flags->user,
                     "Authenticate as this user (a key pair derived from the password)");
  create->add_option("--password-file", flags->password_file,
                     "File whose first line is the user's password (mode 0600); without it "
                     "$MQ_PASSWORD is read when the profile is used");
  create->add_option("--timeout", flags->timeout, "Request timeout, e.g. 5s");
  create->add_option("-o,--output", flags->output, "Output format: table, json or yaml");
  create->add_flag("--use", flags->use, "Make it the current profile");
  create->add_flag("--force", flags->force, "Replace a profile of that name");
  bind(create, profile_create);

  CLI::App* use = profile->add_subcommand("use", "Make a profile the current one");
  use->add_option("name", flags->name, "Profile name")->required();
  bind(use, profile_use);

  profile->add_subcommand("list", "List profiles")->callback([&ctx, &action] {
    action = [&ctx] { return profile_list(ctx); };
  });

  CLI::App* remove = profile->add_subcommand("delete", "Delete a profile");
  remove->add_option("name", flags->name, "Profile name")->required();
  bind(remove, profile_delete);
}

}  // namespace mq::ctl
