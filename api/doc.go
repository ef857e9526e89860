// Package api is the contract between tend's daemon and its clients: the
// wire types (AppSpec, Process, requests, events), the error classes and
// codes, and the route names. It holds no logic.
//
// The daemon serves HTTP+JSON on the unix socket $TEND_HOME/tend.sock.
// Process encodes as PM2's jlist element, so `tend jlist` output can be fed
// to anything that reads `pm2 jlist`.
package api
