// Package config turns what users write (CLI flags, ecosystem files) into
// resolved api.AppSpec values: defaults filled, scripts and interpreters
// found, names checked. The daemon resolves every spec it receives again, so
// a Go client cannot slip an unchecked one past it.
package config
