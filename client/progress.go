package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"mime"

	"github.com/tendpm/tend/api"
)

// ActionProgress is Action reporting as it goes: targets is called once
// with the processes the selectors picked, then step with each process as
// the action finishes with it (see api.ActionProgress). Either may be nil.
// A daemon older than progress answers at the end only: then neither is
// called, and the answer is the same. An empty req.Cwd is this process's
// directory, as in Action.
func (c *Client) ActionProgress(ctx context.Context, req api.ActionRequest, targets func([]api.ProcessRef), step func(api.ActionStep)) (api.ActionResponse, error) {
	req.Progress = true
	req.Cwd = workDir(req.Cwd)
	m, p := split(api.RouteAction)
	resp, err := c.do(ctx, m, p, nil, req)
	if err != nil {
		return api.ActionResponse{}, err
	}
	defer resp.Body.Close()
	var out api.ActionResponse
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != api.ContentTypeNDJSON {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return out, fmt.Errorf("read the daemon's answer to %s: %v: %w", p, err, api.ErrInternal)
		}
		return out, nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // the end holds every process
	for sc.Scan() {
		var line api.ActionProgress
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return out, fmt.Errorf("bad line in the answer to %s: %v: %w", p, err, api.ErrInternal)
		}
		switch {
		case line.Error != nil:
			status, _ := api.StatusOf(api.ClassOf(line.Error.Code))
			return out, &Error{Code: line.Error.Code, Message: line.Error.Message, Status: status}
		case line.Done != nil:
			return *line.Done, nil
		case line.Step != nil:
			if step != nil {
				step(*line.Step)
			}
		case line.Targets != nil:
			if targets != nil {
				targets(line.Targets)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read the daemon's answer to %s: %v: %w", p, err, api.ErrUnavailable)
	}
	return out, fmt.Errorf("the daemon's answer to %s ended before the action did; see tend ls and $TEND_HOME/tend.log: %w", p, api.ErrUnavailable)
}

// StartProgress is Start reporting as it goes: step is called with each
// process as it is started, restarted or replaced (see api.StartProgress).
// A daemon older than progress answers at the end only: then step is not
// called, and the answer is the same.
func (c *Client) StartProgress(ctx context.Context, req api.StartRequest, step func(api.ActionStep)) (api.StartResponse, error) {
	req.Progress = true
	m, p := split(api.RouteStart)
	resp, err := c.do(ctx, m, p, nil, req)
	if err != nil {
		return api.StartResponse{}, err
	}
	defer resp.Body.Close()
	var out api.StartResponse
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != api.ContentTypeNDJSON {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return out, fmt.Errorf("read the daemon's answer to %s: %v: %w", p, err, api.ErrInternal)
		}
		return out, nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // the end holds every process
	for sc.Scan() {
		var line api.StartProgress
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return out, fmt.Errorf("bad line in the answer to %s: %v: %w", p, err, api.ErrInternal)
		}
		switch {
		case line.Error != nil:
			status, _ := api.StatusOf(api.ClassOf(line.Error.Code))
			return out, &Error{Code: line.Error.Code, Message: line.Error.Message, Status: status}
		case line.Done != nil:
			return *line.Done, nil
		case line.Step != nil && step != nil:
			step(*line.Step)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read the daemon's answer to %s: %v: %w", p, err, api.ErrUnavailable)
	}
	return out, fmt.Errorf("the daemon's answer to %s ended before the start did; see tend ls and $TEND_HOME/tend.log: %w", p, api.ErrUnavailable)
}
