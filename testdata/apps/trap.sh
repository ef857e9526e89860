#!/bin/bash
# Ignores SIGINT and SIGTERM, and so do its two children: only SIGKILL of the
# whole process group ends them. Prints the children's pids.
trap '' INT TERM
bash -c "trap '' INT TERM; exec sleep 100000" &
c1=$!
bash -c "trap '' INT TERM; exec sleep 100000" &
c2=$!
echo "children $c1 $c2"
while true; do sleep 1 & wait $!; done
