package assistant

// Audit event kinds the assistant records (the agent records its own:
// agent.AuditToolCall and the rest). A kind is stored, filtered on and
// shown: the values are stable.
const (
	AuditAppStart          = "app.start"          // Berth started (a runtime)
	AuditAppStop           = "app.stop"           // Berth stopped
	AuditPaused            = "assistant.paused"   // the user paused the assistant
	AuditResumed           = "assistant.resumed"  // the user resumed it
	AuditExecStart         = "exec.start"         // `berth exec`: a command is about to run
	AuditExecEnd           = "exec.end"           // `berth exec`: it ended
	AuditExecError         = "exec.error"         // `berth exec`: it could not run
	AuditGateClosed        = "gate.closed"        // a command was refused: the gate is closed
	AuditGroupAdd          = "group.add"          // a group was created
	AuditGroupRemove       = "group.remove"       // a group was removed
	AuditGroupSet          = "group.set"          // a group's settings changed
	AuditMessageCancel     = "message.cancel"     // a waiting message was canceled
	AuditMessageUser       = "message.user"       // the user said something
	AuditMessageUnreadable = "message.unreadable" // a stored message could not be read back
	AuditModelWarning      = "model.warning"      // the model server may misbehave (Ollama cutting long prompts)
	AuditMountAdd          = "mount.add"          // a mount was added
	AuditMountReject       = "mount.reject"       // a mount request was refused
	AuditMountRemove       = "mount.remove"       // a mount was removed
	AuditSandboxError      = "sandbox.error"      // a sandbox could not start
	AuditSandboxLost       = "sandbox.lost"       // a sandbox stopped under a turn
	AuditSandboxReap       = "sandbox.reap"       // an orphaned sandbox was removed
	AuditSandboxStop       = "sandbox.stop"       // a sandbox was stopped
	AuditSessionNew        = "session.new"        // a chat was started
	AuditSessionRemove     = "session.remove"     // a chat was deleted
	AuditSessionRename     = "session.rename"     // a chat was renamed
	AuditSettingsChange    = "settings.change"    // the settings changed in a running Berth
	AuditTurnEnd           = "turn.end"           // a turn ended
	AuditTurnInterrupted   = "turn.interrupted"   // a crash cut a turn short
	AuditTurnStop          = "turn.stop"          // the user stopped a running turn
	AuditDockerPrefix      = "docker."            // + the new state: Docker changed state
)
