// The command groups of mqctl. Each add_*_commands() registers its
// subcommands on the root CLI11 app; the callback of the subcommand that was
// chosen stores what to run in `action`, which runs once the global options
// are resolved into the Context. Internal to ctl/.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "ctl/context.h"

namespace mq::ctl {

using Action = std::function<int()>;

void add_topic_commands(CLI::App& root, Context& ctx, Action& action);
// topic trim (trim_command.cc), under `topic`.
void add_trim_command(CLI::App* topic, Context& ctx, Action& action);
void add_produce_command(CLI::App& root, Context& ctx, Action& action);
void add_consume_command(CLI::App& root, Context& ctx, Action& action);
void add_offsets_command(CLI::App& root, Context& ctx, Action& action);
void add_message_commands(CLI::App& root, Context& ctx, Action& action);
void add_delayed_commands(CLI::App& root, Context& ctx, Action& action);
void add_acl_commands(CLI::App& root, Context& ctx, Action& action);
void add_queue_commands(CLI::App& root, Context& ctx, Action& action);
void add_dlq_commands(CLI::App& root, Context& ctx, Action& action);
void add_keygen_command(CLI::App& root, Context& ctx, Action& action);
void add_passwd_command(CLI::App& root, Context& ctx, Action& action);
// mqctl message show: prints one message with its headers; an exit code.
int show_message(Context& ctx, const std::string& topic, int32_t partition, int64_t offset);
void add_cluster_commands(CLI::App& root, Context& ctx, Action& action);
// cluster quorum, add-voter, remove-voter, unregister (membership_commands.cc),
// under `cluster`.
void add_membership_commands(CLI::App* cluster, Context& ctx, Action& action);
void add_partition_commands(CLI::App& root, Context& ctx, Action& action);
// partition reassign (reassign_command.cc), under `partition`.
void add_reassign_command(CLI::App* partition, Context& ctx, Action& action);
void add_group_commands(CLI::App& root, Context& ctx, Action& action);
void add_config_commands(CLI::App& root, Context& ctx, Action& action);
void add_profile_commands(CLI::App& root, Context& ctx, Action& action);
void add_bench_commands(CLI::App& root, Context& ctx, Action& action);
// log dirs (log_dirs_command.cc), under `log`.
void add_log_dirs_command(CLI::App* log, Context& ctx, Action& action);
// log dump (log_commands.cc): a partition's files read offline, no broker.
void add_log_commands(CLI::App& root, Context& ctx, Action& action);
// client-settings: every -X setting with mqctl's value (client_settings_command.cc).
void add_client_settings_command(CLI::App& root, Context& ctx, Action& action);
// Needs the whole tree: register it last.
void add_completion_command(CLI::App& root, Context& ctx, Action& action);

// Runs until SIGINT/SIGTERM: installs handlers that set interrupted(). A
// command still running `force_after_ms` after the signal is ended then,
// with exit code 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
void watch_interrupts(int force_after_ms = 1'000);
bool interrupted();

}  // namespace mq::ctl

namespace mq::ctl {

// Config entries as the JSON array that `topic describe` and `config get`
// print: [{"name", "value", "source", "read_only", "sensitive"}].
nlohmann::ordered_json config_entries_json(const std::vector<client::ConfigEntry>& entries);
std::string config_entries_table(const nlohmann::ordered_json& entries);

// The outcome of one named item of a batch command (create three topics, ...).
struct ItemOutcome {
  std::string name;
  std::string status;  // "created", "deleted", "exists", "missing", "failed", ...
  Status error;        // set when status is "failed"
};
// Prints [{"name", "status", "error"?}] (table NAME STATUS), reports each
// failure on stderr as "mqctl: <verb> <kind> "<name>": <cause>", and returns
// the exit code: 0 if none failed, 4 if some did, else that of the failure.
int report_outcomes(const Context& ctx, const std::string& verb, const std::string& kind,
                    const std::vector<ItemOutcome>& outcomes);

}  // namespace mq::ctl
