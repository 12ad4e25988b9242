#pragma once
// The Community ID flow hash, version 1 (github.com/corelight/community-id-spec): the one string
// Zeek, Suricata, Arkime and Elastic give a flow, the same from both ends, so that records of
// different tools join on it.
//
//   char text[core::community_id_size];
//   size_t n = core::write_community_id(text, client, server, 6);   // "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/endpoint.h"

namespace synscope::core {

/// "1:" and the base64 of a SHA-1 digest: 30 characters.
inline constexpr size_t community_id_size = 30;

/// Writes the flow's Community ID into `out` (community_id_size bytes) and returns its length.
/// The two ends may come in either order; both must be of one IP version. Ports count for TCP
/// (6), UDP (17) and SCTP (132) only; `seed` is the spec's (Zeek's CommunityID::seed), 0 by default.
size_t write_community_id(char* out, const ip_endpoint& a, const ip_endpoint& b, uint8_t protocol, uint16_t seed = 0);

/// The same, as a string.
std::string community_id(const ip_endpoint& a, const ip_endpoint& b, uint8_t protocol, uint16_t seed = 0);

}  // namespace synscope::core
