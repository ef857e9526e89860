package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
)

// actionVerbs are the words progress lines use for the actions that
// report progress: stop, restart, reload and delete of several instances
// take seconds each, and PM2 users are used to a line per instance.
var actionVerbs = map[string]string{
	api.ActionStop:    "stopping",
	api.ActionRestart: "restarting",
	api.ActionReload:  "reloading",
	api.ActionDelete:  "deleting",
}

// actionJSON is what --json prints for stop, restart, reload and delete.
type actionJSON struct {
	Action string `json:"action"`
	// Steps are the processes the action finished with, in that order.
	Steps []api.ActionStep `json:"steps"`
	// Processes are the processes acted on, as they are after the action
	// (deleted ones as they were when they stopped).
	Processes []api.Process `json:"processes"`
	// Error says why the action failed; the exit status is then 1.
	Error *api.ErrorInfo `json:"error,omitempty"`
}

// actionJSONHelp documents --json on the commands that take it.
const actionJSONHelp = `print one JSON object when done instead of progress and a table:
{"action", "steps": [{"pm_id", "name", "ms", "error"}], "processes": [jlist entries without env], "error": {"code", "message"}}`

// registerActionOutputFlags adds the flags that shape an action's output:
// --json on the actions that report progress, --attach on restart.
func registerActionOutputFlags(fs *pflag.FlagSet, opts *ActionOptions) {
	if _, ok := actionVerbs[opts.Action]; ok {
		fs.BoolVar(&opts.JSON, "json", false, actionJSONHelp)
	}
	if opts.Action == api.ActionRestart {
		fs.BoolVar(&opts.Attach, "attach", false, "then follow the restarted processes' logs until Ctrl-C")
	}
}

// runAction sends req and prints its progress: a line per process as the
// action finishes with it, then the table (after delete, of the apps that
// remain), or with opts.JSON one JSON object at the end. done, if not nil,
// runs once the action succeeded, before the table.
func runAction(opts *ActionOptions, req api.ActionRequest, done func()) error {
	verb, reports := actionVerbs[req.Action]
	c := opts.Client()
	if !reports {
		resp, err := c.Action(opts.Context, req)
		if err != nil {
			return err
		}
		if done != nil {
			done()
		}
		return printTable(opts.IO, resp.Processes)
	}
	var steps []api.ActionStep
	var pp *progressPrinter
	if !opts.JSON {
		pp = newProgressPrinter(opts.IO, verb, strings.Join(req.Selectors, " "))
		defer pp.close()
	}
	resp, err := c.ActionProgress(opts.Context, req, func(t []api.ProcessRef) {
		if pp != nil {
			pp.begin(t)
		}
	}, func(s api.ActionStep) {
		steps = append(steps, s)
		if pp != nil {
			pp.step(s)
		}
	})
	if err == nil && done != nil {
		done()
	}
	if opts.JSON {
		if err := printActionJSON(opts.IO.Out, req.Action, steps, resp.Processes, err); err != nil || !opts.Attach {
			return err
		}
		return attachLogs(opts.Context, opts.IO, opts.Client, resp.Processes)
	}
	pp.close()
	if err != nil {
		pp.notReached()
		return err
	}
	if req.Action == api.ActionDelete {
		left, err := c.Summaries(opts.Context)
		if err != nil {
			return err
		}
		printList(opts.IO, left)
		return nil
	}
	if err := printTable(opts.IO, resp.Processes); err != nil || !opts.Attach {
		return err
	}
	return attachLogs(opts.Context, opts.IO, opts.Client, resp.Processes)
}

// printActionJSON prints --json's answer; a failed action still prints
// it, then fails with the error (printed once more, on standard error).
func printActionJSON(w io.Writer, action string, steps []api.ActionStep, procs []api.Process, err error) error {
	out := actionJSON{Action: action, Steps: steps, Processes: procs}
	if out.Steps == nil {
		out.Steps = []api.ActionStep{}
	}
	if out.Processes == nil {
		out.Processes = []api.Process{}
	}
	if err != nil {
		_, code := api.StatusOf(err)
		out.Error = &api.ErrorInfo{Code: code, Message: errorText(err)}
	}
	b, merr := json.MarshalIndent(out, "", "  ")
	if merr != nil {
		return merr
	}
	if _, werr := w.Write(append(b, '\n')); werr != nil {
		return werr
	}
	return err
}

// progressPrinter prints an action's progress. Each process done is a
// line ("[tend] api (3) ✓ 0.41 s"); on a terminal a last line, redrawn in
// place, shows how long the action has run and what it waits for.
type progressPrinter struct {
	ios       *IOStreams
	verb, sel string
	start     time.Time

	mu      sync.Mutex
	targets []api.ProcessRef
	done    map[int]bool
	drawn   bool // the live line is on screen
	stop    chan struct{}
	ticking sync.WaitGroup
	closed  bool
}

// liveInterval is how often the live line's clock moves.
const liveInterval = 200 * time.Millisecond

func newProgressPrinter(ios *IOStreams, verb, sel string) *progressPrinter {
	return &progressPrinter{ios: ios, verb: verb, sel: sel, start: time.Now(), done: map[int]bool{}}
}

// live tells whether the live line is drawn: on a terminal only, as a pipe
// would keep every redraw.
func (pp *progressPrinter) live() bool { return pp.ios.Columns > 0 && !pp.ios.Silent }

// begin prints what the action is about to act on, and starts the clock
// of the live line.
func (pp *progressPrinter) begin(targets []api.ProcessRef) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.targets = targets
	ids := make([]string, 0, len(targets))
	for i, t := range targets {
		if i == maxListedIDs {
			ids = append(ids, fmt.Sprintf("and %d more", len(targets)-i))
			break
		}
		ids = append(ids, strconv.Itoa(t.PMID))
	}
	noun := "id"
	if len(targets) > 1 {
		noun = "ids"
	}
	fmt.Fprintf(pp.ios.Out, "[tend] %s %s (%s %s)\n", pp.verb, pp.sel, noun, strings.Join(ids, ", "))
	if !pp.live() {
		return
	}
	pp.draw()
	pp.stop = make(chan struct{})
	pp.ticking.Add(1)
	go pp.tick()
}

// maxListedIDs bounds the ids the first line lists.
const maxListedIDs = 20

func (pp *progressPrinter) tick() {
	defer pp.ticking.Done()
	t := time.NewTicker(liveInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			pp.mu.Lock()
			pp.draw()
			pp.mu.Unlock()
		case <-pp.stop:
			return
		}
	}
}

// step prints one process done.
func (pp *progressPrinter) step(s api.ActionStep) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.done[s.PMID] = true
	pp.erase()
	mark, color, tail := "✓", ansiGreen, ""
	if s.Error != "" {
		mark, color, tail = "✗", ansiRed, ": "+s.Error
	}
	if pp.ios.Color {
		mark = color + mark + ansiReset
	}
	fmt.Fprintf(pp.ios.Out, "[tend] %s (%d) %s %.2f s%s\n", s.Name, s.PMID, mark, float64(s.Ms)/1000, tail)
	if pp.live() && len(pp.done) < len(pp.targets) {
		pp.draw()
	}
}

// notReached names the processes a failed action left as they were (a
// reload stops at an app's first failure).
func (pp *progressPrinter) notReached() {
	for _, t := range pp.targets {
		if !pp.done[t.PMID] {
			fmt.Fprintf(pp.ios.Out, "[tend] %s (%d) - not %s: the action stopped at a failure\n", t.Name, t.PMID, strings.TrimSuffix(pp.verb, "ing")+"ed")
		}
	}
}

// close stops the clock and takes the live line off the screen.
func (pp *progressPrinter) close() {
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return
	}
	pp.closed = true
	if pp.stop != nil {
		close(pp.stop)
	}
	pp.mu.Unlock()
	pp.ticking.Wait()
	pp.mu.Lock()
	pp.erase()
	pp.mu.Unlock()
}

// draw writes the live line: the time so far and the processes waited
// for, cut to the terminal's width so that it never wraps (a wrapped line
// cannot be redrawn in place).
func (pp *progressPrinter) draw() {
	var waiting []string
	for _, t := range pp.targets {
		if !pp.done[t.PMID] {
			waiting = append(waiting, fmt.Sprintf("%s (%d)", t.Name, t.PMID))
		}
	}
	line := fmt.Sprintf("[tend] %s %.1f s, waiting for %s", pp.verb, time.Since(pp.start).Seconds(), strings.Join(waiting, ", "))
	fmt.Fprint(pp.ios.Out, "\r\x1b[K"+cutText(line, pp.ios.Columns-1))
	pp.drawn = true
}

// erase takes the live line off the screen.
func (pp *progressPrinter) erase() {
	if pp.drawn {
		fmt.Fprint(pp.ios.Out, "\r\x1b[K")
		pp.drawn = false
	}
}
