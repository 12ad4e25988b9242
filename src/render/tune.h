#pragma once
// `synscope tune` as people and machines read it: the audit table, the plan, and what apply,
// backup and restore did (docs/tune.md). A profile is anyone's file, so its text reaches the
// terminal with control bytes escaped.
//
//   fmt::print("{}", render::audit_text(profile, rows, "/proc"));
#include <string>
#include <vector>

#include "tune/backup.h"
#include "tune/tune.h"

namespace synscope::render {

/// "profile NAME against ROOT:" and a row a key.
std::string audit_text(const tune::profile& p, const std::vector<tune::audit_row>& rows, const std::string& root);
/// One JSON line a key.
std::string audit_json(const std::vector<tune::audit_row>& rows);

/// Where the plan writes; persist_path "" is live only, for `live_only_reason`.
struct plan_target {
  std::string profile_name;      ///< as --profile named it
  std::string persist_path;      ///< "" : nothing is persisted
  std::string live_only_reason;  ///< why not ("network namespace x"), when persist_path is ""
  bool persist_given = false;    ///< --persist-path was given (then no hint how to persist)
  std::string backup_dir;
};
/// What apply would change, what it would leave, the file it would write and where the backup goes.
std::string plan_text(const tune::profile& p, const std::vector<tune::audit_row>& rows, const plan_target& t);
/// The {"type":"file",...} line that follows the audit lines in `plan --json`.
std::string plan_file_json(const tune::profile& p, const plan_target& t);

/// The backup, each change, what was persisted (or why nothing: `live_only_reason`), the undo.
std::string apply_text(const tune::apply_result& r, const std::string& live_only_reason);
std::string apply_json(const tune::apply_result& r);

std::string backup_text(const tune::backup_result& r, int keep_days);
std::string backup_json(const tune::backup_result& r);

/// What was verified and restored. Keys that still differ are not in it: restore_differences.
std::string restore_text(const tune::restore_result& r);
std::string restore_json(const tune::restore_result& r);
/// A line a key that still differs from the backup, then the count ("" when none): for stderr.
std::string restore_differences(const tune::restore_result& r);

}  // namespace synscope::render
