#include "transport/server_key_choices.h"

#include "transport/curve.h"

namespace mq::transport {

ServerKeyChoices& ServerKeyChoices::process() {
  static ServerKeyChoices choices;
  return choices;
}

std::string ServerKeyChoices::key(const std::string& endpoint, const CurveClient& curve) {
  return endpoint + "\n" + curve.server_key + "\n" + curve.other_server_key;
}

bool ServerKeyChoices::use_other(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = choices_.find(key);
  return it != choices_.end() && it->second.other;
}

void ServerKeyChoices::handshake_succeeded(const std::string& key, bool other) {
  std::lock_guard lock(mu_);
  choices_[key] = {.other = other, .worked = true, .drops = 0};
}

bool ServerKeyChoices::handshake_dropped(const std::string& key, bool other) {
  std::lock_guard lock(mu_);
  Choice& choice = choices_[key];
  // A drop with the key not in use (a connection made before a switch)
  // says nothing new.
  if (choice.other == other && (!choice.worked || ++choice.drops >= 2)) {
    choice = {.other = !other, .worked = false, .drops = 0};
  }
  return choice.other != other;
}

}  // namespace mq::transport
