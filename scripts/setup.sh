#!/usr/bin/env bash
# Installs every Debian 12 package synscope's build, tests and test oracles need.
# Idempotent and non-interactive; run as root. Usage: scripts/setup.sh
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: must run as root (it calls apt-get install)" >&2
  exit 2
fi

build_packages=(
  cmake ninja-build g++ pkg-config git
  clang libclang-rt-14-dev          # fuzz targets (libFuzzer) and sanitizer runtime
  libfmt-dev libcli11-dev libpcap-dev   # libpcap: tcpdump filter expressions (and live capture)
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev                # tests read --json output with a real parser
  libmnl-dev                        # netlink sock_diag (src/kernel)
  zlib1g-dev                        # gzip (the exporter's answers)
  nettle-dev                        # SHA-256 of tune's backup manifests
  libyaml-dev                       # the exporter's /probe module file
  libbpf-dev libelf-dev bpftool llvm  # synscope trace: CO-RE eBPF (libbpf and libelf archives, skeletons, llvm-strip)
)
oracle_packages=(
  iproute2 procps                   # ip netns, ss, sysctl
  tcpdump tshark                    # packet capture and initial-RTT oracle
  python3-scapy                     # crafts the captures the kernel will not make (tests/data/craft.py)
  nftables iptables                 # drop rules inside test namespaces
  tmux                              # drives `synscope top` on a real terminal in tests
  apache2-utils nginx               # ab, and nginx as bench/connect_rate's reference server
  prometheus prometheus-node-exporter  # promtool, a real Prometheus server, node_exporter to agree with
  curl                              # scrapes in tests
  strace                            # kills tune at every step in tests (SIGKILL injection)
  chromium                          # opens the HTML reports headless in tests (DevTools over a pipe)
  dpkg-dev file lintian man-db      # the .deb: cpack's dependency scan, its check, and man -l in tests
)

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections

missing=()
for pkg in "${build_packages[@]}" "${oracle_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  # Packages with a daemon (nginx) must not start one: the benchmark runs its own nginx, with
  # its own configuration, in a network namespace. policy-rc.d is how Debian says so.
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
else
  echo "setup.sh: all packages present"
fi

# Node.js oracles of the tests (tests/js: DuckDB reads analyze --zeek's conn.log), from the npm
# registry, pinned by package-lock.json. Node itself: the machine's, else Debian's.
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
js_dir="$(dirname "$0")/../tests/js"
if ! cmp -s "$js_dir/package-lock.json" "$js_dir/node_modules/.synscope-installed-lock"; then
  echo "setup.sh: npm ci in tests/js"
  npm ci --prefix "$js_dir" --no-audit --no-fund --loglevel=error >/dev/null
  cp "$js_dir/package-lock.json" "$js_dir/node_modules/.synscope-installed-lock"
fi
