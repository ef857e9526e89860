package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tendpm/tend/api"
)

// The init systems tend startup writes a boot service for.
const (
	platformSystemd = "systemd"
	platformOpenRC  = "openrc"
)

// detectInit names the init system tend startup writes for when none is
// given. The running one first, by the files each makes at boot:
// /run/systemd/system (sd_booted) and /run/openrc/softlevel (what
// openrc-run itself checks; /run/openrc alone only means OpenRC's tools
// ran, as installing the package does). With neither running (a chroot, an
// image being built), the one installed, systemd first as in PM2's order.
func detectInit(root string, lookPath func(string) (string, error)) (string, error) {
	exists := func(path string) bool {
		_, err := os.Stat(filepath.Join(root, path))
		return err == nil
	}
	switch {
	case exists("/run/systemd/system"):
		return platformSystemd, nil
	case exists("/run/openrc/softlevel"):
		return platformOpenRC, nil
	}
	if _, err := lookPath("systemctl"); err == nil {
		return platformSystemd, nil
	}
	if exists("/sbin/openrc-run") {
		return platformOpenRC, nil
	}
	if _, err := lookPath("openrc-run"); err == nil {
		return platformOpenRC, nil
	}
	return "", fmt.Errorf("found no init system tend startup supports (neither systemd nor OpenRC runs or is installed); name one: tend startup %s|%s (--print shows what it writes): %w",
		platformSystemd, platformOpenRC, api.ErrUnavailable)
}
