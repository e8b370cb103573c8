// Oracle for request-uri.test.ts: reads a JSON array of strings on stdin and prints, for
// each, whether Go's url.ParseRequestURI accepts it and the parsed scheme.
// Run by the test with `go run` when a Go toolchain is on PATH.
package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
)

func main() {
	var in []string
	json.NewDecoder(os.Stdin).Decode(&in)
	out := []map[string]any{}
	for _, s := range in {
		u, err := url.ParseRequestURI(s)
		if err != nil {
			out = append(out, map[string]any{"in": s, "ok": false, "err": err.Error()})
		} else {
			out = append(out, map[string]any{"in": s, "ok": true, "scheme": u.Scheme})
		}
	}
	b, _ := json.MarshalIndent(out, "", " ")
	fmt.Println(string(b))
}
