// synscope: one binary, one thin subcommand per file. Parsing and rendering only; the work is
// done by the library modules (docs/architecture.md).
#include <cstdio>
#include <system_error>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/error.h"

int main(int argc, char** argv) {
  using namespace synscope;
  cli::hold_standard_streams();
  CLI::App app{"synscope: measure, capture and tune TCP connection establishment on Linux."};
  app.name("synscope");
  app.set_version_flag("--version", std::string("synscope ") + SYNSCOPE_VERSION);
  app.require_subcommand(0, 1);
  // --color belongs to every command: given after the command's name, it falls through to here.
  app.fallthrough();
  std::string colour = "auto";
  app.add_option("--color,--colour", colour, "Colour: never, auto (on a terminal, unless NO_COLOR is set) or always")
      ->check(CLI::IsMember({"never", "auto", "always"}))
      ->capture_default_str();
  app.footer(
      "Examples:\n"
      "  synscope doctor                     # the handshake checklist, checked on this host\n"
      "  synscope probe                      # the local kernel's handshake baseline\n"
      "  synscope probe example.org:443 -c 5\n"
      "  synscope analyze trace.pcapng 'port 443'   # every handshake in a capture\n"
      "  synscope sockets -s                 # sockets per state, listener queues\n"
      "  synscope counters                   # the kernel's handshake counters, grouped\n"
      "  synscope top                        # all of it live, once a second\n"
      "  synscope serve --mode http &  synscope bench 127.0.0.1:8080 -n 10000 -c 64\n"
      "\nRun 'synscope help COMMAND' (or 'synscope COMMAND --help') for a command's options.\n"
      "--color=never|auto|always goes with any command; NO_COLOR in the environment turns colour off.\n"
      "Exit codes: docs/exit-codes.md");

  // Each subcommand registers itself; the order here is the order of --help.
  using adder = cli::command_runner (*)(CLI::App&);
  constexpr adder adders[] = {cli::add_doctor_command,  cli::add_probe_command,    cli::add_analyze_command,
                              cli::add_capture_command, cli::add_sockets_command,  cli::add_counters_command,
                              cli::add_top_command,
#ifdef SYNSCOPE_HAVE_TRACE
                              cli::add_trace_command,
#endif
                              cli::add_serve_command,    cli::add_bench_command,
                              cli::add_exporter_command, cli::add_tune_command, cli::add_lab_command};
  std::vector<std::pair<CLI::App*, cli::command_runner>> commands;
  for (adder add : adders) {
    auto runner = add(app);
    commands.emplace_back(app.get_subcommands({}).back(), std::move(runner));
  }
  auto completion = cli::add_completion_command(app, std::string("synscope ") + SYNSCOPE_VERSION);
  commands.emplace_back(app.get_subcommand("completion"), completion);
  commands.emplace_back(app.get_subcommand("manpage"), completion);

  cli::take_last_values(app);

  // `synscope help CMD [SUB]` is `synscope CMD [SUB] --help`, as git and go have it.
  std::vector<std::string> words(argv, argv + argc);
  if (words.size() >= 2 && words[1] == "help") {
    words.erase(words.begin() + 1);
    words.emplace_back("--help");
  }
  std::vector<char*> args;
  for (auto& w : words) args.push_back(w.data());
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp&) {
    // Help for the innermost subcommand that was named, as `git CMD --help` does; its usage line
    // names the whole command ("synscope tune apply").
    fmt::print("{}", app.help());
    return 0;
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --version
  } catch (const CLI::ParseError& e) {
    return cli::usage_failure(app, e);
  }
  cli::set_colour_mode(colour == "never" ? cli::colour_mode::never
                        : colour == "always" ? cli::colour_mode::always
                                             : cli::colour_mode::automatic);
  for (auto& [sub, runner] : commands) {
    if (!sub->parsed()) continue;
    try {
      return cli::finish_output(runner());
    } catch (const std::system_error& e) {  // fmt could not write standard output
      std::clearerr(stdout);
      return cli::output_failed(e);
    }
  }
  fmt::print(stderr, "{}", app.help());
  return static_cast<int>(core::exit_code::usage);
}
