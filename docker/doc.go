// Package docker is Berth's only door to the Docker Engine: it resolves
// which engine to talk to, watches its health, turns a sandbox spec into a
// hardened container, and runs commands and file transfers inside it.
//
// No other package imports the Docker SDK. Consumers declare the small
// interface they need and depend on that.
package docker
