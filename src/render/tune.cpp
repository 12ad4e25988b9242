#include "render/tune.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "render/json.h"
#include "render/table.h"

namespace synscope::render {
namespace {

json_array change_list_json(const std::vector<tune::change>& changed) {
  json_array out;
  for (const auto& c : changed) out.add(json_object().field("key", c.key).field("was", c.was).field("now", c.now));
  return out;
}

std::string change_lines(const std::vector<tune::change>& changed) {
  std::string out;
  for (const auto& c : changed) out += fmt::format("  {}: {} -> {}\n", c.key, c.was, c.now);
  return out;
}

}  // namespace

std::string audit_text(const tune::profile& p, const std::vector<tune::audit_row>& rows, const std::string& root) {
  table t({{"key"}, {"current"}, {"recommended"}, {"status"}, {"reason"}});
  for (const auto& r : rows) {
    t.add_row({core::printable(r.key), core::printable(r.current), core::printable(r.recommended),
               tune::status_name(r.state), core::printable(r.reason, 400)});
  }
  return fmt::format("profile {} against {}:\n{}", core::printable(p.name), root, t.render());
}

std::string audit_json(const std::vector<tune::audit_row>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += json_object()
               .field("key", r.key)
               .field("current", r.current)
               .field("recommended", r.recommended)
               .field("status", tune::status_name(r.state))
               .field("reason", r.reason)
               .str() +
           "\n";
  }
  return out;
}

std::string plan_text(const tune::profile& p, const std::vector<tune::audit_row>& rows, const plan_target& t) {
  std::string out = fmt::format("synscope tune apply --profile {} would change:\n", core::printable(t.profile_name));
  size_t n = 0;
  for (const auto& r : rows) {
    if (r.state == tune::status::differs) {
      out += fmt::format("  {}: {} -> {}\n", r.key, r.current, r.recommended);
      ++n;
    } else if (r.state != tune::status::ok) {
      out += fmt::format("  {}: not written ({}: {})\n", core::printable(r.key), tune::status_name(r.state),
                         core::printable(r.reason, 400));
    }
  }
  if (n == 0) out += "  nothing: every value is already the profile's\n";
  if (t.persist_path.empty()) {
    out += fmt::format("\nlive only ({}): nothing is persisted, so the change ends with the next boot{}\n",
                       t.live_only_reason, t.persist_given ? "" : "; --persist-path FILE persists it");
  } else {
    out += fmt::format("\nand write {}:\n{}", t.persist_path, core::printable_lines(tune::sysctl_d_text(p)));
  }
  out += fmt::format("backup first, into {}\n", t.backup_dir);
  return out;
}

std::string plan_file_json(const tune::profile& p, const plan_target& t) {
  return json_object()
             .field("type", "file")
             .field("path", t.persist_path)
             .field("live_only", t.persist_path.empty())
             .field("text", t.persist_path.empty() ? std::string() : tune::sysctl_d_text(p))
             .field("backup_dir", t.backup_dir)
             .str() +
         "\n";
}

std::string apply_text(const tune::apply_result& r, const std::string& live_only_reason) {
  std::string out = fmt::format("backup: {}\n", r.backup_path) + change_lines(r.changed);
  if (r.changed.empty()) out += "  nothing to change: every value is already the profile's\n";
  if (!r.persisted.empty()) {
    out += fmt::format("persisted: {}\n", r.persisted);
  } else {
    out += fmt::format("live only ({}): nothing persisted\n", live_only_reason);
  }
  out += fmt::format("undo: synscope tune restore {}\n", r.backup_path);
  return out;
}

std::string apply_json(const tune::apply_result& r) {
  return json_object()
             .field("backup", r.backup_path)
             .field("persisted", r.persisted)
             .field("changed", change_list_json(r.changed))
             .str() +
         "\n";
}

std::string backup_text(const tune::backup_result& r, int keep_days) {
  std::string out = fmt::format("backup: {} ({} net.* settings; {})\n", r.path, r.keys, fmt::join(r.files, ", "));
  for (const auto& old : r.removed) out += fmt::format("removed (older than {} days): {}\n", keep_days, old);
  return out;
}

std::string backup_json(const tune::backup_result& r) {
  return json_object()
             .field("path", r.path)
             .field("keys", static_cast<uint64_t>(r.keys))
             .field("files", r.files)
             .field("removed", r.removed)
             .str() +
         "\n";
}

std::string restore_text(const tune::restore_result& r) {
  std::string out =
      fmt::format("verified: owned by root, writable by nobody else, every checksum matches; restored {} setting{}\n",
                  r.changed.size(), r.changed.size() == 1 ? "" : "s");
  out += change_lines(r.changed);
  if (!r.skipped.empty()) {
    size_t shown = std::min<size_t>(8, r.skipped.size());
    out += fmt::format("not here ({} key{} this kernel or namespace does not have, or may not change): {}{}\n",
                       r.skipped.size(), r.skipped.size() == 1 ? "" : "s",
                       fmt::join(r.skipped.begin(), r.skipped.begin() + static_cast<long>(shown), ", "),
                       r.skipped.size() > 8 ? ", ..." : "");
  }
  out += fmt::format("persisted file: {}\n", r.persisted);
  if (!r.firewall.empty()) out += fmt::format("firewall rules restored ({})\n", r.firewall);
  return out;
}

std::string restore_json(const tune::restore_result& r) {
  return json_object()
             .field("changed", change_list_json(r.changed))
             .field("skipped", r.skipped)
             .field("differs", change_list_json(r.differs))
             .field("persisted", r.persisted)
             .field("firewall", r.firewall)
             .str() +
         "\n";
}

std::string restore_differences(const tune::restore_result& r) {
  if (r.differs.empty()) return "";
  std::string out;
  for (const auto& d : r.differs) {
    out += fmt::format("synscope: restore: {} is '{}', not the backup's '{}'\n", d.key, d.now, d.was);
  }
  out += fmt::format("synscope: restore: {} setting{} still differ{} from the backup\n", r.differs.size(),
                     r.differs.size() == 1 ? "" : "s", r.differs.size() == 1 ? "s" : "");
  return out;
}

}  // namespace synscope::render
