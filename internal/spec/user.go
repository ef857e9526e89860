package spec

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
)

// User is the account an app runs as (its uid and gid attributes),
// looked up in the system's user and group databases.
type User struct {
	Name     string
	UID, GID uint32
	// Groups are the supplementary groups a login would have: the user's
	// groups, and GID.
	Groups      []uint32
	Home, Shell string
}

// LookupUser resolves uid and gid (names or numbers) as a login would: the
// user's primary group unless gid says otherwise, and its supplementary
// groups. nil when both are empty. A user or group that does not exist is
// an error; so is a gid without a uid.
func LookupUser(uid, gid string) (*User, error) {
	uid, gid = strings.TrimSpace(uid), strings.TrimSpace(gid)
	if uid == "" && gid == "" {
		return nil, nil
	}
	if uid == "" {
		return nil, fmt.Errorf("gid %q is set without uid; give the user too (--uid NAME), tend does not change only the group: %w", gid, api.ErrInvalid)
	}
	var u *user.User
	var err error
	if _, nerr := strconv.ParseUint(uid, 10, 32); nerr == nil {
		u, err = user.LookupId(uid)
	} else {
		u, err = user.Lookup(uid)
	}
	if err != nil {
		var unknown user.UnknownUserError
		var unknownID user.UnknownUserIdError
		if errors.As(err, &unknown) || errors.As(err, &unknownID) {
			return nil, fmt.Errorf("user %q does not exist; create it (useradd) or give an existing user to --uid: %w", uid, api.ErrInvalid)
		}
		return nil, fmt.Errorf("look up user %q: %v: %w", uid, err, api.ErrInvalid)
	}
	out := &User{Name: u.Username, UID: atou32(u.Uid), GID: atou32(u.Gid), Home: u.HomeDir, Shell: loginShell(u.Username)}
	if gid != "" {
		var g *user.Group
		if _, nerr := strconv.ParseUint(gid, 10, 32); nerr == nil {
			g, err = user.LookupGroupId(gid)
		} else {
			g, err = user.LookupGroup(gid)
		}
		if err != nil {
			return nil, fmt.Errorf("group %q does not exist; create it (groupadd) or give an existing group to --gid: %w", gid, api.ErrInvalid)
		}
		out.GID = atou32(g.Gid)
	}
	ids, _ := u.GroupIds() // a user in no group file keeps its primary group only
	for _, id := range ids {
		out.Groups = append(out.Groups, atou32(id))
	}
	if !slices.Contains(out.Groups, out.GID) {
		out.Groups = append(out.Groups, out.GID)
	}
	slices.Sort(out.Groups)
	return out, nil
}

// InGroup reports whether u is a member of group gid (primary or
// supplementary).
func (u *User) InGroup(gid uint32) bool {
	return u.GID == gid || slices.Contains(u.Groups, gid)
}

// loginEnv sets what login(1) sets for u in env.
func (u *User) loginEnv(env map[string]string) {
	env["HOME"] = u.Home
	env["USER"] = u.Name
	env["LOGNAME"] = u.Name
	env["SHELL"] = u.Shell
}

// loginShell is name's shell in /etc/passwd (os/user does not say), or
// /bin/sh as login uses when the field is empty.
func loginShell(name string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/bin/sh"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name {
			if fields[6] != "" {
				return fields[6]
			}
			break
		}
	}
	return "/bin/sh"
}

func atou32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
