#pragma once
// What the CLI needs from the terminal: whether stdout is one, and Ctrl-C as a flag.
#include <atomic>

namespace synscope::cli {

[[nodiscard]] bool stdout_is_terminal();

/// The first SIGINT or SIGTERM sets the returned flag (and interrupts blocking calls); a second
/// one ends the process the default way.
std::atomic<bool>& install_interrupt_flag();

}  // namespace synscope::cli
