// Package channel is a drop-in replacement for google.golang.org/appengine/channel backed by
// channeld: change the import path and the calls stay the same.
//
//	token, err := channel.Create(ctx, "user-42")            // hand token to the browser
//	err = channel.SendJSON(ctx, "user-42", map[string]any{"hello": "world"})
//
// The package functions use the Client carried by ctx (see NewContext) or, without one, a shared
// Client configured from the environment: CHANNELD_GRPC_ADDR (default 127.0.0.1:50051) and
// CHANNELD_API_KEY (sent as "authorization: Bearer <key>" when set).
//
// Arguments are checked before any call, as App Engine did, and bad ones return an *APIError that
// matches ErrInvalidClientID, ErrInvalidTokenDuration or ErrInvalidMessage with errors.Is.
package channel

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Create mints a token for clientID, valid for the server's default of 120 minutes. Each call
// returns a new, independent token; give it only to the browser of that client.
func Create(ctx context.Context, clientID string) (token string, err error) {
	c, err := clientFor(ctx)
	if err != nil {
		return "", err
	}
	return c.Create(ctx, clientID)
}

// CreateWithDuration is Create with a token lifetime: a whole number of minutes from 1 to 1440
// (App Engine's duration_minutes).
func CreateWithDuration(ctx context.Context, clientID string, d time.Duration) (token string, err error) {
	c, err := clientFor(ctx)
	if err != nil {
		return "", err
	}
	return c.CreateWithDuration(ctx, clientID, d)
}

// Send sends message (1 to 32767 bytes of UTF-8) to the client's channel. Like App Engine it does
// not fail because no browser is listening; the message waits for the client's next socket.
// clientID may also be a token Create returned, as on App Engine (see Client.Send).
func Send(ctx context.Context, clientID, message string) error {
	c, err := clientFor(ctx)
	if err != nil {
		return err
	}
	return c.Send(ctx, clientID, message)
}

// SendJSON sends value encoded as JSON.
func SendJSON(ctx context.Context, clientID string, value interface{}) error {
	c, err := clientFor(ctx)
	if err != nil {
		return err
	}
	return c.SendJSON(ctx, clientID, value)
}

type contextKey struct{}

// NewContext returns a context whose package-level calls (Create, Send, ...) use c instead of the
// client configured from the environment.
func NewContext(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

var (
	defaultOnce   sync.Once
	defaultClient *Client
	defaultErr    error
)

func clientFor(ctx context.Context) (*Client, error) {
	if c, ok := ctx.Value(contextKey{}).(*Client); ok && c != nil {
		return c, nil
	}
	defaultOnce.Do(func() { defaultClient, defaultErr = NewClient() })
	return defaultClient, defaultErr
}

func marshal(value interface{}) (string, error) {
	m, err := json.Marshal(value)
	if err != nil {
		return "", err
	}
	return string(m), nil
}
