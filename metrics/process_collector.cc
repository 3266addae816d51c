// ProcessCollector: /proc/self/stat, /proc/self/fd and getrlimit.
#include "metrics/process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace mq::metrics {
namespace {

prometheus::MetricFamily gauge(const std::string& name, const std::string& help, double value,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

// Fields of /proc/self/stat after the command name (which may contain spaces).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;  // fields[0] is "state" (field 3 of proc(5))
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

ProcessCollector::ProcessCollector() {
  std::vector<std::string> f = stat_fields();
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (f.size() > 19) start_time_seconds_ = boot_time_seconds() + std::stod(f[19]) / ticks;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::vector<std::string> f = stat_fields();
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (f.size() > 21) {
    // proc(5): utime=14, stime=15, vsize=23, rss=24 (1-based); f[0] is field 3.
    double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    out.push_back(gauge("process_cpu_seconds_total", "User and system CPU time spent, seconds.",
                        cpu, prometheus::MetricType::Counter));
    out.push_back(
        gauge("process_virtual_memory_bytes", "Virtual memory size, bytes.", std::stod(f[20])));
    out.push_back(gauge("process_resident_memory_bytes", "Resident memory size, bytes.",
                        std::stod(f[21]) * page));
  }
  double fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') fds++;
    }
    closedir(d);
    fds -= 1;  // the descriptor opendir itself holds
  }
  out.push_back(gauge("process_open_fds", "Open file descriptors.", fds));
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(gauge("process_max_fds", "Limit on open file descriptors.",
                        static_cast<double>(limit.rlim_cur)));
  }
  out.push_back(gauge("process_start_time_seconds",
                      "Start time of the process since the Unix epoch, seconds.",
                      start_time_seconds_));
  return out;
}

}  // namespace mq::metrics
