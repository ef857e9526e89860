package supervise

import (
	"encoding/json"
	"os"
	"os/user"
	"strconv"
	"sync"
)

// currentUser is the name of the user the daemon runs as (the "user" column).
var currentUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
})

func jsonVersion(b []byte) string {
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil {
		return ""
	}
	return pkg.Version
}
