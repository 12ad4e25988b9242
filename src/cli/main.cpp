// synscope: one binary, one thin subcommand per file. Parsing and rendering only; the work is
// done by the library modules (docs/architecture.md).
#include <cstdio>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  using namespace synscope;
  CLI::App app{"synscope: measure, capture and tune TCP connection establishment on Linux."};
  app.name("synscope");
  app.set_version_flag("--version", std::string("synscope ") + SYNSCOPE_VERSION);
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  synscope doctor                     # the seed's checklist, checked on this host\n"
      "  synscope probe                      # the local kernel's handshake baseline\n"
      "  synscope probe example.org:443 -c 5\n"
      "  synscope analyze trace.pcapng 'port 443'   # every handshake in a capture\n"
      "  synscope sockets -s                 # sockets per state, listener queues\n"
      "  synscope counters                   # the kernel's handshake counters, grouped\n"
      "  synscope top                        # all of it live, once a second\n"
      "  synscope serve --mode http &  synscope bench 127.0.0.1:8080 -n 10000 -c 64\n"
      "\nRun 'synscope COMMAND --help' for a command's options. Exit codes: docs/exit-codes.md");

  std::vector<std::pair<CLI::App*, cli::command_runner>> commands;
  auto doctor = cli::add_doctor_command(app);
  commands.emplace_back(app.get_subcommand("doctor"), std::move(doctor));
  auto probe = cli::add_probe_command(app);
  commands.emplace_back(app.get_subcommand("probe"), std::move(probe));
  auto analyze = cli::add_analyze_command(app);
  commands.emplace_back(app.get_subcommand("analyze"), std::move(analyze));
  auto capture = cli::add_capture_command(app);
  commands.emplace_back(app.get_subcommand("capture"), std::move(capture));
  auto sockets = cli::add_sockets_command(app);
  commands.emplace_back(app.get_subcommand("sockets"), std::move(sockets));
  auto counters = cli::add_counters_command(app);
  commands.emplace_back(app.get_subcommand("counters"), std::move(counters));
  auto top = cli::add_top_command(app);
  commands.emplace_back(app.get_subcommand("top"), std::move(top));
  auto serve = cli::add_serve_command(app);
  commands.emplace_back(app.get_subcommand("serve"), std::move(serve));
  auto bench = cli::add_bench_command(app);
  commands.emplace_back(app.get_subcommand("bench"), std::move(bench));
  auto exporter = cli::add_exporter_command(app);
  commands.emplace_back(app.get_subcommand("exporter"), std::move(exporter));
  auto tune = cli::add_tune_command(app);
  commands.emplace_back(app.get_subcommand("tune"), std::move(tune));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // Help for the innermost subcommand that was named, as `git CMD --help` does.
    const CLI::App* target = &app;
    for (const auto& [sub, runner] : commands) {
      if (!sub->parsed()) continue;
      target = sub;
      for (const CLI::App* nested : sub->get_subcommands()) target = nested;  // `tune apply --help`
    }
    fmt::print("{}", target->help());
    return 0;
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --version
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "synscope: {}\nRun 'synscope --help' for usage.\n", core::printable(e.what(), 500));
    return static_cast<int>(core::exit_code::usage);
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) {
      return runner();
    }
  }
  fmt::print(stderr, "{}", app.help());
  return static_cast<int>(core::exit_code::usage);
}
