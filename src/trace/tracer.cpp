// Loading and attaching the tracepoint programs with libbpf (linked from its archive: no
// shared library to find at start-up), reading the ring buffer, and naming the kernel's drop and
// reset reasons from its BTF.
#include "trace/tracer.h"

#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <string_view>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <fmt/format.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "synscope_trace.skel.h"
#pragma GCC diagnostic pop

#include "trace/bpf/events.h"

namespace synscope::trace {

namespace {

// libbpf's messages are kept (the last few) rather than printed: a failure quotes them.
std::deque<std::string>& libbpf_messages() {
  static std::deque<std::string> lines;
  return lines;
}

int keep_libbpf_message(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n <= 0) return 0;
  std::string_view text(line, std::min(static_cast<size_t>(n), sizeof line - 1));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto& lines = libbpf_messages();
  lines.emplace_back(text);
  if (lines.size() > 8) lines.pop_front();
  return 0;
}

std::string last_libbpf_message() {
  const auto& lines = libbpf_messages();
  return lines.empty() ? std::string() : "; libbpf: " + core::printable(lines.back());
}

int64_t realtime_minus_monotonic() {
  // The pair read closest together of a few tries: the offset to within a microsecond.
  int64_t best_gap = INT64_MAX;
  int64_t offset = 0;
  for (int i = 0; i < 5; ++i) {
    timespec m1{}, r{}, m2{};
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    int64_t a = m1.tv_sec * 1'000'000'000LL + m1.tv_nsec;
    int64_t b = m2.tv_sec * 1'000'000'000LL + m2.tv_nsec;
    if (b - a < best_gap) {
      best_gap = b - a;
      offset = r.tv_sec * 1'000'000'000LL + r.tv_nsec - (a + (b - a) / 2);
    }
  }
  return offset;
}

// libbpf finds a tracepoint's id in tracefs. Where it is not mounted (a minimal system, a fresh
// VM), mount it where the kernel documents it: what perf and bpftrace need as well.
void ensure_tracefs() {
  struct stat st{};
  if (stat("/sys/kernel/tracing/events", &st) == 0 || stat("/sys/kernel/debug/tracing/events", &st) == 0) return;
  (void)mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
}

// An enum's constants from the running kernel's BTF, with `prefix` taken off their names.
std::map<uint32_t, std::string> enum_names(const btf* vmlinux, const char* enum_name, std::string_view prefix,
                                           uint32_t add) {
  std::map<uint32_t, std::string> names;
  if (!vmlinux) return names;
  int id = btf__find_by_name_kind(vmlinux, enum_name, BTF_KIND_ENUM);
  if (id < 0) return names;
  const btf_type* t = btf__type_by_id(vmlinux, static_cast<uint32_t>(id));
  const struct btf_enum* e = btf_enum(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e) {
    std::string_view name = btf__name_by_offset(vmlinux, e->name_off);
    if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
    names[static_cast<uint32_t>(e->val) + add] = std::string(name);
  }
  return names;
}

// CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (Linux 5.8+), in the effective set.
bool may_trace() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return true;  // let the kernel say
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1U; };
  constexpr int cap_perfmon = 38, cap_bpf = 39;
  return has(CAP_SYS_ADMIN) || (has(cap_bpf) && has(cap_perfmon));
}

struct program_hook {
  const char* tracepoint;
  const char* moment;
};

}  // namespace

struct tracer::impl {
  synscope_trace* skel = nullptr;
  ring_buffer* rb = nullptr;
  std::vector<hook_status> hooks;
  reason_names reasons;
  int64_t realtime_offset = 0;
  uint64_t malformed = 0;
  const std::function<void(const event&)>* on_event = nullptr;

  ~impl() {
    if (rb) ring_buffer__free(rb);
    if (skel) synscope_trace__destroy(skel);
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<impl*>(ctx);
    auto e = decode_event({static_cast<const std::byte*>(data), size});
    if (!e) {
      ++self->malformed;
      return 0;
    }
    (*self->on_event)(*e);
    return 0;
  }
};

tracer::tracer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tracer::tracer(tracer&&) noexcept = default;
tracer& tracer::operator=(tracer&&) noexcept = default;
tracer::~tracer() = default;

core::result<tracer> tracer::open(const tracer_options& options) {
  libbpf_set_print(keep_libbpf_message);
  struct stat st{};
  if (stat("/sys/kernel/btf/vmlinux", &st) != 0) {
    return core::error{core::exit_code::environment,
                       "trace: this kernel has no BTF (/sys/kernel/btf/vmlinux): it needs CONFIG_DEBUG_INFO_BTF=y"};
  }
  if (!may_trace()) {
    return core::error{core::exit_code::no_permission,
                       "trace: needs CAP_BPF and CAP_PERFMON (or root) to load its BPF programs"};
  }
  auto p = std::make_unique<impl>();
  p->skel = synscope_trace__open();
  if (!p->skel) return core::system_error("trace: opening the BPF object", "bpf_object__open", errno);
  p->skel->rodata->filter_port = options.port;
  p->skel->rodata->filter_netns = options.netns;
  if (int err = synscope_trace__load(p->skel); err != 0) {
    int e = -err;
    if (e == EPERM) {  // the verifier refuses with EACCES; EPERM is the capability (or lockdown)
      return core::error{core::exit_code::no_permission,
                         "trace: loading BPF programs needs CAP_BPF and CAP_PERFMON (or root), and no kernel lockdown: " +
                             std::string(std::strerror(e))};
    }
    return core::error{core::exit_code::environment,
                       fmt::format("trace: loading the BPF programs: {} ({}){}", std::strerror(e),
                                   core::errno_name(e), last_libbpf_message())};
  }
  ensure_tracefs();
  const std::pair<bpf_program*, program_hook> programs[] = {
      {p->skel->progs.on_receive, {"net:netif_receive_skb", "SYN in"}},
      {p->skel->progs.on_transmit, {"net:net_dev_start_xmit", "SYN-ACK out"}},
      {p->skel->progs.on_synack_retransmit, {"tcp:tcp_retransmit_synack", "SYN-ACK retransmitted"}},
      {p->skel->progs.on_set_state, {"sock:inet_sock_set_state", "handshake ACK (child ESTABLISHED)"}},
      {p->skel->progs.on_accept4, {"syscalls:sys_exit_accept4", "accept4() returned"}},
      {p->skel->progs.on_accept, {"syscalls:sys_exit_accept", "accept() returned"}},
      {p->skel->progs.on_drop, {"skb:kfree_skb", "segment dropped, with the reason"}},
      {p->skel->progs.on_reset, {"tcp:tcp_send_reset", "reset sent"}},
  };
  bpf_link** links[] = {&p->skel->links.on_receive,   &p->skel->links.on_transmit,
                        &p->skel->links.on_synack_retransmit, &p->skel->links.on_set_state,
                        &p->skel->links.on_accept4,   &p->skel->links.on_accept,
                        &p->skel->links.on_drop,      &p->skel->links.on_reset};
  size_t active = 0;
  for (size_t i = 0; i < std::size(programs); ++i) {
    hook_status h{programs[i].second.tracepoint, programs[i].second.moment, false, ""};
    bpf_link* link = bpf_program__attach(programs[i].first);
    if (link) {
      *links[i] = link;
      h.active = true;
      ++active;
    } else {
      int e = errno;
      h.error = fmt::format("{} ({})", std::strerror(e), core::errno_name(e));
      if ((e == EPERM || e == EACCES) && active == 0 && i == 0) {
        return core::error{core::exit_code::no_permission,
                           "trace: attaching to tracepoints needs CAP_PERFMON (or root): " + std::string(std::strerror(e))};
      }
    }
    p->hooks.push_back(std::move(h));
  }
  if (active == 0) {
    return core::error{core::exit_code::environment,
                       "trace: no tracepoint could be attached (" + p->hooks.front().error + ")" + last_libbpf_message()};
  }
  p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), impl::on_record, p.get(), nullptr);
  if (!p->rb) return core::system_error("trace: the ring buffer", "ring_buffer__new", errno);
  btf* vmlinux = btf__load_vmlinux_btf();
  p->reasons.drop = enum_names(vmlinux, "skb_drop_reason", "SKB_DROP_REASON_", 0);
  p->reasons.reset = enum_names(vmlinux, "sk_rst_reason", "SK_RST_REASON_", 1);
  btf__free(vmlinux);
  p->realtime_offset = realtime_minus_monotonic();
  return tracer(std::move(p));
}

core::result<int> tracer::poll(int timeout_ms, const std::function<void(const event&)>& on_event) {
  impl_->on_event = &on_event;
  // The programs wake this reader only when the ring fills (trace/bpf: submit()): what came in
  // since is read when the wait times out.
  int n = ring_buffer__poll(impl_->rb, timeout_ms);
  if (n == -EINTR) n = 0;
  int more = n >= 0 ? ring_buffer__consume(impl_->rb) : 0;
  impl_->on_event = nullptr;
  if (n < 0) return core::system_error("trace: reading the ring buffer", "epoll_wait", -n);
  if (more < 0) return core::system_error("trace: reading the ring buffer", "ring_buffer__consume", -more);
  return n + more;
}

uint64_t tracer::lost() const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return 0;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  uint32_t key = SYNSCOPE_COUNTER_LOST;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.counters), &key, per_cpu.data()) != 0) return 0;
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
}

uint64_t tracer::malformed() const { return impl_->malformed; }
const std::vector<hook_status>& tracer::hooks() const { return impl_->hooks; }
const reason_names& tracer::reasons() const { return impl_->reasons; }
int64_t tracer::realtime_offset_ns() const { return impl_->realtime_offset; }

}  // namespace synscope::trace
