package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// secret makes a file that a redirected write would damage.
func secret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func untouched(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "secret\n" {
		t.Fatalf("%s was changed: %q, %v", p, b, err)
	}
}

// worldWritable is a directory like /tmp: anyone may plant names in it.
func worldWritable(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o1777); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRefusesLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		plant func(t *testing.T, target string) string // returns the path tend is given
		want  string
	}{
		{"last component", func(t *testing.T, target string) string {
			p := filepath.Join(t.TempDir(), "app-out.log")
			must(t, os.Symlink(target, p))
			return p
		}, "is a symbolic link"},
		{"last component in a world-writable directory", func(t *testing.T, target string) string {
			p := filepath.Join(worldWritable(t), "app-out.log")
			must(t, os.Symlink(target, p))
			return p
		}, "is a symbolic link"},
		{"directory link in a world-writable directory", func(t *testing.T, target string) string {
			d := worldWritable(t)
			must(t, os.Symlink(filepath.Dir(target), filepath.Join(d, "logs")))
			return filepath.Join(d, "logs", filepath.Base(target))
		}, "a directory other users can write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := secret(t)
			p := tt.plant(t, target)
			for _, op := range []struct {
				name string
				do   func() error
			}{
				{"append", func() error {
					fd, err := OpenAppend(p, 0o640, Owner{})
					if err == nil {
						unix.Write(fd, []byte("app output\n"))
						unix.Close(fd)
					}
					return err
				}},
				{"truncate", func() error { return Truncate(p, Owner{}) }},
				{"write", func() error { return WriteFile(p, []byte("123\n"), 0o644, Owner{}) }},
				{"open O_TRUNC", func() error {
					f, err := OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644, Owner{})
					if err == nil {
						f.Close()
					}
					return err
				}},
			} {
				err := op.do()
				if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s %s: got %v, want a refusal saying %q", op.name, p, err, tt.want)
				}
				untouched(t, target)
			}
		})
	}
}

func TestFollowsLinksInTrustedDirectories(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	d := t.TempDir()
	must(t, os.Chmod(d, 0o755))
	must(t, os.Symlink(real, filepath.Join(d, "current")))
	p := filepath.Join(d, "current", "logs", "out.log")
	fd, err := OpenAppend(p, 0o640, Owner{})
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte("line\n"))
	unix.Close(fd)
	b, err := os.ReadFile(filepath.Join(real, "logs", "out.log"))
	if err != nil || string(b) != "line\n" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestUntrustedLinkSuggestsRealPath(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	d := worldWritable(t)
	must(t, os.Symlink(real, filepath.Join(d, "current")))
	_, err := OpenAppend(filepath.Join(d, "current", "out.log"), 0o640, Owner{})
	if err == nil || !strings.Contains(err.Error(), "use the real path "+filepath.Join(real, "out.log")) {
		t.Fatalf("got %v", err)
	}
}

func TestRefusesHardLinksInWorldWritableDirectories(t *testing.T) {
	t.Parallel()
	target := secret(t)
	p := filepath.Join(worldWritable(t), "app.log")
	if err := os.Link(target, p); err != nil {
		t.Skip("cannot make a hard link across these directories:", err)
	}
	_, err := OpenAppend(p, 0o640, Owner{})
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "hard links") {
		t.Fatalf("got %v", err)
	}
	untouched(t, target)
}

func TestRefusesAnotherUsersFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	p := filepath.Join(worldWritable(t), "app.log")
	must(t, os.WriteFile(p, []byte("secret\n"), 0o666))
	must(t, os.Chown(p, 54321, 54321))
	for _, o := range []Owner{{}, {Cred: &Cred{UID: 54322, GID: 54322}}} {
		_, err := OpenAppend(p, 0o640, o)
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "belongs to user") {
			t.Fatalf("owner %+v: got %v", o, err)
		}
		if err := WriteFile(p, nil, 0o644, o); !errors.Is(err, ErrUnsafe) {
			t.Fatalf("owner %+v: WriteFile: got %v", o, err)
		}
	}
	untouched(t, p)
	// The app's own user's file is fine.
	fd, err := OpenAppend(p, 0o640, Owner{Cred: &Cred{UID: 54321, GID: 54321}})
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

func TestAsUserHasTheUsersPermissions(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
	private := t.TempDir() // 0700, root's
	o := Owner{Cred: &Cred{UID: 54321, GID: 54321}, AsUser: true}
	_, err := OpenAppend(filepath.Join(private, "x.log"), 0o640, o)
	if !errors.Is(err, unix.EACCES) {
		t.Fatalf("open in root's private directory as uid 54321: got %v, want EACCES", err)
	}
	shared := worldWritable(t)
	must(t, os.Chmod(filepath.Dir(shared), 0o755)) // testing's parent of both
	p := filepath.Join(shared, "sub", "x.log")
	fd, err := OpenAppend(p, 0o640, o)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	for _, q := range []string{p, filepath.Dir(p)} {
		var st unix.Stat_t
		must(t, unix.Stat(q, &st))
		if st.Uid != 54321 || st.Gid != 54321 {
			t.Errorf("%s is owned by %d:%d, want 54321:54321", q, st.Uid, st.Gid)
		}
	}
	// The daemon's own threads are still root.
	if _, err := os.Create(filepath.Join(private, "root.log")); err != nil {
		t.Fatal("the daemon lost root:", err)
	}
}

func TestGivesFilesInItsOwnDirectoriesToTheUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	p := filepath.Join(t.TempDir(), "app-out.log")
	o := Owner{Cred: &Cred{UID: 54321, GID: 54321}}
	fd, err := OpenAppend(p, 0o640, o)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	must(t, WriteFile(p+".pid", []byte("1\n"), 0o644, o))
	for _, q := range []string{p, p + ".pid"} {
		var st unix.Stat_t
		must(t, unix.Stat(q, &st))
		if st.Uid != 54321 {
			t.Errorf("%s is owned by %d, want 54321", q, st.Uid)
		}
	}
}

func TestFIFODoesNotHang(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "app.log")
	must(t, unix.Mkfifo(p, 0o600))
	done := make(chan error, 1)
	go func() {
		fd, err := OpenAppend(p, 0o640, Owner{})
		if err == nil {
			unix.Close(fd)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("opened a FIFO without a reader")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO hung")
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "pids", "app-0.pid")
	must(t, WriteFile(p, []byte("1\n"), 0o644, Owner{}))
	must(t, WriteFile(p, []byte("22\n"), 0o644, Owner{}))
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "22\n" {
		t.Fatalf("got %q, %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	must(t, Remove(p, Owner{}))
	must(t, Remove(p, Owner{}))
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("not removed:", err)
	}
}

func TestRemoveTakesTheLinkNotItsTarget(t *testing.T) {
	t.Parallel()
	target := secret(t)
	p := filepath.Join(t.TempDir(), "app.pid")
	must(t, os.Symlink(target, p))
	must(t, Remove(p, Owner{}))
	untouched(t, target)
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("link not removed:", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
