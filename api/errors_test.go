package api

import (
	"errors"
	"fmt"
	"testing"
)

func TestJoin(t *testing.T) {
	a := fmt.Errorf("log file a: read-only file system: %w", ErrInvalid)
	b := fmt.Errorf("log file b: no space left on device: %w", ErrInvalid)
	c := errors.New("plain")
	if Join() != nil || Join(nil, nil) != nil {
		t.Error("Join of no error is not nil")
	}
	if got := Join(nil, a); got != a {
		t.Errorf("Join of one error = %v, want it as it is", got)
	}
	for _, tt := range []struct {
		errs    []error
		text    string
		message string
		is      []error
	}{
		{[]error{a, b}, "log file a: read-only file system; log file b: no space left on device: invalid",
			"log file a: read-only file system; log file b: no space left on device", []error{a, b, ErrInvalid}},
		{[]error{c, a}, "plain; log file a: read-only file system: invalid", "plain; log file a: read-only file system", []error{a, c, ErrInvalid}},
		{[]error{c, c}, "plain; plain", "plain; plain", []error{c}},
	} {
		err := Join(tt.errs...)
		if err.Error() != tt.text {
			t.Errorf("Join(%v).Error() = %q, want %q", tt.errs, err.Error(), tt.text)
		}
		if got := Message(err); got != tt.message {
			t.Errorf("Message(Join(%v)) = %q, want %q", tt.errs, got, tt.message)
		}
		for _, target := range tt.is {
			if !errors.Is(err, target) {
				t.Errorf("errors.Is(Join(%v), %v) = false", tt.errs, target)
			}
		}
	}
	if code := func() string { _, c := StatusOf(Join(c, a)); return c }(); code != CodeInvalid {
		t.Errorf("the class of a joined error is %q, want %q", code, CodeInvalid)
	}
}
