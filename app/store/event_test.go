package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

var (
	errNotExist = fs.ErrNotExist
	errBroken   = errors.New("anchor: invalid character")
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want, err string
	}{
		{"empty", ``, `{}`, ""},
		{"null", `null`, `{}`, ""},
		{"empty object", ` { } `, `{}`, ""},
		{"keys sorted, whitespace dropped", `{"b": 1, "a": {"z": true, "y": null}}`, `{"a":{"y":null,"z":true},"b":1}`, ""},
		{"numbers keep their spelling", `{"big": 12345678901234567890, "f": 1.50, "e": 1e3}`, `{"big":12345678901234567890,"e":1e3,"f":1.50}`, ""},
		{"no HTML escaping", `{"cmd": "a && b > c"}`, `{"cmd":"a && b > c"}`, ""},
		{"escapes normalised", `{"s": "\u0041\t"}`, `{"s":"A\t"}`, ""},
		{"arrays keep order", `{"argv": ["z", "a"]}`, `{"argv":["z","a"]}`, ""},
		{"array refused", `[1, 2]`, "", "not a JSON object"},
		{"string refused", `"x"`, "", "not a JSON object"},
		{"broken", `{"a": `, "", "invalid JSON"},
		{"trailing data", `{"a": 1} {"b": 2}`, "", "data after the object"},
		{"trailing brace", `{"a": 1}}`, "", "data after the object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := canonicalJSON(json.RawMessage(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("canonicalJSON(%s): got %q, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("canonicalJSON(%s): got %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	t.Parallel()
	base := row{seq: 1, time: "t", group: "ab", session: "c", kind: "k", actor: "agent", summary: "s", detail: "{}", prevHash: GenesisHash}
	shifted := base
	shifted.group, shifted.session = "a", "bc"
	other := base
	other.seq = 2
	var h hasher
	a := string(h.sum(&base))
	b := string(h.sum(&shifted))
	c := string(h.sum(&other))
	if a == b {
		t.Errorf("moving a byte between group and session kept the hash %s", a)
	}
	if a == c {
		t.Errorf("changing seq kept the hash %s", a)
	}
	if again := string(h.sum(&base)); again != a {
		t.Errorf("hash of the same row: got %s, want %s", again, a)
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ev   Event
		want row
		err  string
	}{
		{"defaults", Event{Kind: "app.start"}, row{kind: "app.start", actor: "system", detail: "{}"}, ""},
		{"summary made one line", Event{Kind: "x", Actor: ActorUser, Summary: "a\nb\r\nc\td"},
			row{kind: "x", actor: "user", summary: "a b c d", detail: "{}"}, ""},
		{"no kind", Event{Summary: "x"}, row{}, "kind is empty"},
		{"kind with a space", Event{Kind: "exec start"}, row{}, "spaces or control"},
		{"unknown actor", Event{Kind: "x", Actor: "root"}, row{}, "not one of"},
		{"detail not an object", Event{Kind: "x", Detail: json.RawMessage(`[1]`)}, row{}, "not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := prepare(tc.ev)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("prepare: got %+v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("prepare: got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		head  int64
		procs int
		want  []span
	}{
		{"empty", 0, 2, []span{{1, 0}}},
		{"short chain stays whole", 99_999, 4, []span{{1, 99_999}}},
		{"two cores", 1_000_000, 2, []span{{1, 500_000}, {500_001, 1_000_000}}},
		{"limited by length", 250_000, 8, []span{{1, 125_000}, {125_001, 250_000}}},
		{"one core", 1_000_000, 1, []span{{1, 1_000_000}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := split(tc.head, tc.procs, defaultMinSpan)
			if len(got) != len(tc.want) {
				t.Fatalf("split(%d, %d): got %v, want %v", tc.head, tc.procs, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("split(%d, %d): got %v, want %v", tc.head, tc.procs, got, tc.want)
				}
			}
		})
	}
}

func TestCheckAnchor(t *testing.T) {
	t.Parallel()
	h := func(c string) string { return strings.Repeat(c, 64) }
	head := anchor{Seq: 10, Hash: h("a")}
	cases := []struct {
		name     string
		a        anchor
		aErr     error
		anchored string
		want     Problem
		firstBad int64
	}{
		{"at the head", anchor{10, h("a")}, nil, h("a"), "", 0},
		{"lagging, matching", anchor{8, h("8")}, nil, h("8"), "", 0},
		{"genesis anchor", anchor{0, GenesisHash}, nil, "", "", 0},
		{"lagging, different", anchor{8, h("8")}, nil, h("9"), ProblemAnchor, 8},
		{"ahead of the database", anchor{12, h("c")}, nil, "", ProblemTruncated, 11},
		{"genesis anchor with a wrong hash", anchor{0, h("1")}, nil, "", ProblemAnchor, 0},
		{"missing", anchor{}, errNotExist, "", ProblemAnchor, 0},
		{"unreadable", anchor{}, errBroken, "", ProblemAnchor, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, fb, reason := checkAnchor("/x/berth.db.anchor", tc.a, tc.aErr, head, tc.anchored)
			if p != tc.want || fb != tc.firstBad || (p != "") != (reason != "") {
				t.Fatalf("checkAnchor: got %q at %d (%q), want %q at %d", p, fb, reason, tc.want, tc.firstBad)
			}
		})
	}
	t.Run("missing with no events", func(t *testing.T) {
		t.Parallel()
		if p, _, _ := checkAnchor("a", anchor{}, errNotExist, anchor{Hash: GenesisHash}, ""); p != "" {
			t.Fatalf("checkAnchor: got %q, want no problem", p)
		}
	})
}
