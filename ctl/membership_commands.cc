// mqctl cluster quorum (DescribeQuorum: the voter set and every member's
// progress), cluster add-voter / remove-voter (AddRaftVoter,
// RemoveRaftVoter: growing and shrinking the metadata quorum one voter at a
// time) and cluster unregister (UnregisterBroker: a retired broker).
#include <memory>

#include "base/node_address.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/output.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

// {"answered_by", "leader_id", "term", "commit_index",
//  "voter_set": {"recorded_at", "voters": [{"node", "directory_id", "endpoint"}]},
//  "members": [{"node", "role", "voter", "match_index", "lag", "recent_active",
//               "directory_id", "heard_ms_ago"}]}.
json quorum_json(const client::QuorumDescription& quorum) {
  json members = json::array();
  for (const client::QuorumMember& m : quorum.members) {
    std::string role = m.node_id == quorum.leader_id ? "leader" : m.voter ? "follower" : "observer";
    members.push_back(
        {{"node", m.node_id},
         {"role", role},
         {"voter", m.voter},
         {"match_index", m.match_index},
         {"lag", m.lag},
         {"recent_active", m.recent_active},
         {"directory_id", m.directory_id.empty() ? json(nullptr) : json(m.directory_id)},
         {"heard_ms_ago", m.heard_ms_ago >= 0 ? json(m.heard_ms_ago) : json(nullptr)}});
  }
  json voters = json::array();
  for (const client::QuorumVoter& v : quorum.voters) {
    voters.push_back(
        {{"node", v.node_id},
         {"directory_id", v.directory_id.empty() ? json(nullptr) : json(v.directory_id)},
         {"endpoint", v.endpoint}});
  }
  return {{"answered_by", quorum.node_id},
          {"leader_id", quorum.leader_id >= 0 ? json(quorum.leader_id) : json(nullptr)},
          {"term", quorum.term},
          {"commit_index", quorum.commit_index},
          {"voter_set",
           {{"recorded_at",
             quorum.voters_recorded_at > 0 ? json(quorum.voters_recorded_at) : json(nullptr)},
            {"voters", voters}}},
          {"members", members}};
}

std::string quorum_table(const json& q) {
  std::string out;
  out += "LEADER        " +
         (q["leader_id"].is_null() ? std::string("none") : cell(q["leader_id"])) + "\n";
  out += "TERM          " + cell(q["term"]) + "\n";
  out += "COMMIT INDEX  " + cell(q["commit_index"]) + "\n";
  out += "ANSWERED BY   " + cell(q["answered_by"]) + "\n";
  const json& set = q["voter_set"];
  out += "VOTER SET     " +
         (set["recorded_at"].is_null()
              ? std::string("as configured (cluster.voters): no change recorded yet")
              : "recorded in the log at index " + cell(set["recorded_at"])) +
         "\n\n";
  if (!set["voters"].empty()) {
    Table voters({"VOTER", "DIRECTORY", "ENDPOINT"});
    for (const auto& v : set["voters"]) {
      voters.add_row({cell(v["node"]), v["directory_id"].is_null() ? "-" : cell(v["directory_id"]),
                      cell(v["endpoint"])});
    }
    out += voters.render() + "\n";
  }
  if (q["members"].empty()) {
    out += "(no member progress: only the quorum leader knows it, and it did not answer)\n";
    return out;
  }
  Table table({"NODE", "ROLE", "VOTER", "MATCH INDEX", "LAG", "ACTIVE", "LAST HEARD"});
  for (const auto& m : q["members"]) {
    table.add_row({cell(m["node"]), cell(m["role"]), m["voter"].get<bool>() ? "yes" : "no",
                   cell(m["match_index"]), cell(m["lag"]),
                   m["recent_active"].get<bool>() ? "yes" : "no",
                   m["heard_ms_ago"].is_null() ? "-" : cell(m["heard_ms_ago"]) + "ms ago"});
  }
  return out + table.render();
}

int cluster_quorum(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::QuorumDescription> quorum = admin->describe_quorum();
  if (!quorum.is_ok()) return ctx.fail("cannot describe the quorum", quorum.status());
  ctx.print(quorum_json(*quorum), quorum_table);
  return kExitOk;
}

// Prints {"node", "action", "endpoint"?} or the sentence `done`.
void print_done(const Context& ctx, json doc, const std::string& done) {
  ctx.print(doc, [done](const json&) { return done + "\n"; });
}

int add_voter(Context& ctx, const std::string& member) {
  Result<NodeAddress> parsed = parse_node_address(member);
  if (!parsed.is_ok()) return ctx.usage(parsed.status().message());
  int32_t id = parsed->id;
  std::string endpoint = parsed->host_port();
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status added = admin->add_raft_voter(id, endpoint);
  if (!added.is_ok())
    return ctx.fail("cannot add node " + std::to_string(id) + " to the voters", added);
  print_done(ctx, {{"node", id}, {"action", "added"}, {"endpoint", endpoint}},
             "node " + std::to_string(id) + " is a voter (quorum endpoint " + endpoint + ")");
  return kExitOk;
}

int remove_voter(Context& ctx, const std::string& text) {
  Result<int32_t> id = parse_node_id("ID", text);
  if (!id.is_ok()) return ctx.usage(id.status().message());
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status removed = admin->remove_raft_voter(*id);
  if (!removed.is_ok()) {
    return ctx.fail("cannot remove node " + std::to_string(*id) + " from the voters", removed);
  }
  print_done(ctx, {{"node", *id}, {"action", "removed"}},
             "node " + std::to_string(*id) + " is no longer a voter (it follows as an observer)");
  return kExitOk;
}

int unregister(Context& ctx, const std::string& text, bool yes) {
  Result<int32_t> id = parse_node_id("ID", text);
  if (!id.is_ok()) return ctx.usage(id.status().message());
  if (!ctx.confirm("Unregister broker " + std::to_string(*id) + "?", yes)) {
    ctx.error("not confirmed; nothing changed");
    return kExitFailed;
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status done = admin->unregister_broker(*id);
  if (!done.is_ok()) {
    if (done.code() == ErrorCode::kBrokerNotAvailable) {
      return ctx.not_found("broker", std::to_string(*id));
    }
    return ctx.fail("cannot unregister broker " + std::to_string(*id), done);
  }
  print_done(ctx, {{"node", *id}, {"action", "unregistered"}},
             "broker " + std::to_string(*id) + " is unregistered");
  return kExitOk;
}

}  // namespace

void add_membership_commands(CLI::App* cluster, Context& ctx, Action& action) {
  cluster
      ->add_subcommand("quorum",
                       "The metadata quorum: leader, term, the voter set, each member's lag")
      ->callback([&ctx, &action] { action = [&ctx] { return cluster_quorum(ctx); }; });

  auto member = std::make_shared<std::string>();
  CLI::App* add = cluster->add_subcommand(
      "add-voter",
      "Make a node that follows the quorum as an observer, and has caught up, a voter");
  add->add_option("member", *member, "ID@HOST:PORT: the node id and its quorum listener")
      ->required();
  add->callback(
      [&ctx, &action, member] { action = [&ctx, member] { return add_voter(ctx, *member); }; });

  auto voter = std::make_shared<std::string>();
  CLI::App* remove = cluster->add_subcommand(
      "remove-voter", "Demote a voter to an observer (the controller hands over if it is the one)");
  remove->add_option("id", *voter, "The voter's node id")->required();
  remove->callback(
      [&ctx, &action, voter] { action = [&ctx, voter] { return remove_voter(ctx, *voter); }; });

  auto broker = std::make_shared<std::string>();
  auto yes = std::make_shared<bool>(false);
  CLI::App* unreg = cluster->add_subcommand(
      "unregister",
      "Remove a retired broker from the metadata (stopped, not a voter, holding no replica)");
  unreg->add_option("id", *broker, "The broker's node id")->required();
  unreg->add_flag("-y,--yes", *yes, "Do not ask for confirmation on a terminal");
  unreg->callback([&ctx, &action, broker, yes] {
    action = [&ctx, broker, yes] { return unregister(ctx, *broker, *yes); };
  });
}

}  // namespace mq::ctl
