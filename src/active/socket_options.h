#pragma once
// Options a client socket gets before connect(): the seed's TCP_NODELAY and TCP_QUICKACK, plus
// a local address, a TOS/traffic class and a firewall mark; and the descriptors for many of them.
#include <cstdint>
#include <optional>

#include "core/endpoint.h"
#include "core/error.h"

namespace synscope::active {

struct client_socket_options {
  bool nodelay = false;                      ///< TCP_NODELAY
  bool quickack = false;                     ///< TCP_QUICKACK
  std::optional<uint8_t> tos;                ///< IP_TOS, or IPV6_TCLASS on IPv6
  std::optional<uint32_t> mark;              ///< SO_MARK (needs CAP_NET_ADMIN)
  std::optional<core::socket_address> bind;  ///< local address; port 0 = any
  bool reset_on_close = false;               ///< SO_LINGER {1, 0}: close with RST, no TIME_WAIT
};

/// Applies `options` to a fresh socket of `family`. Errors name the option and the errno.
core::result<void> apply_client_options(int fd, int family, const client_socket_options& options);

/// Each attempt in flight holds a socket: lifts the soft open-file limit (1024 by default)
/// toward the hard one when `concurrency` sockets, plus a margin, need more. An error (exit 3)
/// names --concurrency and the hard limit when even that is too low.
core::result<void> reserve_descriptors(int concurrency);

/// Makes close() abort the connection with a RST (SO_LINGER with a zero timeout).
void set_linger_zero(int fd) noexcept;

/// The initial sequence number a connected socket sent in its SYN, read the way CRIU reads a
/// connection's state: TCP_REPAIR on, the send queue's sequence (write_seq), TCP_REPAIR off
/// without a window probe. write_seq is the ISN plus the SYN's one plus every byte written:
/// `bytes_written` (data sent on the SYN with TFO, or since). Needs CAP_NET_ADMIN (nullopt
/// without it); nothing goes on the wire.
std::optional<uint32_t> read_client_isn(int fd, uint32_t bytes_written) noexcept;

}  // namespace synscope::active
