#pragma once
// Each subcommand registers its options on the CLI11 app and returns what runs it.
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace synscope::cli {

/// Runs a parsed subcommand and returns the process exit code (docs/exit-codes.md).
using command_runner = std::function<int()>;

command_runner add_probe_command(CLI::App& app);
command_runner add_analyze_command(CLI::App& app);
command_runner add_capture_command(CLI::App& app);
/// `analyze FILE WORDS... [--json]`, for `capture -r FILE` (tcpdump's -r).
int analyze_file(const std::string& file, const std::vector<std::string>& filter_words, bool json);
command_runner add_sockets_command(CLI::App& app);
command_runner add_counters_command(CLI::App& app);
command_runner add_top_command(CLI::App& app);
command_runner add_serve_command(CLI::App& app);
command_runner add_bench_command(CLI::App& app);
command_runner add_exporter_command(CLI::App& app);
command_runner add_tune_command(CLI::App& app);
command_runner add_doctor_command(CLI::App& app);
command_runner add_lab_command(CLI::App& app);
#ifdef SYNSCOPE_HAVE_TRACE
command_runner add_trace_command(CLI::App& app);
#endif
/// `completion bash|zsh` and the hidden `manpage`, written from every command added before it:
/// add it last. The runner serves both.
command_runner add_completion_command(CLI::App& app, const std::string& version);

}  // namespace synscope::cli
