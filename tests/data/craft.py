#!/usr/bin/python3
"""Captures the kernel will not make, made with scapy (Debian's python3-scapy) for the tests.

    /usr/bin/python3 tests/data/craft.py SCENARIO OUT.pcap
    /usr/bin/python3 tests/data/craft.py --list

Every scenario is a fixed sequence of packets with fixed timestamps, so a capture made twice is
the same byte for byte. Each has its oracle in the test that uses it (tshark where it is right).
"""
import logging
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no "inconsistent linktypes" on raw frames

from scapy.all import (ARP, GRE, IP, IPv6, IPv6ExtHdrFragment, Ether, PPPoE, PPP, Raw, TCP, UDP, Dot1Q,
                       wrpcap, PcapWriter, conf)
from scapy.layers.ipsec import AH, ESP
from scapy.layers.vxlan import VXLAN
from scapy.contrib.mpls import MPLS

conf.verb = 0
T0 = 1_700_000_000.0
C, S = "10.0.0.1", "10.0.0.2"
C6, S6 = "fd00::1", "fd00::2"


def stamp(packets, start=T0, step=0.001):
    for i, p in enumerate(packets):
        p.time = start + i * step
    return packets


def handshake(client=C, server=S, sport=40000, dport=80, isn=1000, sisn=5000, data=b"GET / HTTP/1.0\r\n\r\n",
              v6=False):
    """SYN, SYN-ACK, ACK, a request, its answer and a close: the TCP packets of one connection."""
    ip = (lambda src, dst: IPv6(src=src, dst=dst)) if v6 else (lambda src, dst: IP(src=src, dst=dst))
    opts = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    return [
        ip(client, server) / TCP(sport=sport, dport=dport, flags="S", seq=isn, options=opts),
        ip(server, client) / TCP(sport=dport, dport=sport, flags="SA", seq=sisn, ack=isn + 1, options=opts),
        ip(client, server) / TCP(sport=sport, dport=dport, flags="A", seq=isn + 1, ack=sisn + 1),
        ip(client, server) / TCP(sport=sport, dport=dport, flags="PA", seq=isn + 1, ack=sisn + 1) / Raw(data),
        ip(server, client) / TCP(sport=dport, dport=sport, flags="PA", seq=sisn + 1, ack=isn + 1 + len(data)) / Raw(b"OK\n"),
        ip(client, server) / TCP(sport=sport, dport=dport, flags="FA", seq=isn + 1 + len(data), ack=sisn + 4),
        ip(server, client) / TCP(sport=dport, dport=sport, flags="FA", seq=sisn + 4, ack=isn + 2 + len(data)),
        ip(client, server) / TCP(sport=sport, dport=dport, flags="A", seq=isn + 2 + len(data), ack=sisn + 5),
    ]


def ether(p):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p


# ---- tracking -------------------------------------------------------------------------------

def same_isn_after_rst():
    """RFC 9293 §3.5, recovery from an old duplicate SYN: the SYN is answered with a stale ACK,
    the client resets that, sends the same SYN again (same ISN) 1 s later, and connects."""
    isn, sisn = 1000, 5000
    p = [
        IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="S", seq=isn),
        IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="A", seq=777, ack=90000),  # stale
        IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="R", seq=90000),
    ]
    stamp(p)
    rest = stamp(handshake(isn=isn, sisn=sisn), start=T0 + 1.0)
    # The last data and close come 3 s later: past the 2 s a reset record lingers.
    for q in rest[3:]:
        q.time += 3.0
    return p + rest


def refused_then_accepted():
    """A refused SYN retried with the same ISN (Windows retries a SYN after a RST), accepted on
    the retry; the session then lasts longer than a closed record lingers."""
    p = [IP(src=C, dst=S) / TCP(sport=40001, dport=80, flags="S", seq=2000),
         IP(src=S, dst=C) / TCP(sport=80, dport=40001, flags="RA", seq=0, ack=2001)]
    stamp(p)
    rest = stamp(handshake(sport=40001, isn=2000, sisn=6000), start=T0 + 0.5)
    for q in rest[3:]:
        q.time += 3.0
    return p + rest


def split_handshake():
    """The split handshake (Beardsley and Qian): SYN, the server's own SYN, the client's
    SYN-ACK, the server's ACK; then data both ways and a close."""
    isn, sisn = 3000, 7000
    d = b"hello"
    p = [
        IP(src=C, dst=S) / TCP(sport=40002, dport=80, flags="S", seq=isn),
        IP(src=S, dst=C) / TCP(sport=80, dport=40002, flags="S", seq=sisn),
        IP(src=C, dst=S) / TCP(sport=40002, dport=80, flags="SA", seq=isn, ack=sisn + 1),
        IP(src=S, dst=C) / TCP(sport=80, dport=40002, flags="A", seq=sisn + 1, ack=isn + 1),
        IP(src=C, dst=S) / TCP(sport=40002, dport=80, flags="PA", seq=isn + 1, ack=sisn + 1) / Raw(d),
        IP(src=S, dst=C) / TCP(sport=80, dport=40002, flags="FA", seq=sisn + 1, ack=isn + 1 + len(d)),
        IP(src=C, dst=S) / TCP(sport=40002, dport=80, flags="FA", seq=isn + 1 + len(d), ack=sisn + 2),
        IP(src=S, dst=C) / TCP(sport=80, dport=40002, flags="A", seq=sisn + 2, ack=isn + 2 + len(d)),
    ]
    return stamp(p)


def simultaneous_open():
    """RFC 9293 §3.5's simultaneous open: both send a SYN, both a SYN-ACK, then data."""
    a, b = 4000, 8000
    p = [
        IP(src=C, dst=S) / TCP(sport=5555, dport=6666, flags="S", seq=a),
        IP(src=S, dst=C) / TCP(sport=6666, dport=5555, flags="S", seq=b),
        IP(src=C, dst=S) / TCP(sport=5555, dport=6666, flags="SA", seq=a, ack=b + 1),
        IP(src=S, dst=C) / TCP(sport=6666, dport=5555, flags="SA", seq=b, ack=a + 1),
        IP(src=C, dst=S) / TCP(sport=5555, dport=6666, flags="PA", seq=a + 1, ack=b + 1) / Raw(b"x"),
        IP(src=S, dst=C) / TCP(sport=6666, dport=5555, flags="A", seq=b + 1, ack=a + 2),
    ]
    return stamp(p)


def source_route():
    """Three clients reach one server through the same first hop with a loose source route: in
    each SYN the IP destination is the hop, the route's last address the server, which the TCP
    checksum is computed for. (Each answer goes straight back.)"""
    hop = "10.9.9.9"
    out = []
    for n, client in enumerate(["10.0.0.11", "10.0.0.12", "10.0.0.13"]):
        isn, sisn = 100 + n, 900 + n
        lsrr = b"\x01\x83\x07\x04" + bytes(map(int, S.split(".")))  # NOP, LSRR len 7 ptr 4, the server
        syn = IP(src=client, dst=hop, options=[Raw(lsrr)]) / TCP(sport=41000, dport=80, flags="S", seq=isn)
        # The checksum over the final destination, as the client's stack computes it.
        pseudo = IP(src=client, dst=S) / TCP(sport=41000, dport=80, flags="S", seq=isn)
        syn[TCP].chksum = IP(bytes(pseudo))[TCP].chksum
        out += [syn,
                IP(src=S, dst=client) / TCP(sport=80, dport=41000, flags="SA", seq=sisn, ack=isn + 1),
                IP(src=client, dst=hop, options=[Raw(lsrr)]) / TCP(sport=41000, dport=80, flags="A", seq=isn + 1, ack=sisn + 1)]
        for q in out[-1:]:
            pseudo = IP(src=client, dst=S) / TCP(sport=41000, dport=80, flags="A", seq=isn + 1, ack=sisn + 1)
            q[TCP].chksum = IP(bytes(pseudo))[TCP].chksum
    return stamp(out)


def tfo_data_not_taken():
    """A TCP Fast Open SYN with a cookie and 517 bytes; the answer does not come, the SYN goes
    again without its data (as Linux retransmits it), and the SYN-ACK acknowledges the SYN alone."""
    isn, sisn = 5000, 9000
    cookie = (34, b"\x11\x22\x33\x44\x55\x66\x77\x88")
    data = b"x" * 517
    p = [
        IP(src=C, dst=S) / TCP(sport=42000, dport=443, flags="S", seq=isn, options=[("MSS", 1460), cookie]) / Raw(data),
        IP(src=C, dst=S) / TCP(sport=42000, dport=443, flags="S", seq=isn, options=[("MSS", 1460)]),
        IP(src=S, dst=C) / TCP(sport=443, dport=42000, flags="SA", seq=sisn, ack=isn + 1, options=[("MSS", 1460)]),
        IP(src=C, dst=S) / TCP(sport=42000, dport=443, flags="A", seq=isn + 1, ack=sisn + 1),
        IP(src=C, dst=S) / TCP(sport=42000, dport=443, flags="PA", seq=isn + 1, ack=sisn + 1) / Raw(data),
    ]
    stamp(p)
    for q in p[1:]:
        q.time += 1.0  # the retransmission after 1 s
    return p


def time_backwards():
    """Two captures of one host joined in the wrong order: the later file first. Its last SYN
    went unanswered; the earlier file holds a handshake on the same tuple with the same ISN
    (port and ISN reused an hour apart). They must not pair: 3,438 s apart, and backwards."""
    later = stamp([IP(src=C, dst=S) / TCP(sport=43000, dport=80, flags="S", seq=7777)], start=T0 + 3438.0)
    earlier = stamp(handshake(sport=43000, isn=7777, sisn=1111), start=T0)
    return later + earlier


# ---- encapsulations and link types ----------------------------------------------------------

def gre():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / GRE(proto=0x0800) / p) for p in handshake()])


def gre_key_seq_ipv6():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / GRE(proto=0x86dd, key_present=1, key=7, seqnum_present=1,
                                                                    seqence_number=1) / p)
                  for p in handshake(client=C6, server=S6, v6=True)])


def gre_bridged():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / GRE(proto=0x6558) / ether(p)) for p in handshake()])


def erspan2():
    # GRE with the sequence bit, protocol 0x88be, an 8-byte ERSPAN II header, the mirrored frame.
    hdr = struct.pack("!HHI", 0x1000 | 0, 0x0064, 0)  # version 1, VLAN 0 / COS etc, session 100
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / GRE(proto=0x88be, seqnum_present=1, seqence_number=n) /
                        Raw(hdr) / ether(p))
                  for n, p in enumerate(handshake())])


def vxlan():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=50000, dport=4789) / VXLAN(vni=42) / ether(p))
                  for p in handshake()])


def geneve():
    # Version 0, no options, protocol 0x6558 (Ethernet), VNI 42.
    hdr = struct.pack("!BBHI", 0, 0, 0x6558, 42 << 8)
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=50000, dport=6081) / Raw(hdr) / ether(p))
                  for p in handshake()])


def ipip():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / p) for p in handshake()])


def pppoe():
    return stamp([ether(PPPoE(sessionid=7) / PPP(proto=0x0021) / p) for p in handshake()])


def mpls():
    return stamp([ether(MPLS(label=100, s=0) / MPLS(label=200, s=1) / p) for p in handshake()])


def ipsec_ah():
    out = []
    for p in handshake():
        ip = p[IP]
        inner = ip.payload
        ip.remove_payload()
        ip.proto = 51
        out.append(ether(ip / AH(nh=6, payloadlen=4, spi=0x100, seq=1, icv=b"\x00" * 12) / inner))
    return stamp(out)


def esp():
    out = []
    for p in handshake():
        ip = p[IP]
        ip.remove_payload()
        out.append(ether(ip / ESP(spi=0x200, seq=1, data=b"\x42" * 64)))
    return stamp(out)


def vlan_in_vxlan():
    return stamp([ether(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=50000, dport=4789) / VXLAN(vni=42) /
                        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=5) / p)
                  for p in handshake()])


def fragmented_syn_v4():
    """A SYN with 40 bytes of options and data, in three IPv4 fragments (the first 8 bytes of TCP
    alone in the first: a tiny-fragment evasion), then the rest of the handshake."""
    pk = handshake()
    syn = IP(src=C, dst=S, id=4242) / TCP(sport=40000, dport=80, flags="S", seq=1000,
                                          options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7),
                                                   ("Timestamp", (1, 0))]) / Raw(b"d" * 64)
    raw = bytes(syn)
    ihl = 20
    tcp = raw[ihl:]
    frags = []
    for off, part, more in [(0, tcp[:8], True), (8, tcp[8:48], True), (48, tcp[48:], False)]:
        f = IP(src=C, dst=S, id=4242, proto=6, flags="MF" if more else 0, frag=off // 8) / Raw(part)
        frags.append(f)
    return stamp([ether(f) for f in frags] + [ether(p) for p in pk[1:]])


def fragmented_syn_v6():
    pk = handshake(client=C6, server=S6, v6=True)
    syn = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=99) / TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                               options=[("MSS", 1440)]) / Raw(b"d" * 100)
    raw = bytes(syn[IPv6ExtHdrFragment].payload)
    frags = []
    for off, part, more in [(0, raw[:16], 1), (16, raw[16:], 0)]:
        frags.append(IPv6(src=C6, dst=S6, nh=44) / IPv6ExtHdrFragment(id=99, offset=off // 8, m=more, nh=6) / Raw(part))
    return stamp([ether(f) for f in frags] + [ether(p) for p in pk[1:]])


def linktype(lt, header_of):
    def make():
        return lt, stamp([Raw(header_of(p) + bytes(p)) for p in handshake()])
    return make


def long_then_short():
    """One connection open for 20 s while four others open and close inside it: the tracker
    finishes the short ones first, and analyze --json still writes them in the order they began."""
    long = stamp(handshake(sport=39999, isn=100, sisn=900))
    for q in long[3:]:
        q.time += 20.0
    short = []
    for i in range(4):
        short += stamp(handshake(sport=40010 + i, isn=1000 * (i + 1), sisn=5000 * (i + 1)), start=T0 + 1.0 + i)
    return sorted(long + short, key=lambda q: q.time)


SCENARIOS = {
    "long-then-short": long_then_short,
    "same-isn-after-rst": same_isn_after_rst,
    "refused-then-accepted": refused_then_accepted,
    "split-handshake": split_handshake,
    "simultaneous-open": simultaneous_open,
    "source-route": source_route,
    "tfo-data-not-taken": tfo_data_not_taken,
    "time-backwards": time_backwards,
    "gre": gre,
    "gre-key-seq-ipv6": gre_key_seq_ipv6,
    "gre-bridged": gre_bridged,
    "erspan2": erspan2,
    "vxlan": vxlan,
    "vlan-in-vxlan": vlan_in_vxlan,
    "geneve": geneve,
    "ipip": ipip,
    "pppoe": pppoe,
    "mpls": mpls,
    "ipsec-ah": ipsec_ah,
    "esp": esp,
    "fragmented-syn-v4": fragmented_syn_v4,
    "fragmented-syn-v6": fragmented_syn_v6,
    # LINKTYPE_C_HDLC (104): address 0x0f, control 0, EtherType.
    "cisco-hdlc": linktype(104, lambda p: b"\x0f\x00\x08\x00"),
    # LINKTYPE_PPP (9) and LINKTYPE_PPP_HDLC (50): 0xff 0x03, protocol 0x0021.
    "ppp": linktype(9, lambda p: b"\xff\x03\x00\x21"),
    # LINKTYPE_ARCNET_BSD (7): source, destination, RFC 1201 IP (212), split flag, sequence.
    "arcnet-bsd": linktype(7, lambda p: b"\x01\x02\xd4\x00\x00\x01"),
    # LINKTYPE_ARCNET_LINUX (129): source, destination, 2-byte offset, 212, split flag, sequence.
    "arcnet-linux": linktype(129, lambda p: b"\x01\x02\x00\x00\xd4\x00\x00\x01"),
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    if len(argv) != 3 or argv[1] not in SCENARIOS:
        print(f"usage: {argv[0]} SCENARIO OUT.pcap (--list for the scenarios)", file=sys.stderr)
        return 2
    made = SCENARIOS[argv[1]]()
    lt = None
    if isinstance(made, tuple):
        lt, made = made
    elif made and not made[0].haslayer(Ether) and made[0].haslayer(IP) or (made and made[0].haslayer(IPv6) and not made[0].haslayer(Ether)):
        lt = 101  # raw IP
    w = PcapWriter(argv[2], linktype=lt if lt is not None else 1, sync=True)
    for p in made:
        w.write(p)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
