#include "tcp/analyzer.h"

#include "wire/capture_reader.h"
#include "wire/filter.h"

namespace synscope::tcp {
namespace {

// Hands each finished connection to the summary and to the caller's sink.
class fan_out : public connection_sink {
 public:
  fan_out(summary_builder& summary, connection_sink* extra) : summary_(summary), extra_(extra) {}
  void on_connection(const connection& c) override {
    summary_.on_connection(c);
    if (extra_ != nullptr) extra_->on_connection(c);
  }

 private:
  summary_builder& summary_;
  connection_sink* extra_;
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
  fan_out sink(summary, extra);
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
      track.add(p, f.ts_ns);
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
  return report;
}

}  // namespace synscope::tcp
