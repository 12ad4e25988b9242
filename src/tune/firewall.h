#pragma once
// The seed's SYN rate limit as firewall rules in a chain (iptables) or table (nft) of their
// own, so that they can be removed cleanly.
//
//   tune::syn_limit l{10, 20, 443};
//   std::string rules = tune::firewall_rules(l, tune::firewall_format::nft);
//   tune::firewall_apply(l, tune::firewall_format::nft);  ...  tune::firewall_remove(l, ...);
#include <cstdint>
#include <string>

#include "core/error.h"

namespace synscope::tune {

enum class firewall_format { iptables, nft };

struct syn_limit {
  uint32_t per_second = 10;
  uint32_t burst = 20;
  uint16_t port = 0;  ///< 0: every port (the seed's global rule)
};

/// "10/s", "600/m", "10": a rate per second.
core::result<uint32_t> parse_rate(const std::string& text);

/// The rules as commands (iptables, ip6tables) or as an nft script, with a header comment.
std::string firewall_rules(const syn_limit& l, firewall_format f);
/// The commands that remove them again.
std::string firewall_removal(const syn_limit& l, firewall_format f);

/// Applies or removes them in the current network namespace (root). nft: table inet synscope;
/// iptables: chain SYNSCOPE-SYN-LIMIT in the filter table of iptables and ip6tables.
core::result<void> firewall_apply(const syn_limit& l, firewall_format f);
core::result<void> firewall_remove(const syn_limit& l, firewall_format f);

}  // namespace synscope::tune
