// Command loadgen is the bench's sender process (bench/README.md): the gRPC side of every target
// — channeld's ChannelService (and the grpc-js baseline's, same proto), Centrifugo's server API,
// channeld's HTTP/JSON API — driven by the coordinator (bench/run.ts) with one JSON message a line
// on stdin, replies and progress on stdout (bench/ipc.ts: SenderRequest, SenderMessage). Written
// in Go so that the sender is not what limits a run: one Node grpc-js client spends about twice
// the server's CPU per call.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const progressInterval = 25 * time.Millisecond

// units counts the deliveries the current run has issued and not failed (the coordinator's gate).
var units atomic.Int64

type generator struct {
	backend backend
	http    *httpBackend

	mu       sync.Mutex
	gateOpen bool
	current  *flow
}

func (g *generator) startFlow(limit int) *flow {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gateOpen = true
	g.current = newFlow(limit, true)
	return g.current
}

func (g *generator) endFlow() {
	g.mu.Lock()
	g.current = nil
	g.mu.Unlock()
}

func (g *generator) setGate(open bool) {
	g.mu.Lock()
	g.gateOpen = open
	f := g.current
	g.mu.Unlock()
	if f != nil {
		f.setGate(open)
	}
}

func (g *generator) disconnect() {
	if g.backend != nil {
		g.backend.close()
		g.backend = nil
	}
	if g.http != nil {
		g.http.close()
		g.http = nil
	}
}

func (g *generator) connect(e *Endpoint) error {
	g.disconnect()
	if e == nil {
		return fmt.Errorf("connect without an endpoint")
	}
	switch e.Kind {
	case "channeld", "baseline":
		b, err := newChanneldBackend(*e)
		if err != nil {
			return err
		}
		g.backend = b
		if e.Kind == "channeld" {
			g.http = newHTTPBackend(*e)
		}
	case "centrifugo":
		b, err := newCentrifugoBackend(*e)
		if err != nil {
			return err
		}
		g.backend = b
	default:
		return fmt.Errorf("unknown endpoint kind %q", e.Kind)
	}
	return nil
}

func (g *generator) connected() (backend, error) {
	if g.backend == nil {
		return nil, fmt.Errorf("not connected")
	}
	return g.backend, nil
}

func (g *generator) handle(r *request) (any, error) {
	ctx := context.Background()
	switch r.Type {
	case "connect":
		return nil, g.connect(r.Endpoint)
	case "disconnect":
		g.disconnect()
		return nil, nil
	case "mint":
		b, err := g.connected()
		if err != nil {
			return nil, err
		}
		return b.mint(ctx, r.ClientIDs, r.Concurrency)
	case "subscribe":
		b, err := g.connected()
		if err != nil {
			return nil, err
		}
		return b.subscribe(ctx, r.ClientIDs, r.Topic)
	case "probe":
		if r.Method == "http" {
			return g.http != nil && g.http.probe(ctx), nil
		}
		b, err := g.connected()
		if err != nil {
			return nil, err
		}
		return b.probe(ctx, r.Method), nil
	case "run":
		if r.Spec == nil {
			return nil, fmt.Errorf("run without a spec")
		}
		return g.run(r.Spec)
	}
	return nil, fmt.Errorf("unknown request %q", r.Type)
}

// out serialises writes to stdout: replies come from several goroutines.
type out struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

func (o *out) send(v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
	if err := o.w.Flush(); err != nil {
		// The coordinator is gone.
		os.Exit(0)
	}
}

func main() {
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	o := &out{w: w, enc: json.NewEncoder(w)}
	g := &generator{gateOpen: true}
	go func() {
		last := int64(-1)
		for range time.Tick(progressInterval) {
			if u := units.Load(); u != last {
				last = u
				o.send(sentMessage{Type: "sent", Units: u})
			}
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<28)
	// Requests run one at a time, in order, except gate messages, which must reach a running run.
	queue := make(chan *request, 64)
	go func() {
		for r := range queue {
			value, err := g.handle(r)
			if err != nil {
				o.send(reply{Type: "reply", Req: *r.Req, OK: false, Error: err.Error()})
			} else {
				o.send(reply{Type: "reply", Req: *r.Req, OK: true, Value: value})
			}
		}
	}()
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: unreadable request: %v\n", err)
			os.Exit(2)
		}
		if r.Type == "gate" {
			g.setGate(r.Open)
			continue
		}
		if r.Req == nil {
			fmt.Fprintf(os.Stderr, "loadgen: request %q without req\n", r.Type)
			os.Exit(2)
		}
		queue <- &r
	}
	// stdin closed: the coordinator owns this process, so it ends with it.
	os.Exit(0)
}
