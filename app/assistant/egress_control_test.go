package assistant

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
)

// TestNetQuestionsOverTheControlSocket: `berth net pending` and `berth net
// answer` reach a running Berth's questions through its control socket.
func TestNetQuestionsOverTheControlSocket(t *testing.T) {
	t.Parallel()
	a := newNetArena(t, egress.Limits{AskTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(t.TempDir(), "berth.sock")
	if err := a.r.ServeControl(ctx, sock); err != nil {
		t.Fatal(err)
	}
	type got struct {
		code int
		body string
	}
	done := make(chan got, 1)
	go func() { code, body := a.get(t, "http://"+a.dest+"/socket"); done <- got{code, body} }()
	var q NetQuestion
	deadline := time.Now().Add(60 * time.Second)
	for {
		rep, err := Control(sock, ControlRequest{Cmd: "net-pending"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Net) == 1 {
			q = rep.Net[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending question within 60 s: %+v", rep.Net)
		}
		time.Sleep(20 * time.Millisecond) // polling, as a script would
	}
	if q.Dest() != a.dest || q.Group != "net" {
		t.Errorf("pending: %+v", q)
	}
	if _, err := Control(sock, ControlRequest{Cmd: "net-answer", Net: &NetAnswerOp{ID: q.ID, Answer: egress.AllowOnce}}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	t.Logf("answered %s over the socket: %d %q", q.ID, r.code, r.body)
	if r.code != 200 || !strings.Contains(r.body, "hello /socket") {
		t.Errorf("after the answer: %d %q", r.code, r.body)
	}
	if _, err := Control(sock, ControlRequest{Cmd: "net-answer", Net: &NetAnswerOp{ID: q.ID, Answer: egress.Deny}}); err == nil || !strings.Contains(err.Error(), "no network question") {
		t.Errorf("answering a settled question: %v", err)
	}
}
