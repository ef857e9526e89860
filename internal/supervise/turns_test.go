package supervise

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTurnsOneAtATimeInOrder(t *testing.T) {
	var turns Turns
	var got []string
	var releases []func()
	for _, name := range []string{"a", "b", "c"} {
		turns.Take(func(release func()) {
			got = append(got, name)
			releases = append(releases, release)
		})
	}
	if diff := cmp.Diff([]string{"a"}, got); diff != "" {
		t.Fatalf("turns taken before a release (-want +got):\n%s", diff)
	}
	releases[0]()
	releases[0]() // a second release of the same turn gives nothing away
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Fatalf("after one release (-want +got):\n%s", diff)
	}
	releases[1]()
	releases[2]()
	turns.Take(func(release func()) { got = append(got, "d"); release() })
	if diff := cmp.Diff([]string{"a", "b", "c", "d"}, got); diff != "" {
		t.Fatalf("turns (-want +got):\n%s", diff)
	}
}
