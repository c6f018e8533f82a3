#!/bin/bash
# 12-runc-cgroups.t: cutaway-runc's cgroup manager on this host's real
# cgroupfs (v1, v2 or hybrid).  The C driver build/tests/runc_cgroups_real
# creates a cgroup named "cutaway/cgtest-<pid>", moves forked children in
# and checks each limit by its effect (pids.max stops fork, the freezer
# stops a spinner, the device list refuses /dev/zero, on v1 and through the
# v2 eBPF filter), then destroys it.  This script runs the driver with a
# trace sink and checks that the trace shows the kernel steps.
source "$(dirname "$0")/lib/tap.sh"
need_root
[[ -e /sys/fs/cgroup ]] || skip_all "no /sys/fs/cgroup"
tap_tmproot

drv=$TOP/build/tests/runc_cgroups_real
[[ -x $drv ]] || { fail "driver $drv is built (run make)"; done_testing; exit 1; }

out=$("$drv" 2>&1)
rc=$?
if [[ $rc -eq 0 ]] && ! grep -q '^not ok' <<<"$out"; then
  pass "real cgroup driver: $(grep -c '^ok' <<<"$out") checks pass"
else
  fail "real cgroup driver (exit $rc)" "$(grep -E '^not ok|^#' <<<"$out")"
fi
diag "$(grep -E '^# ' <<<"$out" | sed 's/^# //')"

tr=$CUTAWAY_TRACE
like "$(grep '"name":"cgroup.write"' "$tr" | grep '"ev":"begin"' | grep -m1 '/pids.max"')" \
  '"value":"8"' "trace: a cgroup.write span with path .../pids.max and value 8"
like "$(grep -c '"name":"cgroup.mkdir"' "$tr")" '^[1-9]' "trace: cgroup.mkdir spans"
like "$(grep -c '"name":"cgroup.rmdir"' "$tr")" '^[1-9]' "trace: cgroup.rmdir spans"
like "$(grep '"name":"cgroup.write"' "$tr" | grep '"ev":"end"' | grep -m1 '"status":"error"')" \
  '"errno":(22|34)' "trace: the refused write ends in error with its errno"
like "$(grep -m1 '"name":"cgroup.Create"' "$tr")" '"path":"/cutaway/cgtest-' "trace: cgroup.Create span"
if [[ -e /sys/fs/cgroup/unified/cgroup.controllers || -e /sys/fs/cgroup/cgroup.controllers ]]; then
  like "$(grep -m1 'BPF_PROG_ATTACH' "$tr")" 'BPF_CGROUP_DEVICE' "trace: the v2 device filter is attached"
fi

left=$(find /sys/fs/cgroup -maxdepth 5 -type d -name 'cgtest-*' 2>/dev/null)
is "$left" "" "no test cgroup left in any hierarchy"
done_testing
