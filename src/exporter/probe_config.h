#pragma once
// The exporter's /probe modules and the targets it may probe, from a YAML file in the shape of
// blackbox_exporter's (modules with a prober, a timeout and a tcp section), plus the allow-list
// blackbox_exporter lacks: /probe handshakes only with addresses inside `allowed_targets`, so
// whoever can reach the exporter cannot use it to scan other hosts.
//
//   allowed_targets: [127.0.0.0/8, "10.20.0.0/16:5432", "[fd00::]/8:8000-8099"]
//   modules:
//     tcp_connect: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4}}
//
//   auto config = exporter::load_probe_config("/etc/synscope/probe.yml");
//   if (config->allows(endpoint)) ...
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/endpoint.h"
#include "core/error.h"
#include "kernel/socket_filter.h"

namespace synscope::exporter {

/// One module: how /probe?module=NAME handshakes.
struct probe_module {
  std::string name;
  int64_t timeout_ns = 5'000'000'000;  ///< the whole probe, lookup included (Prometheus' scrape timeout caps it)
  core::address_family preferred = core::address_family::ipv6;  ///< blackbox_exporter's default: ip6
  bool fallback = true;           ///< the other family when the preferred one has no address
  std::optional<core::socket_address> source;  ///< source_ip_address (port 0)
  bool all_addresses = false;     ///< every address of the chosen family, not only the first
  bool fastopen = false;          ///< connect with TCP Fast Open, carrying `payload` on the SYN
  std::string payload;            ///< sent once connected (on the SYN with fastopen)
};

/// One allow-list entry: an address prefix and a port range.
struct allowed_target {
  kernel::address_prefix prefix;
  uint16_t low = 1;
  uint16_t high = 65535;
};

struct probe_config {
  std::vector<allowed_target> allowed;
  std::vector<probe_module> modules;

  [[nodiscard]] const probe_module* module(std::string_view name) const;
  /// Whether /probe may handshake with `e`.
  [[nodiscard]] bool allows(const core::ip_endpoint& e) const;
};

/// Parses the YAML text of `shown` (a file name, for errors). Unknown keys, a missing
/// allowed_targets list, bad prefixes, ports, durations and families are usage errors naming
/// the file, the line and the key ("probe.yml:7: modules.tcp_connect.timeout: ...").
core::result<probe_config> parse_probe_config(std::string_view text, const std::string& shown);

/// Reads and parses `path`. The file decides what a root process connects to, so it must be
/// owned by root or by us and writable by nobody else (OpenSSH's StrictModes; exit 4 otherwise).
core::result<probe_config> load_probe_config(const std::string& path);

}  // namespace synscope::exporter
