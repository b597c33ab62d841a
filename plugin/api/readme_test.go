package api

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestREADME keeps the numbers in README.md equal to the constants.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, want := range []string{
		fmt.Sprintf("more than %d domains", DefaultMaxBatch),
		fmt.Sprintf("limit not in 1..%d", MaxListLimit),
		fmt.Sprintf("limit defaults to %d", DefaultListLimit),
		fmt.Sprintf("larger than %d MiB", DefaultMaxBody>>20),
		fmt.Sprintf("(%d hex characters", 2*tokenBytes),
		fmt.Sprintf(`{"error":"%s"}`, msgNotClustered),
		fmt.Sprintf(`{"error":"%s"}`, msgNoKeys),
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}
