#!/bin/bash
# Exits at once with the code given as $1 (default 1).
echo "exit.sh exiting with ${1:-1}"
exit "${1:-1}"
