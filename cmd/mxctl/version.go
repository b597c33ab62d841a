package main

import (
	"runtime"
	"runtime/debug"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = ""

// versionString returns the link-time version, else the module version
// from the build information.
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// cmdVersion prints the version of mxctl; it does not contact the server.
func (c *cli) cmdVersion(args []string) int {
	pos, err := c.parseArgs(c.flagSet("version"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 0 {
		return c.usageError("version takes no arguments")
	}
	v := versionString()
	if c.g.json {
		return c.printJSON(struct {
			Version string `json:"version"`
			Go      string `json:"go"`
		}{v, runtime.Version()})
	}
	c.printf("mxctl %s (%s)\n", v, runtime.Version())
	return exitOK
}
