#!/bin/bash
# Container start latency: `RUNTIME run` of /bin/true for trustbox, runc, crun
# and runsc, interleaved, with peak RSS and an `unshare` floor; prints a
# Markdown table. See bench/README.md ("Container start").
#
# usage (root): bench/run/run.sh [-n 200] [-runtimes trustbox,runc,crun,runsc,unshare] [-csv F] ...
#   REV=COMMIT                  build trustbox from that commit (default HEAD, via git archive,
#                               so others' uncommitted edits in the tree do not leak in);
#                               REV=worktree builds the working tree as it is
#   TRUSTBOX=/path/to/trustbox  use that binary instead of building one
# needs: go, gcc + libc static (build-essential), runc, crun, runsc, busybox-static, util-linux
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: needs root (containers, namespaces, cgroups)" >&2
	exit 1
fi
for b in /usr/sbin/runc /usr/bin/crun /usr/bin/runsc /bin/busybox gcc; do
	command -v "$b" >/dev/null || echo "run.sh: $b missing (apt-get install runc crun runsc busybox-static build-essential)" >&2
done
bin=$(mktemp -d /tmp/bench-run-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
if [ -z "${TRUSTBOX:-}" ]; then
	rev=${REV:-HEAD}
	# scripts/build, as shipped (stripped, static); an older commit without
	# OUT in its scripts/build gets the same flags here.
	build='OUT="$0" bash scripts/build && test -x "$0/trustbox" || go build -trimpath -ldflags "-s -w" -o "$0/trustbox" ./cmd/trustbox'
	if [ "$rev" = worktree ]; then
		bash -c "$build" "$bin"
	else
		mkdir "$bin/src"
		git archive "$rev" | tar -x -C "$bin/src"
		(cd "$bin/src" && bash -c "$build" "$bin")
		rev=$(git rev-parse --short "$rev")
	fi
	echo "trustbox built from $rev" >&2
	TRUSTBOX=$bin/trustbox
fi
go build -o "$bin/benchrun" ./bench/run
gcc -O2 -static -Wall -o "$bin/spawn" bench/run/spawn/spawn.c
"$bin/benchrun" -trustbox "$TRUSTBOX" -spawn "$bin/spawn" "$@"
