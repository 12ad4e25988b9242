// Fuzzes the sock_diag reply walker: a receive buffer of netlink messages, as the kernel would
// send it, parsed into sockets. Copies the input into an allocation of its exact size, aligned
// as a receive buffer is, so that ASan sees any over-read.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "fuzz_check.h"

#include "kernel/sockets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  void* buf = ::operator new(size == 0 ? 1 : size, std::align_val_t{8});
  std::memcpy(buf, data, size);
  auto r = kernel::walk_replies(buf, size, [](const kernel::tcp_socket& s) {
    fuzz::check(s.state >= kernel::tcp_state::established && s.state <= kernel::tcp_state::closing,
                "a parsed socket has a state ss knows");
    fuzz::check(s.local.address.version == s.remote.address.version, "both ends have the same family");
    (void)kernel::socket_text(s.local);
  });
  if (r.ok()) fuzz::check(*r == 0 || *r == 1, "done or more");
  ::operator delete(buf, std::align_val_t{8});
  return 0;
}
