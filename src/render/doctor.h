#pragma once
// `synscope doctor` as people and machines read it: findings under their group with the fix,
// then the count of each verdict; or a JSON line a finding and a summary line (docs/doctor.md).
#include <string>
#include <vector>

#include "doctor/doctor.h"

namespace synscope::render {

/// `colour`: the verdicts in ANSI colours (for a terminal).
std::string doctor_text(const std::vector<doctor::finding>& findings, bool colour);
/// {"type":"finding",...} lines, then {"type":"summary","worst":...}.
std::string doctor_json(const std::vector<doctor::finding>& findings);

}  // namespace synscope::render
