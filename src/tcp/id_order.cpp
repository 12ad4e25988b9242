#include "tcp/id_order.h"

#include <new>
#include <utility>

#include "core/prefault.h"

namespace synscope::tcp {

void id_order_sink::on_connection(const connection& c) {
  if (c.id < next_) {  // its place was given up when the window was full: late, but not lost
    ++out_of_order_;
    out_.on_connection(c);
    return;
  }
  size_t at = static_cast<size_t>(c.id - next_);
  if (at == 0 && held_count_ == 0) {  // the usual case, nothing held: straight through
    out_.on_connection(c);
    ++next_;
    return;
  }
  size_t pos = offset_ + at;
  while (chunks_.size() <= pos / chunk_size) {
    if (spare_.empty()) {
      auto fresh = std::make_unique_for_overwrite<chunk>();
      core::prefault(fresh.get(), sizeof(chunk));
      fresh->present.reset();
      chunks_.push_back(std::move(fresh));
    } else {
      chunks_.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
  }
  chunk& into = *chunks_[pos / chunk_size];
  new (into.items + pos % chunk_size * sizeof(connection)) connection(c);
  into.present.set(pos % chunk_size);
  ++held_count_;
  release_ready();
  // Full: give up waiting for the earliest missing id and pass on what follows it.
  while (held_count_ > window_) {
    while (!present(0)) advance();
    release_ready();
  }
}

void id_order_sink::advance() {
  ++next_;
  if (++offset_ < chunk_size) return;
  offset_ = 0;
  if (chunks_.empty()) return;
  chunks_.front()->present.reset();
  spare_.push_back(std::move(chunks_.front()));
  chunks_.pop_front();
}

void id_order_sink::release_ready() {
  while (present(0)) {
    chunk& from = *chunks_.front();
    out_.on_connection(from.at(offset_));
    from.present.reset(offset_);
    --held_count_;
    advance();
  }
}

void id_order_sink::flush() {
  while (held_count_ > 0) {
    while (!present(0)) advance();
    release_ready();
  }
}

}  // namespace synscope::tcp
