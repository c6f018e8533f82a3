# Tier 0: only the trace tools exist.  A shell script plays a `docker run`
# through the layers with `cutaway-trace emit`, so the views have a request
# to draw.  (Each later stage replaces a role played here by the real one.)
# needs: cutaway-trace

emit() { cutaway-trace emit "$@"; }
demo_run() {
  local cli daemon ctr shim runc
  cli=$(emit --ev begin --comp cutaway --kind client --name "POST /containers/create")
  daemon=$(TRACEPARENT=$cli emit --ev begin --comp cutawayd --kind server \
    --name "POST /containers/create")
  ctr=$(TRACEPARENT=$daemon emit --ev begin --comp cutaway-containerd --kind server \
    --name "tasks.Create")
  shim=$(TRACEPARENT=$ctr emit --ev begin --comp cutaway-shim --name "shim.Create")
  runc=$(TRACEPARENT=$shim emit --ev begin --comp cutaway-runc --name "runc.create")
  TRACEPARENT=$runc emit --ev event --comp cutaway-runc --kind syscall --name clone \
    --attr flags="CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET"
  for step in "mount proc" "pivot_root" "capset" "seccomp.load"; do
    TRACEPARENT=$runc emit --ev event --comp cutaway-runc --kind syscall --name "${step%% *}"
  done
  TRACEPARENT=$runc emit --ev end --comp cutaway-runc --name runc.create
  TRACEPARENT=$shim emit --ev end --comp cutaway-shim --name shim.Create
  TRACEPARENT=$ctr emit --ev end --comp cutaway-containerd --kind server --name tasks.Create
  TRACEPARENT=$daemon emit --ev end --comp cutawayd --kind server --name "POST /containers/create"
  TRACEPARENT=$cli emit --ev end --comp cutaway --kind client --name "POST /containers/create"
}
