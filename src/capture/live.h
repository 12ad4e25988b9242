#pragma once
// Live capture with libpcap: an interface ("any" by default), a filter, a short snaplen, and
// frames handed out as wire::frame views (valid during the callback).
//
//   auto cap = capture::live_capture::open({.interface = "lo"});
//   cap->dispatch([](const wire::frame& f) { ... });   // what arrived, or nothing after 100 ms
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "wire/frame_source.h"

namespace synscope::capture {

struct live_options {
  std::string interface = "any";
  std::string filter = "tcp";
  int snaplen = 128;            ///< enough for Ethernet/SLL2 + IPv6 + TCP with options
  int buffer_mib = 32;          ///< kernel ring size
  int timeout_ms = 100;         ///< how long one dispatch() may wait
  std::string write_path;       ///< keep the capture as pcap (opened before privileges drop)
  bool drop_privileges = true;  ///< as root: become nobody after opening the device and file
};

class live_capture final : public wire::live_source {
 public:
  /// Opens and activates the device. No permission is core::exit_code::no_permission with a
  /// message saying CAP_NET_RAW is needed; an unknown interface is a usage error.
  static core::result<live_capture> open(const live_options& options);
  live_capture(live_capture&&) noexcept;
  live_capture& operator=(live_capture&&) noexcept;
  ~live_capture() override;

  /// The interface's name.
  [[nodiscard]] std::string name() const override;
  /// Hands every frame that arrived to `fn` (and to the -w file); waits at most timeout_ms.
  core::result<size_t> dispatch(const wire::frame_fn& fn) override;
  /// Waits out one buffer timeout (the kernel hands over a partly filled block only then) and
  /// dispatches what is left.
  core::result<size_t> drain(const wire::frame_fn& fn) override;
  [[nodiscard]] wire::source_stats stats() const override;
  [[nodiscard]] uint16_t linktype() const;
  /// Makes a dispatch() in progress return (safe from a signal handler's flag check).
  void stop() override;

 private:
  struct state;
  explicit live_capture(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace synscope::capture
