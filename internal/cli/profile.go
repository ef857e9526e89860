package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ProfileOptions are profile's (and PM2's profile:cpu and profile:mem).
type ProfileOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	Kind    string
	// Duration of a CPU profile; 0 is the daemon's default (10 s).
	Duration time.Duration
	// Output is the file to write; "" names one in the current directory,
	// "-" is standard output.
	Output string
	// Now names the default file; tests may fix it.
	Now func() time.Time
}

// NewCmdProfile builds profile: a pprof profile of the daemon itself.
// runF, if not nil, runs instead of profileRun.
func NewCmdProfile(f *Factory, runF func(*ProfileOptions) error) *cobra.Command {
	if runF == nil {
		runF = profileRun
	}
	opts := &ProfileOptions{IO: f.IOStreams, Client: f.Client, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "profile <" + strings.Join(api.ProfileKinds, "|") + ">",
		Short: "Write a pprof profile of the daemon itself (cpu over --duration, heap, goroutine)",
		Long: "Profile the running daemon (not the apps) and write the profile in pprof's format, for\n" +
			"go tool pprof: cpu samples the daemon for --duration (default 10s); heap and goroutine are\n" +
			"snapshots. The file is tend-<kind>-<date>-<time>.pprof in the current directory unless -o\n" +
			"names one (- for standard output). Root, the daemon's user or the admin group only; it never\n" +
			"starts a daemon.",
		Example:   "  tend profile cpu --duration 30s\n  go tool pprof -top tend-cpu-*.pprof",
		Args:      cobra.ExactArgs(1),
		ValidArgs: api.ProfileKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Kind = args[0]
			if opts.Kind == "mem" { // PM2's word
				opts.Kind = api.ProfileHeap
			}
			if !slices.Contains(api.ProfileKinds, opts.Kind) {
				return fmt.Errorf("unknown profile kind %q; use one of %s: %w", args[0], strings.Join(api.ProfileKinds, ", "), api.ErrInvalid)
			}
			if opts.Kind != api.ProfileCPU && cmd.Flags().Changed("duration") {
				return fmt.Errorf("a %s profile is a snapshot; --duration applies to cpu only: %w", opts.Kind, api.ErrInvalid)
			}
			return runF(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Duration, "duration", api.ProfileDefaultDuration, "how long a cpu profile samples")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "file to write (- for standard output)")
	return cmd
}

// NewCmdProfilePM2 builds PM2's profile:cpu [ms] and profile:mem [ms].
func NewCmdProfilePM2(f *Factory, kind string, runF func(*ProfileOptions) error) *cobra.Command {
	if runF == nil {
		runF = profileRun
	}
	opts := &ProfileOptions{IO: f.IOStreams, Client: f.Client, Now: time.Now}
	word := map[string]string{api.ProfileCPU: "cpu", api.ProfileHeap: "mem"}[kind]
	return &cobra.Command{
		Use:   "profile:" + word + " [ms]",
		Short: "PM2's form of tend profile " + kind,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Kind = kind
			if len(args) == 1 {
				ms, err := strconv.ParseUint(args[0], 10, 32)
				if err != nil {
					return fmt.Errorf("profile:%s takes a duration in milliseconds, not %q: %w", word, args[0], api.ErrInvalid)
				}
				if kind == api.ProfileCPU {
					opts.Duration = time.Duration(ms) * time.Millisecond
				} else {
					fmt.Fprintf(opts.IO.ErrOut, "[tend] warning: a heap profile is a snapshot of the daemon's heap; the duration %s ms is not used\n", args[0])
				}
			}
			return runF(opts)
		},
	}
}

func profileRun(opts *ProfileOptions) error {
	q := api.ProfileQuery{Kind: opts.Kind}
	if opts.Kind == api.ProfileCPU {
		q.Duration = opts.Duration
		if q.Duration == 0 {
			q.Duration = api.ProfileDefaultDuration
		}
		if q.Duration < api.ProfileMinDuration || q.Duration > api.ProfileMaxDuration {
			return fmt.Errorf("profile duration %v is out of range; give between %v and %v: %w", q.Duration, api.ProfileMinDuration, api.ProfileMaxDuration, api.ErrInvalid)
		}
		fmt.Fprintf(opts.IO.ErrOut, "[tend] profiling the daemon's CPU for %v…\n", q.Duration)
	}
	b, err := opts.Client().Profile(opts.Context, q)
	if err != nil {
		return err
	}
	if opts.Output == "-" {
		_, err := opts.IO.Out.Write(b)
		return err
	}
	path := opts.Output
	if path == "" {
		path = fmt.Sprintf("tend-%s-%s.pprof", opts.Kind, opts.Now().Format("20060102-150405"))
	}
	if err := writeFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("write the profile: %v: %w", err, api.ErrInvalid)
	}
	abs, _ := filepath.Abs(path)
	fmt.Fprintf(opts.IO.Out, "[tend] profile written to %s (go tool pprof -top %s)\n", abs, abs)
	return nil
}
