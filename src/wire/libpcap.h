#pragma once
// libpcap, loaded the first time a command needs it (a filter expression, a live capture), not
// at start-up. Debian's libpcap is built with D-Bus support and so brings nine more shared
// libraries (libdbus, libsystemd, libgcrypt, liblzma, libzstd, liblz4, libcap, libgpg-error) that
// every short command (`--version`, `sockets --count`, `counters`) would load for nothing: 1.7 ms
// of each start on this machine kind, a third of what `ss -V` takes in all.
#include <pcap/pcap.h>

#include "core/error.h"

namespace synscope::wire {

/// The libpcap functions synscope calls, resolved from libpcap.so.0.8 (the soname Debian and
/// most distributions ship; libpcap.so.1 is tried next).
struct libpcap {
  decltype(&::pcap_open_dead) open_dead = nullptr;
  decltype(&::pcap_compile) compile = nullptr;
  decltype(&::pcap_freecode) freecode = nullptr;
  decltype(&::pcap_offline_filter) offline_filter = nullptr;
  decltype(&::pcap_geterr) geterr = nullptr;
  decltype(&::pcap_close) close = nullptr;
  decltype(&::pcap_create) create = nullptr;
  decltype(&::pcap_set_snaplen) set_snaplen = nullptr;
  decltype(&::pcap_set_timeout) set_timeout = nullptr;
  decltype(&::pcap_set_buffer_size) set_buffer_size = nullptr;
  decltype(&::pcap_activate) activate = nullptr;
  decltype(&::pcap_datalink) datalink = nullptr;
  decltype(&::pcap_setfilter) setfilter = nullptr;
  decltype(&::pcap_setnonblock) setnonblock = nullptr;
  decltype(&::pcap_get_selectable_fd) get_selectable_fd = nullptr;
  decltype(&::pcap_dispatch) dispatch = nullptr;
  decltype(&::pcap_breakloop) breakloop = nullptr;
  decltype(&::pcap_stats) stats = nullptr;
  decltype(&::pcap_dump_open) dump_open = nullptr;
  decltype(&::pcap_dump) dump = nullptr;
  decltype(&::pcap_dump_flush) dump_flush = nullptr;
  decltype(&::pcap_dump_close) dump_close = nullptr;
};

/// The library, loaded once per process (safe from any thread). When it cannot be loaded, an
/// environment error (exit 3) naming it and the package that ships it.
core::result<const libpcap*> load_libpcap();

}  // namespace synscope::wire
