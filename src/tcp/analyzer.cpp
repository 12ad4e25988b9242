#include "tcp/analyzer.h"

#include <unordered_map>

#include "wire/capture_reader.h"
#include "wire/filter.h"

namespace synscope::tcp {
namespace {

// Hands each finished connection to the summary, the ladders and the caller's sink.
class fan_out : public connection_sink {
 public:
  fan_out(summary_builder& summary, connection_sink* extra, std::unordered_map<uint64_t, ladder>& ladders)
      : summary_(summary), extra_(extra), ladders_(ladders) {}
  void on_connection(const connection& c) override {
    summary_.on_connection(c);
    if (auto it = ladders_.find(c.id); it != ladders_.end()) it->second.record = c;
    if (extra_ != nullptr) extra_->on_connection(c);
  }

 private:
  summary_builder& summary_;
  connection_sink* extra_;
  std::unordered_map<uint64_t, ladder>& ladders_;
};

}  // namespace

core::result<analyze_report> analyze(const analyze_options& options, connection_sink* extra,
                                     const progress_fn& progress) {
  auto filter = wire::packet_filter::compile(options.filter);
  if (!filter) return filter.error();
  // Open every input first, so a missing file is reported before any output.
  std::vector<wire::capture_reader> readers;
  for (const auto& path : options.inputs) {
    auto r = wire::capture_reader::open(path);
    if (!r) return r.error();
    readers.push_back(std::move(*r));
  }
  summary_builder summary(options.top_n, options.flood);
  std::unordered_map<uint64_t, ladder> ladders;
  for (uint64_t id : options.ladder_ids) ladders.try_emplace(id);
  fan_out sink(summary, extra, ladders);
  tracker track(options.tracker, sink);
  analyze_report report;
  wire::frame f;
  wire::packet_view p;
  for (auto& reader : readers) {
    input_report in;
    in.name = reader.name();
    for (;;) {
      auto more = reader.next(f);
      if (!more) return more.error();
      if (!*more) break;
      ++in.frames;
      if ((in.frames & 0xffff) == 0 && progress) progress(in.name, reader.offset(), reader.size(), in.frames);
      if (!filter->empty()) {
        auto pass = filter->matches(f);
        if (!pass) return pass.error();
        if (!*pass) {
          ++in.filtered_out;
          continue;
        }
      }
      auto status = wire::decode(f.linktype, f.data, p);
      ++in.decoded[static_cast<size_t>(status)];
      if (status != wire::decode_status::tcp) continue;
      summary.add_segment(p, f.ts_ns);
      const connection& c = track.add(p, f.ts_ns);
      if (!ladders.empty()) {
        if (auto it = ladders.find(c.id); it != ladders.end()) {
          ladder& l = it->second;
          if (l.packets.size() < ladder_packet_limit) {
            l.packets.push_back({f.ts_ns, c.client == endpoint{p.src, p.sport}, p.flags, p.seq, p.ack, p.payload_len,
                                 p.window, p.options, c.client_tcp, c.server_tcp});
          } else {
            l.cut = true;
          }
        }
      }
    }
    in.odd_timestamps = reader.stats().odd_timestamps;
    if (reader.stats().truncated) in.truncation = reader.stats().truncation;
    report.frames += in.frames;
    report.bytes += reader.offset();
    report.inputs.push_back(std::move(in));
  }
  track.flush();
  report.tracker = track.stats();
  report.result = summary.finish();
  for (uint64_t id : options.ladder_ids) {
    auto it = ladders.find(id);
    if (it != ladders.end() && !it->second.packets.empty()) report.ladders.push_back(std::move(it->second));
    if (it != ladders.end()) ladders.erase(it);
  }
  return report;
}

}  // namespace synscope::tcp
