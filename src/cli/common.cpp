#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/text.h"

namespace synscope::cli {

int fail(const core::error& e) {
  fmt::print(stderr, "synscope: {}\n", e.message);
  return e.exit();
}

void hold_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      (void)open("/dev/null", O_RDONLY | O_CLOEXEC);  // the lowest free descriptor: this one
    }
  }
}

namespace {
int output_line(int err) {
  fmt::print(stderr, "synscope: cannot write standard output: {} ({}): the output is incomplete\n", std::strerror(err),
             core::errno_name(err));
  return static_cast<int>(core::exit_code::environment);
}
}  // namespace

int finish_output(int rc) {
  errno = 0;
  bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return rc;
  (void)rc;  // whatever the command found, what it found did not reach its reader
  return output_line(errno != 0 ? errno : EIO);
}

int output_failed(const std::system_error& e) { return output_line(e.code().value()); }


void take_last_values(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_items_expected_max() <= 1) o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  for (CLI::App* sub : app.get_subcommands({})) take_last_values(*sub);
}

namespace {

// The subcommand the words named last ("synscope tune apply"): where an option belongs.
const CLI::App& innermost(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    if (sub->parsed()) return innermost(*sub);
  }
  return app;
}

std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* p = app.get_parent(); p != nullptr; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

// "synscope: " then the subcommand's words, as every synscope error begins (docs/exit-codes.md):
// "synscope: ", "synscope: tune apply: ".
std::string where(const CLI::App& at) {
  std::string path = command_path(at);
  size_t space = path.find(' ');
  return space == std::string::npos ? "synscope: " : "synscope: " + path.substr(space + 1) + ": ";
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    for (const auto& n : o->get_snames()) names.push_back("-" + n);
  }
  return names;
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (!sub->get_group().empty()) names.push_back(sub->get_name());  // hidden ones are not offered
  }
  return names;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string near = core::closest_word(word, known);
  return near.empty() ? "" : fmt::format("; did you mean '{}'?", near);
}

std::string usage_line(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App& at = innermost(app);
  std::string what = e.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // "The following argument(s) was/were not expected: C B A", newest first: A came first.
    std::string words = what.substr(what.find(": ") + 2);
    std::string first = words.substr(words.rfind(' ') + 1);
    if (first.size() > 1 && first[0] == '-') {
      std::string name = first.substr(0, first.find('='));
      return fmt::format("{}unknown option '{}'{}", where(at), core::printable(name), did_you_mean(name, option_names(at)));
    }
    if (!command_names(at).empty()) {
      return fmt::format("{}unknown command '{}'{}", where(at), core::printable(first), did_you_mean(first, command_names(at)));
    }
    return fmt::format("{}unexpected argument '{}'", where(at), core::printable(first));
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !command_names(at).empty() &&
      what.rfind("A subcommand", 0) == 0) {
    // What was not taken: unknown words fall through to the top level (--color lives there).
    auto rest = at.remaining();
    if (rest.empty()) rest = app.remaining(true);
    if (!rest.empty() && !rest.front().empty() && rest.front()[0] != '-') {
      return fmt::format("{}unknown command '{}'{}", where(at), core::printable(rest.front()),
                         did_you_mean(rest.front(), command_names(at)));
    }
    std::string list;
    for (const auto& n : command_names(at)) list += (list.empty() ? "" : ", ") + n;
    return fmt::format("{}a command is needed: {}", where(at), list);
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr && what.rfind("Could not convert: ", 0) == 0) {
    // "Could not convert: --count = abc"
    std::string rest = what.substr(19);
    size_t eq = rest.find(" = ");
    if (eq != std::string::npos) {
      std::string name = rest.substr(0, eq);
      std::string value = rest.substr(eq + 3);
      const CLI::Option* o = at.get_option_no_throw(name);
      std::string type = o != nullptr ? o->get_type_name() : "";
      bool number = type == "INT" || type == "UINT" || type == "FLOAT" || type.rfind("INT", 0) == 0;
      return fmt::format("{}{} '{}': {}", where(at), name, core::printable(value, 100),
                         number ? (type == "FLOAT" ? "not a number" : "not a whole number") : "not a valid value");
    }
  }
  return fmt::format("{}{}", where(at), core::printable(what, 500));
}

}  // namespace

int usage_failure(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App& at = innermost(app);
  fmt::print(stderr, "{}\nRun '{} --help' for usage.\n", usage_line(app, e), command_path(at));
  return static_cast<int>(core::exit_code::usage);
}

}  // namespace synscope::cli
