#pragma once
// Helpers for integration tests: run synscope and the oracles (tcpdump, tshark, ss, nft) as
// real processes, in network namespaces the test creates and deletes itself.
#include <netinet/in.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/unique_fd.h"

namespace synscope::testing {

struct command_result {
  int exit_code = -1;  ///< the exit status, or 128 + signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Runs argv (PATH lookup) with stdin from /dev/null, collecting stdout and stderr. After
/// `timeout_ms` the process (and only it, by PID) gets SIGKILL and timed_out is set.
command_result run_command(const std::vector<std::string>& argv, int64_t timeout_ms = 60'000);

/// The synscope binary under test.
std::string synscope_binary();

/// Parses JSON lines; a line that is not JSON fails the calling test.
std::vector<nlohmann::json> parse_json_lines(const std::string& text);

/// The objects of `lines` whose "type" field is `type`.
std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& lines, const std::string& type);

/// The .pcap and .pcapng files in ../shared/pcaps, sorted (empty when the folder is absent).
std::vector<std::string> shared_captures();

/// A time as tshark prints it ("1700000000.123456789", "0.000024000") in nanoseconds, exactly.
/// tshark prints nanoseconds with %09d, so a value whose nanoseconds overflowed a second (a
/// corrupt capture) has ten digits ("1.1147483649": 1 s and 1147483649 ns), read as such.
int64_t tshark_time_ns(const std::string& text);

/// True when `tool` is on PATH.
bool have_tool(const std::string& tool);

/// A process that runs in the background until interrupt(): used for tcpdump.
class background_process {
 public:
  /// Starts argv with stdout and stderr sent to `log_path`.
  background_process(const std::vector<std::string>& argv, const std::string& log_path);
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;
  ~background_process();  ///< SIGKILLs the process if it is still running

  [[nodiscard]] bool started() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// SIGKILL now (no chance to clean up) and wait; returns the exit code (128 + 9).
  int kill_now();
  /// Waits until the log contains `text`; false after `timeout_ms`.
  bool wait_for_log(const std::string& text, int64_t timeout_ms);
  /// Sends SIGINT and waits for the exit (SIGKILL after `timeout_ms`); returns the exit code.
  int interrupt(int64_t timeout_ms = 10'000);
  /// Waits for the process to end by itself (SIGKILL after `timeout_ms`); returns the exit code.
  int wait(int64_t timeout_ms);
  [[nodiscard]] std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

/// A network namespace with its loopback up, deleted on destruction. Changes made inside it
/// (sysctls, nftables rules) vanish with it; the host's settings are never touched.
class netns {
 public:
  /// Creates the namespace; nullopt (with the reason in `why`) when this host cannot.
  static std::optional<netns> create(std::string& why);
  netns(netns&& other) noexcept;
  netns(const netns&) = delete;
  netns& operator=(const netns&) = delete;
  netns& operator=(netns&& other) noexcept;
  ~netns();

  [[nodiscard]] const std::string& name() const { return name_; }
  /// argv prefixed with `ip netns exec NAME`.
  [[nodiscard]] std::vector<std::string> exec(std::vector<std::string> argv) const;
  /// Runs argv inside the namespace.
  command_result run(const std::vector<std::string>& argv, int64_t timeout_ms = 60'000) const;

 private:
  explicit netns(std::string name) : name_(std::move(name)) {}
  void remove() noexcept;
  std::string name_;
};

/// Runs `f` on a thread that entered network namespace `ns` (/run/netns/NAME) and waits for it:
/// sockets made there stay in that namespace, usable from any thread.
void in_netns(const std::string& ns, const std::function<void()>& f);

/// A listening socket made inside namespace `ns` on `address` (a numeric "ADDR:PORT"), non-blocking,
/// that nothing accepts from: the kernel completes handshakes into its queue of `backlog`.
core::unique_fd listen_in(const std::string& ns, const std::string& address, int backlog);

/// An nftables rule in `ns` (a table of its own, named `table`) that drops the arriving packets
/// `match` selects ("tcp dport 8082 tcp flags syn"). False when nft refused it.
bool drop_arriving(const netns& ns, const std::string& table, const std::string& match);

/// A test fixture with a fresh network namespace of its own in ns_ (skipped where none can be made).
class netns_test : public ::testing::Test {
 protected:
  void SetUp() override;
  std::optional<netns> ns_;
};

/// A temporary directory removed (with its files) on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string dir_;
};

/// The whole of a file ("" when it cannot be read).
std::string read_text(const std::string& path);

/// `sysctl -a` inside the namespace, net.* only: key -> value.
std::map<std::string, std::string> net_sysctls(const netns& ns);

/// A ruleset dump (iptables-save) without comment lines and with [packets:bytes] counters cut:
/// what must be the same before some rules and after their removal.
std::string normalized_ruleset(const std::string& dump);

/// The median of `values` (the mean of the middle two for an even count); values must not be empty.
double median(std::vector<double> values);

/// A synthetic raw-IP pcap of `connections` connections, 4 packets each (SYN, SYN-ACK, ACK,
/// RST; every tenth SYN unanswered and retransmitted, every seventeenth refused), 40 us apart:
/// 56 bytes a packet, so 250,000 connections are a million packets and 13 MB.
void write_synthetic_capture(const std::string& path, uint64_t connections);

/// 127.0.0.1:port as a sockaddr_in.
sockaddr_in loopback(uint16_t port);

}  // namespace synscope::testing
