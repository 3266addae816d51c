// mqctl keygen PREFIX: a new CURVE key pair (docs/security.md), written to
// PREFIX.secret (mode 0600, never over an existing file) and PREFIX.public.
// Prints the public key; the secret key is never printed.
//
// mqctl passwd USER: the principals-file line of a user who authenticates
// with a password (its key pair derived from it and the cluster's public
// key); the password is read from standard input, never from the command
// line.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
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

// One line of `in`; on a terminal asked for on `err` without echo.
std::optional<std::string> read_password(FILE* in, FILE* err, const char* prompt) {
  const int fd = ::fileno(in);
  const bool terminal = ::isatty(fd) != 0;
  termios saved{};
  if (terminal) {
    std::fputs(prompt, err);
    std::fflush(err);
    ::tcgetattr(fd, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  int c;
  while ((c = std::fgetc(in)) != EOF && c != '\n') line.push_back(static_cast<char>(c));
  // A read error mid-line is no password (a cut one would make another key).
  const bool got = !std::ferror(in) && (c != EOF || !line.empty());
  if (terminal) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    std::fputs("\n", err);
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
  if (ctx.curve.server_key.empty()) {
    return ctx.usage("passwd needs --server-key: the cluster's public key salts the key");
  }
  std::optional<std::string> password = read_password(ctx.io.in, ctx.io.err, "Password: ");
  if (!password || password->empty()) {
    return ctx.usage("no password on standard input (one line)");
  }
  if (::isatty(::fileno(ctx.io.in)) != 0) {
    std::optional<std::string> again = read_password(ctx.io.in, ctx.io.err, "Again: ");
    if (again != password) return ctx.usage("the two passwords differ");
  }
  // The principals file's line, whatever -o says: it is made to be appended.
  // With two server keys (the cluster's key changing), one line for each:
  // the key pair depends on the server key.
  Result<std::vector<std::string>> server_keys =
      transport::parse_server_keys(ctx.curve.server_key, "--server-key");
  if (!server_keys.is_ok()) return ctx.usage(server_keys.status().message());
  for (const std::string& server_key : *server_keys) {
    Result<transport::CurveKeyPair> pair =
        transport::derive_curve_key_pair(server_key, user, *password);
    if (!pair.is_ok()) return ctx.fail("cannot derive the key pair", pair.status());
    std::fprintf(ctx.io.out, "%s %s\n", user.c_str(), pair->public_key.c_str());
  }
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
