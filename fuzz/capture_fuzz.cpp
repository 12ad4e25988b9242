// Fuzzes a capture-file reader and the packet decoder behind it: the input is a whole file.
// Built twice (fuzz_pcap, fuzz_pcapng) with seeds of the one format, so each reader gets a
// fuzzer of its own. Checks the reader's promises, not only "no crash": frames stay inside
// the input, are numbered 1, 2, 3..., caplen matches the view, and every error names the
// input and is one line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_check.h"
#include "wire/capture_reader.h"
#include "wire/reassembly.h"
#include "wire/packet.h"

using synscope::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  wire::bytes input(reinterpret_cast<const std::byte*>(data), size);  // NOLINT
  auto reader = wire::capture_reader::open_memory(input, "fuzz-input");
  if (!reader) {
    check(reader.error().message.rfind("fuzz-input: ", 0) == 0, "errors name the input");
    return 0;
  }
  wire::frame f;
  wire::frame_decoder decoder;
  uint64_t expected_number = 1;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    auto more = reader->next(f);
    if (!more) {
      check(more.error().code == core::exit_code::bad_data, "corrupt input is bad_data");
      check(more.error().message.find('\n') == std::string::npos, "errors are one line");
      check(more.error().message.rfind("fuzz-input: ", 0) == 0, "errors name the input");
      break;
    }
    if (!*more) break;
    check(f.number == expected_number++, "frames are numbered 1, 2, 3...");
    check(f.data.size() == f.caplen, "caplen matches the view");
    check(f.data.empty() || (f.data.data() >= input.data() && f.data.data() + f.data.size() <= input.data() + size),
          "frames stay inside the input");
    wire::packet_view p;
    if (decoder.decode(f.linktype, f.data, f.ts_ns, p) == wire::decode_status::tcp) {  // fragments reassembled too
      check(p.flags <= 0x1ff, "flags fit in 9 bits");
      check(p.src.version == 4 || p.src.version == 6, "an address family is set");
    }
  }
  return 0;
}
