#pragma once
// What the CLI needs from the terminal: whether stdout is one, and Ctrl-C as a flag.
#include <atomic>

namespace synscope::cli {

[[nodiscard]] bool stdout_is_terminal();

/// --color: never, auto (the default) or always, for every command.
enum class colour_mode { never, automatic, always };
void set_colour_mode(colour_mode m);
/// Whether to write ANSI colours to `fd`: always, never, or (auto) when it is a terminal, TERM is
/// not "dumb" and NO_COLOR is unset or empty (no-color.org; --color=always overrides it).
[[nodiscard]] bool colour_on(int fd);

/// The first SIGINT or SIGTERM sets the returned flag (and interrupts blocking calls); a second
/// one ends the process the default way.
std::atomic<bool>& install_interrupt_flag();

}  // namespace synscope::cli
