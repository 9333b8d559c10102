package tasks

import "time"

// Action is what to do with a task whose run time has come.
type Action string

// The actions.
const (
	Run     Action = "run"      // on time
	RunLate Action = "run-late" // missed while Berth was away, but within the catch-up window
	Skip    Action = "skip"     // missed, and older than the catch-up window
)

// DefaultCatchUp is how late a missed run may still start.
const DefaultCatchUp = 12 * time.Hour

// LateGrace is how long after its time a run still counts as on time (the
// runtime looks for due tasks every few seconds and a queue may be busy).
const LateGrace = 2 * time.Minute

// maxMissed bounds the walk over missed runs (a every-minute task after a
// month away).
const maxMissed = 200_000

// Decision is what Decide made of a due task.
type Decision struct {
	Action Action
	Due    time.Time     // the run being decided: the latest one that is due
	Late   time.Duration // how long after Due it is now
	Missed int           // earlier due runs folded into this one (never run)
	Next   time.Time     // the run after now; zero when there is none
}

// Decide looks at a task whose stored next run is next, at now. It returns
// false when nothing is due. Otherwise only the latest due run counts: it
// runs (late when Berth was away) if it is within catchUp, or is skipped —
// never a burst of runs after a long sleep. Next is computed from now, so a
// task never runs twice for one due time.
func Decide(s Schedule, next, now time.Time, catchUp time.Duration) (Decision, bool) {
	if next.IsZero() || now.Before(next) {
		return Decision{}, false
	}
	if catchUp <= 0 {
		catchUp = DefaultCatchUp
	}
	d := Decision{Due: next}
	for i := 0; i < maxMissed; i++ {
		n := s.Next(d.Due)
		if n.IsZero() || n.After(now) {
			break
		}
		d.Due = n
		d.Missed++
	}
	d.Late = now.Sub(d.Due)
	switch {
	case d.Late > catchUp:
		d.Action = Skip
	case d.Late > LateGrace:
		d.Action = RunLate
	default:
		d.Action = Run
	}
	d.Next = s.Next(now)
	return d, true
}
