#include "cli/terminal.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace synscope::cli {
namespace {

std::atomic<bool> interrupted{false};
colour_mode colour = colour_mode::automatic;
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void on_signal(int /*signo*/) { interrupted.store(true, std::memory_order_relaxed); }

}  // namespace

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

void set_colour_mode(colour_mode m) { colour = m; }

bool colour_on(int fd) {
  if (colour != colour_mode::automatic) return colour == colour_mode::always;
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fd) == 1;
}

std::atomic<bool>& install_interrupt_flag() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = static_cast<int>(SA_RESETHAND);  // no SA_RESTART: blocking waits return EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return interrupted;
}

}  // namespace synscope::cli
