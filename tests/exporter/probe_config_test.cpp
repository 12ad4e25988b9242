// /probe's module file and query: what is accepted, what is refused and how the error reads;
// the allow-list; and one probe on loopback, to an allowed address and to one that is not.
#include "exporter/probe_config.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "exporter/probe_endpoint.h"
#include "exporter/request.h"

namespace synscope::exporter {
namespace {

constexpr const char* good = R"(# as blackbox.yml, with an allow-list
allowed_targets:
  - 127.0.0.0/8
  - "10.20.0.0/16:5432"
  - "[fd00::]/8:8000-8099"
  - ::1/128
modules:
  tcp_connect:
    prober: tcp
    timeout: 3s
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      source_ip_address: 127.0.0.1
  every_address:
    tcp: {all_addresses: true, fast_open: true, payload: "PING\r\n"}
)";

core::ip_endpoint ep(const char* text) {
  auto spec = core::parse_endpoint(text, {});
  EXPECT_TRUE(spec.ok()) << text;
  auto a = core::resolve(*spec, core::address_family::any);
  EXPECT_TRUE(a.ok()) << text;
  return a->front().endpoint();
}

std::string error_of(const std::string& text) {
  auto c = parse_probe_config(text, "probe.yml");
  EXPECT_FALSE(c.ok()) << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.error().code, core::exit_code::usage);
  return c.error().message;
}

TEST(ProbeConfig, ABlackboxShapedFileWithAnAllowList) {
  auto c = parse_probe_config(good, "probe.yml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->modules.size(), 2u);
  const probe_module* m = c->module("tcp_connect");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->timeout_ns, 3'000'000'000);
  EXPECT_EQ(m->preferred, core::address_family::ipv4);
  EXPECT_FALSE(m->fallback);
  ASSERT_TRUE(m->source.has_value());
  EXPECT_EQ(m->source->to_string(), "127.0.0.1:0");
  const probe_module* e = c->module("every_address");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->preferred, core::address_family::ipv6);  // blackbox_exporter's default
  EXPECT_TRUE(e->fallback);
  EXPECT_TRUE(e->all_addresses);
  EXPECT_TRUE(e->fastopen);
  EXPECT_EQ(e->payload, "PING\r\n");
  EXPECT_EQ(c->module("http_2xx"), nullptr);

  EXPECT_TRUE(c->allows(ep("127.0.0.1:1")));
  EXPECT_TRUE(c->allows(ep("127.255.0.9:65535")));
  EXPECT_TRUE(c->allows(ep("10.20.3.4:5432")));
  EXPECT_FALSE(c->allows(ep("10.20.3.4:5433")));
  EXPECT_FALSE(c->allows(ep("10.21.0.1:5432")));
  EXPECT_TRUE(c->allows(ep("[fd12::1]:8000")));
  EXPECT_TRUE(c->allows(ep("[fd12::1]:8099")));
  EXPECT_FALSE(c->allows(ep("[fd12::1]:8100")));
  EXPECT_TRUE(c->allows(ep("[::1]:22")));
  EXPECT_FALSE(c->allows(ep("[::2]:22")));
  EXPECT_FALSE(c->allows(ep("192.168.1.1:80")));
  EXPECT_FALSE(c->allows(ep("[::ffff:10.20.0.1]:5432"))) << "a mapped address is not the IPv4 one";
}

TEST(ProbeConfig, ErrorsNameTheFileTheLineAndTheKey) {
  EXPECT_EQ(error_of("modules:\n  a: {}\n"),
            "probe.yml:1: allowed_targets: missing or empty: list the prefixes /probe may reach (0.0.0.0/0 and ::/0 "
            "for any, knowingly)");
  EXPECT_EQ(error_of("allowed_targets: []\nmodules:\n  a: {}\n").substr(0, 30), "probe.yml:1: allowed_targets: ");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\n"), "probe.yml:1: modules: missing or empty: define at least one module");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    timeout: soon\n"),
            "probe.yml:4: modules.a.timeout 'soon': not a duration (examples: 1, 0.2, 500ms, 1.5s)");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    prober: http\n"),
            "probe.yml:4: modules.a.prober: 'http': synscope probes tcp only");
  std::string unknown = error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    tcp:\n      tls: true\n");
  EXPECT_EQ(unknown.substr(0, 37), "probe.yml:5: modules.a.tcp.tls: unkno") << unknown;
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    tcp: {preferred_ip_protocol: ip5}\n"),
            "probe.yml:4: modules.a.tcp.preferred_ip_protocol: 'ip5' is not ip4 or ip6");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    tcp: {all_addresses: yes}\n"),
            "probe.yml:4: modules.a.tcp.all_addresses: 'yes' is not true or false");
  EXPECT_EQ(error_of("allowed_targets: [10.0.0.0/33]\nmodules: {a: {}}\n"),
            "probe.yml:1: allowed_targets '10.0.0.0/33': bad prefix length");
  EXPECT_NE(error_of("allowed_targets: ['10.0.0.0/8:90-80']\nmodules: {a: {}}\n").find("runs backwards"), std::string::npos);
  EXPECT_NE(error_of("allowed_targets: ['10.0.0.0/8:0']\nmodules: {a: {}}\n").find("probe.yml:1: allowed_targets:"),
            std::string::npos);
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a: {tcp: {fast_open: true}}\n"),
            "probe.yml:3: modules.a.tcp.fast_open: needs a payload to carry on the SYN");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a: {}\n  a: {}\n"), "probe.yml:4: modules.a: defined twice");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nscrape_configs: []\nmodules: {a: {}}\n"),
            "probe.yml:2: scrape_configs: unknown key (known: allowed_targets, modules)");
  // A key with a line break in it (a quoted YAML key) stays on the error's one line, escaped
  // (found by fuzz_probe_config; the input is in fuzz/regressions).
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    tcp: {\"x\\r\\ny\": 1}\n"),
            "probe.yml:4: modules.a.tcp.x\\x0d\\x0ay: unknown key (known: preferred_ip_protocol, ip_protocol_fallback, "
            "source_ip_address, all_addresses, fast_open, payload)");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\n\"a\\nb\": 1\nmodules: {a: {}}\n"),
            "probe.yml:2: a\\x0ab: unknown key (known: allowed_targets, modules)");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a: {\"t\\n\": 1}\n"),
            "probe.yml:3: modules.a.t\\x0a: unknown key (known: prober, timeout, tcp)");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8\n").substr(0, 25), "probe.yml:2: not YAML: di");
  EXPECT_EQ(error_of(""), "probe.yml:1: allowed_targets: missing (the file is empty)");
  EXPECT_EQ(error_of("- a\n- b\n"), "probe.yml:1: the file: expected a mapping of keys to values");
  EXPECT_EQ(error_of("allowed_targets: [127.0.0.0/8]\nmodules:\n  a:\n    tcp: {source_ip_address: example.com}\n"),
            "probe.yml:4: modules.a.tcp.source_ip_address: 'example.com' is not a numeric IPv4 or IPv6 address");
}

TEST(ProbeConfig, AFileOthersMayWriteIsRefused) {
  char dir[] = "/tmp/synscope-probe-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/probe.yml";
  std::ofstream(path) << good;
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_TRUE(load_probe_config(path).ok());
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  auto c = load_probe_config(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, core::exit_code::bad_data);
  EXPECT_EQ(c.error().message, path + ": refused: writable by group or others (mode 0666)");
  auto missing = load_probe_config(std::string(dir) + "/none.yml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("none.yml: open: "), std::string::npos);
  unlink(path.c_str());
  rmdir(dir);
}

TEST(ProbeQuery, TargetAndModuleDecodedAsGoDoes) {
  auto q = parse_probe_query("target=%5B%3A%3A1%5D%3A80&module=tcp_connect&target=ignored");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->target, "[::1]:80");
  EXPECT_EQ(q->module, "tcp_connect");
  auto d = parse_probe_query("debug=true&target=db1:5432");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->module, "tcp_connect");
  EXPECT_EQ(parse_probe_query("target=a+b%2").value().target, "a b%2");
  EXPECT_EQ(parse_probe_query("module=tcp_connect").error().message, "Target parameter is missing");
  EXPECT_EQ(parse_probe_query("").error().message, "Target parameter is missing");
}

TEST(ProbeQuery, TheScrapeTimeoutCapsTheModulesLessHalfASecond) {
  probe_module m;
  m.timeout_ns = 5'000'000'000;
  EXPECT_EQ(probe_timeout(m, 0), 5'000'000'000);
  EXPECT_EQ(probe_timeout(m, 10), 5'000'000'000);
  EXPECT_EQ(probe_timeout(m, 1), 500'000'000);
  EXPECT_EQ(probe_timeout(m, 0.2), 10'000'000);
  auto r = parse_request("GET /probe?target=a:1 HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 9.5\r\n\r\n", 8192);
  ASSERT_EQ(r.kind, request::whole);
  EXPECT_EQ(r.path, "/probe");
  EXPECT_EQ(r.query, "target=a:1");
  EXPECT_DOUBLE_EQ(r.scrape_timeout_s, 9.5);
  EXPECT_EQ(parse_request("GET /probe HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: -1\r\n\r\n", 8192).scrape_timeout_s, 0);
  EXPECT_EQ(parse_request("GET /probe HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 1e99\r\n\r\n", 8192).scrape_timeout_s, 0);
}

// A listener on 127.0.0.1, port chosen by the kernel.
core::unique_fd listening(uint16_t& port) {
  core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
  EXPECT_EQ(listen(fd.get(), 16), 0);
  socklen_t len = sizeof a;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
  port = ntohs(a.sin_port);
  return fd;
}

TEST(ProbeOnce, HandshakesWithAnAllowedAddressAndSendsNothingToOthers) {
  auto c = parse_probe_config("allowed_targets: ['127.0.0.1/32']\nmodules: {tcp_connect: {tcp: {preferred_ip_protocol: ip4}}}\n",
                              "probe.yml");
  ASSERT_TRUE(c.ok());
  uint16_t port = 0;
  auto l = listening(port);
  auto r = probe_once(*c, *c->module("tcp_connect"), "127.0.0.1:" + std::to_string(port), 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_outcome>(r));
  const auto& p = std::get<probe_outcome>(r);
  EXPECT_TRUE(p.success());
  ASSERT_EQ(p.addresses.size(), 1u);
  EXPECT_TRUE(p.addresses[0].kernel.valid);
  EXPECT_GT(p.addresses[0].kernel.snd_mss, 0u);
  std::string text = render_probe(p, format::prometheus);
  EXPECT_NE(text.find("\nprobe_success 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nprobe_ip_protocol 4\n"), std::string::npos) << text;
  // Go: fnv.New32a().Write([]byte("127.0.0.1")).Sum32() = 144953630.
  EXPECT_NE(text.find("\nprobe_ip_addr_hash 1.4495363e+08\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synscope_target_option{ip=\"127.0.0.1\",option=\"sack\"} 1"), std::string::npos) << text;
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  core::unique_fd accepted(accept(l.get(), reinterpret_cast<sockaddr*>(&peer), &len));  // NOLINT
  EXPECT_TRUE(accepted) << "the probe's connection is queued";

  // 127.0.0.2 is loopback too, and listened on, but not in the allow-list: 403, and no SYN.
  core::unique_fd other(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000002);
  ASSERT_EQ(bind(other.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
  ASSERT_EQ(listen(other.get(), 16), 0);
  socklen_t alen = sizeof a;
  getsockname(other.get(), reinterpret_cast<sockaddr*>(&a), &alen);  // NOLINT
  auto refused = probe_once(*c, *c->module("tcp_connect"), "127.0.0.2:" + std::to_string(ntohs(a.sin_port)), 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_refusal>(refused));
  EXPECT_EQ(std::get<probe_refusal>(refused).code, 403u);
  EXPECT_LT(accept(other.get(), nullptr, nullptr), 0) << "nothing reached the address outside the allow-list";

  auto bad = probe_once(*c, *c->module("tcp_connect"), "no-port-here", 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_refusal>(bad));
  EXPECT_EQ(std::get<probe_refusal>(bad).code, 400u);
  // A name that does not resolve: probed, failed (blackbox_exporter's answer: probe_success 0).
  auto unknown = probe_once(*c, *c->module("tcp_connect"), "no-such-host.invalid:80", 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_outcome>(unknown));
  EXPECT_FALSE(std::get<probe_outcome>(unknown).success());
  EXPECT_FALSE(std::get<probe_outcome>(unknown).failure.empty());
}

TEST(ProbeOnce, ARefusedPortIsAFailureWithItsReason) {
  auto c = parse_probe_config("allowed_targets: ['127.0.0.0/8']\nmodules: {tcp_connect: {}}\n", "probe.yml");
  ASSERT_TRUE(c.ok());
  uint16_t port = 0;
  {
    auto l = listening(port);  // a port that was free a moment ago: closed now
  }
  auto r = probe_once(*c, *c->module("tcp_connect"), "127.0.0.1:" + std::to_string(port), 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_outcome>(r));
  std::string text = render_probe(std::get<probe_outcome>(r), format::openmetrics);
  EXPECT_NE(text.find("\nprobe_success 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synscope_target_failed{ip=\"127.0.0.1\",reason=\"refused\"} 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("synscope_target_handshake_seconds"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 6), "# EOF\n");
}

TEST(ProbeOnce, SourceAddressPayloadAndFastOpenAsTheModuleSays) {
  auto c = parse_probe_config("allowed_targets: ['127.0.0.1/32']\nmodules:\n  m:\n    tcp: {source_ip_address: 127.0.0.2, "
                              "fast_open: true, payload: \"PING\\r\\n\"}\n",
                              "probe.yml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  uint16_t port = 0;
  auto l = listening(port);
  auto r = probe_once(*c, *c->module("m"), "127.0.0.1:" + std::to_string(port), 2'000'000'000);
  ASSERT_TRUE(std::holds_alternative<probe_outcome>(r));
  const auto& p = std::get<probe_outcome>(r);
  ASSERT_TRUE(p.success());
  // TFO was asked for: without a cookie the SYN asks for one and the data follows the handshake
  // (or rides on it where a cookie is cached, or the kernel's client bit is off).
  EXPECT_NE(p.addresses[0].tfo, active::tfo_use::off);
  std::string text = render_probe(p, format::prometheus);
  EXPECT_NE(text.find("synscope_target_fast_open{ip=\"127.0.0.1\",result=\""), std::string::npos) << text;
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  core::unique_fd accepted(accept(l.get(), reinterpret_cast<sockaddr*>(&peer), &len));  // NOLINT
  ASSERT_TRUE(accepted);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), 0x7f000002u) << "the probe came from source_ip_address";
  char got[16] = {};
  ssize_t n = 0;
  for (int i = 0; i < 100 && n <= 0; ++i) {
    n = recv(accepted.get(), got, sizeof got, MSG_DONTWAIT);
    if (n <= 0) usleep(10'000);
  }
  EXPECT_EQ(std::string(got, static_cast<size_t>(std::max<ssize_t>(n, 0))), "PING\r\n") << "the payload was delivered";
}

TEST(ProbeEndpoint, AnswersBadQueriesAtOnceAndProbesOnAWorker) {
  auto c = parse_probe_config("allowed_targets: ['127.0.0.0/8']\nmodules: {tcp_connect: {}}\n", "probe.yml");
  ASSERT_TRUE(c.ok());
  probe_endpoint e(std::move(*c), 2);
  auto none = e.submit("module=tcp_connect", 0, format::prometheus, [](probe_answer) { FAIL(); });
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->code, 400u);
  auto unknown = e.submit("target=127.0.0.1:1&module=icmp", 0, format::prometheus, [](probe_answer) { FAIL(); });
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->body, "Unknown module \"icmp\"\n");
  uint16_t port = 0;
  auto l = listening(port);
  std::mutex m;
  std::condition_variable cv;
  std::optional<probe_answer> got;
  auto queued = e.submit("target=127.0.0.1:" + std::to_string(port), 0, format::prometheus, [&](probe_answer a) {
    std::lock_guard lock(m);
    got = std::move(a);
    cv.notify_one();
  });
  EXPECT_FALSE(queued.has_value());
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.has_value(); }));
  EXPECT_EQ(got->code, 200u);
  EXPECT_TRUE(got->metrics);
  EXPECT_NE(got->body.find("\nprobe_success 1\n"), std::string::npos) << got->body;
}

}  // namespace
}  // namespace synscope::exporter
