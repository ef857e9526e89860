#!/bin/sh
# The project's tests: everything under the race detector, then a few
# seconds of each fuzz target (FUZZTIME, default 4s) so CI keeps fuzzing the
# parsers and the API. The integration tests build tend, start real daemons
# in temporary homes and drive real shell, Python and Node children.
set -eu
cd "$(dirname "$0")"
# The integration package runs for three to four minutes on two cores, and
# past ten (go test's default limit per package) when the machine is busy.
go test -race -timeout 25m ./...
fuzztime=${FUZZTIME:-4s}
for target in \
	./internal/config:FuzzEcosystemJSON \
	./internal/config:FuzzEcosystemYAML \
	./internal/config:FuzzEcosystemJS \
	./internal/config:FuzzDotenv \
	./internal/spec:FuzzDecodeDump \
	./internal/deploy:FuzzParse \
	./internal/pm2:FuzzReadDump \
	./internal/daemon:FuzzAPI \
	./internal/logs:FuzzFrame \
	./internal/sockets:FuzzParseAddr \
	./internal/metrics:FuzzParseStat \
	./internal/keeper:FuzzDecode; do
	pkg=${target%%:*}
	name=${target#*:}
	echo "fuzz $name ($pkg) for $fuzztime"
	go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg"
done
