// Global flags, their resolution order, parse errors and dispatch.
#include "ctl/app.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "client/config.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/profiles.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::ctl {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
// The handler writes the signal number here; the stopper thread reads it.
int g_stop_pipe[2] = {-1, -1};
std::atomic<int> g_force_after_ms{1'000};

void on_interrupt(int signal) {
  g_interrupted = signal;
  if (g_stop_pipe[1] >= 0) {
    char number = static_cast<char>(signal);
    (void)!::write(g_stop_pipe[1], &number, 1);
  }
}

// After the first signal the command stops on its own (it notices
// interrupted()). If it is still running force_after_ms later (stuck in a
// connection setup to a blackholed broker, a commit to a dead coordinator,
// ...), the process exits with 128 + the signal number, as the shell reports
// a command killed by it. Anything printed is flushed first.
void stopper() {
  char number = 0;
  while (::read(g_stop_pipe[0], &number, 1) < 0 && errno == EINTR) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(g_force_after_ms.load()));
  std::fflush(stdout);
  static constexpr char kMessage[] = "mqctl: interrupted: stopping without finishing\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(128 + number);
}

struct GlobalFlags {
  std::string brokers;
  std::string profile;
  std::string output;
  std::string timeout;
  std::vector<std::string> client_settings;  // -X key=value
  std::string server_key;
  std::string secret_key_file;
  std::string user;
  std::string password_file;
  bool verbose = false;
};

// Fills ctx from flags > $MQ_BROKERS > profile > defaults. Usage errors are reported.
int resolve_globals(const GlobalFlags& flags, Context& ctx, bool offline) {
  ctx.verbose = flags.verbose;
  ctx.profiles_path = default_profiles_path();
  Profile profile;
  Result<ProfileStore> store = ProfileStore::load(ctx.profiles_path);
  if (!flags.profile.empty()) {
    if (!store.is_ok()) return ctx.usage(store.status().message());
    auto found = store->profiles.find(flags.profile);
    if (found == store->profiles.end()) {
      return ctx.usage("profile \"" + flags.profile + "\" not found in " + ctx.profiles_path);
    }
    profile = found->second;
  } else if (!store.is_ok()) {
    ctx.error("ignoring profiles: " + store.status().message());
  } else if (store->current) {
    auto found = store->profiles.find(*store->current);
    if (found != store->profiles.end()) {
      profile = found->second;
      ctx.note("using profile \"" + *store->current + "\"");
    }
  }

  const char* env_brokers = std::getenv("MQ_BROKERS");
  if (!flags.brokers.empty()) {
    ctx.brokers = flags.brokers;
  } else if (env_brokers != nullptr && *env_brokers != '\0') {
    ctx.brokers = env_brokers;
  } else if (profile.brokers) {
    ctx.brokers = *profile.brokers;
  }
  Result<std::vector<std::string>> endpoints = client::parse_bootstrap_servers(ctx.brokers);
  if (!endpoints.is_ok()) {
    return ctx.usage("invalid --brokers \"" + ctx.brokers + "\": " + endpoints.status().message());
  }

  std::string timeout = !flags.timeout.empty() ? flags.timeout : profile.timeout.value_or("");
  if (!timeout.empty()) {
    Result<int64_t> ms = parse_duration_ms(timeout);
    if (!ms.is_ok()) return ctx.usage("--timeout: " + ms.status().message());
    if (*ms < 100 || *ms > 3'600'000) {
      return ctx.usage("--timeout \"" + timeout + "\": must be between 100ms and 1h");
    }
    ctx.timeout_ms = static_cast<int>(*ms);
  }

  std::string output = !flags.output.empty() ? flags.output : profile.output.value_or("");
  if (!output.empty()) {
    Result<OutputFormat> format = parse_output_format(output);
    if (!format.is_ok()) return ctx.usage("-o: " + format.status().message());
    ctx.output = *format;
  }
  // Encryption: the brokers' public key, this client's secret key file
  // (read here, so the secret never passes through the command line).
  std::string server_key =
      !flags.server_key.empty() ? flags.server_key : profile.server_key.value_or("");
  if (const char* env = std::getenv("MQ_SERVER_KEY"); flags.server_key.empty() && env && *env) {
    server_key = env;
  }
  std::string secret_key_file =
      !flags.secret_key_file.empty() ? flags.secret_key_file : profile.secret_key_file.value_or("");
  std::vector<std::string> server_keys;  // two while the cluster's key changes
  if (!server_key.empty()) {
    Result<std::vector<std::string>> keys =
        transport::parse_server_keys(server_key, "--server-key");
    if (!keys.is_ok()) return ctx.usage(keys.status().message());
    server_keys = std::move(keys).value();
    ctx.curve.server_key = server_key;
  }
  if (!secret_key_file.empty() && !offline) {
    if (server_key.empty()) {
      return ctx.usage("--secret-key-file needs --server-key (the brokers' public key)");
    }
    Result<transport::CurveKeyPair> keys = transport::load_curve_secret_key_file(secret_key_file);
    if (!keys.is_ok()) return ctx.usage("--secret-key-file: " + keys.status().message());
    ctx.curve.secret_key = keys->secret_key;
  }
  // Or a user name and password, from which the key pair is derived (the
  // password from a file or the environment, never the command line).
  // Not for commands that never connect (a profile's user must not stop
  // `mqctl profile delete`).
  // A --secret-key-file flag overrides the profile's user, as any flag does.
  std::string user = !flags.user.empty()              ? flags.user
                     : !flags.secret_key_file.empty() ? ""
                                                      : profile.user.value_or("");
  if (!user.empty() && !offline) {
    if (server_key.empty()) return ctx.usage("--user needs --server-key (the brokers' public key)");
    if (!flags.secret_key_file.empty() || (flags.user.empty() && !secret_key_file.empty())) {
      return ctx.usage("--user and --secret-key-file are two ways to authenticate: give one");
    }
    Status name = transport::check_principal_name(user);
    if (!name.is_ok()) return ctx.usage("--user: " + name.message());
    // The profile's password file goes with the profile's user only.
    std::string password_file = !flags.password_file.empty() ? flags.password_file
                                : flags.user.empty()         ? profile.password_file.value_or("")
                                                             : "";
    std::string password;
    const char* env = std::getenv("MQ_PASSWORD");
    if (!flags.password_file.empty() || (env == nullptr || *env == '\0')) {
      if (password_file.empty()) {
        return ctx.usage("--user " + user +
                         " needs a password: --password-file FILE or $MQ_PASSWORD");
      }
      Result<std::string> read = transport::load_password_file(password_file);
      if (!read.is_ok()) return ctx.usage("--password-file: " + read.status().message());
      password = std::move(read).value();
    } else {
      password = env;
      ::unsetenv("MQ_PASSWORD");  // read once; not passed on
    }
    // The key pair depends on the server key: one per server key.
    std::string secrets;
    for (const std::string& key : server_keys) {
      Result<transport::CurveKeyPair> keys = transport::derive_curve_key_pair(key, user, password);
      if (!keys.is_ok()) return ctx.usage("--user: " + keys.status().message());
      secrets += (secrets.empty() ? "" : ",") + keys->secret_key;
    }
    ctx.curve.secret_key = secrets;
  } else if (!flags.password_file.empty() && flags.user.empty()) {
    return ctx.usage("--password-file needs --user");
  }
  Result<ClientOverrides> overrides = ClientOverrides::parse(flags.client_settings);
  if (!overrides.is_ok()) return ctx.usage(overrides.status().message());
  ctx.client_overrides = std::move(overrides).value();
  ctx.note("brokers " + ctx.brokers + ", timeout " + format_duration_ms(ctx.timeout_ms));
  return kExitOk;
}

void add_version_command(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* version = root.add_subcommand("version", "Print mqctl's version");
  version->callback([&ctx, &action] {
    action = [&ctx] {
      ctx.print({{"version", MQ_VERSION}}, [](const nlohmann::ordered_json& doc) {
        return "mqctl " + cell(doc["version"]) + "\n";
      });
      return kExitOk;
    };
  });
}

}  // namespace

void watch_interrupts(int force_after_ms) {
  g_interrupted = 0;
  g_force_after_ms = force_after_ms;
  static std::once_flag started;
  std::call_once(started, [] {
    if (::pipe2(g_stop_pipe, O_CLOEXEC) != 0) return;
    std::thread(stopper).detach();
  });
  // Without SA_RESTART: a read of stdin or a wait in a system call returns
  // EINTR, so every command can notice the signal and stop within a second.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() {
  return g_interrupted != 0;
}

int run_mqctl(int argc, const char* const* argv, Streams streams) {
  Context ctx(streams);
  Action action;
  GlobalFlags flags;

  CLI::App app{"mqctl: the mq operator CLI (docs/mqctl.md)", "mqctl"};
  // Global flags are accepted after the subcommand too: `mqctl topic list -o json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    std::string path = failed->get_name();
    for (const CLI::App* parent = failed->get_parent(); parent != nullptr;
         parent = parent->get_parent()) {
      path = parent->get_name() + " " + path;
    }
    return "mqctl: " + std::string(e.what()) + "\nRun '" + path + " --help' for usage.\n";
  });
  app.add_option("-b,--brokers", flags.brokers,
                 "Brokers HOST:PORT,... (default $MQ_BROKERS, the profile, 127.0.0.1:9092)");
  app.add_option("--profile", flags.profile, "Profile to use (see `mqctl profile`)");
  app.add_option("-o,--output", flags.output, "Output format: table (default), json or yaml");
  app.add_option("--timeout", flags.timeout, "Time allowed per broker request (default 10s)");
  app.add_option("-X", flags.client_settings,
                 "Client setting key=value, Kafka's names (repeatable; mqctl client-settings)");
  app.add_option("--server-key", flags.server_key,
                 "The brokers' CURVE public key: connections are encrypted (default "
                 "$MQ_SERVER_KEY, the profile's)");
  app.add_option("--secret-key-file", flags.secret_key_file,
                 "File holding this client's CURVE secret key, mode 0600 (default: the "
                 "profile's; none: a fresh key per connection)");
  app.add_option("--user", flags.user,
                 "Authenticate as this user, with a key pair derived from the password "
                 "(--password-file or $MQ_PASSWORD; needs --server-key)");
  app.add_option("--password-file", flags.password_file,
                 "File whose first line is --user's password, mode 0600 (default: "
                 "$MQ_PASSWORD, the profile's)");
  app.add_flag("-v,--verbose", flags.verbose, "Say more on stderr");

  add_topic_commands(app, ctx, action);
  add_produce_command(app, ctx, action);
  add_consume_command(app, ctx, action);
  add_offsets_command(app, ctx, action);
  add_message_commands(app, ctx, action);
  add_delayed_commands(app, ctx, action);
  add_acl_commands(app, ctx, action);
  add_queue_commands(app, ctx, action);
  add_dlq_commands(app, ctx, action);
  add_cluster_commands(app, ctx, action);
  add_partition_commands(app, ctx, action);
  add_group_commands(app, ctx, action);
  add_config_commands(app, ctx, action);
  add_profile_commands(app, ctx, action);
  add_keygen_command(app, ctx, action);
  add_passwd_command(app, ctx, action);
  add_bench_commands(app, ctx, action);
  add_log_commands(app, ctx, action);
  add_client_settings_command(app, ctx, action);
  add_version_command(app, ctx, action);
  add_completion_command(app, ctx, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 calls a mistyped command a missing subcommand; name the word instead.
    const CLI::App* deepest = &app;
    for (auto parsed = deepest->get_subcommands(); !parsed.empty();
         parsed = deepest->get_subcommands()) {
      deepest = parsed.front();
    }
    // Unmatched words fall through to the root, so collect them from there.
    std::vector<std::string> extra = app.remaining(true);
    if (!extra.empty() && !extra.front().starts_with("-") &&
        deepest->get_require_subcommand_min() > 0) {
      std::string path = deepest == &app ? "mqctl" : "mqctl " + deepest->get_name();
      ctx.error("unknown command \"" + extra.front() + "\" (see '" + path + " --help')");
      return kExitUsage;
    }
    std::ostringstream out, err;
    int code = app.exit(e, out, err);
    std::fputs(out.str().c_str(), streams.out);
    std::fputs(err.str().c_str(), streams.err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  // Commands that never connect: no key is read or derived for them.
  static const std::set<std::string> kOffline = {"keygen",     "passwd",          "profile",
                                                 "completion", "client-settings", "version"};
  bool offline = false;
  if (!app.get_subcommands().empty()) {
    const CLI::App* command = app.get_subcommands().front();
    const CLI::App* leaf =
        command->get_subcommands().empty() ? command : command->get_subcommands().front();
    offline = kOffline.contains(command->get_name()) ||
              (command->get_name() == "log" && leaf->get_name() == "dump");
  }
  int resolved = resolve_globals(flags, ctx, offline);
  if (resolved != kExitOk) return resolved;
  return action ? action() : kExitUsage;
}

}  // namespace mq::ctl
