package udpfront

import (
	"net"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// batch holds the answers of one read batch until they are written together.
type batch struct {
	msgs []ipv4.Message // msgs[:n] are the answers; each keeps its buffer between batches
	n    int
}

func newBatch() *batch {
	b := &batch{msgs: make([]ipv4.Message, batchSize)}
	for i := range b.msgs {
		b.msgs[i].Buffers = [][]byte{make([]byte, 0, 1232)}
	}
	return b
}

// next returns the buffer of the next answer, grown past batchSize if a query is
// answered more than once.
func (b *batch) next(to net.Addr) *ipv4.Message {
	if b.n == len(b.msgs) {
		b.msgs = append(b.msgs, ipv4.Message{Buffers: [][]byte{nil}})
	}
	m := &b.msgs[b.n]
	b.n++
	m.Addr = to
	return m
}

// answer has fast answer query into the next buffer, which joins the batch if fast
// Answered; the buffer is kept, grown or not, either way.
func (b *batch) answer(to net.Addr, fast Fast, query []byte) Verdict {
	m := b.next(to)
	ans, v := safeAnswer(fast, m.Buffers[0][:0], query)
	if v == Answered {
		m.Buffers[0] = ans
		return v
	}
	m.Buffers[0] = ans[:0]
	m.Addr = nil
	b.n--
	return v
}

// safeAnswer asks fast, turning a panic into Spawn: the server's recovery then answers
// SERVFAIL and logs it.
func safeAnswer(fast Fast, dst, query []byte) (ans []byte, v Verdict) {
	defer func() {
		if recover() != nil {
			ans, v = dst, Spawn
		}
	}()
	return fast.Answer(dst, query)
}

// appendBytes adds an answer.
func (b *batch) appendBytes(p []byte, to net.Addr) {
	m := b.next(to)
	m.Buffers[0] = append(m.Buffers[0][:0], p...)
}

// appendMsg packs an answer into the batch.
func (b *batch) appendMsg(msg *dns.Msg, to net.Addr) error {
	m := b.next(to)
	p, err := msg.PackBuffer(m.Buffers[0][:cap(m.Buffers[0])])
	if err != nil {
		b.n--
		return err
	}
	m.Buffers[0] = p
	return nil
}

// reset empties the batch, keeping its buffers.
func (b *batch) reset() {
	for i := range b.msgs[:b.n] {
		b.msgs[i].Addr = nil
	}
	b.n = 0
}
