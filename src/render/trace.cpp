// Rendering a trace: the text a person scans and the JSON lines a program reads.
#include "render/trace.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "core/community_id.h"
#include "render/format.h"
#include "render/table.h"

namespace synscope::render {

namespace {

uint64_t ev(const std::array<uint64_t, 8>& events, trace::event_kind k) { return events[static_cast<size_t>(k)]; }

std::string interval_ms(int64_t from, int64_t to) { return from && to ? ms(to - from) : "-"; }

std::string listener_name(const trace::listener_key& k) {
  if (k.port == 0) return "(other listeners)";
  return fmt::format("{} netns {}", k.port, k.netns);
}

}  // namespace

std::string trace_interval_text(const trace::interval_report& w) {
  using trace::event_kind;
  bool any = w.ack_to_accept.count() > 0;
  return fmt::format("{}  syn {:>6}  synack {:>6}  rtx {:>4}  ack {:>6}  accepted {:>6}  drops {:>4}  resets {:>4}  "
                     "queue wait p50 {} max {}  pending {}  lost {}",
                     core::format_time(w.time_unix_ns, "%H:%M:%S", core::time_zone::utc), ev(w.events, event_kind::syn),
                     ev(w.events, event_kind::synack), ev(w.events, event_kind::synack_retransmit),
                     ev(w.events, event_kind::established), ev(w.events, event_kind::accept),
                     ev(w.events, event_kind::drop), ev(w.events, event_kind::reset),
                     any ? ms(w.ack_to_accept.percentile(50)) + " ms" : "-",
                     any ? ms(w.ack_to_accept.max()) + " ms" : "-", w.pending, w.lost);
}

json_object trace_interval_json(const trace::interval_report& w) {
  using trace::event_kind;
  json_object j;
  j.field("type", "interval")
      .field("time_unix_ns", w.time_unix_ns)
      .field("syn", ev(w.events, event_kind::syn))
      .field("synack", ev(w.events, event_kind::synack))
      .field("synack_retransmits", ev(w.events, event_kind::synack_retransmit))
      .field("ack", ev(w.events, event_kind::established))
      .field("accepted", ev(w.events, event_kind::accept))
      .field("drops", ev(w.events, event_kind::drop))
      .field("resets", ev(w.events, event_kind::reset))
      .field("handshakes", w.finished)
      .field("pending", w.pending)
      .field("lost_events", w.lost);
  return j.field("ack_to_accept_us", histogram_json_us(w.ack_to_accept));
}

std::string handshake_text(const trace::handshake& h, const trace::reason_names& reasons) {
  std::string who = h.accept_ns ? fmt::format("  by {} ({})", core::printable(h.comm), h.pid) : "";
  std::string why;
  if (h.drops) why += fmt::format("  dropped {}x {}", h.drops, reasons.drop_name(h.drop_reason));
  if (h.reset_ns) why += "  reset " + reasons.reset_name(h.reset_reason);
  if (h.synack_retransmits) why += fmt::format("  synack rtx {}", h.synack_retransmits);
  if (h.syns_unanswered) why += fmt::format("  {} SYN unanswered", h.syns_unanswered);
  return fmt::format("{} -> {}  {:<12}  syn>synack {} ms  synack>ack {} ms  ack>accept {} ms{}{}",
                     core::to_string(h.key.client), core::to_string(h.key.server), to_string(h.outcome()),
                     interval_ms(h.syn_ns, h.synack_ns), interval_ms(h.synack_ns, h.ack_ns),
                     interval_ms(h.ack_ns, h.accept_ns), who, why);
}

json_object handshake_json(const trace::handshake& h, int64_t offset, const trace::reason_names& reasons) {
  json_object j;
  auto at = [&](std::string_view key, int64_t ns) -> json_object& {
    return ns ? j.field(key, ns + offset) : j.null_field(key);
  };
  auto between = [&](std::string_view key, int64_t from, int64_t to) -> json_object& {
    return from && to ? j.field(key, to - from) : j.null_field(key);
  };
  j.field("type", "handshake")
      .field("netns", h.key.netns)
      .field("client", core::to_string(h.key.client))
      .field("server", core::to_string(h.key.server))
      .field("client_isn", h.key.isn)
      .field("community_id", core::community_id(h.key.client, h.key.server, 6))
      .field("outcome", to_string(h.outcome()));
  at("syn_unix_ns", h.syn_ns);
  at("synack_unix_ns", h.synack_ns);
  at("ack_unix_ns", h.ack_ns);
  at("accept_unix_ns", h.accept_ns);
  between("syn_to_synack_ns", h.syn_ns, h.synack_ns);
  between("synack_to_ack_ns", h.synack_ns, h.ack_ns);
  between("ack_to_accept_ns", h.ack_ns, h.accept_ns);
  j.field("syns", h.syns).field("syns_unanswered", h.syns_unanswered).field("acks_overflowed", h.acks_overflowed).field("synacks", h.synacks).field("synack_retransmits", h.synack_retransmits);
  at("last_synack_unix_ns", h.last_synack_ns);
  j.field("drops", h.drops);
  if (h.drops) {
    at("drop_unix_ns", h.drop_ns);
    j.field("drop_reason", reasons.drop_name(h.drop_reason));
  }
  if (h.reset_ns) {
    at("reset_unix_ns", h.reset_ns);
    j.field("reset_reason", reasons.reset_name(h.reset_reason));
  }
  if (h.accept_ns) j.field("pid", h.pid).field("comm", h.comm);
  return j;
}

std::string trace_summary_text(const trace::live_report& r, const std::vector<trace::hook_status>& hooks,
                               const trace::reason_names& reasons,
                               const std::vector<std::pair<std::string, int64_t>>& counters) {
  std::string out;
  for (const auto& h : hooks) {
    out += fmt::format("hook {:<28} {:<36} {}\n", h.tracepoint, h.moment,
                       h.active ? "active" : "inactive: " + h.error);
  }
  table counts({{"listener"}, {"syn", table::align::right}, {"synack", table::align::right},
                {"rtx", table::align::right}, {"ack", table::align::right}, {"accepted", table::align::right},
                {"drops", table::align::right}, {"queue_drops", table::align::right},
                {"resets", table::align::right}});
  std::map<uint32_t, uint64_t> drops;
  for (const auto& [k, s] : r.listeners) {
    std::string name = listener_name(k);
    counts.add_row({name, std::to_string(s.syns), std::to_string(s.synacks), std::to_string(s.synack_retransmits),
                    std::to_string(s.established), std::to_string(s.accepted),
                    std::to_string(s.drops() + s.syns_unanswered), std::to_string(s.accept_queue_drops()),
                    std::to_string(s.resets)});
    for (const auto& [reason, n] : s.drops_by_reason) drops[reason] += n;
  }
  out += "\n" + counts.render();
  if (!r.listeners.empty()) {
    out += "\n";
    static const char* names[] = {"syn>synack", "synack>ack", "ack>accept"};
    table named({{"listener"}, {"interval"}, {"count", table::align::right}, {"p50_ms", table::align::right},
                 {"p99_ms", table::align::right}, {"max_ms", table::align::right}});
    for (const auto& [k, s] : r.listeners) {
      const core::histogram* hs[] = {&s.syn_to_synack, &s.synack_to_ack, &s.ack_to_accept};
      for (size_t i = 0; i < 3; ++i) {
        auto row = histogram_row(names[i], *hs[i], {stat::count, stat::p50, stat::p99, stat::max});
        row.insert(row.begin(), i == 0 ? listener_name(k) : "");
        named.add_row(std::move(row));
      }
    }
    out += named.render();
  }
  uint64_t unanswered = 0;
  for (const auto& [k, s] : r.listeners) unanswered += s.syns_unanswered;
  if (!drops.empty() || unanswered) {
    out += "\ndrops by reason:";
    for (const auto& [reason, n] : drops) out += fmt::format(" {} {}", reasons.drop_name(reason), n);
    if (unanswered) out += fmt::format(" SYN_UNANSWERED {}", unanswered);
    out += "\n";
  }
  if (!counters.empty()) {
    out += "\nkernel counters, this namespace:";
    for (const auto& [name, delta] : counters) out += fmt::format(" {} {:+}", name, delta);
    out += "\n";
  }
  uint64_t handshakes = 0;
  for (const auto& [o, n] : r.outcomes) handshakes += n;
  out += fmt::format("\n{} in {:.1f} s:", counted(handshakes, "handshake"), static_cast<double>(r.elapsed_ns) / 1e9);
  for (const auto& [o, n] : r.outcomes) out += fmt::format(" {} {}", to_string(o), n);
  out += fmt::format("\nevents lost (ring buffer full): {}", r.lost);
  if (r.evicted) out += fmt::format("; handed on early (table full): {}", r.evicted);
  out += "\n";
  return out;
}

json_object trace_summary_json(const trace::live_report& r, const std::vector<trace::hook_status>& hooks,
                               const trace::reason_names& reasons,
                               const std::vector<std::pair<std::string, int64_t>>& counters) {
  json_object j;
  j.field("type", "summary").field("start_unix_ns", r.start_unix_ns).field("elapsed_ns", r.elapsed_ns);
  json_array hs;
  for (const auto& h : hooks) {
    json_object o;
    o.field("tracepoint", h.tracepoint).field("active", h.active);
    if (!h.active) o.field("error", h.error);
    hs.add(o);
  }
  j.field("hooks", hs);
  json_array ls;
  for (const auto& [k, s] : r.listeners) {
    json_object o;
    o.field("netns", k.netns).field("port", k.port).field("syns", s.syns).field("synacks", s.synacks)
        .field("synack_retransmits", s.synack_retransmits).field("established", s.established)
        .field("accepted", s.accepted).field("resets", s.resets).field("drops", s.drops())
        .field("syns_unanswered", s.syns_unanswered).field("acks_overflowed", s.acks_overflowed).field("accept_queue_drops", s.accept_queue_drops());
    json_object by;
    for (const auto& [reason, n] : s.drops_by_reason) by.field(reasons.drop_name(reason), n);
    o.field("drops_by_reason", by)
        .field("syn_to_synack_us", histogram_json_us(s.syn_to_synack))
        .field("synack_to_ack_us", histogram_json_us(s.synack_to_ack))
        .field("ack_to_accept_us", histogram_json_us(s.ack_to_accept));
    ls.add(o);
  }
  j.field("listeners", ls);
  json_object outcomes;
  for (const auto& [o, n] : r.outcomes) outcomes.field(to_string(o), n);
  j.field("outcomes", outcomes);
  json_object deltas;
  for (const auto& [name, delta] : counters) deltas.field(name, delta);
  j.field("kernel_counters", deltas);
  return j.field("lost_events", r.lost).field("evicted", r.evicted).field("malformed_events", r.malformed);
}

}  // namespace synscope::render
