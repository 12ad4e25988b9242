#include "tune/firewall.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "core/process.h"

namespace synscope::tune {
namespace {

constexpr const char* chain = "SYNSCOPE-SYN-LIMIT";

std::string port_match(const syn_limit& l, firewall_format f) {
  if (l.port == 0) return "";
  return f == firewall_format::nft ? fmt::format("tcp dport {} ", l.port) : fmt::format(" --dport {}", l.port);
}

core::error tool_failed(const std::string& what, const std::string& err) {
  return core::error{core::exit_code::environment, fmt::format("firewall: {} failed{}", what, err.empty() ? "" : ": " + err)};
}

std::vector<std::vector<std::string>> iptables_add(const syn_limit& l, const char* tool) {
  std::vector<std::vector<std::string>> cmds = {
      {tool, "-N", chain},
      {tool, "-A", chain, "-m", "limit", "--limit", fmt::format("{}/second", l.per_second), "--limit-burst",
       std::to_string(l.burst), "-j", "RETURN"},
      {tool, "-A", chain, "-j", "DROP"},
  };
  std::vector<std::string> jump = {tool, "-I", "INPUT", "-p", "tcp", "--syn"};
  if (l.port != 0) {
    jump.emplace_back("--dport");
    jump.push_back(std::to_string(l.port));
  }
  jump.emplace_back("-j");
  jump.emplace_back(chain);
  cmds.push_back(jump);
  return cmds;
}

std::vector<std::vector<std::string>> iptables_del(const syn_limit& l, const char* tool) {
  std::vector<std::string> jump = {tool, "-D", "INPUT", "-p", "tcp", "--syn"};
  if (l.port != 0) {
    jump.emplace_back("--dport");
    jump.push_back(std::to_string(l.port));
  }
  jump.emplace_back("-j");
  jump.emplace_back(chain);
  return {jump, {tool, "-F", chain}, {tool, "-X", chain}};
}

std::string joined(const std::vector<std::vector<std::string>>& cmds) {
  std::string out;
  for (const auto& c : cmds) {
    std::string line;
    for (const auto& w : c) line += (line.empty() ? "" : " ") + w;
    out += line + "\n";
  }
  return out;
}

}  // namespace

core::result<uint32_t> parse_rate(const std::string& text) {
  std::string t = text;
  uint32_t per = 1;
  if (t.size() > 2 && t.substr(t.size() - 2) == "/s") t.resize(t.size() - 2);
  else if (t.size() > 2 && t.substr(t.size() - 2) == "/m") {
    t.resize(t.size() - 2);
    per = 60;
  }
  char* end = nullptr;
  unsigned long v = std::strtoul(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0' || v == 0 || v > 1'000'000 || v / per == 0) {
    return core::error{core::exit_code::usage,
                       fmt::format("--syn-rate '{}': a rate such as 10/s or 600/m (at least 1 a second)", core::printable(text))};
  }
  return static_cast<uint32_t>(v / per);
}

std::string firewall_rules(const syn_limit& l, firewall_format f) {
  std::string header = fmt::format(
      "# synscope: at most {}/s new SYNs{} (burst {}); the rest are dropped.\n"
      "# Warning: this drops legitimate SYNs too once the rate is exceeded (the seed's global rule\n"
      "# turns a flood into an outage for everyone); scope it with --port and keep tcp_syncookies=1.\n",
      l.per_second, l.port == 0 ? " to any port" : fmt::format(" to port {}", l.port), l.burst);
  if (f == firewall_format::nft) {
    return header + fmt::format(
                        "table inet synscope {{\n"
                        "  chain syn_limit {{\n"
                        "    type filter hook input priority filter; policy accept;\n"
                        "    tcp flags & (syn | ack) == syn {}limit rate over {}/second burst {} packets counter drop\n"
                        "  }}\n"
                        "}}\n",
                        port_match(l, f), l.per_second, l.burst);
  }
  return header + joined(iptables_add(l, "iptables")) + joined(iptables_add(l, "ip6tables"));
}

std::string firewall_removal(const syn_limit& l, firewall_format f) {
  if (f == firewall_format::nft) return "nft delete table inet synscope\n";
  return joined(iptables_del(l, "iptables")) + joined(iptables_del(l, "ip6tables"));
}

core::result<void> firewall_apply(const syn_limit& l, firewall_format f) {
  std::string err;
  if (f == firewall_format::nft) {
    if (!core::run_program({"nft", "-f", "-"}, firewall_rules(l, f), &err)) return tool_failed("nft -f", err);
    return {};
  }
  for (const char* tool : {"iptables", "ip6tables"}) {
    auto cmds = iptables_add(l, tool);
    for (size_t i = 0; i < cmds.size(); ++i) {
      if (!core::run_program(cmds[i], "", &err)) {
        // Undo what this tool got, so a failure leaves nothing behind.
        for (const auto& d : iptables_del(l, tool)) core::run_program(d, "");
        return tool_failed(joined({cmds[i]}).substr(0, joined({cmds[i]}).size() - 1), err);
      }
    }
  }
  return {};
}

core::result<void> firewall_remove(const syn_limit& l, firewall_format f) {
  std::string err;
  if (f == firewall_format::nft) {
    if (!core::run_program({"nft", "delete", "table", "inet", "synscope"}, "", &err)) return tool_failed("nft delete table inet synscope", err);
    return {};
  }
  bool any = false;
  for (const char* tool : {"iptables", "ip6tables"}) {
    for (const auto& d : iptables_del(l, tool)) any = core::run_program(d, "", &err) || any;
  }
  if (!any) return tool_failed("removing chain SYNSCOPE-SYN-LIMIT (was it applied, with the same --port?)", err);
  return {};
}

}  // namespace synscope::tune
