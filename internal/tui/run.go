package tui

import (
	"context"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// clientActions acts through the daemon's client.
type clientActions struct {
	ctx context.Context
	c   *client.Client
}

func (a clientActions) Action(action, selector string) error {
	_, err := a.c.Action(a.ctx, api.ActionRequest{Action: action, Selectors: []string{selector}})
	return err
}

func (a clientActions) Scale(name, instances string) error {
	_, err := a.c.Scale(a.ctx, api.ScaleRequest{Name: name, Instances: instances})
	return err
}

// Run shows the dashboard on in/out until the user quits. The list is
// polled once a second (CPU and memory); statuses and logs come from the
// event stream as they happen.
func Run(ctx context.Context, c *client.Client, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewModel(clientActions{ctx: ctx, c: c})
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))

	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			s, err := c.Status(ctx)
			if ctx.Err() != nil {
				return
			}
			p.Send(statusMsg{status: s, err: err})
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() {
		for ctx.Err() == nil {
			err := c.Bus(ctx, client.BusOptions{Logs: true}, func(pk client.BusPacket) error {
				switch {
				case pk.Event != nil:
					p.Send(eventMsg(*pk.Event))
				case pk.Log != nil:
					p.Send(logMsg(*pk.Log))
				}
				return nil
			})
			if ctx.Err() != nil {
				return
			}
			p.Send(actionDoneMsg{what: "event stream", err: err})
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	_, err := p.Run()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil
	}
	return err
}
