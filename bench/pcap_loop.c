/* bench/pcap_loop: the floor bench/analyze holds synscope to. A bare libpcap read loop
 * (pcap_next_ex) that looks at every packet's headers the way any handshake tool must at least
 * do: Ethernet (or Linux cooked) to IPv4 or IPv6 to TCP, and counts the SYNs, the SYN-ACKs and
 * the packets. No flow table, no output beyond one line.
 *
 *   pcap_loop FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static unsigned l3_offset(int linktype, const u_char* p, unsigned caplen, unsigned* ethertype) {
  if (linktype == DLT_EN10MB) {
    if (caplen < 14) return 0;
    unsigned off = 12;
    unsigned type = (unsigned)p[off] << 8 | p[off + 1];
    while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 6) {
      off += 4;
      type = (unsigned)p[off] << 8 | p[off + 1];
    }
    *ethertype = type;
    return off + 2;
  }
  if (linktype == DLT_LINUX_SLL) {
    if (caplen < 16) return 0;
    *ethertype = (unsigned)p[14] << 8 | p[15];
    return 16;
  }
  if (linktype == DLT_RAW || linktype == 101 /* LINKTYPE_RAW */) {
    if (caplen < 1) return 0;
    *ethertype = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
    return 0;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pcap_loop FILE\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(argv[1], err);
  if (pc == NULL) {
    fprintf(stderr, "pcap_loop: %s\n", err);
    return 1;
  }
  int linktype = pcap_datalink(pc);
  unsigned long long packets = 0, tcp = 0, syn = 0, syn_ack = 0;
  struct pcap_pkthdr* h;
  const u_char* p;
  int r;
  while ((r = pcap_next_ex(pc, &h, &p)) == 1) {
    ++packets;
    unsigned type = 0;
    unsigned off = l3_offset(linktype, p, h->caplen, &type);
    unsigned proto = 0, l4 = 0;
    if (type == 0x0800 && h->caplen >= off + 20) {
      proto = p[off + 9];
      l4 = off + (p[off] & 0x0fu) * 4u;
    } else if (type == 0x86dd && h->caplen >= off + 40) {
      proto = p[off + 6];
      l4 = off + 40;
    }
    if (proto != 6 || h->caplen < l4 + 14) continue;
    ++tcp;
    uint8_t flags = p[l4 + 13];
    if ((flags & 0x12) == 0x02) ++syn;
    if ((flags & 0x12) == 0x12) ++syn_ack;
  }
  if (r == -1) {
    fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(pc));
    pcap_close(pc);
    return 1;
  }
  printf("%llu packets, %llu TCP, %llu SYN, %llu SYN-ACK\n", packets, tcp, syn, syn_ack);
  pcap_close(pc);
  return 0;
}
