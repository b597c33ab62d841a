package mxsign

import (
	"context"
	"reflect"
	"sync"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// Writing packed answers.
//
// WriteMsg would have the server's writer pack the answer again; Write sends our bytes
// as they are. But the plugins before us wrap the ResponseWriter and some of them learn
// the answer only from WriteMsg: the log and prometheus plugins record its rcode (and
// log reads the message) in a dnstest.Recorder, nsid adds an option. So the wrappers
// are walked first: those we know are given what they record and pass Write through;
// any other wrapper gets the answer through WriteMsg, as a message unpacked from the
// bytes, so that it can do its job.

// writerKind is what the answer writer does with one ResponseWriter in the chain.
type writerKind int

const (
	writerTerminal writerKind = iota // the server's own writer: takes the bytes
	writerPlugin                     // plugin.NextOrFailure's tracking wrapper: passes Write through
	writerUnknown                    // a wrapper we do not know: give it a message
)

// pluginWriterType is the type of the wrapper plugin.NextOrFailure puts around the
// writer it hands to the next plugin (unexported in CoreDNS), found by asking for one.
var pluginWriterType = func() reflect.Type {
	var t reflect.Type
	next := plugin.HandlerFunc(func(_ context.Context, w dns.ResponseWriter, _ *dns.Msg) (int, error) {
		t = reflect.TypeOf(w)
		return 0, nil
	})
	plugin.NextOrFailure("mxsign", next, context.Background(), nil, nil)
	return t
}()

var responseWriterType = reflect.TypeFor[dns.ResponseWriter]()

// pluginWriterInner is the index of the field of pluginWriterType that holds the
// writer it wraps; -1 if there is none (then it is treated as an unknown wrapper).
var pluginWriterInner = func() int {
	if pluginWriterType == nil || pluginWriterType.Kind() != reflect.Pointer || pluginWriterType.Elem().Kind() != reflect.Struct {
		return -1
	}
	f, ok := pluginWriterType.Elem().FieldByName("ResponseWriter")
	if !ok || f.Type != responseWriterType || len(f.Index) != 1 {
		return -1
	}
	return f.Index[0]
}()

// writerKinds remembers the kind of each writer type met.
type writerKinds struct {
	kinds sync.Map // reflect.Type -> writerKind
}

func (k *writerKinds) kind(w dns.ResponseWriter) writerKind {
	t := reflect.TypeOf(w)
	if v, ok := k.kinds.Load(t); ok {
		return v.(writerKind)
	}
	kind := classify(t)
	k.kinds.Store(t, kind)
	return kind
}

// classify tells a wrapper, a struct holding another ResponseWriter, from the writer
// at the end of the chain.
func classify(t reflect.Type) writerKind {
	if t == pluginWriterType && pluginWriterInner >= 0 {
		return writerPlugin
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return writerTerminal
	}
	for i := range t.NumField() {
		if ft := t.Field(i).Type; ft == responseWriterType || ft.Kind() != reflect.Interface && ft.Implements(responseWriterType) {
			return writerUnknown
		}
	}
	return writerTerminal
}

// write sends a packed answer whose RCODE is rcode through w.
func (k *writerKinds) write(w dns.ResponseWriter, wire []byte, rcode int) error {
	var msg *dns.Msg // unpacked from wire when a wrapper needs it, once
	unpack := func() (*dns.Msg, error) {
		if msg != nil {
			return msg, nil
		}
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return nil, err
		}
		msg = m
		return m, nil
	}
	for x := w; ; {
		switch v := x.(type) {
		case *request.ScrubWriter:
			// Its WriteMsg fits the answer to the client's buffer and copies the
			// client's EDNS buffer size into the OPT record: ours is fitted already
			// and advertises our own size.
			x = v.ResponseWriter
			continue
		case *metrics.Recorder:
			v.Rcode = rcode // Write counts the length
			x = v.Recorder.ResponseWriter
			continue
		case *dnstest.Recorder:
			m, err := unpack()
			if err != nil {
				return err
			}
			v.Rcode, v.Msg = rcode, m // Write counts the length
			x = v.ResponseWriter
			continue
		}
		kind := k.kind(x)
		if kind == writerPlugin {
			if inner, ok := reflect.ValueOf(x).Elem().Field(pluginWriterInner).Interface().(dns.ResponseWriter); ok {
				x = inner
				continue
			}
			kind = writerUnknown
		}
		if kind == writerTerminal {
			_, err := w.Write(wire)
			return err
		}
		m, err := unpack()
		if err != nil {
			return err
		}
		return w.WriteMsg(m)
	}
}
