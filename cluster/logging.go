package cluster

import (
	"bytes"
	"log"

	"github.com/hashicorp/go-hclog"
)

// NewLogger returns an hclog.Logger for raft that writes each line at or
// above level through printf (nil: the standard library's log.Printf).
// Lines carry hclog's level tag ("[WARN]  raft: ...") but no time stamp: the
// receiving logger adds its own.
func NewLogger(name string, level hclog.Level, printf func(format string, args ...any)) hclog.Logger {
	if printf == nil {
		printf = log.Printf
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:        name,
		Level:       level,
		Output:      lineWriter(printf),
		DisableTime: true,
	})
}

// lineWriter passes each write (hclog writes one line at a time) to printf
// without its trailing newline.
type lineWriter func(format string, args ...any)

func (w lineWriter) Write(p []byte) (int, error) {
	w("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}
