package api

import "errors"

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
)

// Wire codes for the error classes.
const (
	CodeNotFound    = "not_found"
	CodeInvalid     = "invalid"
	CodeConflict    = "conflict"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
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
