#!/bin/bash
# A tiny app for trying tend: prints a line every second, on both streams.
n=0
while true; do
  echo "hello from instance ${NODE_APP_INSTANCE:-0} (pid $$), tick $n"
  if (( n % 5 == 0 )); then echo "a line on stderr, tick $n" >&2; fi
  n=$((n + 1))
  sleep 1
done
