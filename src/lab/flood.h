#pragma once
// A SYN flood for the lab: SYNs with spoofed sources (10.204.0.0/16, routed by the testbed to
// where nothing answers) from a raw socket, paced to a rate, bounded in time and count.
// It refuses any target outside the lab's own link (10.203.0.0/24).
//
//   lab::flood_options f{.target = lab::server_ip, .port = 8080, .rate = 2000, .duration_ns = 5e9};
//   auto r = lab::syn_flood(f, stop);   // in a thread inside the client namespace
#include <atomic>
#include <cstdint>
#include <span>

#include "core/error.h"

namespace synscope::lab {

struct flood_options {
  uint32_t target = 0;  ///< host byte order; must be in 10.203.0.0/24
  uint16_t port = 0;
  double rate = 1000;              ///< SYNs per second
  int64_t duration_ns = 0;         ///< stop after this long (> 0)
  uint64_t max_packets = 10'000'000;
};

struct flood_report {
  uint64_t sent = 0;
  uint64_t send_errors = 0;  ///< sendto() failed (ENOBUFS when the link's queue is full)
  int64_t elapsed_ns = 0;
};

/// Floods until the duration or the count is reached or `stop` is set. Needs CAP_NET_RAW.
/// Errors: a target outside the lab (2), no raw socket (77 or 3).
core::result<flood_report> syn_flood(const flood_options& options, const std::atomic<bool>& stop);

/// Writes one SYN (IPv4 header and TCP header with an MSS option, 44 bytes) into `out` and
/// returns its length; the TCP checksum is computed, the kernel completes the IP header.
size_t build_syn(std::span<uint8_t> out, uint32_t source, uint16_t source_port, uint32_t target, uint16_t port,
                 uint32_t seq);

}  // namespace synscope::lab
