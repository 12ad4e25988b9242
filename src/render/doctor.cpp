#include "render/doctor.h"

#include <map>

#include <fmt/format.h>

#include "render/json.h"

namespace synscope::render {
namespace {

const char* colour_of(doctor::verdict v) {
  switch (v) {
    case doctor::verdict::pass: return "\033[32m";
    case doctor::verdict::info: return "\033[36m";
    case doctor::verdict::warn: return "\033[33m";
    case doctor::verdict::fail: return "\033[31m";
  }
  return "";
}

}  // namespace

std::string doctor_text(const std::vector<doctor::finding>& findings, bool colour) {
  std::string out;
  std::string group;
  for (const auto& f : findings) {
    if (f.group != group) {
      group = f.group;
      out += fmt::format("{}{}\n", group == findings.front().group ? "" : "\n", group);
    }
    out += fmt::format("  {}{}{}  {}\n", colour ? colour_of(f.level) : "", doctor::verdict_name(f.level),
                       colour ? "\033[0m" : "", f.summary);
    if (!f.fix.empty()) out += fmt::format("        fix: {}\n", f.fix);
  }
  std::map<std::string, int> counts;
  for (const auto& f : findings) ++counts[doctor::verdict_name(f.level)];
  out += fmt::format("\n{} PASS, {} INFO, {} WARN, {} FAIL\n", counts["PASS"], counts["INFO"], counts["WARN"],
                     counts["FAIL"]);
  return out;
}

std::string doctor_json(const std::vector<doctor::finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    json_object evidence;
    for (const auto& [k, v] : f.evidence) evidence.field(k, v);
    out += json_object()
               .field("type", "finding")
               .field("group", f.group)
               .field("check", f.check)
               .field("verdict", doctor::verdict_name(f.level))
               .field("summary", f.summary)
               .field("evidence", evidence)
               .field("fix", f.fix)
               .str() +
           "\n";
  }
  out += json_object().field("type", "summary").field("worst", doctor::verdict_name(doctor::worst(findings))).str() + "\n";
  return out;
}

}  // namespace synscope::render
