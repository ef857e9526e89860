package api

import (
	"errors"
	"net/http"
	"strings"
)

// Error classes. Every error the daemon returns is one of these, wrapped with
// context that names the app or the input ("app \"api\" not found; ...").
// The daemon maps a class to an HTTP status and a wire code; the client maps
// the wire code back, so errors.Is works on both sides of the socket.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
	ErrInternal    = errors.New("internal error")
	// ErrForbidden is a request the peer may not make: a user other than
	// the daemon's acting on an app of someone else, or stopping the daemon.
	ErrForbidden = errors.New("forbidden")
)

// Wire codes for the error classes.
const (
	CodeNotFound    = "not_found"
	CodeInvalid     = "invalid"
	CodeConflict    = "conflict"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
	CodeForbidden   = "forbidden"
)

// ErrorBody is the JSON body of every failed request:
// {"error": {"code": "not_found", "message": "..."}}.
type ErrorBody struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo is the code and the human message of a failed request. The
// message names the problem and the fix.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classes maps each error class to its HTTP status and wire code, in the
// order they are tested.
var classes = []struct {
	err    error
	status int
	code   string
}{
	{ErrNotFound, http.StatusNotFound, CodeNotFound},
	{ErrInvalid, http.StatusBadRequest, CodeInvalid},
	{ErrConflict, http.StatusConflict, CodeConflict},
	{ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable},
	{ErrInternal, http.StatusInternalServerError, CodeInternal},
	{ErrForbidden, http.StatusForbidden, CodeForbidden},
}

// StatusOf returns the HTTP status and wire code of err's class; an error
// of no class is internal.
func StatusOf(err error) (status int, code string) {
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.status, c.code
		}
	}
	return http.StatusInternalServerError, CodeInternal
}

// ClassOf returns the error class of a wire code; an unknown code is
// internal.
func ClassOf(code string) error {
	for _, c := range classes {
		if c.code == code {
			return c.err
		}
	}
	return ErrInternal
}

// Message is err's text for people: without the class suffix that %w
// wrapping leaves ("app \"x\" not found; ...: not found"), since the class
// travels as the code or the exit status.
func Message(err error) string {
	msg := err.Error()
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return strings.TrimSuffix(msg, ": "+c.err.Error())
		}
	}
	return msg
}

// Join is errors.Join on one line, for an operation on several things
// that failed for more than one: each message without its class suffix,
// joined by "; ", then the class once ("log file a: read-only file
// system; log file b: read-only file system: invalid"). errors.Is sees
// every error. Nil errors are dropped; one error is returned as it is.
func Join(errs ...error) error {
	var kept joined
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return kept
}

type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, e := range j {
		msgs[i] = Message(e)
	}
	s := strings.Join(msgs, "; ")
	for _, c := range classes {
		if errors.Is(j, c.err) {
			return s + ": " + c.err.Error()
		}
	}
	return s
}

func (j joined) Unwrap() []error { return j }
