#include "capture/live.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/clock.h"
#include "wire/libpcap.h"

namespace synscope::capture {

struct live_capture::state {
  const wire::libpcap* pcap = nullptr;
  pcap_t* handle = nullptr;
  pcap_dumper_t* dumper = nullptr;
  uint16_t linktype = 0;
  int fd = -1;
  int timeout_ms = 100;
  uint64_t number = 0;
  const wire::frame_fn* fn = nullptr;
  std::string interface;
  ~state() {
    if (dumper != nullptr) pcap->dump_close(dumper);
    if (handle != nullptr) pcap->close(handle);
  }
};

namespace {

core::error pcap_failure(const std::string& what, const wire::libpcap& pcap, pcap_t* h, int rc) {
  std::string why = pcap.geterr(h);
  if (rc == PCAP_ERROR_PERM_DENIED || why.find("ermission") != std::string::npos ||
      why.find("Operation not permitted") != std::string::npos) {
    return core::error{core::exit_code::no_permission,
                       fmt::format("{}: {} (live capture needs root or CAP_NET_RAW)", what, why)};
  }
  if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
    return core::error{core::exit_code::usage, fmt::format("{}: {}", what, why)};
  }
  return core::error{core::exit_code::environment, fmt::format("{}: {}", what, why)};
}

// Root only needs its privileges to open the device: continue as nobody (tcpdump's -Z).
core::result<void> drop_to_nobody() {
  if (geteuid() != 0) return {};
  const passwd* nobody = getpwnam("nobody");
  uid_t uid = nobody != nullptr ? nobody->pw_uid : 65534;
  gid_t gid = nobody != nullptr ? nobody->pw_gid : 65534;
  if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    return core::system_error("capture: dropping privileges", "setuid", errno);
  }
  return {};
}

}  // namespace

live_capture::live_capture(std::unique_ptr<state> s) : state_(std::move(s)) {}
live_capture::live_capture(live_capture&&) noexcept = default;
live_capture& live_capture::operator=(live_capture&&) noexcept = default;
live_capture::~live_capture() = default;

core::result<live_capture> live_capture::open(const live_options& o) {
  auto pcap = wire::load_libpcap();
  if (!pcap) return pcap.error();
  const wire::libpcap& lib = **pcap;
  auto s = std::make_unique<state>();
  s->pcap = *pcap;
  char err[PCAP_ERRBUF_SIZE] = {};
  std::string what = fmt::format("capture on '{}'", core::printable(o.interface));
  s->handle = lib.create(o.interface.c_str(), err);
  if (s->handle == nullptr) return core::error{core::exit_code::usage, fmt::format("{}: {}", what, err)};
  lib.set_snaplen(s->handle, o.snaplen);
  lib.set_timeout(s->handle, o.timeout_ms);
  lib.set_buffer_size(s->handle, o.buffer_mib << 20);
  int rc = lib.activate(s->handle);
  if (rc < 0) return pcap_failure(what, lib, s->handle, rc);
  s->linktype = static_cast<uint16_t>(lib.datalink(s->handle));
  if (!o.filter.empty()) {
    bpf_program prog{};
    if (lib.compile(s->handle, &prog, o.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return core::error{core::exit_code::usage,
                         fmt::format("filter '{}': {}", core::printable(o.filter), lib.geterr(s->handle))};
    }
    int set = lib.setfilter(s->handle, &prog);
    lib.freecode(&prog);
    if (set != 0) return pcap_failure(what, lib, s->handle, set);
  }
  if (!o.write_path.empty()) {
    s->dumper = lib.dump_open(s->handle, o.write_path.c_str());
    if (s->dumper == nullptr) {
      return core::error{core::exit_code::usage,
                         fmt::format("-w {}: {}", core::printable(o.write_path), lib.geterr(s->handle))};
    }
  }
  // Non-blocking, with our own poll(): with TPACKET_V3 a blocking read waits until the kernel
  // retires a non-empty block, i.e. forever once traffic stops.
  if (lib.setnonblock(s->handle, 1, err) != 0) {
    return core::error{core::exit_code::environment, fmt::format("{}: {}", what, err)};
  }
  s->fd = lib.get_selectable_fd(s->handle);
  s->timeout_ms = o.timeout_ms;
  s->interface = o.interface;
  if (o.drop_privileges) {
    if (auto r = drop_to_nobody(); !r) return r.error();
  }
  return live_capture(std::move(s));
}

std::string live_capture::name() const { return state_->interface; }

core::result<size_t> live_capture::dispatch(const wire::frame_fn& fn) {
  state_->fn = &fn;
  if (state_->fd >= 0) {
    pollfd p{state_->fd, POLLIN, 0};
    int ready = poll(&p, 1, state_->timeout_ms);
    if (ready < 0 && errno != EINTR) return core::system_error("capture", "poll", errno);
    if (ready <= 0) return size_t{0};
  }
  auto callback = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* st = reinterpret_cast<state*>(user);  // NOLINT: libpcap's callback signature
    if (st->dumper != nullptr) st->pcap->dump(reinterpret_cast<u_char*>(st->dumper), h, bytes);  // NOLINT
    wire::frame f;
    f.number = ++st->number;
    f.ts_ns = static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(h->ts.tv_usec) * 1000;
    f.caplen = h->caplen;
    f.origlen = h->len;
    f.linktype = st->linktype;
    f.data = wire::bytes(reinterpret_cast<const std::byte*>(bytes), h->caplen);  // NOLINT
    (*st->fn)(f);
  };
  int n = state_->pcap->dispatch(state_->handle, -1, callback, reinterpret_cast<u_char*>(state_.get()));  // NOLINT
  if (n == PCAP_ERROR) return pcap_failure("capture", *state_->pcap, state_->handle, n);
  if (state_->dumper != nullptr) state_->pcap->dump_flush(state_->dumper);
  return static_cast<size_t>(n < 0 ? 0 : n);
}

core::result<size_t> live_capture::drain(const wire::frame_fn& fn) {
  size_t total = 0;
  // Two timeouts: the block being filled is retired after one, then read.
  int64_t deadline = core::monotonic_ns() + 2LL * state_->timeout_ms * core::ns_per_ms;
  while (core::monotonic_ns() < deadline) {
    auto n = dispatch(fn);
    if (!n) return n;
    total += *n;
  }
  return total;
}

wire::source_stats live_capture::stats() const {
  pcap_stat ps{};
  wire::source_stats out;
  if (state_->pcap->stats(state_->handle, &ps) == 0) {
    out.received = ps.ps_recv;
    out.dropped = ps.ps_drop;
    out.if_dropped = ps.ps_ifdrop;
  }
  return out;
}

uint16_t live_capture::linktype() const { return state_->linktype; }

void live_capture::stop() { state_->pcap->breakloop(state_->handle); }

}  // namespace synscope::capture
