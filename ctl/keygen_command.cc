// mqctl keygen PREFIX: a new CURVE key pair (docs/security.md), written to
// PREFIX.secret (mode 0600, never over an existing file) and PREFIX.public.
// Prints the public key; the secret key is never printed.
//
// mqctl passwd USER: the principals-file line of a user who authenticates
// with a password (its key pair derived from it); the password is read from
// standard input, never from the command line.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "ctl/commands.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::ctl {
namespace {

int keygen(Context& ctx, const std::string& prefix) {
  if (prefix.empty()) return ctx.usage("PREFIX: a path prefix is not empty");
  Result<transport::CurveKeyPair> pair = transport::generate_curve_key_pair();
  if (!pair.is_ok()) return ctx.fail("cannot make a key pair", pair.status());
  Status written = transport::write_curve_key_files(prefix, *pair);
  if (!written.is_ok()) return ctx.fail("cannot write the key files", written);
  nlohmann::ordered_json document{{"public_key", pair->public_key},
                                  {"public_key_file", prefix + ".public"},
                                  {"secret_key_file", prefix + ".secret"}};
  ctx.print(document, [&](const nlohmann::ordered_json&) { return pair->public_key + "\n"; });
  return kExitOk;
}

// One line of standard input; on a terminal asked for without echo.
std::optional<std::string> read_password(const char* prompt) {
  const bool terminal = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (terminal) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int passwd(Context& ctx, const std::string& user) {
  Status name = transport::check_principal_name(user);
  if (!name.is_ok()) return ctx.usage("USER: " + name.message());
  if (transport::is_broker_principal(user)) {
    return ctx.usage("USER: broker:ID names are brokers', which authenticate with key files");
  }
  std::optional<std::string> password = read_password("Password: ");
  if (!password || password->empty()) {
    return ctx.usage("no password on standard input (one line)");
  }
  if (::isatty(STDIN_FILENO) != 0) {
    std::optional<std::string> again = read_password("Again: ");
    if (again != password) return ctx.usage("the two passwords differ");
  }
  Result<transport::CurveKeyPair> pair = transport::derive_curve_key_pair(user, *password);
  if (!pair.is_ok()) return ctx.fail("cannot derive the key pair", pair.status());
  nlohmann::ordered_json document{{"user", user}, {"public_key", pair->public_key}};
  ctx.print(document,
            [&](const nlohmann::ordered_json&) { return user + " " + pair->public_key + "\n"; });
  return kExitOk;
}

}  // namespace

void add_passwd_command(CLI::App& root, Context& ctx, Action& action) {
  auto user = std::make_shared<std::string>();
  CLI::App* command = root.add_subcommand(
      "passwd",
      "Print the principals-file line (USER PUBLIC_KEY) of a user who authenticates with a "
      "password, read from standard input");
  command->add_option("user", *user, "User name, e.g. billing")->required();
  command->callback(
      [&ctx, &action, user] { action = [&ctx, user] { return passwd(ctx, *user); }; });
}

void add_keygen_command(CLI::App& root, Context& ctx, Action& action) {
  auto prefix = std::make_shared<std::string>();
  CLI::App* command = root.add_subcommand(
      "keygen",
      "Make a CURVE key pair: PREFIX.secret (mode 0600) and PREFIX.public; print the public key");
  command->add_option("prefix", *prefix, "Path prefix of the two files, e.g. /etc/mq/cluster")
      ->required();
  command->callback(
      [&ctx, &action, prefix] { action = [&ctx, prefix] { return keygen(ctx, *prefix); }; });
}

}  // namespace mq::ctl
