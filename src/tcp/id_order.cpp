#include "tcp/id_order.h"

namespace synscope::tcp {

void id_order_sink::on_connection(const connection& c) {
  if (c.id < next_) {  // its place was given up when the window was full: late, but not lost
    ++out_of_order_;
    out_.on_connection(c);
    return;
  }
  size_t at = static_cast<size_t>(c.id - next_);
  if (at == 0 && held_.empty()) {  // the usual case, nothing held: straight through
    out_.on_connection(c);
    ++next_;
    return;
  }
  if (held_.size() <= at) held_.resize(at + 1);
  held_[at] = c;
  ++held_count_;
  release_ready();
  // Full: give up waiting for the earliest missing id and pass on what follows it.
  while (held_count_ > window_) {
    while (!held_.front()) {
      held_.pop_front();
      ++next_;
    }
    release_ready();
  }
}

void id_order_sink::release_ready() {
  while (!held_.empty() && held_.front()) {
    out_.on_connection(*held_.front());
    held_.pop_front();
    --held_count_;
    ++next_;
  }
}

void id_order_sink::flush() {
  for (auto& c : held_) {
    if (c) out_.on_connection(*c);
  }
  held_.clear();
  held_count_ = 0;
}

}  // namespace synscope::tcp
