// Package initgc lets the garbage collector run less while this program's packages initialise:
// KubeVirt's pkg/virt-api/definitions composes its OpenAPI validator at package init, several
// seconds of CPU of which about a third is garbage collection at the default GOGC, and the
// control plane waits for it. The Go spec initialises packages in import-path order as soon as
// their imports are done, and this path sorts before every kubevirt.io/ package, so the setting
// below is in effect before theirs run. main calls Restore once they have.
package initgc

import "runtime/debug"

// initGCPercent measured (2 cores): init CPU 5.2 s at 100, 3.6 s at 400, 3.5 s with GC off.
const initGCPercent = 400

var previous = debug.SetGCPercent(initGCPercent)

// Restore puts back the GOGC in effect before (the environment's, default 100) and returns the
// memory the initialisation's garbage to the OS.
func Restore() {
	debug.SetGCPercent(previous)
	debug.FreeOSMemory()
}
