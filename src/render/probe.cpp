#include "render/probe.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/community_id.h"
#include "core/error.h"
#include "kernel/tcp_info.h"
#include "render/format.h"
#include "render/table.h"

namespace synscope::render {
namespace {

constexpr std::initializer_list<stat> handshake_stats = {stat::count, stat::min, stat::mean, stat::p50,
                                                         stat::p90,   stat::p99, stat::max,  stat::stddev};

}  // namespace

std::string probe_heading(const std::vector<core::socket_address>& targets, bool own_listener, uint64_t count,
                          int64_t interval_ns, int64_t timeout_ns) {
  std::string what;
  if (own_listener) {
    what = fmt::format("{} (synscope's own listener: this kernel's loopback baseline)", targets.front().to_string());
  } else {
    for (const auto& t : targets) what += (what.empty() ? "" : ", ") + t.to_string();
  }
  return fmt::format("PROBE {}: {}{}, interval {}, timeout {}\n", what,
                     count == 0 ? std::string("attempts until Ctrl-C") : counted(count, "attempt"),
                     targets.size() > 1 ? " each" : "",
                     format_duration(interval_ns), format_duration(timeout_ns));
}

std::string attempt_line(const active::attempt& a, const core::socket_address& target) {
  std::string line = fmt::format("{} seq={} ", target.to_string(), a.seq);
  switch (a.result) {
    case active::outcome::connected:
      line += fmt::format("connected time={} ms", ms(a.elapsed_ns));
      if (a.kernel.valid) {
        line += a.kernel_rtt_known() ? fmt::format(" kernel_rtt={:.3f} ms", static_cast<double>(a.kernel.rtt_us) / 1e3)
                                     : std::string(" kernel_rtt=unknown (SYN retransmitted: no sample, Karn's rule)");
        auto names = kernel::option_names(a.kernel.options);
        line += fmt::format(" options={}", names.empty() ? "none" : fmt::format("{}", fmt::join(names, ",")));
      }
      break;
    case active::outcome::refused:
      line += fmt::format("refused (RST) time={} ms", ms(a.elapsed_ns));
      break;
    case active::outcome::timeout:
      line += fmt::format("timeout after {} ms", ms(a.elapsed_ns));
      break;
    case active::outcome::error:
      line += fmt::format("error {} ({}) after {} ms", core::errno_name(a.error_number),
                          std::strerror(a.error_number), ms(a.elapsed_ns));
      break;
  }
  if (a.syn_retransmits > 0) {
    line += fmt::format(" syn_retransmits={} (SYN sent {} times)", a.syn_retransmits, a.syn_retransmits + 1);
  }
  switch (a.tfo) {
    case active::tfo_use::off: break;
    case active::tfo_use::cookie_requested: line += " tfo=cookie_requested"; break;
    case active::tfo_use::client_disabled: line += " tfo=client_disabled"; break;
    case active::tfo_use::data_in_syn:
      line += fmt::format(" tfo=data_in_syn({} B, {})", a.syn_data_bytes, a.syn_data_acked ? "acked" : "not acked");
      break;
  }
  if (auto why = kernel::fastopen_fail_name(a.kernel.fastopen_client_fail); !why.empty() && a.tfo != active::tfo_use::off) {
    line += fmt::format(" tfo_fail={}", why);
  }
  return line;
}

json_object attempt_json(const active::attempt& a, const core::socket_address& target) {
  json_object o;
  o.field("type", "attempt")
      .field("target", target.to_string())
      .field("seq", a.seq)
      .field("time_unix_ns", a.started_unix_ns)
      .field("outcome", active::outcome_name(a.result))
      .micros("elapsed_us", a.elapsed_ns);
  if (a.local.size() > 0) {
    o.field("local", a.local.to_string());
  } else {
    o.null_field("local");
  }
  // The connection's key as analyze --json and trace --json write it (docs/trace.md).
  if (a.local.size() > 0) {
    o.field("client", core::to_string(a.local.endpoint()));
  } else {
    o.null_field("client");
  }
  o.field("server", core::to_string(target.endpoint()));
  if (a.local.size() > 0) {
    o.field("community_id", core::community_id(a.local.endpoint(), target.endpoint(), 6));
  } else {
    o.null_field("community_id");
  }
  if (a.client_isn) {
    o.field("client_isn", *a.client_isn);
  } else {
    o.null_field("client_isn");
  }
  if (a.result == active::outcome::refused || a.result == active::outcome::error) {
    o.field("error", core::errno_name(a.error_number));
  } else {
    o.null_field("error");
  }
  o.field("syn_retransmits", a.syn_retransmits);
  if (a.kernel.valid && a.result == active::outcome::connected) {
    if (a.kernel_rtt_known()) {
      o.field("kernel_rtt_us", a.kernel.rtt_us).field("kernel_rttvar_us", a.kernel.rttvar_us);
    } else {
      o.null_field("kernel_rtt_us").null_field("kernel_rttvar_us");  // no sample after a retransmitted SYN
    }
    o.field("options", kernel::option_names(a.kernel.options))
        .field("snd_wscale", a.kernel.snd_wscale)
        .field("rcv_wscale", a.kernel.rcv_wscale)
        .field("snd_mss", a.kernel.snd_mss);
  } else {
    o.null_field("kernel_rtt_us");
  }
  o.field("tfo", active::tfo_use_name(a.tfo))
      .field("syn_data_bytes", a.syn_data_bytes)
      .field("syn_data_acked", a.syn_data_acked);
  auto why = kernel::fastopen_fail_name(a.kernel.fastopen_client_fail);
  if (a.tfo != active::tfo_use::off && !why.empty()) {
    o.field("tfo_fail", why);
  } else {
    o.null_field("tfo_fail");
  }
  return o;
}

json_object probe_summary_json(const active::target_stats& t, bool stopped) {
  json_object errors;
  for (const auto& [name, n] : t.errors_by_name) {
    errors.field(name, n);
  }
  json_object tfo;
  tfo.field("cookie_requested", t.tfo_cookie_requested)
      .field("data_in_syn", t.tfo_data_in_syn)
      .field("data_acked", t.tfo_data_acked);
  json_object o;
  o.field("type", "summary")
      .field("target", t.address.to_string())
      .field("sent", t.sent)
      .field("connected", t.connected)
      .field("refused", t.refused)
      .field("timed_out", t.timed_out)
      .field("errors", t.errors)
      .field("errors_by_name", errors)
      .field("loss_pct", t.loss_pct())
      .field("handshake_us", histogram_json_us(t.handshake))
      .field("no_syn_retransmit_us", histogram_json_us(t.clean))
      .field("syn_retransmitted_us", histogram_json_us(t.retransmitted))
      .field("kernel_rtt_us", histogram_json_us(t.kernel_rtt))
      .field("tfo", tfo)
      .field("stopped", stopped);
  return o;
}


std::string probe_summary_text(const active::target_stats& t) {
  std::string out = fmt::format("\n--- {} probe statistics ---\n", t.address.to_string());
  out += fmt::format("{} sent, {} connected, {} refused, {} timed out, {} errors", t.sent, t.connected, t.refused,
                     t.timed_out, t.errors);
  for (const auto& [name, n] : t.errors_by_name) {
    out += fmt::format(" ({} {})", n, name);
  }
  out += fmt::format(", {:.1f}% loss\n", t.loss_pct());
  if (t.connected > 0) {
    using col = table::column;
    constexpr auto right = table::align::right;
    table table({col{"handshake"}, col{"count", right}, col{"min_ms", right}, col{"avg_ms", right},
                       col{"p50_ms", right}, col{"p90_ms", right}, col{"p99_ms", right}, col{"max_ms", right},
                       col{"stddev_ms", right}});
    table.add_row(histogram_row("all", t.handshake, handshake_stats));
    table.add_row(histogram_row("no SYN retransmit", t.clean, handshake_stats));
    table.add_row(histogram_row("SYN retransmitted", t.retransmitted, handshake_stats));
    table.add_row(histogram_row("kernel rtt", t.kernel_rtt, handshake_stats));
    out += table.render();
  }
  if (t.tfo_cookie_requested + t.tfo_data_in_syn > 0) {
    out += fmt::format("fast open: {} requested a cookie, {} carried data on the SYN, {} had it acknowledged\n",
                       t.tfo_cookie_requested, t.tfo_data_in_syn, t.tfo_data_acked);
    if (t.tfo_data_in_syn == 0 && t.sent > 1) {
      out += "fast open: no cookie was granted; on a Linux server, net.ipv4.tcp_fastopen needs bit 2 (value 2 or 3)\n";
    }
  }
  return out;
}

}  // namespace synscope::render
