#!/bin/bash
# The last test of the suite: nothing any test started may still be around.
# Every test works under /tmp/cutaway-test.* (or names its objects with
# "cutaway"), so anything matching is a leak.
source "$(dirname "$0")/lib/tap.sh"

mounts=$(grep -E 'cutaway|ocitest' /proc/self/mountinfo || true)
is "$mounts" "" "no mounts left behind"

cgroups=$(find /sys/fs/cgroup -maxdepth 6 -type d -name '*cutaway*' 2>/dev/null || true)
is "$cgroups" "" "no cgroups left behind"

netns=$(ip netns list 2>/dev/null | grep -E 'cutaway' || true)
is "$netns" "" "no network namespaces left behind"

links=$(ip -o link show 2>/dev/null | grep -E 'cutaway|veth' | cut -d: -f2 || true)
is "$links" "" "no veths or bridges left behind"

procs=$(pgrep -a -f 'cutaway-(runc|shim|containerd|image)|/tmp/cutaway-test' | grep -v -E 'pgrep|zz-leak' || true)
is "$procs" "" "no processes left behind"

dirs=$(find /tmp -maxdepth 1 -name 'cutaway-test.*' 2>/dev/null || true)
is "$dirs" "" "no temp roots left behind"

done_testing
