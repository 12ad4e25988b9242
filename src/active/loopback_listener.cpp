#include "active/loopback_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <atomic>
#include <cerrno>
#include <thread>
#include <unordered_set>

#include "active/listener.h"
#include "core/unique_fd.h"

namespace synscope::active {

struct loopback_listener::state {
  core::unique_fd listen_fd;
  core::unique_fd epoll_fd;
  core::unique_fd wake_fd;  // eventfd: written once to stop the thread
  core::socket_address address;
  std::atomic<uint64_t> accepted{0};
  std::thread thread;

  // The listening socket is deliberately not in the epoll set: it is swept on a short timer.
  // On loopback the kernel runs the server's half of the handshake inside the client's
  // connect(), so a thread blocked on the listener would be woken (an IPI to an idle CPU, tens
  // of microseconds on a VM) within the very call the probe is timing. Sweeping keeps the
  // instrument out of the measurement; the accept queue holds what arrives between sweeps.
  static constexpr int sweep_ms = 2;

  void run() {
    std::unordered_set<int> open;  // accepted sockets still waiting for the client's FIN
    std::array<epoll_event, 64> events{};
    bool running = true;
    while (running) {
      int n = core::retry_on_eintr([&] { return epoll_wait(epoll_fd.get(), events.data(), events.size(), sweep_ms); });
      if (n < 0) {
        break;  // cannot happen with valid descriptors; leave rather than spin
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<size_t>(i)].data.fd;
        if (fd == wake_fd.get()) {
          running = false;
        } else {
          drain(fd, open);
        }
      }
      accept_all(open);
    }
    for (int fd : open) {
      ::close(fd);
    }
  }

  void accept_all(std::unordered_set<int>& open) {
    for (;;) {
      int fd = accept4(listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;  // EAGAIN: the accept queue is empty; anything else: try on the next wake-up
      }
      accepted.fetch_add(1, std::memory_order_relaxed);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      open.insert(fd);
    }
  }

  // Read what the client sent (so close() sends FIN, not RST) and close on end of stream.
  static void drain(int fd, std::unordered_set<int>& open) {
    std::array<char, 4096> buf{};
    for (;;) {
      ssize_t got = core::retry_on_eintr([&] { return recv(fd, buf.data(), buf.size(), 0); });
      if (got > 0) {
        continue;
      }
      if (got < 0 && errno == EAGAIN) {
        return;
      }
      open.erase(fd);
      ::close(fd);  // end of stream or error (a RST from the client)
      return;
    }
  }
};

loopback_listener::loopback_listener(std::unique_ptr<state> s) : state_(std::move(s)) {}
loopback_listener::loopback_listener(loopback_listener&&) noexcept = default;
loopback_listener& loopback_listener::operator=(loopback_listener&&) noexcept = default;

loopback_listener::~loopback_listener() {
  if (state_ && state_->thread.joinable()) {
    uint64_t one = 1;
    (void)!write(state_->wake_fd.get(), &one, sizeof one);
    state_->thread.join();
  }
}

const core::socket_address& loopback_listener::address() const { return state_->address; }
uint64_t loopback_listener::accepted() const { return state_->accepted.load(std::memory_order_relaxed); }

core::result<loopback_listener> loopback_listener::start(const listener_options& options) {
  auto s = std::make_unique<state>();
  listen_options lo;
  lo.backlog = options.backlog;
  lo.fastopen_qlen = options.fastopen_queue;
  auto fd = make_listener(core::loopback_address(options.family), lo, "loopback listener");
  if (!fd) return fd.error();
  s->listen_fd = std::move(*fd);
  auto bound = bound_address(s->listen_fd.get(), "loopback listener");
  if (!bound) return bound.error();
  s->address = *bound;

  s->epoll_fd.reset(epoll_create1(EPOLL_CLOEXEC));
  s->wake_fd.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->epoll_fd || !s->wake_fd) {
    return core::system_error("loopback listener", "epoll_create1/eventfd", errno);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s->wake_fd.get();
  if (epoll_ctl(s->epoll_fd.get(), EPOLL_CTL_ADD, s->wake_fd.get(), &ev) != 0) {
    return core::system_error("loopback listener", "epoll_ctl", errno);
  }
  state* raw = s.get();
  s->thread = std::thread([raw] { raw->run(); });
  return loopback_listener(std::move(s));
}

}  // namespace synscope::active
