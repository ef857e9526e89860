#!/bin/bash
# Idle app: says hello on both streams, then sleeps.
echo "sleeper up pid=$$ instance=$NODE_APP_INSTANCE"
echo "sleeper stderr" >&2
exec sleep 100000
