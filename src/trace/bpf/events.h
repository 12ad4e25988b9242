/* The record the BPF programs (synscope_trace.bpf.c) put on the ring buffer, and the settings
 * the loader writes into them before load. Shared by the BPF C and the C++ loader: plain C,
 * fixed-width fields, no padding the two compilers could lay out differently. */
#pragma once

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint8_t synscope_u8;
typedef uint16_t synscope_u16;
typedef uint32_t synscope_u32;
typedef uint64_t synscope_u64;
#else
typedef __u8 synscope_u8;
typedef __u16 synscope_u16;
typedef __u32 synscope_u32;
typedef __u64 synscope_u64;
#endif

/* What happened. The numbers are the wire format between kernel and loader. */
enum synscope_event_kind {
  SYNSCOPE_EV_SYN = 1,            /* a SYN arrived (net:netif_receive_skb) */
  SYNSCOPE_EV_SYNACK = 2,         /* a SYN-ACK left for a device (net:net_dev_start_xmit) */
  SYNSCOPE_EV_SYNACK_RETRANS = 3, /* the kernel retransmitted a SYN-ACK (tcp:tcp_retransmit_synack) */
  SYNSCOPE_EV_ESTABLISHED = 4,    /* the child went SYN_RECV -> ESTABLISHED: the completing ACK */
  SYNSCOPE_EV_ACCEPT = 5,         /* accept()/accept4() returned the child (syscalls:sys_exit_accept*) */
  SYNSCOPE_EV_DROP = 6,           /* a TCP segment was freed as dropped (skb:kfree_skb) */
  SYNSCOPE_EV_RESET = 7,          /* the kernel sent a reset (tcp:tcp_send_reset) */
};

/* One event, 88 bytes. Addresses and ports are the connection's, seen from the server: the
 * client is the side that sent the SYN. IPv4 addresses fill the first 4 bytes. */
struct synscope_event {
  synscope_u64 ts_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  synscope_u32 netns;        /* the network namespace's inode number */
  synscope_u32 isn;          /* the client's initial sequence number (see `flags` for drops) */
  synscope_u8 kind;          /* enum synscope_event_kind */
  synscope_u8 family;        /* AF_INET (2) or AF_INET6 (10) */
  synscope_u8 tcp_flags;     /* DROP and RESET: the flags of the segment concerned (0: none) */
  synscope_u8 pad0;
  synscope_u16 client_port;  /* host byte order */
  synscope_u16 server_port;
  synscope_u8 client_addr[16];
  synscope_u8 server_addr[16];
  synscope_u32 reason;       /* DROP: enum skb_drop_reason; RESET: enum sk_rst_reason (+1, 0: none) */
  synscope_u32 pid;          /* ACCEPT: the process (thread group id) */
  synscope_u32 seq;          /* DROP and RESET: the segment's sequence number */
  synscope_u32 pad1;
  char comm[16];             /* ACCEPT: the accepting thread's name */
};

/* Per-CPU counters the loader reads (array map `counters`). */
enum synscope_counter {
  SYNSCOPE_COUNTER_LOST = 0,  /* events not written: the ring buffer was full */
  SYNSCOPE_COUNTER_MAX = 1,
};
