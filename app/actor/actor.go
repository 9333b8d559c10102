// Package actor names who causes an audit event: the one owner of these
// words, which the agent (its events) and the store (the chain's actor
// column) share without knowing each other.
package actor

const (
	User   = "user"   // the person at the keyboard
	Agent  = "agent"  // the model, through its tool calls
	System = "system" // Berth itself
)
