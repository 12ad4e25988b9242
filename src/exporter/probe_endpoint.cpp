#include "exporter/probe_endpoint.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "active/socket_options.h"
#include "core/clock.h"
#include "exporter/probes.h"

namespace synscope::exporter {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: %XX and '+'; a '%' not followed by two hex digits stays.
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Go's fnv.New32a over the address text: blackbox_exporter's probe_ip_addr_hash.
double fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

double seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

core::result<probe_query> parse_probe_query(std::string_view query) {
  probe_query q;
  bool has_target = false;
  bool has_module = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    // As Go's url.Values.Get: the first of a repeated key.
    if (key == "target" && !has_target) {
      q.target = std::move(value);
      has_target = true;
    } else if (key == "module" && !has_module) {
      q.module = std::move(value);
      has_module = true;
    }
  }
  if (q.target.empty()) return core::error{core::exit_code::usage, "Target parameter is missing"};
  if (q.module.empty()) q.module = "tcp_connect";  // blackbox_exporter's name for a plain handshake
  return q;
}

bool probe_outcome::success() const {
  return !addresses.empty() &&
         std::all_of(addresses.begin(), addresses.end(), [](const address_probe& a) { return a.connected; });
}

int64_t probe_timeout(const probe_module& module, double scrape_timeout_s) {
  int64_t t = module.timeout_ns;
  if (scrape_timeout_s > 0) t = std::min(t, static_cast<int64_t>((scrape_timeout_s - 0.5) * 1e9));
  return std::max<int64_t>(t, 10'000'000);
}

std::variant<probe_outcome, probe_refusal> probe_once(const probe_config& config, const probe_module& module,
                                                       std::string_view target, int64_t timeout_ns,
                                                       const std::function<bool()>& stop) {
  int64_t start = core::monotonic_ns();
  auto spec = core::parse_endpoint(target, {});
  if (!spec) return probe_refusal{400, fmt::format("400 target: {}\n", spec.error().message)};
  probe_outcome p;
  auto all = core::resolve(*spec, core::address_family::any);
  p.dns_ns = core::monotonic_ns() - start;
  if (!all) {
    p.failure = all.error().message;
    p.duration_ns = core::monotonic_ns() - start;
    return p;
  }
  // The preferred family's addresses, or the other's when it has none and fallback is on.
  int preferred = module.preferred == core::address_family::ipv4 ? AF_INET : AF_INET6;
  std::vector<core::socket_address> chosen;
  for (int family : {preferred, preferred == AF_INET ? AF_INET6 : AF_INET}) {
    for (const auto& a : *all) {
      if (a.family() == family) chosen.push_back(a);
    }
    if (!chosen.empty() || !module.fallback) break;
  }
  if (chosen.empty()) {
    p.failure = fmt::format("{} has no {} address and ip_protocol_fallback is false", core::printable(spec->host),
                            preferred == AF_INET ? "IPv4" : "IPv6");
    p.duration_ns = core::monotonic_ns() - start;
    return p;
  }
  if (!module.all_addresses) chosen.resize(1);
  for (const auto& a : chosen) {
    if (!config.allows(a.endpoint())) {
      return probe_refusal{403, fmt::format("403 {} is not in allowed_targets: not probed\n", a.to_string())};
    }
  }
  active::connect_options co;
  co.source = module.source ? &*module.source : nullptr;
  co.fastopen = module.fastopen;
  co.data = module.payload;
  auto hs = handshake_all(chosen, co, start + timeout_ns, stop);
  for (size_t i = 0; i < hs.size(); ++i) {
    auto& h = hs[i];
    address_probe a;
    a.address = chosen[i];
    a.connected = h.connected();
    a.error = h.error();
    a.handshake_ns = h.elapsed_ns();
    a.tfo = h.tfo();
    if (h.fd() >= 0) {
      a.kernel = h.kernel_view();
      a.syn_retransmits = a.kernel.total_retrans;
      if (a.connected && !module.payload.empty() && h.syn_data_bytes() == 0) {
        (void)send(h.fd(), module.payload.data(), module.payload.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      // Without a payload the handshake is all there is: a RST ends it and leaves no TIME-WAIT
      // here. With one, the connection is closed in order so the payload is delivered.
      if (module.payload.empty()) active::set_linger_zero(h.fd());
    }
    p.addresses.push_back(a);
  }
  p.duration_ns = core::monotonic_ns() - start;
  return p;
}

std::string render_probe(const probe_outcome& p, format f) {
  exposition out(f);
  out.family("probe_dns_lookup_time_seconds", "Time taken by the name lookup, in seconds.", metric_type::gauge);
  out.sample("probe_dns_lookup_time_seconds", {}, seconds(p.dns_ns));
  out.family("probe_duration_seconds", "How long the whole probe took, in seconds.", metric_type::gauge);
  out.sample("probe_duration_seconds", {}, seconds(p.duration_ns));
  if (!p.addresses.empty()) {
    const auto& first = p.addresses.front();
    out.family("probe_ip_protocol", "IP version of the (first) address probed: 4 or 6.", metric_type::gauge);
    out.sample("probe_ip_protocol", {}, first.address.family() == AF_INET ? 4 : 6);
    out.family("probe_ip_addr_hash", "FNV-1a hash of the (first) address probed: changes when the address does.",
               metric_type::gauge);
    out.sample("probe_ip_addr_hash", {}, fnv1a32(first.address.host_string()));
  }
  out.family("probe_success", "1 when the handshake with every address probed completed, else 0.", metric_type::gauge);
  out.sample("probe_success", {}, p.success() ? 1 : 0);
  if (p.addresses.empty()) return out.finish();

  std::vector<std::string> ips;
  for (const auto& a : p.addresses) ips.push_back(a.address.host_string());
  auto each = [&](std::string_view name, std::string_view help, const auto& value_of) {
    bool any = false;
    for (size_t i = 0; i < p.addresses.size(); ++i) {
      auto v = value_of(p.addresses[i]);
      if (!v) continue;
      if (!any) out.family(name, help, metric_type::gauge);
      any = true;
      out.sample(name, {{"ip", ips[i]}}, *v);
    }
  };
  using maybe = std::optional<double>;
  each("synscope_target_success", "1 when the handshake with this address completed.",
       [](const address_probe& a) { return maybe(a.connected ? 1 : 0); });
  each("synscope_target_handshake_seconds", "connect() to connected, on the monotonic clock, in seconds.",
       [](const address_probe& a) { return a.connected ? maybe(seconds(a.handshake_ns)) : std::nullopt; });
  each("synscope_target_syn_retransmits", "SYNs the kernel sent again during this handshake.",
       [](const address_probe& a) { return a.kernel.valid ? maybe(a.syn_retransmits) : std::nullopt; });
  each("synscope_target_kernel_rtt_seconds",
       "The kernel's RTT sample of the handshake (tcpi_rtt), when no SYN was retransmitted, in seconds.",
       [](const address_probe& a) {
         return a.connected && a.kernel.valid && a.syn_retransmits == 0 ? maybe(a.kernel.rtt_us / 1e6) : std::nullopt;
       });
  each("synscope_target_mss_bytes", "The sending MSS the handshake settled (tcpi_snd_mss).",
       [](const address_probe& a) { return a.connected && a.kernel.valid ? maybe(a.kernel.snd_mss) : std::nullopt; });
  each("synscope_target_window_scale", "The peer's window scale, when window scaling was negotiated.",
       [](const address_probe& a) {
         bool wscale = (a.kernel.options & 4) != 0;  // TCPI_OPT_WSCALE
         return a.connected && a.kernel.valid && wscale ? maybe(a.kernel.snd_wscale) : std::nullopt;
       });
  bool any_option = false;
  for (size_t i = 0; i < p.addresses.size(); ++i) {
    const auto& a = p.addresses[i];
    if (!a.connected || !a.kernel.valid) continue;
    if (!any_option) {
      out.family("synscope_target_option",
                 "1 when the handshake negotiated the option (timestamps, sack, wscale, ecn; syn_data: the SYN-ACK "
                 "acknowledged data sent on the SYN, TCP Fast Open).",
                 metric_type::gauge);
      any_option = true;
    }
    static constexpr std::pair<const char*, uint8_t> options[] = {
        {"timestamps", 1}, {"sack", 2}, {"wscale", 4}, {"ecn", 8}, {"syn_data", 32}};
    for (const auto& [name, bit] : options) {
      out.sample("synscope_target_option", {{"ip", ips[i]}, {"option", name}}, (a.kernel.options & bit) != 0 ? 1 : 0);
    }
  }
  bool any_tfo = false;
  for (size_t i = 0; i < p.addresses.size(); ++i) {
    if (p.addresses[i].tfo == active::tfo_use::off) continue;
    if (!any_tfo) {
      out.family("synscope_target_fast_open", "What TCP Fast Open did on the SYN: 1 for the result seen.",
                 metric_type::gauge);
      any_tfo = true;
    }
    out.sample("synscope_target_fast_open", {{"ip", ips[i]}, {"result", active::tfo_use_name(p.addresses[i].tfo)}}, 1);
  }
  bool any_failure = false;
  for (size_t i = 0; i < p.addresses.size(); ++i) {
    if (p.addresses[i].connected) continue;
    if (!any_failure) {
      out.family("synscope_target_failed",
                 "1 for why the handshake with this address failed: refused (RST), unreachable (ICMP), timeout, local.",
                 metric_type::gauge);
      any_failure = true;
    }
    out.sample("synscope_target_failed", {{"ip", ips[i]}, {"reason", probe_failure_name(failure_of(p.addresses[i].error))}},
               1);
  }
  return out.finish();
}

probe_endpoint::probe_endpoint(probe_config config, unsigned workers)
    : config_(std::move(config)), max_waiting_(4 * static_cast<size_t>(std::max(1u, workers))) {
  for (unsigned i = 0; i < std::max(1u, workers); ++i) workers_.emplace_back([this] { work(); });
}

probe_endpoint::~probe_endpoint() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

std::optional<probe_answer> probe_endpoint::submit(std::string_view query, double scrape_timeout_s, format f,
                                                   std::function<void(probe_answer)> done,
                                                   std::shared_ptr<const std::atomic<bool>> cancelled) {
  auto q = parse_probe_query(query);
  if (!q) return probe_answer{400, q.error().message + "\n", false};
  const probe_module* m = config_.module(q->module);
  if (m == nullptr) return probe_answer{400, fmt::format("Unknown module \"{}\"\n", core::printable(q->module)), false};
  std::lock_guard lock(mutex_);
  if (waiting_.size() >= max_waiting_) {
    return probe_answer{503, fmt::format("503 {} probes are waiting for a worker already\n", waiting_.size()), false};
  }
  waiting_.push_back({std::move(*q), m, probe_timeout(*m, scrape_timeout_s), f, std::move(done), std::move(cancelled)});
  wake_.notify_one();
  return std::nullopt;
}

void probe_endpoint::work() {
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      j = std::move(waiting_.front());
      waiting_.pop_front();
    }
    auto gone = [&] { return j.cancelled != nullptr && j.cancelled->load(std::memory_order_relaxed); };
    if (gone()) continue;  // the client hung up while this waited
    auto r = probe_once(config_, *j.module, j.query.target, j.timeout_ns, [&] {
      if (gone()) return true;
      std::lock_guard lock(mutex_);
      return stopping_;
    });
    if (gone()) continue;
    if (auto* refused = std::get_if<probe_refusal>(&r)) {
      j.done({refused->code, refused->text, false});
    } else {
      j.done({200, render_probe(std::get<probe_outcome>(r), j.f), true});
    }
  }
}

}  // namespace synscope::exporter
