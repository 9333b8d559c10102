package ui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-app/berth/app/assistant"
)

// NoMountsText is what the mount picker says for a group without mounts.
const NoMountsText = "No folders yet — add one; it is read-only unless you allow writing"

// MaskedShown is how many masked files a check lists before "…and N more".
const MaskedShown = 12

// The mount modes, as the picker names them.
const (
	ModeReadOnly  = "Read-only"
	ModeReadWrite = "Read-write"
)

// MountRow is one mount as the picker lists it.
type MountRow struct {
	Name      string
	Host      string // the folder on this computer
	Container string // where the sandbox sees it
	Mode      string // ModeReadOnly or ModeReadWrite
	Masked    int    // secret files hidden from the sandbox
	Status    string // "OK", or what is wrong with the folder now
	Problem   bool
	// MasksChange says when and how the set of masked files last changed
	// ("" when it never did since the mount was added).
	MasksChange string
}

// MountRows turns a group's stored mounts into rows; stat says whether a
// folder is still there (os.Stat in the app).
func MountRows(ms []assistant.Mount, stat func(string) error) []MountRow {
	rows := make([]MountRow, 0, len(ms))
	for _, m := range ms {
		r := MountRow{Name: m.Name, Host: m.HostPath, Container: assistant.ContainerExtraDir + "/" + m.Name,
			Mode: ModeReadOnly, Masked: len(m.Masks), Status: "OK"}
		if !m.ReadOnly {
			r.Mode = ModeReadWrite
		}
		if !m.MasksChanged.IsZero() {
			added, removed := 0, 0
			for _, x := range m.Masks {
				if !slices.Contains(m.MasksBefore, x) {
					added++
				}
			}
			for _, x := range m.MasksBefore {
				if !slices.Contains(m.Masks, x) {
					removed++
				}
			}
			r.MasksChange = fmt.Sprintf("masks changed %s (+%d, −%d)", m.MasksChanged.Local().Format("2 Jan 15:04"), added, removed)
		}
		if stat != nil {
			if err := stat(m.HostPath); err != nil {
				r.Status, r.Problem = "Missing: the folder cannot be read, so the sandbox will not start", true
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// Summary is a row's second line: mode and masked files.
func (r MountRow) Summary() string {
	s := r.Mode + " · " + plural(r.Masked, "secret file", "secret files") + " masked"
	if r.MasksChange != "" {
		s += " · " + r.MasksChange
	}
	return s
}

// CheckState is the inline result of checking a picked folder: nothing is
// saved until the user presses Add.
type CheckState struct {
	Path      string // as picked
	Write     bool   // the user asked for read-write
	Allowed   bool
	Reason    string // why it was refused, in words
	Name      string // the mount name
	Container string // where the sandbox will see it
	Masked    []string
	More      int    // masked files beyond those listed
	Size      string // "1,234 files · 12.3 MB"
	Notes     []string
}

// CheckStateFrom turns a check (or the error that stopped it) into what the
// picker shows.
func CheckStateFrom(path string, write bool, mc assistant.MountCheck, err error) CheckState {
	st := CheckState{Path: path, Write: write, Name: mc.Name, Container: mc.Container}
	var rej *assistant.MountRejectedError
	switch {
	case errors.As(err, &rej):
		st.Reason = reasonInWords(rej.Decision.Reason)
		return st
	case err != nil:
		st.Reason = "The folder could not be checked: " + err.Error()
		return st
	case !mc.Allowed:
		st.Reason = reasonInWords(mc.Reason)
		return st
	}
	st.Allowed = true
	if mc.Scan == nil {
		return st
	}
	sc := mc.Scan
	st.Masked = sc.Masked
	if len(st.Masked) > MaskedShown {
		st.Masked, st.More = sc.Masked[:MaskedShown], len(sc.Masked)-MaskedShown
	}
	st.Size = plural(sc.Files, "file", "files") + " · " + sizeText(sc.Bytes)
	if sc.Truncated {
		why := ""
		if sc.TruncatedReason != "" {
			why = " (" + sc.TruncatedReason + ")"
		}
		st.Notes = append(st.Notes, "The scan stopped early"+why+": files beyond it were not checked for secrets.")
	}
	if n := len(sc.Symlinks); n > 0 {
		st.Notes = append(st.Notes, plural(n, "link points", "links point")+" outside the folder; the sandbox sees them broken.")
	}
	return st
}

// reasonInWords adapts the command line's advice to the picker.
func reasonInWords(reason string) string {
	reason = strings.Replace(reason, "with --as NAME", "in the Name box", 1)
	if reason == "" {
		return "Refused."
	}
	return strings.ToUpper(reason[:1]) + reason[1:]
}

// Request is the mount request to check or add.
func (s CheckState) Request() assistant.MountRequest {
	return assistant.MountRequest{HostPath: s.Path, Name: s.Name, Write: s.Write}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(int64(n)) + " " + many
}

// thousands writes n with comma separators: 12,345.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FolderUsageText is the mount picker's line about the group folder.
func FolderUsageText(u assistant.FolderUsage, err error) string {
	if err != nil {
		return "The group's own folder (" + assistant.ContainerGroupDir + ", read-write): its size could not be measured: " + err.Error()
	}
	more := ""
	if !u.Complete {
		more = " or more"
	}
	return fmt.Sprintf("The group's own folder (%s, read-write): %s%s in %s, %s.",
		assistant.ContainerGroupDir, plural(int(u.Files), "file", "files"), more, plural(int(u.Folders), "folder", "folders"), sizeText(int64(u.Bytes)))
}

// sizeText is a byte count for people: "512 B", "1.5 KB", "12.3 MB".
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGT"[exp])
}

// GroupForm is the group's sandbox settings as the picker's fields hold
// them: text, "" meaning Berth's default.
type GroupForm struct {
	Image    string
	Network  string // "", none, allowlist or open
	Approval string // auto, ask-writes or ask-all
	MemoryMB string
	CPUs     string
	Pids     string
}

// GroupFormFrom fills the fields from a group's settings.
func GroupFormFrom(gs assistant.GroupSettings) GroupForm {
	f := GroupForm{Image: gs.Image, Network: gs.Network, Approval: cmp.Or(gs.Approval, assistant.ApprovalAuto)}
	if gs.MemoryMB != 0 {
		f.MemoryMB = strconv.FormatInt(gs.MemoryMB, 10)
	}
	if gs.CPUs != 0 {
		f.CPUs = strconv.FormatFloat(gs.CPUs, 'f', -1, 64)
	}
	if gs.Pids != 0 {
		f.Pids = strconv.FormatInt(gs.Pids, 10)
	}
	return f
}

// Changes are the KEY=VALUE changes that turn old into the form, for
// SetGroup; an error names the field that is wrong.
func (f GroupForm) Changes(old assistant.GroupSettings) ([]string, error) {
	var out []string
	before := GroupFormFrom(old)
	add := func(key, was, now string) {
		if strings.TrimSpace(now) != was {
			out = append(out, key+"="+strings.TrimSpace(now))
		}
	}
	add("image", before.Image, f.Image)
	add("network", before.Network, f.Network)
	add("approval", before.Approval, cmp.Or(f.Approval, assistant.ApprovalAuto))
	for _, n := range []struct {
		key, was, now, what string
		min                 float64
	}{
		{"memory", before.MemoryMB, f.MemoryMB, "Memory must be a whole number of MB (at least 32)", 32},
		{"cpus", before.CPUs, f.CPUs, "CPUs must be a number such as 1.5", 0},
		{"pids", before.Pids, f.Pids, "Processes must be a whole number (at least 16)", 16},
	} {
		now := strings.TrimSpace(n.now)
		if now == "" {
			now = "0"
		}
		v, err := strconv.ParseFloat(now, 64)
		if err != nil || v < 0 || (v != 0 && v < n.min) || (n.key != "cpus" && v != float64(int64(v))) {
			return nil, errors.New(n.what + ", or empty for the default.")
		}
		if strings.TrimSpace(n.now) != n.was {
			out = append(out, n.key+"="+now)
		}
	}
	return out, nil
}
