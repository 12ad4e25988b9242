#pragma once
// One TCP handshake, timed the same way wherever synscope makes one: `probe`, `bench` (and the
// lab through it) and the exporter's probes. The caller owns the event loop; the connector
// owns the life cycle:
//   socket -> client options (and a source address) -> connect() or sendto(MSG_FASTOPEN) ->
//   one zero-timeout poll (loopback often finishes inside connect()) -> writable -> SO_ERROR.
// Time runs on CLOCK_MONOTONIC from just before the SYN is handed to the kernel to the moment
// the caller saw the socket writable.
//
//   active::handshake h;
//   if (!h.start(target, opts)) { ... add h.fd() to epoll for EPOLLOUT ... h.complete(now); }
//   if (h.connected()) use(h.elapsed_ns(), h.kernel_view());
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "active/socket_options.h"
#include "core/endpoint.h"
#include "core/unique_fd.h"
#include "kernel/tcp_info.h"

namespace synscope::active {

/// What TCP Fast Open did on an attempt's SYN.
enum class tfo_use {
  off,               ///< TFO was not asked for
  cookie_requested,  ///< no cookie cached: the SYN asked for one and carried no data
  data_in_syn,       ///< a cached cookie was sent and the data rode on the SYN
  client_disabled,   ///< the kernel refused (net.ipv4.tcp_fastopen lacks the client bit)
};
const char* tfo_use_name(tfo_use t);

struct connect_options {
  client_socket_options socket;                  ///< applied before the SYN
  const core::socket_address* source = nullptr;  ///< bound first, with IP_BIND_ADDRESS_NO_PORT
  bool fastopen = false;                         ///< sendto(MSG_FASTOPEN) carrying `data`
  std::string_view data;                         ///< for fastopen (must outlive start())
};

class handshake {
 public:
  /// Opens the socket and sends the SYN. True when the handshake has already ended: completed
  /// inside connect() or seen complete by the zero-timeout poll, refused at once, or failed
  /// before a SYN left (error() says which). False: pending; wait for fd() to turn writable,
  /// then call complete(), or fail(ETIMEDOUT) at the deadline.
  bool start(const core::socket_address& target, const connect_options& o);
  /// The socket turned writable (or errored) at `now_ns`: reads SO_ERROR and ends the handshake.
  void complete(int64_t now_ns);
  /// Ends a pending handshake with `err` (ETIMEDOUT at a deadline).
  void fail(int err, int64_t now_ns);

  [[nodiscard]] bool done() const { return done_; }
  [[nodiscard]] bool connected() const { return done_ && error_ == 0; }
  [[nodiscard]] int error() const { return error_; }  ///< errno; 0 when connected
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] int64_t start_ns() const { return start_ns_; }
  [[nodiscard]] int64_t elapsed_ns() const { return end_ns_ - start_ns_; }
  [[nodiscard]] tfo_use tfo() const { return tfo_; }
  [[nodiscard]] size_t syn_data_bytes() const { return syn_data_bytes_; }  ///< bytes that rode on the SYN
  /// TCP_INFO now (invalid without a socket).
  [[nodiscard]] kernel::tcp_info_view kernel_view() const;
  /// The socket, for what comes after the handshake (sending, reading, closing with a RST).
  core::unique_fd release() { return std::move(fd_); }
  void close() { fd_.reset(); }

 private:
  bool end(int err, int64_t now_ns);
  core::unique_fd fd_;
  int64_t start_ns_ = 0;
  int64_t end_ns_ = 0;
  int error_ = 0;
  bool done_ = false;
  tfo_use tfo_ = tfo_use::off;
  size_t syn_data_bytes_ = 0;
};

}  // namespace synscope::active
