package assistant

import (
	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/disk"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
	"github.com/berth-app/berth/docker/workspace"
)

// The faces' vocabulary. A face (app/ui, app/ui/desktop) imports this
// package and nothing below it (README, "One runtime"). What it needs of
// the lower packages' behaviour is a method or function of the assistant
// (faces_settings.go); the plain data the assistant passes through
// unchanged keeps its lower package's type under an alias here: the
// assistant's API owns the name, the lower package defines the type (and
// its constants, which the names below only repeat).

// Chats and their messages (store defines them; Send, History and the
// event stream carry them).
type (
	Message = store.Message
	Actor   = store.Actor
)

// Actors of an audit event: who did it.
const (
	ActorUser  = store.ActorUser
	ActorAgent = store.ActorAgent
)

// The audit log as the audit viewer pages, checks and exports it (store
// defines the rows; the runtime records them).
type (
	AuditEvent   = store.Event
	AuditFilter  = store.Filter
	AuditReport  = store.Report
	AuditProblem = store.Problem // AuditReport.Problem
)

// What a broken chain shows (AuditReport.Problem).
const (
	AuditEdited    = store.ProblemEdited
	AuditDeleted   = store.ProblemDeleted
	AuditInserted  = store.ProblemInserted
	AuditReordered = store.ProblemReordered
	AuditTruncated = store.ProblemTruncated
	AuditAnchor    = store.ProblemAnchor
)

// Mounts (store keeps them, mounts checks a request; AddMount and
// CheckMount pass both through) and the folders the sandbox sees them in
// (docker/workspace owns the container paths).
type (
	Mount         = store.Mount
	MountRequest  = mounts.Request
	MountDecision = mounts.Decision   // MountCheck.Decision
	MountScan     = mounts.ScanResult // MountCheck.Scan
	FolderUsage   = disk.FolderUsage  // GroupFolderUsage's answer
)

// The rules a mount decision names (MountDecision.Rule).
const (
	MountRuleOK              = mounts.RuleOK
	MountRuleName            = mounts.RuleName
	MountRuleMissing         = mounts.RuleMissing
	MountRuleBlockedPattern  = mounts.RuleBlockedPattern
	MountRuleSystem          = mounts.RuleSystem
	MountRuleHome            = mounts.RuleHome
	MountRuleRoot            = mounts.RuleRoot
	MountRuleBerthData       = mounts.RuleBerthData
	MountRuleDockerSocket    = mounts.RuleDockerSocket
	MountRuleNotAFolder      = mounts.RuleNotAFolder
	MountRuleAllowedRoots    = mounts.RuleAllowedRoots
	MountRuleWriteNotAllowed = mounts.RuleWriteNotAllowed
	MountRuleChanged         = mounts.RuleChanged
	MountRuleInsideWritable  = mounts.RuleInsideWritable
	MountRuleHoldsMount      = mounts.RuleHoldsMount
	MountRuleScanIncomplete  = mounts.RuleScanIncomplete
)

// Container paths, as the mount picker shows them.
const (
	ContainerGroupDir = workspace.GroupDir // the group's own folder, read-write
	ContainerExtraDir = workspace.ExtraDir // extra mounts, each at ContainerExtraDir/<name>
)

// Progress inside a turn: the agent's events as the runtime's Event.Agent
// carries them, and the approvals the agent asks for (agent defines them).
type (
	AgentEvent      = agent.Event
	AgentEventKind  = agent.EventKind
	Approval        = agent.Approval
	ApprovalRequest = agent.ApprovalRequest
	Approver        = agent.Approver
)

// The tool names, as a tool card shows them (agent owns them).
const (
	ToolBash      = agent.ToolBash
	ToolReadFile  = agent.ToolReadFile
	ToolWriteFile = agent.ToolWriteFile
	ToolEditFile  = agent.ToolEditFile
	ToolListFiles = agent.ToolListFiles
	ToolGrep      = agent.ToolGrep
)

// The agent's event kinds a face renders.
const (
	AgentText           = agent.EventText
	AgentToolStart      = agent.EventToolStart
	AgentToolEnd        = agent.EventToolEnd
	AgentToolProgress   = agent.EventToolProgress
	AgentToolOutput     = agent.EventToolOutput
	AgentApproval       = agent.EventApproval
	AgentApprovalAnswer = agent.EventApprovalAnswer
	AgentRetry          = agent.EventRetry
	AgentSandboxError   = agent.EventSandboxError
	AgentCompacted      = agent.EventCompacted
	AgentNotice         = agent.EventNotice
)

// The user's answers to an approval.
const (
	Deny        = agent.Deny
	AllowOnce   = agent.AllowOnce
	AllowAlways = agent.AllowAlways
)

// Settings are config.json's settings (config defines them; the runtime
// puts them in force with SetSettings and SaveSettings).
type (
	Settings         = config.Config
	SettingsDuration = config.Duration
	AllowedRoot      = config.AllowedRoot
)

// DefaultImage is the sandbox image used when the settings name none.
const DefaultImage = config.DefaultImage

// DefaultModel is the provider's model when the settings name none.
func DefaultModel(provider string) string { return config.DefaultModel(provider) }

// Model providers, their keys and their token counts (llm defines them).
type (
	Usage     = llm.Usage // Service.Usage's answer
	KeySource = llm.KeySource
	Part      = llm.Part // a stored message's parts (MessageParts)
)

// The provider names.
const (
	ProviderAnthropic = llm.Anthropic
	ProviderOpenAI    = llm.OpenAI
)

// Where a provider's key was found.
const (
	KeyFromKeyring = llm.SourceKeyring
	KeyFromFile    = llm.SourceFile
	KeyFromEnv     = llm.SourceEnv
	KeyNotFound    = llm.SourceNone
)

// KeyFileName is the key file's name where there is no OS keyring.
const KeyFileName = llm.KeyFileName

// KeyEnvVar is the environment variable a provider's key may come from.
func KeyEnvVar(provider string) string { return llm.KeyEnvVar(provider) }

// The provider errors a face explains: no key, and a key refused.
var (
	ErrNoKey = llm.ErrNoKey
	ErrAuth  = llm.ErrAuth
)

// The kinds of a stored message's part.
const (
	PartText       = llm.PartText
	PartToolUse    = llm.PartToolUse
	PartToolResult = llm.PartToolResult
)

// Task schedules (tasks defines them; CheckTask returns one).
type (
	Schedule     = tasks.Schedule
	ScheduleKind = tasks.Kind
)

// The kinds of schedule.
const (
	ScheduleCron  = tasks.Cron
	ScheduleEvery = tasks.Every
	ScheduleOnce  = tasks.Once
)

// DescribeSchedule says a schedule in words: "every day at 08:00".
func DescribeSchedule(s Schedule) string { return tasks.Describe(s) }
