#!/bin/bash
# Crash loop with timestamps: appends "start <epoch-ms>" to $STAMPS, exits 1.
echo "start $(( ${EPOCHREALTIME/./} / 1000 ))" >> "${STAMPS:?}"
exit 1
