// Package mxsign is the CoreDNS plugin `mxsign`: an authoritative, online-signing server
// for a parent zone of MX target hosts and its shard subzones. It wires the store
// (zonestore), the signer and the admin API; the DNS logic lives in those packages.
package mxsign

import (
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/mxsign/mxsign/plugin/api"
)

var log = clog.NewWithPlugin("mxsign")

func init() { plugin.Register("mxsign", setup) }

func setup(c *caddy.Controller) error {
	cfg, err := parse(c)
	if err != nil {
		return plugin.Error("mxsign", err)
	}
	setMemoryLimit(cfg.MemoryLimit) // before the store's index is built
	token, err := tokenFor(cfg.TokenFile)
	if err != nil {
		return plugin.Error("mxsign", err)
	}
	inst, err := acquire(cfg, token)
	if err != nil {
		return plugin.Error("mxsign", err)
	}
	registerMetrics()

	r := &responder{
		store:   inst.store,
		signer:  inst.signer,
		keys:    newKeyring(inst.store),
		nsec:    inst.denial(cfg),
		now:     time.Now,
		bufSize: cfg.BufSize,
		log:     log,
	}
	inst.setToken(token)
	opts := api.Options{Token: token, Logf: log.Infof, Forward: newForwarder(inst.node, inst.store).Forward}
	if cfg.Cluster != nil {
		opts.Cluster = &clusterService{node: inst.node}
	}
	opts.Keys = &keyService{store: inst.store, applier: inst.node, policy: cfg.Policy, plan: inst.policy.effective, prop: inst.prop, now: time.Now, wake: inst.wakeRollover}
	h := withAppliedIndex(inst.store, api.NewHandler(&service{store: inst.store, prov: inst.prov}, opts))
	c.OnStartup(func() error { return inst.serveAPI(cfg.APIAddr, h) })
	c.OnFinalShutdown(func() error { return release(inst.key) })

	setupUDPFront(c, cfg)
	m := inst.answers.handler(r, cfg.AnswerCache)
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		return &Mxsign{Next: next, r: m.r, cache: m.cache, neg: m.neg, door: m.door}
	})
	return nil
}

// Directives returns CoreDNS's directive list with mxsign inserted just before "file",
// where authoritative data plugins run. It returns a new slice and never truncates.
func Directives(base []string) []string {
	out := make([]string, 0, len(base)+1)
	inserted := false
	for _, d := range base {
		if d == "mxsign" {
			return append([]string(nil), base...)
		}
		if d == "file" && !inserted {
			out = append(out, "mxsign")
			inserted = true
		}
		out = append(out, d)
	}
	if !inserted {
		out = append(out, "mxsign")
	}
	return out
}
