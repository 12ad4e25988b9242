// Decoding the kernel's records: copied field by field with memcpy (STYLE.md: no casts to a
// struct over outside bytes), addresses normalised so packets and sockets give the same key.
#include "trace/event.h"

#include <cstring>
#include <functional>

#include "trace/bpf/events.h"

namespace synscope::trace {

const size_t event_record_size = sizeof(synscope_event);
static_assert(sizeof(synscope_event) == 88, "the record's layout is shared with the BPF programs");

const char* to_string(event_kind k) {
  switch (k) {
    case event_kind::syn: return "syn";
    case event_kind::synack: return "synack";
    case event_kind::synack_retransmit: return "synack_retransmit";
    case event_kind::established: return "established";
    case event_kind::accept: return "accept";
    case event_kind::drop: return "drop";
    case event_kind::reset: return "reset";
  }
  return "unknown";
}

size_t connection_key_hash::operator()(const connection_key& k) const noexcept {
  // FNV-1a over the fields that vary: cheap and enough for a table of pending handshakes.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  mix(&k.netns, sizeof k.netns);
  mix(k.client.address.bytes.data(), k.client.address.version == 4 ? 4 : 16);
  mix(&k.client.port, sizeof k.client.port);
  mix(k.server.address.bytes.data(), k.server.address.version == 4 ? 4 : 16);
  mix(&k.server.port, sizeof k.server.port);
  mix(&k.isn, sizeof k.isn);
  return static_cast<size_t>(h);
}

namespace {

std::string name_or_number(const std::map<uint32_t, std::string>& names, uint32_t v) {
  auto it = names.find(v);
  return it != names.end() ? it->second : std::to_string(v);
}

}  // namespace

std::string reason_names::drop_name(uint32_t reason) const { return name_or_number(drop, reason); }

std::optional<uint32_t> reason_names::drop_number(std::string_view name) const {
  for (const auto& [number, n] : drop) {
    if (n == name) return number;
  }
  return std::nullopt;
}

std::string reason_names::reset_name(uint32_t reason) const {
  return reason ? name_or_number(reset, reason) : "";
}

namespace {

constexpr uint8_t af_inet = 2;
constexpr uint8_t af_inet6 = 10;

core::ip_address address_of(uint8_t family, const uint8_t (&bytes)[16]) {
  core::ip_address a;
  if (family == af_inet) {
    a.version = 4;
    std::memcpy(a.bytes.data(), bytes, 4);
    return a;
  }
  static constexpr uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, v4_mapped, sizeof v4_mapped) == 0) {
    a.version = 4;
    std::memcpy(a.bytes.data(), bytes + 12, 4);
    return a;
  }
  a.version = 6;
  std::memcpy(a.bytes.data(), bytes, 16);
  return a;
}

}  // namespace

std::optional<event> decode_event(std::span<const std::byte> record) {
  synscope_event r{};
  if (record.size() < sizeof r) return std::nullopt;
  std::memcpy(&r, record.data(), sizeof r);
  if (r.kind < SYNSCOPE_EV_SYN || r.kind > SYNSCOPE_EV_RESET) return std::nullopt;
  if (r.family != af_inet && r.family != af_inet6) return std::nullopt;
  event e;
  e.kind = static_cast<event_kind>(r.kind);
  e.ts_ns = static_cast<int64_t>(r.ts_ns);
  e.key.netns = r.netns;
  e.key.isn = r.isn;
  e.key.client = {address_of(r.family, r.client_addr), r.client_port};
  e.key.server = {address_of(r.family, r.server_addr), r.server_port};
  e.tcp_flags = r.tcp_flags;
  e.seq = r.seq;
  e.reason = r.reason;
  e.pid = r.pid;
  e.comm.assign(r.comm, strnlen(r.comm, sizeof r.comm));
  return e;
}

}  // namespace synscope::trace
