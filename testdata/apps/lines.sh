#!/bin/bash
# Prints lines 1..$1 then sleeps, so logs can be tailed.
for ((i = 1; i <= ${1:-20}; i++)); do echo "line $i"; done
echo "err line" >&2
exec sleep 100000
