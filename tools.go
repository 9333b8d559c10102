//go:build tools

// This file pins modules that Berth's build relies on before any package
// imports them: Fyne v2.8.1 is the desktop app's toolkit (app/ui). `go mod
// tidy` keeps requirements seen under any build tag; no build compiles this.
package main

import _ "fyne.io/fyne/v2"
