package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// flow bounds what is in flight and holds sends while the coordinator's gate is closed (too much
// sent but not yet delivered).
type flow struct {
	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
	limit    int
	gateOpen bool
	stopped  bool
}

func newFlow(limit int, gateOpen bool) *flow {
	f := &flow{limit: max(1, limit), gateOpen: gateOpen}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// acquire takes n slots (a request larger than the window may go alone); false once stopped.
func (f *flow) acquire(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.stopped && (!f.gateOpen || (f.inFlight > 0 && f.inFlight+n > f.limit)) {
		f.cond.Wait()
	}
	if f.stopped {
		return false
	}
	f.inFlight += n
	return true
}

func (f *flow) release(n int) {
	f.mu.Lock()
	f.inFlight -= n
	f.mu.Unlock()
	f.cond.Broadcast()
}

func (f *flow) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.cond.Broadcast()
}

func (f *flow) isStopped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stopped
}

func (f *flow) setGate(open bool) {
	f.mu.Lock()
	f.gateOpen = open
	f.mu.Unlock()
	f.cond.Broadcast()
}

func (f *flow) waitIdle() {
	f.mu.Lock()
	for f.inFlight > 0 {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// runState is what one run counts; every field may be touched by many goroutines.
type runState struct {
	spec          *RunSpec
	sentPerClient []int64
	sentPerTopic  []int64
	calls         atomic.Int64
	errors        atomic.Int64
	firstMu       sync.Mutex
	firstError    string
}

func (s *runState) fail(err error, messages int) {
	s.errors.Add(int64(messages))
	units.Add(-int64(s.spec.UnitsPerCall * messages))
	s.firstMu.Lock()
	if s.firstError == "" {
		s.firstError = err.Error()
	}
	s.firstMu.Unlock()
}

func (s *runState) ok(slot int) {
	s.calls.Add(1)
	if slot >= 0 {
		atomic.AddInt64(&s.sentPerClient[slot], 1)
	}
}

// outgoing is one message chosen by the dispatcher: its client slot and number; the payload
// (and its timestamp) is made just before the call.
type outgoing struct {
	slot int
	n    int
}

// run drives one RunSpec: a dispatcher keeps spec.InFlight calls (stream: messages) in flight,
// paced at spec.Rate messages/s when it is set, for spec.DurationMs, then waits for what is in flight.
func (g *generator) run(spec *RunSpec) (*RunReply, error) {
	var api sendAPI = g.backend
	switch spec.Kind {
	case "http-unary", "http-batch":
		if g.http == nil {
			return nil, fmt.Errorf("%s: this target has no HTTP API", spec.Kind)
		}
		api = g.http
	case "unary", "batch", "stream", "broadcast":
	default:
		return nil, fmt.Errorf("unknown run kind %q", spec.Kind)
	}
	if g.backend == nil {
		return nil, fmt.Errorf("not connected")
	}
	count := len(spec.Clients)
	if spec.Kind != "broadcast" && count == 0 {
		return nil, fmt.Errorf("%s run without clients", spec.Kind)
	}
	st := &runState{spec: spec, sentPerClient: make([]int64, count), sentPerTopic: make([]int64, len(spec.Topics))}
	size := 1
	if spec.Kind == "batch" || spec.Kind == "stream" || spec.Kind == "http-batch" {
		size = max(1, spec.Batch)
	}
	// The window counts calls, except for a stream, where it counts messages awaiting results.
	cost := 1
	if spec.Kind == "stream" {
		cost = size
	}
	units.Store(0)
	f := g.startFlow(spec.InFlight)
	defer g.endFlow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var stream messageStream
	var recvDone chan struct{}
	if spec.Kind == "stream" {
		s, err := g.backend.openStream(ctx)
		if err != nil {
			return nil, err
		}
		stream = s
		recvDone = make(chan struct{})
		go func() {
			defer close(recvDone)
			for {
				slots, errs, err := s.recv()
				if err != nil {
					// Whatever is still in flight is lost with the stream (EOF after our close: nothing).
					if lost := s.pending(); lost > 0 {
						st.fail(fmt.Errorf("StreamMessages: %s", describe(err)), lost)
						f.release(lost)
					}
					f.stop()
					return
				}
				for k, e := range errs {
					if e != nil {
						st.fail(e, 1)
					} else {
						st.ok(slots[k])
					}
				}
				f.release(len(errs))
			}
		}()
	}

	start := time.Now()
	startUs := monotonicUs()
	stopTimer := time.AfterFunc(time.Duration(spec.DurationMs*float64(time.Millisecond)), f.stop)
	defer stopTimer.Stop()
	nextN := make([]int, count)
	rr := 0
	issued := 0
	broadcasts := 0
	var wg sync.WaitGroup
	pick := func() outgoing {
		i := rr % count
		rr++
		n := nextN[i]
		nextN[i]++
		return outgoing{slot: i, n: n}
	}
	for {
		if spec.Rate > 0 {
			due := time.Duration(float64(issued) / spec.Rate * float64(time.Second))
			if wait := due - time.Since(start); wait > 0 {
				time.Sleep(wait)
			}
		}
		if !f.acquire(cost) {
			break
		}
		issued += size
		units.Add(int64(spec.UnitsPerCall * size))
		switch spec.Kind {
		case "broadcast":
			n := spec.NOffset + broadcasts*spec.NStride
			topic, topicSlot := spec.Topic, -1
			if len(spec.Topics) > 0 {
				topicSlot = broadcasts % len(spec.Topics)
				topic = spec.Topics[topicSlot]
			}
			broadcasts++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer f.release(1)
				payload := string(encodePayload(nil, -1, n, monotonicUs(), spec.MessageBytes))
				if err := g.backend.broadcast(ctx, topic, payload); err != nil {
					st.fail(err, 1)
				} else {
					st.ok(-1)
					if topicSlot >= 0 {
						atomic.AddInt64(&st.sentPerTopic[topicSlot], 1)
					}
				}
			}()
		case "unary", "http-unary":
			o := pick()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer f.release(1)
				c := spec.Clients[o.slot]
				payload := string(encodePayload(nil, c.ClientIdx, o.n, monotonicUs(), spec.MessageBytes))
				if err := api.send(ctx, message{clientID: c.ClientID, payload: payload}); err != nil {
					st.fail(err, 1)
				} else {
					st.ok(o.slot)
				}
			}()
		case "batch", "http-batch":
			picked := make([]outgoing, size)
			for k := range picked {
				picked[k] = pick()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer f.release(1)
				ms := buildMessages(spec, picked)
				errs, err := api.sendBatch(ctx, ms)
				if err != nil {
					st.fail(err, len(ms))
					return
				}
				for k, e := range errs {
					if e != nil {
						st.fail(e, 1)
					} else {
						st.ok(picked[k].slot)
					}
				}
			}()
		case "stream":
			picked := make([]outgoing, size)
			for k := range picked {
				picked[k] = pick()
			}
			slots := make([]int, size)
			for k, o := range picked {
				slots[k] = o.slot
			}
			if err := stream.send(uint64(issued), buildMessages(spec, picked), spec.Batch > 1, slots); err != nil {
				// The stream is gone: what it still held is lost (whichever side takes pending() counts it).
				if lost := stream.pending(); lost > 0 {
					st.fail(fmt.Errorf("StreamMessages: %s", describe(err)), lost)
					f.release(lost)
				}
				f.stop()
			}
		}
	}
	wg.Wait()
	if stream != nil {
		// Every result, or the end of the receiving side (a broken stream), whichever comes first.
		idle := make(chan struct{})
		go func() {
			f.waitIdle()
			close(idle)
		}()
		select {
		case <-idle:
		case <-recvDone:
		}
		_ = stream.closeSend()
		<-recvDone
		// A request written after the receiving side ended never gets its results.
		if lost := stream.pending(); lost > 0 {
			st.fail(fmt.Errorf("StreamMessages: the stream ended with %d messages unanswered", lost), lost)
			f.release(lost)
		}
		<-idle
	}
	return &RunReply{
		SentPerClient: st.sentPerClient,
		SentPerTopic:  st.sentPerTopic,
		Calls:         st.calls.Load(),
		Errors:        st.errors.Load(),
		FirstError:    st.firstError,
		ElapsedMs:     float64(monotonicUs()-startUs) / 1000,
	}, nil
}

func buildMessages(spec *RunSpec, picked []outgoing) []message {
	ms := make([]message, len(picked))
	var buf []byte
	for k, o := range picked {
		c := spec.Clients[o.slot]
		buf = encodePayload(buf, c.ClientIdx, o.n, monotonicUs(), spec.MessageBytes)
		ms[k] = message{clientID: c.ClientID, payload: string(buf)}
	}
	return ms
}
