// mqctl keygen PREFIX: a new CURVE key pair (docs/security.md), written to
// PREFIX.secret (mode 0600, never over an existing file) and PREFIX.public.
// Prints the public key; the secret key is never printed.
#include <memory>

#include "ctl/commands.h"
#include "transport/curve.h"

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

}  // namespace

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
