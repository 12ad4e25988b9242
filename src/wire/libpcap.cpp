#include "wire/libpcap.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include <fmt/format.h>

namespace synscope::wire {

namespace {

struct loaded {
  libpcap functions;
  std::string error;  // empty when loaded
};

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out, std::string& error) {
  void* p = dlsym(handle, name);
  if (p == nullptr) {
    error = fmt::format("libpcap: the installed library has no {} (too old?)", name);
    return false;
  }
  out = reinterpret_cast<Fn>(p);  // NOLINT: dlsym returns the function as void*
  return true;
}

loaded load() {
  loaded l;
  void* handle = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::string first = dlerror();  // the soname users have; the fallback's error would mislead
    handle = dlopen("libpcap.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      l.error = fmt::format("libpcap: cannot load it: {}; install it: apt-get install libpcap0.8", first);
      return l;
    }
  }
  // Never closed: the library stays for the life of the process, like a linked one.
  libpcap& f = l.functions;
  bool ok = resolve(handle, "pcap_open_dead", f.open_dead, l.error) && resolve(handle, "pcap_compile", f.compile, l.error) &&
            resolve(handle, "pcap_freecode", f.freecode, l.error) &&
            resolve(handle, "pcap_offline_filter", f.offline_filter, l.error) &&
            resolve(handle, "pcap_geterr", f.geterr, l.error) && resolve(handle, "pcap_close", f.close, l.error) &&
            resolve(handle, "pcap_create", f.create, l.error) &&
            resolve(handle, "pcap_set_snaplen", f.set_snaplen, l.error) &&
            resolve(handle, "pcap_set_timeout", f.set_timeout, l.error) &&
            resolve(handle, "pcap_set_buffer_size", f.set_buffer_size, l.error) &&
            resolve(handle, "pcap_activate", f.activate, l.error) && resolve(handle, "pcap_datalink", f.datalink, l.error) &&
            resolve(handle, "pcap_setfilter", f.setfilter, l.error) &&
            resolve(handle, "pcap_setnonblock", f.setnonblock, l.error) &&
            resolve(handle, "pcap_get_selectable_fd", f.get_selectable_fd, l.error) &&
            resolve(handle, "pcap_dispatch", f.dispatch, l.error) && resolve(handle, "pcap_breakloop", f.breakloop, l.error) &&
            resolve(handle, "pcap_stats", f.stats, l.error) && resolve(handle, "pcap_dump_open", f.dump_open, l.error) &&
            resolve(handle, "pcap_dump", f.dump, l.error) && resolve(handle, "pcap_dump_flush", f.dump_flush, l.error) &&
            resolve(handle, "pcap_dump_close", f.dump_close, l.error);
  if (!ok) l.functions = libpcap{};
  return l;
}

}  // namespace

core::result<const libpcap*> load_libpcap() {
  static const loaded library = load();  // C++ guarantees one initialisation under threads
  if (!library.error.empty()) return core::error{core::exit_code::environment, library.error};
  return &library.functions;
}

}  // namespace synscope::wire
