package main

import "runtime/debug"

// moduleVersion reports the version of a dependency linked into this binary.
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == path {
				if m.Replace != nil {
					return m.Replace.Path + " " + m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "(unknown version)"
}
