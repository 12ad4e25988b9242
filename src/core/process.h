#pragma once
// Running a program and waiting for it: for the tools synscope drives (nft, iptables, ip, tc).
// The child inherits the calling thread's network namespace, so a thread that entered one runs
// the tool there.
//
//   std::string why;
//   if (!core::run_program({"nft", "-f", "-"}, rules, &why)) return fail(why);
//   auto dump = core::run_capture({"iptables-save"});   // dump.ok, dump.out, dump.err
#include <string>
#include <vector>

namespace synscope::core {

struct program_result {
  bool ok = false;   ///< it ran and exited 0
  std::string out;   ///< everything it wrote to stdout
  std::string err;   ///< the first line of its stderr (or what went wrong starting it)
};

/// Runs argv[0] (found on PATH) with `input` on its stdin, collecting stdout and stderr (read
/// together, so a tool that writes much to both cannot block).
program_result run_capture(const std::vector<std::string>& argv, const std::string& input = {});

/// Runs argv[0] (found on PATH) with `input` on its stdin and its stdout discarded; true when it
/// exited 0. `err`, when given, gets the first line of its stderr (or what went wrong starting it).
bool run_program(const std::vector<std::string>& argv, const std::string& input = {}, std::string* err = nullptr);

}  // namespace synscope::core
