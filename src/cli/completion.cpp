// synscope completion bash|zsh, and the man page: both written from the CLI11 definition that
// --help prints, so that a new option shows up in all three at once.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

namespace synscope::cli {
namespace {

// A command and what can follow it: "synscope tune apply".
struct command_node {
  std::string path;
  const CLI::App* app = nullptr;
};

bool shown(const CLI::App* a) { return !a->get_name().empty() && !a->get_group().empty(); }

void walk(const CLI::App* app, const std::string& path, std::vector<command_node>& out) {
  out.push_back({path, app});
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App* a) { return shown(a); })) {
    walk(sub, path + " " + sub->get_name(), out);
  }
}

// The words that may follow a command: its subcommands, then its options' names.
std::string next_words(const CLI::App* app) {
  std::string out;
  auto add = [&](const std::string& w) { out += (out.empty() ? "" : " ") + w; };
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App* a) { return shown(a); })) add(sub->get_name());
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_lnames().empty() && opt->get_snames().empty()) continue;  // a positional
    for (const auto& s : opt->get_snames()) add("-" + s);
    for (const auto& l : opt->get_lnames()) add("--" + l);
  }
  return out;
}

std::string bash_script(const CLI::App& root) {
  std::vector<command_node> nodes;
  walk(&root, "synscope", nodes);
  std::string commands;
  std::string words;
  for (const auto& n : nodes) {
    if (n.path != "synscope") commands += fmt::format("      \"{}\") path=\"$path $w\" ;;\n", n.path);
    words += fmt::format("    \"{}\") words=\"{}\" ;;\n", n.path, next_words(n.app));
  }
  return fmt::format(
      "# bash completion for synscope, written by `synscope completion bash` from its own options.\n"
      "_synscope() {{\n"
      "  local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" path=synscope words= i w\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=\"${{COMP_WORDS[i]}}\"\n"
      "    case \"$path $w\" in\n"
      "{}"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n"
      "{}"
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}}\n"
      "complete -o default -F _synscope synscope\n",
      commands, words);
}

// roff: a backslash written as \e, a line that would start with . or ' kept as text, and every
// hyphen as \- (so that man pages copy and search as typed).
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::string option_names(const CLI::Option* opt) {
  std::string out;
  for (const auto& s : opt->get_snames()) out += (out.empty() ? "" : ", ") + fmt::format("\\fB\\-{}\\fR", roff(s));
  for (const auto& l : opt->get_lnames()) out += (out.empty() ? "" : ", ") + fmt::format("\\fB\\-\\-{}\\fR", roff(l));
  if (out.empty()) out = fmt::format("\\fI{}\\fR", roff(opt->get_name()));
  if (opt->get_type_size() != 0 && !opt->get_lnames().empty()) out += " \\fI" + roff(opt->get_type_name()) + "\\fR";
  return out;
}

std::string man_page(const CLI::App& root, const std::string& version) {
  std::vector<command_node> nodes;
  walk(&root, "synscope", nodes);
  std::string out = fmt::format(".TH SYNSCOPE 1 \"\" \"{}\" \"User Commands\"\n", roff(version));
  out += ".SH NAME\nsynscope \\- measure, serve, capture, monitor and tune TCP connection establishment on Linux\n";
  out += ".SH SYNOPSIS\n.B synscope\n.I COMMAND\n[\\fIOPTIONS\\fR]\n";
  out += ".SH DESCRIPTION\n" + roff(root.get_description()) + "\n";
  out += ".SH COMMANDS\n";
  for (const auto& n : nodes) {
    if (n.path == "synscope") continue;
    out += fmt::format(".SS \"{}\"\n{}\n", roff(n.path), roff(n.app->get_description()));
    for (const CLI::Option* opt : n.app->get_options()) {
      if (opt->get_lnames().empty() && opt->get_snames().empty() && !opt->get_positional()) continue;
      out += ".TP\n" + option_names(opt) + "\n" + roff(opt->get_description().empty() ? "" : opt->get_description()) + "\n";
    }
    if (!n.app->get_footer().empty()) out += ".PP\n.nf\n" + roff(n.app->get_footer()) + "\n.fi\n";
  }
  out += ".SH EXIT STATUS\n0 success; 1 the command's finding (a failed handshake, a WARN); 2 bad arguments (or a "
         "doctor FAIL); 3 the system refused; 4 malformed input; 77 not permitted. Each command's own codes are in "
         "its section.\n";
  out += ".SH SEE ALSO\n\\fBss\\fR(8), \\fBnstat\\fR(8), \\fBtcpdump\\fR(8), \\fBtshark\\fR(1), \\fBsysctl\\fR(8)\n";
  return out;
}

}  // namespace

command_runner add_completion_command(CLI::App& app, const std::string& version) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "Shell completion for bash or zsh, from synscope's own options");
  cmd->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->footer(
      "Examples:\n"
      "  synscope completion bash > ~/.local/share/bash-completion/completions/synscope\n"
      "  synscope completion zsh > ~/.zfunc/_synscope\n"
      "The Debian package installs both.");
  CLI::App* man = app.add_subcommand("manpage", "The man page, roff, from the same options as --help");
  man->group("");  // for the build, not for the user's --help
  const CLI::App* root = &app;
  return [shell, cmd, man, root, version] {
    if (man->parsed()) {
      fmt::print("{}", man_page(*root, version));
    } else if (*shell == "zsh") {
      fmt::print("#compdef synscope\nautoload -U +X bashcompinit && bashcompinit\n{}", bash_script(*root));
    } else {
      fmt::print("{}", bash_script(*root));
    }
    (void)cmd;
    return 0;
  };
}

}  // namespace synscope::cli
