// mqctl client-settings: every setting -X takes, the clients it applies to,
// its type, and the value mqctl runs with (its defaults, --timeout's
// effect, and the -X given on this command line).
#include "ctl/client_settings.h"
#include "ctl/commands.h"
#include "ctl/output.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

int list_client_settings(Context& ctx) {
  client::ProducerConfig producer = ctx.producer_config(-1);
  client::ConsumerConfig consumer = ctx.consumer_config();
  client::AdminConfig admin = ctx.admin_config();
  ClientConfigs configs{&producer, &consumer, &admin};
  json rows = json::array();
  for (const ClientSetting& s : client_settings()) {
    rows.push_back({{"name", s.name},
                    {"clients", s.clients},
                    {"type", s.type},
                    {"value", s.get(configs).value_or("")},
                    {"description", s.description}});
  }
  ctx.print(rows, [](const json& all) {
    Table table({"NAME", "CLIENTS", "TYPE", "VALUE", "DESCRIPTION"});
    for (const auto& r : all) {
      table.add_row({cell(r["name"]), cell(r["clients"]), cell(r["type"]), cell(r["value"]),
                     cell(r["description"])});
    }
    return table.render();
  });
  return kExitOk;
}

}  // namespace

void add_client_settings_command(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* command = root.add_subcommand(
      "client-settings", "The client settings -X key=value takes, with mqctl's values");
  command->callback([&ctx, &action] { action = [&ctx] { return list_client_settings(ctx); }; });
}

}  // namespace mq::ctl
