// Command kstatus reads Kubernetes objects as JSON on stdin (one object, or a List) and prints,
// for each, what the kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus/status) that Flux and
// kpt use computes: one JSON line {"status": ..., "message": ...}. The e2e GitOps spec runs it
// on the FlantIntegration as the API server stores it.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	// A List's items one by one; unstructured's own decoder keeps integers int64, as kstatus reads them.
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(in, &list); err != nil {
		fail(err)
	}
	items := list.Items
	if items == nil {
		items = []json.RawMessage{in}
	}
	out := json.NewEncoder(os.Stdout)
	for _, item := range items {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(item); err != nil {
			fail(err)
		}
		res, err := status.Compute(u)
		if err != nil {
			fail(err)
		}
		if err := out.Encode(result{Status: res.Status.String(), Message: res.Message}); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}
