package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	channelv1 "github.com/channeld/channeld/gen/go/channel/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const subscribeChunk = 1000

// channeldBackend speaks channel.v1.ChannelService: channeld (one node or a cluster) and the
// grpc-js baseline, which serves the same proto.
type channeldBackend struct {
	conn   *grpc.ClientConn
	client channelv1.ChannelServiceClient
	apiKey string
}

// grpcConn dials one HTTP/2 connection, as the Node senders did (one channel per process): calls
// are multiplexed on it.
func grpcConn(host string, port int) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(fmt.Sprintf("%s:%d", host, port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)),
		// Large windows, so flow control does not set the pace of a batch or a stream.
		grpc.WithInitialWindowSize(1<<24),
		grpc.WithInitialConnWindowSize(1<<26),
	)
	if err != nil {
		return nil, err
	}
	conn.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		s := conn.GetState()
		if s.String() == "READY" {
			return conn, nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			return nil, fmt.Errorf("gRPC %s:%d not ready within 10 s (state %s)", host, port, s)
		}
	}
}

func newChanneldBackend(e Endpoint) (*channeldBackend, error) {
	conn, err := grpcConn(e.Host, e.GRPCPort)
	if err != nil {
		return nil, err
	}
	return &channeldBackend{conn: conn, client: channelv1.NewChannelServiceClient(conn), apiKey: e.APIKey}, nil
}

func (b *channeldBackend) ctx(ctx context.Context) context.Context {
	if b.apiKey == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b.apiKey)
}

func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", s.Code(), s.Message())
	}
	return err.Error()
}

func (b *channeldBackend) mint(ctx context.Context, ids []string, concurrency int) ([]string, error) {
	tokens := make([]string, len(ids))
	return tokens, parallel(len(ids), concurrency, func(i int) error {
		res, err := b.client.CreateChannel(b.ctx(ctx), &channelv1.CreateChannelRequest{ClientId: ids[i], DurationMinutes: 60})
		if err != nil {
			return fmt.Errorf("CreateChannel: %s", describe(err))
		}
		tokens[i] = res.GetToken()
		return nil
	})
}

func (b *channeldBackend) subscribe(ctx context.Context, ids []string, topic string) (int, error) {
	added := 0
	for i := 0; i < len(ids); i += subscribeChunk {
		res, err := b.client.Subscribe(b.ctx(ctx), &channelv1.SubscribeRequest{ClientIds: ids[i:min(len(ids), i+subscribeChunk)], Topic: topic})
		if err != nil {
			return added, fmt.Errorf("Subscribe: %s", describe(err))
		}
		added += int(res.GetAdded())
	}
	return added, nil
}

func unimplemented(err error) bool { return status.Code(err) == codes.Unimplemented }

func (b *channeldBackend) probe(ctx context.Context, method string) bool {
	switch method {
	case "broadcast":
		_, err := b.client.Broadcast(b.ctx(ctx), &channelv1.BroadcastRequest{Message: "probe"})
		return !unimplemented(err)
	case "sendMessages":
		_, err := b.client.SendMessages(b.ctx(ctx), &channelv1.SendMessagesRequest{})
		return !unimplemented(err)
	case "streamMessages":
		s, err := b.client.StreamMessages(b.ctx(ctx))
		if err != nil {
			return !unimplemented(err)
		}
		if err := s.CloseSend(); err != nil {
			return false
		}
		for {
			if _, err := s.Recv(); err != nil {
				return !unimplemented(err)
			}
		}
	}
	return false
}

func sendRequest(m message) *channelv1.SendMessageRequest {
	return &channelv1.SendMessageRequest{Target: &channelv1.SendMessageRequest_ClientId{ClientId: m.clientID}, Message: m.payload}
}

func (b *channeldBackend) send(ctx context.Context, m message) error {
	_, err := b.client.SendMessage(b.ctx(ctx), sendRequest(m))
	if err != nil {
		return fmt.Errorf("SendMessage: %s", describe(err))
	}
	return nil
}

// resultErrors turns SendMessageResults into one error (nil: sent) per message.
func resultErrors(results []*channelv1.SendMessageResult, want int, what string) ([]error, error) {
	if len(results) != want {
		return nil, fmt.Errorf("%s: %d results for %d messages", what, len(results), want)
	}
	out := make([]error, want)
	for i, r := range results {
		switch {
		case r.GetSent() != nil:
		case r.GetError() != nil:
			out[i] = fmt.Errorf("%s item: %d %s", what, r.GetError().GetCode(), r.GetError().GetMessage())
		default:
			out[i] = fmt.Errorf("%s item: empty result", what)
		}
	}
	return out, nil
}

func (b *channeldBackend) sendBatch(ctx context.Context, ms []message) ([]error, error) {
	reqs := make([]*channelv1.SendMessageRequest, len(ms))
	for i, m := range ms {
		reqs[i] = sendRequest(m)
	}
	res, err := b.client.SendMessages(b.ctx(ctx), &channelv1.SendMessagesRequest{Requests: reqs})
	if err != nil {
		return nil, fmt.Errorf("SendMessages: %s", describe(err))
	}
	return resultErrors(res.GetResults(), len(ms), "SendMessages")
}

func (b *channeldBackend) broadcast(ctx context.Context, topic, payload string) error {
	_, err := b.client.Broadcast(b.ctx(ctx), &channelv1.BroadcastRequest{Message: payload, Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("Broadcast: %s", describe(err))
	}
	return nil
}

type channeldStream struct {
	s grpc.BidiStreamingClient[channelv1.StreamMessagesRequest, channelv1.StreamMessagesResponse]
	// slots holds the client slots of each request in flight, to check and count its results.
	mu    sync.Mutex
	slots map[uint64][]int
}

func (b *channeldBackend) openStream(ctx context.Context) (messageStream, error) {
	s, err := b.client.StreamMessages(b.ctx(ctx))
	if err != nil {
		return nil, fmt.Errorf("StreamMessages: %s", describe(err))
	}
	return &channeldStream{s: s, slots: map[uint64][]int{}}, nil
}

func (c *channeldStream) send(id uint64, ms []message, batched bool, slots []int) error {
	req := &channelv1.StreamMessagesRequest{Id: id}
	if batched {
		req.Requests = make([]*channelv1.SendMessageRequest, len(ms))
		for i, m := range ms {
			req.Requests[i] = sendRequest(m)
		}
	} else {
		req.Request = sendRequest(ms[0])
	}
	c.mu.Lock()
	c.slots[id] = slots
	c.mu.Unlock()
	return c.s.Send(req)
}

func (c *channeldStream) recv() ([]int, []error, error) {
	res, err := c.s.Recv()
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	slots, ok := c.slots[res.GetId()]
	delete(c.slots, res.GetId())
	c.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("StreamMessages: a response for unknown id %d", res.GetId())
	}
	results := res.GetResults()
	if res.GetResult() != nil {
		results = []*channelv1.SendMessageResult{res.GetResult()}
	}
	errs, err := resultErrors(results, len(slots), "StreamMessages")
	if err != nil {
		// Its messages count as lost with the ones still in flight.
		c.mu.Lock()
		c.slots[res.GetId()] = slots
		c.mu.Unlock()
	}
	return slots, errs, err
}

func (c *channeldStream) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for id, slots := range c.slots {
		n += len(slots)
		delete(c.slots, id)
	}
	return n
}

func (c *channeldStream) closeSend() error { return c.s.CloseSend() }

func (b *channeldBackend) close() { b.conn.Close() }

// parallel runs fn(0…n-1) with at most `concurrency` at once; the first error wins.
func parallel(n, concurrency int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < max(1, concurrency); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= n || first != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
