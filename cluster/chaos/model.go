package main

import (
	"fmt"
	"math"
	"time"

	"github.com/anishathalye/porcupine"
)

// unknownReturn stands for "never returned": an add with an unknown outcome
// may take effect at any point after its call, so porcupine sees it as still
// running when the history ends.
const unknownReturn = math.MaxInt64 / 2

// modelInput and modelOutput are the porcupine Input and Output of an Op.
type modelInput struct {
	Kind   Kind
	Domain string
}

// domainModel is a set of domains. The history is partitioned by domain, so
// the state of one partition is a single bool: is the domain in the set.
var domainModel = porcupine.Model{
	Partition: partitionByDomain,
	Init:      func() any { return false },
	Step: func(state, input, output any) (bool, any) {
		present := state.(bool)
		in := input.(modelInput)
		switch out := output.(Result); {
		case in.Kind == KindAdd && out == ResultOK:
			return !present, true
		case in.Kind == KindAdd && out == ResultExists:
			return present, true
		case in.Kind == KindAdd && out == ResultUnknown:
			// It happened (201 or 409: either way the domain is there now).
			// Not happening is covered by linearizing it after every other op.
			return true, true
		case in.Kind == KindGet && out == ResultPresent:
			return present, present
		case in.Kind == KindGet && out == ResultAbsent:
			return !present, present
		default:
			return false, present
		}
	},
	DescribeOperation: func(input, output any) string {
		in := input.(modelInput)
		return fmt.Sprintf("%s(%s) -> %s", in.Kind, in.Domain, output.(Result))
	},
	DescribeState: func(state any) string {
		if state.(bool) {
			return "present"
		}
		return "absent"
	},
}

func partitionByDomain(history []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		d := op.Input.(modelInput).Domain
		i, ok := idx[d]
		if !ok {
			i = len(parts)
			idx[d] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// checkOptions selects the operations that go to the checker.
type checkOptions struct {
	// StaleReads leaves out reads answered "absent" during the run: each node
	// answers reads from its own applied state, so a follower may not yet
	// have a write the leader acknowledged. Reads answered "present" are
	// always checked (no node may show a domain before it was added), and so
	// are the verify reads (taken after every node caught up).
	StaleReads bool
}

// toPorcupine converts the history; failed reads are dropped.
func toPorcupine(ops []Op, opt checkOptions) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		if op.Result == ResultFailed {
			continue
		}
		if opt.StaleReads && op.Kind == KindGet && op.Result == ResultAbsent && op.Phase != "verify" {
			continue
		}
		ret := op.Return
		if op.Result == ResultUnknown {
			ret = unknownReturn
		}
		out = append(out, porcupine.Operation{
			ClientId: op.Client,
			Input:    modelInput{Kind: op.Kind, Domain: op.Domain},
			Call:     op.Call,
			Output:   op.Result,
			Return:   ret,
		})
	}
	return out
}

// CheckResult is the verdict on a history.
type CheckResult struct {
	Result  porcupine.CheckResult
	Checked int      // operations given to the checker
	Illegal []string // domains whose sub-history is not linearizable
}

// checkHistory runs porcupine over ops, partitioned by domain. On an illegal
// history it names the offending domains by checking each partition alone.
func checkHistory(ops []Op, opt checkOptions, timeout time.Duration) CheckResult {
	hist := toPorcupine(ops, opt)
	res := CheckResult{Checked: len(hist)}
	res.Result = porcupine.CheckOperationsTimeout(domainModel, hist, timeout)
	if res.Result != porcupine.Illegal {
		return res
	}
	for _, part := range partitionByDomain(hist) {
		if !porcupine.CheckOperations(domainModel, part) {
			res.Illegal = append(res.Illegal, part[0].Input.(modelInput).Domain)
		}
	}
	return res
}
