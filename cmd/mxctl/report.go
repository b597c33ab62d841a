package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
)

// fail reports err, about subject when not empty, and returns the exit code:
// exitUnreachable for transport and authorization failures, exitFail for
// everything the API refused.
func (c *cli) fail(subject string, err error) int {
	if se, ok := errors.AsType[*client.StatusError](err); ok {
		if se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden {
			fmt.Fprintln(c.stderr, "mxctl: unauthorized: check --token or the token file")
			return exitUnreachable
		}
		c.itemError(subject, se.Status, se.Message)
		return exitFail
	}
	if errors.Is(err, client.ErrBadResponse) {
		fmt.Fprintf(c.stderr, "mxctl: %v (is %s the mxsign admin API?)\n", err, c.g.api)
		return exitFail
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	fmt.Fprintf(c.stderr, "mxctl: cannot reach the admin API at %s: %v\n", c.g.api, err)
	return exitUnreachable
}

// itemError prints "mxctl: SUBJECT: MESSAGE (STATUS)", leaving out the
// subject when the message already names it.
func (c *cli) itemError(subject string, status int, msg string) {
	if subject != "" && !strings.Contains(msg, subject) {
		msg = subject + ": " + msg
	}
	fmt.Fprintf(c.stderr, "mxctl: %s (%d)\n", msg, status)
}

// printf writes to stdout.
func (c *cli) printf(format string, args ...any) {
	fmt.Fprintf(c.stdout, format, args...)
}

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(c.stderr, "mxctl: encoding JSON: %v\n", err)
		return exitFail
	}
	c.stdout.Write(append(b, '\n'))
	return exitOK
}

// printDomain writes the domain's mail-exchange host and its records as
// zone-file lines.
func (c *cli) printDomain(d api.Domain) {
	c.printf("%s -> %s\n", d.Domain, d.MailExchange)
	for _, r := range d.Records {
		c.printf("%s\t%d\tIN\t%s\t%s\n", r.Name, r.TTL, r.Type, r.Data)
	}
}
