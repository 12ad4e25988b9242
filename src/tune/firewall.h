#pragma once
// The seed's SYN rate limit as firewall rules in a chain (iptables) or table (nft) of their
// own, so that they can be removed cleanly.
//
//   tune::syn_limit l{10, 20, 443};
//   std::string rules = tune::firewall_rules(l, tune::firewall_format::nft);
//   tune::firewall_apply(l, tune::firewall_format::nft);  ...  tune::firewall_remove(l, ...);
#include <cstdint>
#include <string>
#include <vector>

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

/// The firewall as a backup keeps it: the dumps of every tool present, and how they load again.
struct firewall_dump {
  bool have_iptables = false;    ///< iptables-save ran (its text may be empty: no tables)
  bool have_ip6tables = false;
  bool have_nft = false;
  std::string iptables;          ///< iptables-save output
  std::string ip6tables;         ///< ip6tables-save output
  std::string nft;               ///< nft list ruleset output
  std::string iptables_backend;  ///< "nf_tables" (Debian 12's default), "legacy", or "" (no iptables)
};

/// Dumps the rules of this network namespace with every tool present, and checks that they load
/// again (nft -c, iptables-restore --test): a ruleset nft cannot load as it printed it (rules of
/// iptables-nft with xtables matches such as -m recent) is restored through iptables-restore;
/// when no tool could put the rules back, the error says why (a backup must not keep what it
/// cannot restore).
core::result<firewall_dump> firewall_save();

/// Loads `dump` back, replacing the current rules; returns how it was done ("nft -f", or
/// "iptables-restore, ip6tables-restore, nft -f (tables inet synscope)"). The dumps go to the
/// tools' standard input: nothing is written anywhere.
core::result<std::string> firewall_restore(const firewall_dump& dump);

/// The top-level `table` blocks of an nft ruleset that iptables-nft does not manage (all but the
/// ip/ip6 filter, nat, mangle, raw and security tables), as nft text; `names` gets "family name".
std::string nft_tables_beside_iptables(const std::string& ruleset, std::vector<std::string>* names = nullptr);

}  // namespace synscope::tune
