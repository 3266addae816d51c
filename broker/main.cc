// mqd: the broker daemon. Flags, logging, signals and systemd notification
// around broker::Broker.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "broker/broker.h"
#include "broker/config.h"

namespace {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("mqd");
  // Under systemd the journal stamps time and unit; elsewhere we do.
  logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "[%l] %v" : "%Y-%m-%dT%H:%M:%S.%e [%l] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

int run(const std::string& config_path) {
  mq::Result<mq::broker::BrokerConfig> config = mq::broker::load_config(config_path);
  if (!config.is_ok()) {
    std::fprintf(stderr, "mqd: %s\n", config.status().message().c_str());
    return 2;
  }
  setup_logging(config->log_level);

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  mq::broker::Broker broker(*config);
  mq::Status started =
      broker.start([](const std::string& line) { sd_notifyf(0, "STATUS=%s", line.c_str()); });
  if (!started.is_ok()) {
    spdlog::critical("cannot start: {}", started.to_string());
    sd_notifyf(0, "STATUS=failed: %s", started.to_string().c_str());
    return 1;
  }
  sd_notify(0, "READY=1\nSTATUS=serving");

  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  auto ping_every = std::chrono::microseconds(watchdog ? watchdog_usec / 2 : 1'000'000);
  while (true) {
    timespec wait{static_cast<time_t>(ping_every.count() / 1'000'000),
                  static_cast<long>(ping_every.count() % 1'000'000) * 1000};
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (std::optional<std::string> fatal = sig < 0 ? broker.fatal() : std::nullopt) {
      sd_notifyf(0, "STOPPING=1\nSTATUS=failed: %s", fatal->c_str());
      (void)broker.shutdown();
      return 1;
    }
    if (sig < 0) {
      // Only ping while requests are really being served (not merely alive):
      // a stuck network thread lets systemd's watchdog restart mqd.
      std::string why;
      if (watchdog && broker.ready()) {
        if (broker.healthy(&why)) {
          sd_notify(0, "WATCHDOG=1");
        } else {
          spdlog::error("withholding the watchdog ping: {}", why);
        }
      }
      continue;
    }
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      // First and on their own: a removed key must not wait on a config
      // file that no longer parses.
      broker.reload_secrets();
      mq::Result<mq::broker::BrokerConfig> next = mq::broker::load_config(config_path);
      if (!next.is_ok()) {
        spdlog::error("reload: keeping the running settings: {}", next.status().message());
      } else {
        mq::Result<mq::broker::ConfigDiff> diff = broker.reload(*next);
        if (!diff.is_ok()) {
          spdlog::error("reload failed: {}", diff.status().to_string());
        } else {
          std::string changed, restart;
          for (const auto& k : diff->dynamic_keys) changed += " " + k;
          for (const auto& k : diff->static_keys) restart += " " + k;
          spdlog::info("reloaded {}: changed:{}{}", config_path,
                       changed.empty() ? " nothing" : changed,
                       restart.empty() ? "" : "; need a restart to change:" + restart);
        }
      }
      sd_notify(0, "READY=1");
      continue;
    }
    spdlog::info("{} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    sd_notify(0, "STOPPING=1");
    mq::Status closed = broker.shutdown();
    return closed.is_ok() ? 0 : 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqd: the mq broker"};
  std::string config_path, check_path, example_path;
  bool print_reference = false, version = false;
  app.add_option("-c,--config", config_path, "TOML config file to run with");
  app.add_option("--check-config", check_path, "Validate a config file and exit");
  app.add_flag("--print-config-reference", print_reference,
               "Print the configuration reference (docs/configuration.md) and exit");
  CLI::Option* print_example =
      app.add_option("--print-example-config", example_path,
                     "Print a config file with every setting, its default and a comment, taking "
                     "the values from FILE if given (examples/configs/production.toml), and exit")
          ->expected(0, 1);
  app.add_flag("--version", version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("mqd %s\n", MQ_VERSION);
    return 0;
  }
  if (print_reference) {
    std::fputs(mq::broker::configuration_reference().c_str(), stdout);
    return 0;
  }
  if (print_example->count() > 0) {
    mq::Result<mq::broker::BrokerConfig> values =
        example_path.empty() ? mq::broker::BrokerConfig() : mq::broker::load_config(example_path);
    if (!values.is_ok()) {
      std::fprintf(stderr, "mqd: %s\n", values.status().message().c_str());
      return 2;
    }
    std::fputs(mq::broker::example_config(*values).c_str(), stdout);
    return 0;
  }
  if (!check_path.empty()) {
    mq::Result<mq::broker::BrokerConfig> config = mq::broker::load_config(check_path);
    if (!config.is_ok()) {
      std::fprintf(stderr, "mqd: %s\n", config.status().message().c_str());
      return 2;
    }
    std::printf("%s: ok\n", check_path.c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "mqd: --config FILE is required (see --help)\n");
    return 2;
  }
  return run(config_path);
}
