#!/usr/bin/env bash
# Runs `synscope trace` on another kernel than the host's: Debian's own kernel package (by
# default Debian 12's stock 6.1) booted under qemu with a small initramfs of busybox and the
# synscope binary. It prints which hooks attached and what the trace saw of a few handshakes
# on loopback. Nothing is installed on the host but qemu, busybox-static and cpio; the kernel
# package is only downloaded (apt-get download) and unpacked into a temporary folder.
#
#   scripts/kernel-check.sh [build/release/synscope] [KERNEL_PACKAGE]     # as root
#   KERNEL_PACKAGE: e.g. linux-image-6.1.0-50-amd64-unsigned (default: the newest 6.1 one)
set -euo pipefail
binary=${1:-build/release/synscope}
package=${2:-}
if [[ $(id -u) -ne 0 ]]; then echo "kernel-check: run as root (apt-get)" >&2; exit 2; fi
[[ -x $binary ]] || { echo "kernel-check: no synscope binary at $binary" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in qemu-system-x86 busybox-static cpio; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
if [[ -z $package ]]; then
  package=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -n 1)
fi
[[ -n $package ]] || { echo "kernel-check: no linux-image-6.1 package found (apt-get update?)" >&2; exit 3; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$package" >/dev/null)
dpkg-deb -x "$work"/*.deb "$work/kernel"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-*)
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/"
for applet in sh mount ip sleep cat grep uname wc poweroff; do ln -s busybox "$root/bin/$applet"; done
strip -o "$root/synscope" "$binary"
for lib in $(ldd "$binary" | grep -o '/lib[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
done
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
ip link set lo up
echo "kernel $(uname -r), BTF: $(cat /sys/kernel/btf/vmlinux | wc -c) bytes"
/synscope serve --listen 127.0.0.1:8080 --mode ack > /tmp/serve.log 2>&1 &
/synscope trace --duration 20 --json > /tmp/trace.json 2> /tmp/trace.err &
i=0
until grep -q "tracing handshakes" /tmp/trace.err 2>/dev/null || [ $i -gt 120 ]; do sleep 1; i=$((i+1)); done
cat /tmp/trace.err
/synscope probe 127.0.0.1:8080 -c 3 -i 100ms --json | grep '"attempt"'
/synscope probe 127.0.0.1:8081 -c 1 --json | grep '"attempt"'
until grep -q '"type":"summary"' /tmp/trace.json 2>/dev/null || [ $i -gt 240 ]; do sleep 1; i=$((i+1)); done
grep -v '"interval"' /tmp/trace.json
echo "kernel-check: done"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initrd.gz")
echo "kernel-check: booting $package under qemu (software emulation: a minute or two)" >&2
timeout 600 qemu-system-x86_64 -m 2048 -smp 1 -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" -nographic -no-reboot -net none 2>&1 |
  tr -d '\r' | grep -E '^(kernel|synscope|\{|kernel-check)'
