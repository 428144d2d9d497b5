#!/usr/bin/env bash
# npm run bench: 10,000 sockets need ~10,000 descriptors in the server process and as many spread
# over the receivers. Raise the limit as far as this shell may; Node then lifts its soft limit to
# the hard one by itself. (Where the hard limit cannot be raised, e.g. in containers, the run
# warns if it is too low for --topic-sockets.)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cd "$(dirname "$0")/.." && exec node --import tsx bench/run.ts "$@"
