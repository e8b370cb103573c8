// Oracle for test/unit/rollout: reads cases as JSON on stdin, answers with what
// k8s.io/apimachinery (and Go's hash/fnv) compute for them. Offline: modules come from the
// local module cache (GOPROXY=off); the test skips itself when they are not there.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation"
)

type hashCase struct {
	Text           string `json:"text"`
	CollisionCount *int32 `json:"collisionCount"`
}

type intstrCase struct {
	Value   json.RawMessage `json:"value"`
	Total   int             `json:"total"`
	RoundUp bool            `json:"roundUp"`
}

type selectorCase struct {
	Selector json.RawMessage   `json:"selector"`
	Labels   map[string]string `json:"labels"`
}

type input struct {
	Hashes      []hashCase     `json:"hashes"`
	IntStrs     []intstrCase   `json:"intstrs"`
	Selectors   []selectorCase `json:"selectors"`
	LabelKeys   []string       `json:"labelKeys"`
	LabelValues []string       `json:"labelValues"`
}

type selectorResult struct {
	Errors  []string `json:"errors"`
	Parses  bool     `json:"parses"`
	Matches bool     `json:"matches"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := map[string]any{}

	var hashes []map[string]string
	for _, c := range in.Hashes {
		h := fnv.New32a()
		h.Write([]byte(c.Text))
		// As Kubernetes' controller.ComputeHash appends the collision count.
		if c.CollisionCount != nil {
			b := make([]byte, 8)
			binary.LittleEndian.PutUint32(b, uint32(*c.CollisionCount))
			h.Write(b)
		}
		dec := fmt.Sprint(h.Sum32())
		hashes = append(hashes, map[string]string{"hash": dec, "encoded": rand.SafeEncodeString(dec)})
	}
	out["hashes"] = hashes

	var ints []map[string]any
	for _, c := range in.IntStrs {
		var v intstr.IntOrString
		if err := json.Unmarshal(c.Value, &v); err != nil {
			ints = append(ints, map[string]any{"error": "decode: " + err.Error()})
			continue
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(&v, c.Total, c.RoundUp)
		if err != nil {
			ints = append(ints, map[string]any{"error": err.Error()})
		} else {
			ints = append(ints, map[string]any{"value": n})
		}
	}
	out["intstrs"] = ints

	var sels []selectorResult
	for _, c := range in.Selectors {
		var sel metav1.LabelSelector
		if err := json.Unmarshal(c.Selector, &sel); err != nil {
			panic(err)
		}
		r := selectorResult{Errors: []string{}}
		for _, e := range metav1validation.ValidateLabelSelector(&sel, metav1validation.LabelSelectorValidationOptions{}, nil) {
			r.Errors = append(r.Errors, e.ErrorBody())
		}
		if s, err := metav1.LabelSelectorAsSelector(&sel); err == nil {
			r.Parses = true
			r.Matches = s.Matches(labels.Set(c.Labels))
		}
		sels = append(sels, r)
	}
	out["selectors"] = sels

	var keys, values [][]string
	for _, k := range in.LabelKeys {
		keys = append(keys, append([]string{}, validation.IsQualifiedName(k)...))
	}
	for _, v := range in.LabelValues {
		values = append(values, append([]string{}, validation.IsValidLabelValue(v)...))
	}
	out["labelKeys"] = keys
	out["labelValues"] = values

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
