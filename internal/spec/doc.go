// Package spec resolves app specs: what the CLI and the daemon both need to
// turn an api.AppSpec as a user wrote it into the one tend runs. It fills
// PM2's defaults, finds the script and its interpreter (by extension,
// shebang or PATH, on the app's own PATH), makes paths absolute, checks
// names, signals and listen addresses, and lists the attributes accepted but
// not acted on yet (Pending).
//
// The CLI resolves to report mistakes early and for --dry-run; the daemon
// prepares every spec it receives again (Prepare), because a Go client may
// send anything. Prepare also computes, once, what each spawn needs: the
// argv with its program's absolute path and the parsed listen addresses.
//
// The ecosystem-file loaders (JSON, YAML, JavaScript through goja) live in
// package config, which only the CLI imports, so the daemon never links
// them.
package spec
