#include "tune/firewall.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

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
      "# Warning: this drops legitimate SYNs too once the rate is exceeded (a global rule turns\n"
      "# a flood into an outage for everyone); scope it with --port and keep tcp_syncookies=1.\n",
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

namespace {

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string d = dirs.substr(start, end - start);
    if (!d.empty() && access((d + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// "iptables v1.8.9 (nf_tables)" -> "nf_tables"; "(legacy)" -> "legacy".
std::string iptables_backend() {
  auto v = core::run_capture({"iptables", "-V"});
  if (!v.ok) return "";
  if (v.out.find("nf_tables") != std::string::npos) return "nf_tables";
  return "legacy";
}

bool managed_by_iptables(const std::string& family, const std::string& name) {
  if (family != "ip" && family != "ip6") return false;
  for (const char* t : {"filter", "nat", "mangle", "raw", "security"}) {
    if (name == t) return true;
  }
  return false;
}

struct restore_plan {
  bool nft_whole = false;  // nft -f "flush ruleset" + the whole dump
  bool iptables = false;   // iptables-restore and ip6tables-restore of their dumps
  std::string beside;      // with iptables on nf_tables: the tables iptables does not manage
  std::vector<std::string> beside_names;
};

core::result<void> iptables_dumps_load(const firewall_dump& d) {
  for (const auto& [have, tool, text] : {std::tuple{d.have_iptables, "iptables-restore", &d.iptables},
                                         std::tuple{d.have_ip6tables, "ip6tables-restore", &d.ip6tables}}) {
    std::string err;
    if (have && !core::run_program({tool, "--test"}, *text, &err)) {
      return core::error{core::exit_code::environment,
                         fmt::format("firewall: {} --test refuses the saved rules ({})", tool, err)};
    }
  }
  return {};
}

// How `dump` loads again here, or why it cannot.
core::result<restore_plan> plan_restore(const firewall_dump& d) {
  restore_plan plan;
  bool have_iptables = d.have_iptables || d.have_ip6tables;
  std::string why;
  bool nft_loads = d.have_nft && core::run_program({"nft", "-c", "-f", "-"}, "flush ruleset\n" + d.nft, &why);
  if (d.iptables_backend == "legacy") {
    // Two separate rule sets: the kernel's legacy tables (iptables) and nft's own.
    if (d.have_nft && !nft_loads) {
      return core::error{core::exit_code::environment, fmt::format("firewall: nft cannot load the saved ruleset again ({})", why)};
    }
    if (auto r = iptables_dumps_load(d); !r) return r.error();
    plan.nft_whole = d.have_nft;
    plan.iptables = have_iptables;
    return plan;
  }
  if (nft_loads) {  // iptables-nft's tables are in the ruleset too: one load puts back both
    plan.nft_whole = true;
    return plan;
  }
  if (!have_iptables) {
    return core::error{core::exit_code::environment,
                       fmt::format("firewall: nft cannot load the saved ruleset again ({}) and there is no "
                                   "iptables-save dump to restore it from",
                                   why)};
  }
  // Rules of iptables-nft that nft prints but cannot parse (xtables matches such as -m recent):
  // those tables come back through iptables-restore, the others through nft.
  if (auto r = iptables_dumps_load(d); !r) return r.error();
  plan.iptables = true;
  if (d.have_nft) {
    plan.beside = nft_tables_beside_iptables(d.nft, &plan.beside_names);
    if (!plan.beside.empty() && !core::run_program({"nft", "-c", "-f", "-"}, "flush ruleset\n" + plan.beside, &why)) {
      return core::error{core::exit_code::environment,
                         fmt::format("firewall: nft cannot load the saved tables {} again ({})",
                                     fmt::join(plan.beside_names, ", "), why)};
    }
  }
  return plan;
}

}  // namespace

std::string nft_tables_beside_iptables(const std::string& ruleset, std::vector<std::string>* names) {
  std::string out;
  size_t pos = 0;
  while (pos < ruleset.size()) {
    size_t eol = ruleset.find('\n', pos);
    if (eol == std::string::npos) eol = ruleset.size();
    std::string_view line(ruleset.data() + pos, eol - pos);
    if (line.rfind("table ", 0) != 0) {
      pos = eol + 1;
      continue;
    }
    // "table FAMILY NAME {": the block runs to its matching brace (braces in quoted comments
    // do not count).
    std::string family;
    std::string name;
    {
      size_t a = 6;
      size_t b = line.find(' ', a);
      family = std::string(line.substr(a, b - a));
      size_t c = b == std::string_view::npos ? b : line.find_first_of(" {", b + 1);
      if (b != std::string_view::npos) name = std::string(line.substr(b + 1, c - b - 1));
    }
    int depth = 0;
    bool quoted = false;
    size_t end = pos;
    for (; end < ruleset.size(); ++end) {
      char ch = ruleset[end];
      if (ch == '"') quoted = !quoted;
      if (quoted) continue;
      if (ch == '{') ++depth;
      if (ch == '}' && --depth == 0) break;
    }
    size_t block_end = ruleset.find('\n', end);
    block_end = block_end == std::string::npos ? ruleset.size() : block_end + 1;
    if (!managed_by_iptables(family, name)) {
      out.append(ruleset, pos, block_end - pos);
      if (names != nullptr) names->push_back(family + " " + name);
    }
    pos = block_end;
  }
  return out;
}

core::result<firewall_dump> firewall_save() {
  firewall_dump d;
  auto dump = [](const std::vector<std::string>& argv, std::string& into) -> core::result<void> {
    auto r = core::run_capture(argv);
    if (!r.ok) {
      return core::error{core::exit_code::environment,
                         fmt::format("backup: '{}' failed{}: the firewall rules were not saved", fmt::join(argv, " "),
                                     r.err.empty() ? "" : " (" + r.err + ")")};
    }
    into = std::move(r.out);
    return {};
  };
  if (on_path("iptables-save")) {
    if (auto r = dump({"iptables-save"}, d.iptables); !r) return r.error();
    d.have_iptables = true;
    d.iptables_backend = iptables_backend();
  }
  if (on_path("ip6tables-save")) {
    if (auto r = dump({"ip6tables-save"}, d.ip6tables); !r) return r.error();
    d.have_ip6tables = true;
  }
  if (on_path("nft")) {
    if (auto r = dump({"nft", "list", "ruleset"}, d.nft); !r) return r.error();
    d.have_nft = true;
  }
  if (!d.have_iptables && !d.have_ip6tables && !d.have_nft) return d;
  if (auto plan = plan_restore(d); !plan) {
    auto e = plan.error();
    e.message = "backup: " + e.message + ": a backup that could not put them back is not made (--no-firewall leaves them out)";
    return e;
  }
  return d;
}

core::result<std::string> firewall_restore(const firewall_dump& d) {
  auto plan = plan_restore(d);
  if (!plan) return plan.error();
  std::string err;
  std::vector<std::string> how;
  if (plan->nft_whole) {
    if (!core::run_program({"nft", "-f", "-"}, "flush ruleset\n" + d.nft, &err)) return tool_failed("nft -f", err);
    how.emplace_back("nft -f");
  } else if (d.have_nft && plan->iptables) {
    // One ruleset behind both tools: cleared once, then each part loaded by the tool that can.
    if (!core::run_program({"nft", "flush", "ruleset"}, "", &err)) return tool_failed("nft flush ruleset", err);
  }
  if (plan->iptables) {
    for (const auto& [have, tool, text] : {std::tuple{d.have_iptables, "iptables-restore", &d.iptables},
                                           std::tuple{d.have_ip6tables, "ip6tables-restore", &d.ip6tables}}) {
      if (!have) continue;
      if (!core::run_program({tool}, *text, &err)) return tool_failed(tool, err);
      how.emplace_back(tool);
    }
  }
  if (!plan->beside.empty()) {
    if (!core::run_program({"nft", "-f", "-"}, plan->beside, &err)) return tool_failed("nft -f", err);
    how.push_back(fmt::format("nft -f (tables {})", fmt::join(plan->beside_names, ", ")));
  }
  return fmt::format("{}", fmt::join(how, ", "));
}

}  // namespace synscope::tune
