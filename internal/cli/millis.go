package cli

import (
	"errors"
	"strconv"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// millis is a flag holding a time in milliseconds, typed as PM2 users type
// it (--kill-timeout 1600) or with a unit (1.6s, 2m, 1m30s): the grammar
// of the same attributes in an ecosystem file.
type millis int

func (m *millis) Set(s string) error {
	n, err := config.ParseDuration(s)
	if err != nil {
		return errors.New(api.Message(err)) // the class is the flag error's
	}
	*m = millis(n)
	return nil
}

func (m *millis) String() string { return strconv.Itoa(int(*m)) }

// Type names the value in --help.
func (m *millis) Type() string { return "ms" }
