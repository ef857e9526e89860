package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// fileFlags are the flags of commands that can act on an ecosystem file,
// as parsed; fileTarget and onlyList turn them into options.
type fileFlags struct {
	config string
	only   string // comma-separated; a string flag, as pflag's slice flags cost a 4 KB buffer each to create
	env    string
	dryRun bool
}

// onlyList is --only as a list of names.
func (ff *fileFlags) onlyList() []string {
	var names []string
	for n := range strings.SplitSeq(ff.only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (ff *fileFlags) register(fs *pflag.FlagSet, dryRun bool) {
	fs.StringVar(&ff.config, "config", "", "ecosystem file to use, whatever its name (ecosystem.prod, apps.conf)")
	fs.StringVar(&ff.only, "only", "", "with an ecosystem file, act only on these apps (--only api,worker)")
	fs.StringVar(&ff.env, "env", "", "with an ecosystem file, apply each app's env_<name> (--env production)")
	if dryRun {
		fs.BoolVar(&ff.dryRun, "dry-run", false, "start nothing; print the resolved apps as JSON")
	}
}

// fileTarget tells whether args name an ecosystem file, and which: --config,
// "-" for standard input, or a path config.IsConfigFile recognizes. With
// findDefault and no argument, the default file of the current directory
// (ecosystem.config.js, then the other formats) is the target.
func (ff *fileFlags) fileTarget(args []string, findDefault bool) (string, bool, error) {
	if ff.config != "" {
		if len(args) > 0 {
			return "", false, fmt.Errorf("give the ecosystem file once, as an argument or with --config, not both (got %s and --config %s): %w", args[0], ff.config, api.ErrInvalid)
		}
		return ff.config, true, nil
	}
	if len(args) == 0 {
		if !findDefault {
			return "", false, nil
		}
		wd, err := os.Getwd()
		if err != nil {
			return "", false, fmt.Errorf("no working directory: %v: %w", err, api.ErrInvalid)
		}
		p, err := config.FindDefault(wd)
		return p, err == nil, err
	}
	for _, a := range args {
		if a == "-" || config.IsConfigFile(a) {
			if len(args) > 1 {
				return "", false, fmt.Errorf("%s is an ecosystem file; give it alone (one file per command), and pick its apps with --only: %w", a, api.ErrInvalid)
			}
			return a, true, nil
		}
	}
	if ff.only != "" || ff.env != "" {
		return "", false, fmt.Errorf("--only and --env apply to an ecosystem file, and %s is not one; name the file, or use --config FILE for an unusual name: %w", args[0], api.ErrInvalid)
	}
	return "", false, nil
}

// loadFile reads the ecosystem file at path ("-": standard input) with
// opts, and prints its warnings.
func loadFile(ios *IOStreams, path string, opts config.LoadOptions) (*config.File, error) {
	opts.BaseEnv = environ()
	opts.Console = ios.ErrOut // stdout stays clean for --dry-run
	var file *config.File
	var err error
	if path == "-" {
		file, err = config.LoadReader("-", ios.In, opts)
	} else {
		file, err = config.Load(path, opts)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range file.Warnings {
		fmt.Fprintf(ios.ErrOut, "[tend] warning: %s\n", w)
	}
	return file, nil
}

// startFile is start, startOr* and restart or reload with an ecosystem
// file: flags the user gave override the file.
func startFile(opts *StartOptions) error {
	ov := maps.Clone(opts.Overlay) // the options stay as parsed
	if opts.ScriptArgs != nil {
		if ov == nil {
			ov = config.Overlay{}
		}
		ov["args"] = opts.ScriptArgs
	}
	file, err := loadFile(opts.IO, opts.File, config.LoadOptions{Env: opts.Env, Only: opts.Only, Overlay: ov})
	if err != nil {
		return err
	}
	for i := range file.Apps {
		warnPending(opts.IO, &file.Apps[i])
	}
	if opts.DryRun {
		return printApps(opts.IO, file.Apps)
	}
	return applyFile(opts, file)
}

// printApps prints specs as --dry-run shows them: a JSON array with PM2's
// attribute names.
func printApps(ios *IOStreams, specs []api.AppSpec) error {
	b, err := json.MarshalIndent(specs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = ios.Out.Write(b)
	return err
}

// applyFile starts the apps of file and restarts (or reloads) those that
// exist on the file's spec: the file is the truth. opts.Verb is the
// command, for the notices: after restart or reload, apps that did not run
// are named as started (PM2 starts them too); apps started from this file
// before and no longer in it are left alone and named.
func applyFile(opts *StartOptions, file *config.File) error {
	specs := file.Apps
	if file.Path != "-" {
		for i := range specs {
			specs[i].ConfigFile = file.Path
		}
	}
	c := opts.Client()
	req := api.StartRequest{Apps: specs, Update: true, Reload: opts.Verb == api.ActionReload}
	var resp api.StartResponse
	var err error
	if verb, ok := actionVerbs[opts.Verb]; ok {
		// restart and reload of a file: a line per instance as it is done,
		// as for restart and reload of apps by name.
		pp := newProgressPrinter(opts.IO, verb, file.Path)
		resp, err = c.StartProgress(opts.Context, req, pp.step)
		pp.close()
	} else {
		resp, err = c.Start(opts.Context, req)
	}
	if err != nil {
		return err
	}
	if opts.Verb != verbStart {
		var started []string
		for _, s := range specs {
			if !slices.Contains(resp.Restarted, s.Name) {
				started = append(started, s.Name)
			}
		}
		if len(started) > 0 {
			fmt.Fprintf(opts.IO.Out, "[tend] %s not running; started\n", appList(started))
		}
	}
	if err := printTable(opts.IO, resp.Processes); err != nil {
		return err
	}
	if file.Path != "-" {
		procs, err := c.Summaries(opts.Context)
		if err != nil {
			return err
		}
		if left := droppedApps(file, procs); len(left) > 0 {
			fmt.Fprintf(opts.IO.Out, "[tend] %s %s no longer in %s; left as %s (tend delete %s removes %s)\n",
				appList(left), pronoun(len(left), "is", "are"), displayPath(file.Path), pronoun(len(left), "it was", "they were"),
				strings.Join(left, " "), pronoun(len(left), "it", "them"))
		}
	}
	if !opts.Attach {
		return nil
	}
	return attachLogs(opts.Context, opts.IO, opts.Client, resp.Processes)
}

// droppedApps names the apps last started from f's file that the file no
// longer declares (apps --only left out are still declared, and so are an
// append_env_to_name app's copies for other environments).
func droppedApps(f *config.File, procs []api.Process) []string {
	var left []string
	for _, p := range procs {
		name := p.Env.Name
		if p.Env.ConfigFile != f.Path || slices.Contains(left, name) || f.Declares(name) {
			continue
		}
		left = append(left, name)
	}
	return left
}

// actOnFile stops or deletes the apps file declares that tend manages;
// the others are named and skipped, as PM2 does.
func actOnFile(opts *ActionOptions, file *config.File) error {
	c := opts.Client()
	procs, err := c.Summaries(opts.Context)
	if err != nil {
		return err
	}
	var sel, skipped []string
	for _, s := range file.Apps {
		if slices.ContainsFunc(procs, func(p api.Process) bool { return p.Name == s.Name }) {
			sel = append(sel, s.Name)
		} else {
			skipped = append(skipped, s.Name)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(opts.IO.Out, "[tend] %s from %s not managed by tend; nothing to %s\n", appList(skipped), displayPath(file.Path), opts.Action)
	}
	if len(sel) == 0 {
		return nil
	}
	resp, err := c.Action(opts.Context, api.ActionRequest{Action: opts.Action, Selectors: sel})
	if err != nil {
		return err
	}
	return printTable(opts.IO, resp.Processes)
}

// appList is `app "a"` or `apps "a", "b"`.
func appList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return pronoun(len(names), "app ", "apps ") + strings.Join(q, ", ")
}

func pronoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// displayPath shows a file relative to the current directory when it is
// inside it.
func displayPath(p string) string {
	if p == "-" {
		return "standard input"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}
