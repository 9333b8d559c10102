package assistant

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestAgentScheduledTaskWaitsForTheUser: in a group whose approval mode is
// auto, the model's schedule_task still asks, shows the schedule in words
// and its next runs, and only a yes stores the task; "always" is not
// remembered for it.
func TestAgentScheduledTaskWaitsForTheUser(t *testing.T) {
	t.Parallel()
	engine := dockertest.Client(t)
	svc, st := newService(t, engine)
	fake := fakeModel(t, svc)
	call := func(id string) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: id, Name: ToolScheduleTask,
			Input: `{"title":"Morning notes","prompt":"summarise my notes","cron":"0 8 * * *"}`}}}
	}
	fake.Queue(call("c1"), llmtest.Reply{Text: []string{"You said no."}},
		call("c2"), llmtest.Reply{Text: []string{"Scheduled."}},
		call("c3"), llmtest.Reply{Text: []string{"Asked again."}})
	var asked []agent.ApprovalRequest
	answers := []agent.Approval{agent.Deny, agent.AllowAlways, agent.Deny}
	approve := func(_ context.Context, req agent.ApprovalRequest) (agent.Approval, error) {
		asked = append(asked, req)
		return answers[len(asked)-1], nil
	}
	ctx := context.Background()
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Text: "remind me every morning", Approve: approve})
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := svc.Tasks(ctx, "main"); len(ts) != 0 {
		t.Fatalf("a denied schedule_task stored a task: %+v", ts)
	}
	if len(asked) != 1 || !strings.Contains(asked[0].Summary, "every day at 08:00; next: ") {
		t.Fatalf("the approval did not show the schedule: %+v", asked)
	}
	t.Logf("asked: %s → deny: no task", asked[0].Summary)

	if _, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "yes, do it", Approve: approve}); err != nil {
		t.Fatal(err)
	}
	ts, _ := svc.Tasks(ctx, "main")
	if len(ts) != 1 || ts[0].Title != "Morning notes" {
		t.Fatalf("after yes: %+v", ts)
	}
	t.Logf("allowed (always) → task %s stored", ts[0].ID)
	if _, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "another", Approve: approve}); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 3 {
		t.Fatalf("\"always\" was remembered for schedule_task: asked %d times, want 3", len(asked))
	}
	evs := auditKinds(t, st, "task")
	if evs != AuditTaskCreated {
		t.Errorf("task events: %q", evs)
	}
	created, _ := st.Events(ctx, store.Filter{Kind: AuditTaskCreated})
	if len(created) != 1 || created[0].Actor != "agent" {
		t.Errorf("task.created actor: %+v", created)
	}
	verifyChain(t, st)
}
