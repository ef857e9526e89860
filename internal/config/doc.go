// Package config turns what users write (CLI flags, ecosystem files) into
// resolved api.AppSpec values: defaults filled, scripts and interpreters
// found, names checked. The daemon resolves every spec it receives again, so
// a Go client cannot slip an unchecked one past it.
//
// # Ecosystem files
//
// Load reads a PM2 ecosystem file in any of its three languages and returns
// its apps, each through Resolve, in file order:
//
//   - .json (and .json5): PM2 evaluates these as JavaScript object literals,
//     so real files carry comments, unquoted keys and trailing commas. A
//     small parser reads that language with a line and column on every
//     value; a file that uses real JS expressions falls back to goja.
//   - .yaml/.yml: read with goccy/go-yaml's parser; tend walks the AST
//     itself so positions survive, merge keys work, and alias expansion is
//     counted (a "billion laughs" file is refused).
//   - .js/.cjs/.mjs: evaluated with goja under a watchdog (time and heap
//     growth), with enough of Node for config files: CommonJS, ES module
//     syntax rewritten to CommonJS (export default works, unlike in PM2),
//     require of relative files inside the config's directory, path, os,
//     url, fs, module, dotenv, process.env and __dirname.
//
// The top level is {apps: [...]}, {pm2: [...]}, one app or a list of apps.
// Every PM2 attribute is read with its aliases and camelCase spelling and
// PM2's coercions ("200M", "10s", numeric strings, args as a string); keys
// that only PM2's Node agent uses are ignored quietly, other unknown keys
// are warnings naming the closest known key, and a wrong type is an error
// at the value's position.
//
// The environment of an app is computed as PM2 does, but completely:
// deploy.<env>.env, then the CLI's environment (minus filter_env), then the
// app's env, port, then env_<env>. The result replaces the app's whole
// environment when applied; nothing is merged later.
//
// Relative paths follow PM2's rule: an app's cwd is relative to the
// directory tend runs in (LoadOptions.Cwd), its script and log files to its
// cwd. A file therefore behaves as it does under PM2 from the same place.
package config
