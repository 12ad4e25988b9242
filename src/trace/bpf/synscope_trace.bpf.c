// SPDX-License-Identifier: GPL-2.0-only
/* The server's side of every TCP handshake, from tracepoints only (kprobes may be compiled out
 * and fentry refused; docs/trace.md). Each program turns one kernel moment into one
 * `struct synscope_event` on the ring buffer; the loader (trace/tracer.cpp) joins them into
 * connections by the key (netns, addresses, ports, the client's ISN).
 *
 *   SYN in          net:netif_receive_skb         (every received skb; SYN without ACK kept)
 *   SYN-ACK out     net:net_dev_start_xmit        (every transmitted skb; SYN+ACK kept)
 *   SYN-ACK rtx     tcp:tcp_retransmit_synack     (the request sock gives the client's ISN)
 *   ACK             sock:inet_sock_set_state      (child SYN_RECV -> ESTABLISHED)
 *   accept()        syscalls:sys_exit_accept4/_accept (fd -> file -> socket -> sock)
 *   drop            skb:kfree_skb                 (TCP segments, with the drop reason)
 *   reset           tcp:tcp_send_reset
 *
 * Every field is read with CO-RE (BPF_CORE_READ), so one object loads on any kernel with BTF. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* Set by the loader before load (the skeleton's rodata): 0 means any. */
const volatile __u16 filter_port = 0;  /* the server's port */
const volatile __u32 filter_netns = 0; /* a network namespace's inode */

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SYNSCOPE_COUNTER_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which) {
  __u64* v = bpf_map_lookup_elem(&counters, &which);
  if (v) *v += 1;
}

static __always_inline bool wanted(__u32 netns, __u16 server_port) {
  if (filter_port && server_port != filter_port) return false;
  if (filter_netns && netns != filter_netns) return false;
  return true;
}

static __always_inline struct synscope_event* reserve(void) {
  struct synscope_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(SYNSCOPE_COUNTER_LOST);
    return 0;
  }
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = bpf_ktime_get_ns();
  return e;
}

/* Hands the event on without waking the reader: a wake-up is an interrupt's work inside the
 * packet's path (tens of microseconds on a virtual machine, timed between this program and
 * tcpdump's timestamp). The reader polls every 100 ms instead, and is woken only when a quarter
 * of the ring is waiting. */
static __always_inline void submit(struct synscope_event* e) {
  __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  bpf_ringbuf_submit(e, waiting > (1 << 20) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* A TCP segment's addresses, ports, sequence numbers and flags, as it is on the wire. */
struct segment {
  __u8 family;
  __u8 flags;
  __u16 sport;
  __u16 dport;
  __u32 seq;
  __u32 ack_seq;
  __u8 saddr[16];
  __u8 daddr[16];
};

/* Parses the IP and TCP headers at `l3` (kernel memory). 0 when it is TCP, -1 otherwise. IPv6
 * with extension headers before TCP is not followed (a handshake's segments carry none). */
static __always_inline int parse_segment(const unsigned char* l3, __u16 protocol_be, struct segment* s) {
  const unsigned char* l4;
  if (protocol_be == bpf_htons(ETH_P_IP)) {
    struct iphdr ip;
    if (bpf_probe_read_kernel(&ip, sizeof(ip), l3)) return -1;
    if (ip.protocol != IPPROTO_TCP || (ip.frag_off & bpf_htons(0x1fff))) return -1;
    if (ip.ihl < 5) return -1;
    s->family = AF_INET;
    __builtin_memcpy(s->saddr, &ip.saddr, 4);
    __builtin_memcpy(s->daddr, &ip.daddr, 4);
    l4 = l3 + ip.ihl * 4;
  } else if (protocol_be == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr ip6;
    if (bpf_probe_read_kernel(&ip6, sizeof(ip6), l3)) return -1;
    if (ip6.nexthdr != IPPROTO_TCP) return -1;
    s->family = AF_INET6;
    __builtin_memcpy(s->saddr, &ip6.saddr, 16);
    __builtin_memcpy(s->daddr, &ip6.daddr, 16);
    l4 = l3 + sizeof(ip6);
  } else {
    return -1;
  }
  unsigned char th[14];
  if (bpf_probe_read_kernel(th, sizeof(th), l4)) return -1;
  s->sport = (__u16)(th[0] << 8 | th[1]);
  s->dport = (__u16)(th[2] << 8 | th[3]);
  s->seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
  s->ack_seq = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
  s->flags = th[13];
  return 0;
}

static __always_inline __u32 netns_of_sock(const struct sock* sk) {
  return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline __u32 netns_of_skb(const struct sk_buff* skb) {
  struct net_device* dev = BPF_CORE_READ(skb, dev);
  if (dev) return BPF_CORE_READ(dev, nd_net.net, ns.inum);
  struct sock* sk = BPF_CORE_READ(skb, sk);
  return sk ? netns_of_sock(sk) : 0;
}

/* The client's side as the segment's source (a segment the server received). */
static __always_inline void from_client(struct synscope_event* e, const struct segment* s) {
  e->family = s->family;
  e->client_port = s->sport;
  e->server_port = s->dport;
  __builtin_memcpy(e->client_addr, s->saddr, 16);
  __builtin_memcpy(e->server_addr, s->daddr, 16);
}

SEC("tracepoint/net/netif_receive_skb")
int on_receive(struct trace_event_raw_net_dev_template* ctx) {
  const struct sk_buff* skb = ctx->skbaddr;
  /* eth_type_trans has pulled the link header: data is the network header. */
  struct segment s = {};
  if (parse_segment(BPF_CORE_READ(skb, data), BPF_CORE_READ(skb, protocol), &s)) return 0;
  if ((s.flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN) return 0;
  __u32 netns = netns_of_skb(skb);
  if (!wanted(netns, s.dport)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_SYN;
  e->netns = netns;
  e->isn = s.seq;
  from_client(e, &s);
  submit(e);
  return 0;
}

SEC("tracepoint/net/net_dev_start_xmit")
int on_transmit(struct trace_event_raw_net_dev_start_xmit* ctx) {
  const struct sk_buff* skb = ctx->skbaddr;
  struct segment s = {};
  const unsigned char* l3 = BPF_CORE_READ(skb, data) + ctx->network_offset;
  /* The event keeps the protocol in host order (ntohs(skb->protocol)). */
  if (parse_segment(l3, bpf_htons(ctx->protocol), &s)) return 0;
  if ((s.flags & (TH_SYN | TH_ACK | TH_RST)) != (TH_SYN | TH_ACK)) return 0;
  __u32 netns = netns_of_skb(skb);
  if (!wanted(netns, s.sport)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_SYNACK;
  e->netns = netns;
  e->isn = s.ack_seq - 1;
  e->family = s.family;
  e->client_port = s.dport;
  e->server_port = s.sport;
  __builtin_memcpy(e->client_addr, s.daddr, 16);
  __builtin_memcpy(e->server_addr, s.saddr, 16);
  submit(e);
  return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int on_synack_retransmit(struct trace_event_raw_tcp_retransmit_synack* ctx) {
  const struct sock* listener = ctx->skaddr;
  const struct request_sock* req = ctx->req;
  __u32 netns = netns_of_sock(listener);
  __u16 server_port = ctx->sport;
  if (!wanted(netns, server_port)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_SYNACK_RETRANS;
  e->netns = netns;
  e->isn = BPF_CORE_READ((const struct tcp_request_sock*)req, rcv_isn);
  e->family = (__u8)ctx->family;
  e->server_port = server_port;
  e->client_port = ctx->dport;
  /* The record's arrays are copied with the helper: the verifier allows no load through a
   * pointer into the context that was moved off its start. */
  if (ctx->family == AF_INET) {
    bpf_probe_read_kernel(e->server_addr, 4, ctx->saddr);
    bpf_probe_read_kernel(e->client_addr, 4, ctx->daddr);
  } else {
    bpf_probe_read_kernel(e->server_addr, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(e->client_addr, 16, ctx->daddr_v6);
  }
  submit(e);
  return 0;
}

/* A connected socket's key from the socket itself: local side is the server. The client's ISN
 * is rcv_nxt less the payload received and the SYN's one (RFC 9293 §3.4: the SYN takes one). */
static __always_inline void from_sock(struct synscope_event* e, const struct sock* sk) {
  e->family = (__u8)BPF_CORE_READ(sk, __sk_common.skc_family);
  e->server_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  e->client_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (e->family == AF_INET) {
    __u32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __u32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(e->server_addr, &local, 4);
    __builtin_memcpy(e->client_addr, &remote, 4);
  } else {
    BPF_CORE_READ_INTO(&e->server_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
    BPF_CORE_READ_INTO(&e->client_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
  }
  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  __u32 rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
  __u64 received = BPF_CORE_READ(tp, bytes_received);
  e->isn = rcv_nxt - (__u32)received - 1;
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_set_state(struct trace_event_raw_inet_sock_set_state* ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 0;
  if (ctx->oldstate != TCP_SYN_RECV || ctx->newstate != TCP_ESTABLISHED) return 0;
  const struct sock* sk = ctx->skaddr;
  __u32 netns = netns_of_sock(sk);
  if (!wanted(netns, ctx->sport)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_ESTABLISHED;
  e->netns = netns;
  from_sock(e, sk);
  submit(e);
  return 0;
}

struct syscall_exit {
  unsigned long long common;
  long syscall_nr;
  long ret;
};

/* accept() returned descriptor `fd`: the sock behind it, through the task's file table. */
static __always_inline int on_accepted(long fd) {
  if (fd < 0) return 0;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt) return 0;
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned long)fd >= max_fds) return 0;
  struct file** fds = BPF_CORE_READ(fdt, fd);
  struct file* file = 0;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) return 0;
  struct socket* sock = BPF_CORE_READ(file, private_data);
  if (!sock) return 0;
  const struct sock* sk = BPF_CORE_READ(sock, sk);
  if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != AF_INET && family != AF_INET6) return 0;
  __u32 netns = netns_of_sock(sk);
  if (!wanted(netns, BPF_CORE_READ(sk, __sk_common.skc_num))) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_ACCEPT;
  e->netns = netns;
  from_sock(e, sk);
  e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  submit(e);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4(struct syscall_exit* ctx) { return on_accepted(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept(struct syscall_exit* ctx) { return on_accepted(ctx->ret); }

/* A segment the skb holds, from its network header (set on every path that can drop or reset a
 * TCP segment: IP receive and transmit). */
static __always_inline int skb_segment(const struct sk_buff* skb, struct segment* s) {
  __u16 nh = BPF_CORE_READ(skb, network_header);
  if (nh == (__u16)~0U) return -1;
  const unsigned char* head = BPF_CORE_READ(skb, head);
  return parse_segment(head + nh, BPF_CORE_READ(skb, protocol), s);
}

SEC("tracepoint/skb/kfree_skb")
int on_drop(struct trace_event_raw_kfree_skb* ctx) {
  __u16 protocol = ctx->protocol;  /* host order, as the event keeps it */
  if (protocol != ETH_P_IP && protocol != ETH_P_IPV6) return 0;
  const struct sk_buff* skb = ctx->skbaddr;
  struct segment s = {};
  if (skb_segment(skb, &s)) return 0;
  /* TCP's receive path has cleared skb->dev by the time it drops; the socket that received the
   * segment names the namespace (the event carries it since 6.12). */
  __u32 netns = 0;
  if (bpf_core_field_exists(ctx->rx_sk)) {
    const struct sock* rx_sk = BPF_CORE_READ(ctx, rx_sk);
    if (rx_sk) netns = netns_of_sock(rx_sk);
  }
  if (!netns) netns = netns_of_skb(skb);
  if (!wanted(netns, s.dport)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->kind = SYNSCOPE_EV_DROP;
  e->netns = netns;
  from_client(e, &s);
  e->tcp_flags = s.flags;
  e->seq = s.seq;
  e->isn = (s.flags & TH_SYN) ? s.seq : s.seq - 1;
  if (bpf_core_field_exists(ctx->reason)) e->reason = (__u32)ctx->reason;
  submit(e);
  return 0;
}

/* tcp:tcp_send_reset's record begins with the same two pointers on every kernel since 4.16
 * (6.1: tcp_event_sk_skb; 6.10 added the reset reason and gave the event a type of its own). */
struct reset_ctx {
  unsigned long long common;
  const void* skbaddr;
  const void* skaddr;
};

SEC("tracepoint/tcp/tcp_send_reset")
int on_reset(struct reset_ctx* ctx) {
  const struct sk_buff* skb = ctx->skbaddr;
  const struct sock* sk = ctx->skaddr;
  /* A reset in answer to a segment: the segment's source is the client. Resets a local socket
   * sends of itself (abort on close, linger 0) come without a segment and are no handshake's. */
  if (!skb) return 0;
  struct segment s = {};
  if (skb_segment(skb, &s)) return 0;
  __u32 netns = netns_of_skb(skb);
  if (!netns && sk) netns = netns_of_sock(sk);
  if (!wanted(netns, s.dport)) return 0;
  struct synscope_event* e = reserve();
  if (!e) return 0;
  e->netns = netns;
  from_client(e, &s);
  e->tcp_flags = s.flags;
  e->seq = s.seq;
  e->isn = (s.flags & TH_SYN) ? s.seq : s.seq - 1;
  e->kind = SYNSCOPE_EV_RESET;
  if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset)) {
    struct trace_event_raw_tcp_send_reset* r = (void*)ctx;
    if (bpf_core_field_exists(r->reason)) e->reason = (__u32)BPF_CORE_READ(r, reason) + 1;
  }
  submit(e);
  return 0;
}
