package main

import (
	"context"
	"errors"
)

// message is one message to one client: the payload is encoded just before the call.
type message struct {
	clientID string
	payload  string
}

// errUnsupported marks a method a target does not have (the scenario is skipped).
var errUnsupported = errors.New("not supported by this target")

// sendAPI is what the unary and batch runs call (over gRPC, or channeld's HTTP API).
type sendAPI interface {
	send(ctx context.Context, m message) error
	// sendBatch sends several messages in one call; the slice holds one error (nil: sent) per message.
	sendBatch(ctx context.Context, ms []message) ([]error, error)
}

// backend is one server's API as the scenarios use it.
type backend interface {
	// mint returns one connection token per client id, in order.
	mint(ctx context.Context, clientIDs []string, concurrency int) ([]string, error)
	// subscribe adds the clients to a topic (fan-out channel); returns how many were added.
	subscribe(ctx context.Context, clientIDs []string, topic string) (int, error)
	// probe says whether the target implements a method (broadcast, streamMessages, sendMessages).
	probe(ctx context.Context, method string) bool
	sendAPI
	broadcast(ctx context.Context, topic, payload string) error
	// openStream starts a StreamMessages call, or returns errUnsupported.
	openStream(ctx context.Context) (messageStream, error)
	close()
}

// messageStream is a StreamMessages call: requests with ids, results matched by id.
type messageStream interface {
	// send writes one request; slots are the messages' client slots, handed back by recv.
	send(id uint64, ms []message, batched bool, slots []int) error
	// recv returns one request's slots and one error (nil: sent) per message.
	recv() ([]int, []error, error)
	// pending forgets the requests still awaiting results and says how many messages they held.
	pending() int
	closeSend() error
}
