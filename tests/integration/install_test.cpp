// synscope as a Debian tool: shell completion and the man page written from its own options,
// and the package (cpack), installed with dpkg -i on this machine, used, and removed again.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

// What bash completes after `words` (the last one being completed), with synscope's script.
std::string complete(const std::string& script_command, const std::string& words) {
  std::string program = "source <(" + script_command +
                        ") && COMP_WORDS=(" + words +
                        ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _synscope && printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_command({"bash", "-c", program});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(Completion, BashCompletesCommandsSubcommandsAndOptions) {
  std::string script = "'" + synscope_binary() + "' completion bash";
  EXPECT_EQ(complete(script, "synscope pro"), "probe\n");
  EXPECT_EQ(complete(script, "synscope tune ap"), "apply\n");
  EXPECT_EQ(complete(script, "synscope probe --cou"), "--count\n");
  EXPECT_EQ(complete(script, "synscope lab synflood --flood"), "--flood-rate\n");
  std::string top = complete(script, "synscope ''");
  for (const char* c : {"doctor", "probe", "analyze", "sockets", "lab", "completion"}) {
    EXPECT_NE(top.find(std::string(c) + "\n"), std::string::npos) << c << " in\n" << top;
  }
  EXPECT_EQ(top.find("manpage"), std::string::npos) << "the build's man page command is not for users";
  auto zsh = run_command({synscope_binary(), "completion", "zsh"});
  ASSERT_EQ(zsh.exit_code, 0);
  EXPECT_EQ(zsh.out.rfind("#compdef synscope\n", 0), 0u);
  auto bad = run_command({synscope_binary(), "completion", "fish"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
}

TEST(ManPage, RendersWithEveryCommandAndItsOptions) {
  if (!have_tool("man")) GTEST_SKIP() << "man (man-db) is needed";
  temp_dir dir;
  std::string page = dir.path("synscope.1");
  auto roff = run_command({synscope_binary(), "manpage"});
  ASSERT_EQ(roff.exit_code, 0) << roff.err;
  std::ofstream(page) << roff.out;
  auto shown = run_command({"env", "MANWIDTH=100", "man", "-l", page});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  for (const char* s : {"NAME", "synscope - measure", "synscope probe", "synscope tune apply", "--count",
                        "synscope lab fastopen", "EXIT STATUS", "SEE ALSO"}) {
    EXPECT_NE(shown.out.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(shown.out.find("manpage"), std::string::npos);
  EXPECT_EQ(shown.err.find("warning"), std::string::npos) << shown.err;
}

TEST(Help, NamesTheWholeCommandAndItsOwnExamples) {
  auto fastopen = run_command({synscope_binary(), "lab", "fastopen", "--help"});
  ASSERT_EQ(fastopen.exit_code, 0);
  EXPECT_NE(fastopen.out.find("Usage: synscope lab fastopen [OPTIONS]"), std::string::npos) << fastopen.out;
  auto apply = run_command({synscope_binary(), "tune", "apply", "--help"});
  ASSERT_EQ(apply.exit_code, 0);
  EXPECT_NE(apply.out.find("Usage: synscope tune apply"), std::string::npos) << apply.out;
  EXPECT_NE(apply.out.find("sudo synscope tune apply --profile"), std::string::npos) << apply.out;
  EXPECT_EQ(apply.out.find("synscope probe example.org"), std::string::npos) << "the top level's examples";
  // `synscope help CMD` is `synscope CMD --help`.
  EXPECT_EQ(run_command({synscope_binary(), "help", "probe"}).out, run_command({synscope_binary(), "probe", "--help"}).out);
  EXPECT_EQ(run_command({synscope_binary(), "help", "tune", "apply"}).out, apply.out);
  auto top = run_command({synscope_binary(), "help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Usage: synscope [OPTIONS] [SUBCOMMAND]"), std::string::npos) << top.out;
  // `synscope lab` alone lists the drills.
  auto lab = run_command({synscope_binary(), "lab"});
  EXPECT_EQ(lab.exit_code, 0) << lab.err;
  for (const char* drill : {"synflood", "timewait", "backlog", "fastopen", "cleanup"}) {
    EXPECT_NE(lab.out.find(std::string("  ") + drill), std::string::npos) << drill << " in\n" << lab.out;
  }
}

// CLI11's stock messages do not reach the user: a mistyped command or option gets the nearest
// known one, a value that is not a number says so, and an option given twice takes its last
// value, as ping does.
TEST(CommandLine, MistakesAreSaidInOneLineWithTheNearestName) {
  auto said = [](std::vector<std::string> words) {
    words.insert(words.begin(), synscope_binary());
    auto r = run_command(words);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    return r.err.substr(0, r.err.find('\n'));
  };
  EXPECT_EQ(said({"probee"}), "synscope: unknown command 'probee'; did you mean 'probe'?");
  EXPECT_EQ(said({"frobnicate"}), "synscope: unknown command 'frobnicate'");
  EXPECT_EQ(said({"probe", "--cuont", "3"}), "synscope: probe: unknown option '--cuont'; did you mean '--count'?");
  EXPECT_EQ(said({"tune", "aply"}), "synscope: tune: unknown command 'aply'; did you mean 'apply'?");
  EXPECT_EQ(said({"tune"}), "synscope: tune: a command is needed: audit, plan, apply, backup, restore, firewall");
  EXPECT_EQ(said({"probe", "-c", "abc"}), "synscope: probe: --count 'abc': not a whole number");
  EXPECT_EQ(said({"probe", "--count=1.5"}), "synscope: probe: --count '1.5': not a whole number");
  auto help = run_command({synscope_binary(), "probe", "--cuont", "3"});
  EXPECT_NE(help.err.find("Run 'synscope probe --help' for usage."), std::string::npos) << help.err;
  for (const auto& r : {run_command({synscope_binary(), "probee"}), run_command({synscope_binary(), "probe", "-c", "x"})}) {
    EXPECT_EQ(r.err.find("not expected"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Could not convert"), std::string::npos) << r.err;
  }
  // -c 3 -c 1: one attempt, to a closed port on loopback.
  auto last = run_command({synscope_binary(), "probe", "-c", "3", "-c", "1", "--json", "127.0.0.1:1"});
  EXPECT_EQ(last.err.find("At Most"), std::string::npos) << last.err;
  size_t attempts = 0;
  for (const auto& j : parse_json_lines(last.out)) attempts += j["type"] == "attempt" ? 1 : 0;
  EXPECT_EQ(attempts, 1u) << last.out;
  // Lists keep every value.
  EXPECT_EQ(run_command({synscope_binary(), "sockets", "--state", "listening", "--state", "established", "-4", "--count"}).exit_code, 0);
}

// JSON has one time convention: a moment is an integer of nanoseconds since the epoch named
// *_unix_ns; a duration carries its unit in its name (_ns, _us, _ms, _s). Checked on the JSON of
// every command that writes moments.
TEST(JsonTimes, MomentsAreUnixNanosecondsAndDurationsNameTheirUnit) {
  std::string shared = std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/kernel-synretrans.pcap";
  std::vector<std::vector<std::string>> commands = {
      {"analyze", shared, "--json"},
      {"probe", "127.0.0.1:1", "-c", "1", "--json"},
      {"top", "-n", "1", "--interval", "100ms", "--json"},
      {"counters", "--interval", "100ms", "-n", "1", "--line", "--json"},
      {"sockets", "-l", "--json"},
      {"doctor", "--no-self-test", "--window", "0", "--json"},
  };
  const std::regex timeish("(^|_)(time|second|seconds|date|when|clock|at)($|_)");
  const std::regex unit("_(unix_ns|ns|us|ms|s)$");
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& j, const std::string& where) {
    if (j.is_array()) {
      for (const auto& e : j) walk(e, where);
      return;
    }
    if (!j.is_object()) return;
    for (const auto& [key, value] : j.items()) {
      if (std::regex_search(key, timeish) && key != "time_jumps_back" && key != "timeline") {
        EXPECT_TRUE(std::regex_search(key, unit)) << where << ": '" << key << "' is a time without its unit";
      }
      if (key.ends_with("_unix_ns") && !value.is_null()) {
        EXPECT_TRUE(value.is_number_integer()) << where << ": " << key << " = " << value;
        EXPECT_GT(value.get<int64_t>(), 1'000'000'000'000'000'000) << where << ": " << key;
      }
      walk(value, where + "." + key);
    }
  };
  for (auto& words : commands) {
    std::string name = words.front();
    words.insert(words.begin(), synscope_binary());
    auto r = run_command(words, 60'000);
    auto lines = parse_json_lines(r.out);
    EXPECT_FALSE(lines.empty()) << name << ": " << r.out << r.err;
    for (const auto& j : lines) walk(j, name);
  }
}

// What users read names the advice or the check, never "the seed" (the article the project
// started from): every string compiled into the binary (help, output, profiles, rules), the
// README, the user docs and deploy/.
TEST(UserText, NeverNamesTheSeedArticle) {
  const std::regex seed(R"((^|[^A-Za-z_])[Ss]eed('s)?($|[^A-Za-z_]))");  // not __seed, a libstdc++ name
  // The Community ID spec's own term (its hash seed, Zeek's CommunityID::seed) is not the article.
  const std::regex community_id_seed(R"(community-id-seed|CommunityID::seed|Community ID seed)", std::regex::icase);
  auto names_it = [&](const std::string& text) {
    return std::regex_search(std::regex_replace(text, community_id_seed, ""), seed);
  };
  auto strings = run_command({"strings", "-n", "4", synscope_binary()});
  ASSERT_EQ(strings.exit_code, 0) << strings.err;
  std::istringstream in(strings.out);
  std::string line;
  while (std::getline(in, line)) EXPECT_FALSE(names_it(line)) << "in the binary: " << line;
  std::string root = SYNSCOPE_SOURCE_DIR;
  std::vector<std::string> files = {root + "/README.md"};
  for (const auto& e : std::filesystem::recursive_directory_iterator(root + "/deploy")) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  for (const auto& e : std::filesystem::directory_iterator(root + "/docs")) {
    if (e.path().filename() != "architecture.md") files.push_back(e.path().string());  // the developers' record
  }
  for (const auto& f : files) {
    std::ifstream text(f);
    int number = 0;
    while (std::getline(text, line)) {
      ++number;
      EXPECT_FALSE(names_it(line)) << f << ":" << number << ": " << line;
    }
  }
}

// Builds the .deb from this build (cpack), checks it with lintian, installs it with dpkg -i,
// runs what a user runs first, and removes it. It writes /usr (dpkg's own business), only when
// no synscope package or /usr/bin/synscope is there already, and removes all it installed.
TEST(DebianPackage, InstallsRunsAndRemovesCleanly) {
  if (geteuid() != 0) GTEST_SKIP() << "dpkg -i needs root";
  for (const char* tool : {"cpack", "dpkg", "dpkg-deb", "lintian", "man"}) {
    if (!have_tool(tool)) GTEST_SKIP() << tool << " is needed";
  }
  if (run_command({"dpkg-query", "-W", "synscope"}).exit_code == 0 || std::filesystem::exists("/usr/bin/synscope")) {
    GTEST_SKIP() << "a synscope is installed here already: not replaced by a test";
  }
  std::string build = std::filesystem::path(synscope_binary()).parent_path().string();
  temp_dir dir;
  auto packed = run_command({"cpack", "--config", build + "/CPackConfig.cmake", "-B", dir.path("pkg")}, 600'000);
  ASSERT_EQ(packed.exit_code, 0) << packed.out << packed.err;
  std::string deb;
  for (const auto& e : std::filesystem::directory_iterator(dir.path("pkg"))) {
    std::string name = e.path().filename().string();
    if (name.starts_with("synscope_") && name.ends_with(".deb")) deb = e.path().string();
  }
  ASSERT_FALSE(deb.empty()) << packed.out;
  // The debug info is split off into a package of its own.
  std::string name = std::filesystem::path(deb).filename().string();  // synscope_VERSION_ARCH.deb
  std::string dbgsym = "synscope-dbgsym_" + name.substr(9, name.size() - 9 - 4) + ".ddeb";
  EXPECT_TRUE(std::filesystem::exists(dir.path("pkg/" + dbgsym))) << dbgsym << "\n" << packed.out;

  auto info = run_command({"dpkg-deb", "-f", deb, "Depends"});
  ASSERT_EQ(info.exit_code, 0);
  for (const char* lib : {"libc6", "libpcap0.8", "libmnl0", "zlib1g"}) {
    EXPECT_NE(info.out.find(lib), std::string::npos) << lib << " not in Depends: " << info.out;
  }
  // Linked in or header-only, so that a short command loads no more than it needs (issue 21);
  // libpcap is loaded when a filter or a live capture needs it, and is named above by hand.
  for (const char* lib : {"libnettle8", "libfmt9", "libstdc++6", "libgnutls"}) {
    EXPECT_EQ(info.out.find(lib), std::string::npos) << lib << " in Depends: " << info.out;
  }
  auto contents = run_command({"dpkg-deb", "-c", deb});
  for (const char* f : {"./usr/bin/synscope", "./usr/share/man/man1/synscope.1.gz",
                        "./usr/share/bash-completion/completions/synscope", "./usr/share/zsh/vendor-completions/_synscope",
                        "./usr/share/synscope/prometheus/alerts.yml", "./usr/lib/systemd/system/synscope-exporter.service",
                        "./usr/share/doc/synscope/copyright"}) {
    EXPECT_NE(contents.out.find(f), std::string::npos) << f << " not in the package:\n" << contents.out;
  }
  auto lint = run_command({"lintian", "--fail-on", "error", deb}, 600'000);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

  auto installed = run_command({"dpkg", "-i", deb}, 300'000);
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  struct removal {
    ~removal() { run_command({"dpkg", "-r", "synscope"}, 300'000); }
  } remove_at_end;
  auto version = run_command({"/usr/bin/synscope", "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("synscope ", 0), 0u) << version.out;
  auto file = run_command({"file", "-L", "/usr/bin/synscope"});
  EXPECT_NE(file.out.find("stripped"), std::string::npos) << file.out;
  EXPECT_EQ(file.out.find("not stripped"), std::string::npos) << file.out;
  auto where = run_command({"man", "-w", "synscope"});
  EXPECT_EQ(where.out, "/usr/share/man/man1/synscope.1.gz\n") << where.err;
  auto page = run_command({"sh", "-c", "MANPAGER=cat MANWIDTH=80 man synscope"});
  EXPECT_EQ(page.exit_code, 0) << page.err;
  EXPECT_NE(page.out.find("synscope doctor"), std::string::npos) << page.out.substr(0, 2000);
  EXPECT_EQ(complete("cat /usr/share/bash-completion/completions/synscope", "synscope doc"), "doctor\n");
  auto doctor = run_command({"/usr/bin/synscope", "doctor", "--no-self-test", "--window", "0"}, 120'000);
  EXPECT_GE(doctor.exit_code, 0);
  EXPECT_LE(doctor.exit_code, 2) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find(" PASS, "), std::string::npos) << doctor.out;

  auto removed = run_command({"dpkg", "-r", "synscope"}, 300'000);
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_FALSE(std::filesystem::exists("/usr/bin/synscope"));
  EXPECT_FALSE(std::filesystem::exists("/usr/share/man/man1/synscope.1.gz"));
}

}  // namespace
}  // namespace synscope::testing
