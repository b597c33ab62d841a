package cluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/mxsign/mxsign/zonestore"
)

// BenchmarkApply measures committed writes through the leader (proposal,
// replication, fsync of the raft log and of the store, local apply):
// one addHosts command per op with 1 or 100 hosts, on 1 and 3 voters.
func BenchmarkApply(b *testing.B) {
	for _, voters := range []int{1, 3} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("nodes=%d/hosts=%d", voters, batch), func(b *testing.B) {
				nodes := startCluster(b, voters, 0, nil)
				leader := leaderOf(b, nodes)
				p := provisioner(b, leader.Node)
				cfg, prof := testZoneConfig()
				cfg.ShardSize = 1 << 20
				ctx := context.Background()
				if err := p.Init(ctx, cfg, prof); err != nil {
					b.Fatal(err)
				}
				mustAdd(b, p, "first.example.org") // creates the shard
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					ds := make([]string, batch)
					for j := range ds {
						ds[j] = fmt.Sprintf("h%d.example.com", i)
						i++
					}
					res, err := p.AddDomains(ctx, ds)
					if err != nil || res[0].Err != nil {
						b.Fatalf("AddDomains: %v %v", err, res[0].Err)
					}
				}
				b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "hosts/s")
			})
		}
	}
}

// BenchmarkApplyNodeCmd is the raw commit path with a tiny command.
func BenchmarkApplyNodeCmd(b *testing.B) {
	nodes := startCluster(b, 3, 0, nil)
	leader := leaderOf(b, nodes)
	cmd := &zonestore.Command{V: 1, Op: zonestore.OpNode, Time: t0, Node: &zonestore.NodeCmd{ID: "bench", Raft: "127.0.0.1:1"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := leader.Apply(context.Background(), cmd); err != nil {
			b.Fatal(err)
		}
	}
}
