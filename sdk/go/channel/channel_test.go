package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	channelv1 "github.com/channeld/channeld/gen/go/channel/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Nothing listens on port 1: a validation error that reached the network would come back as
// UNAVAILABLE instead.
func offlineClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(WithAddress("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestValidationErrors(t *testing.T) {
	c := offlineClient(t)
	ctx := context.Background()
	create := func(id string) error { _, err := c.Create(ctx, id); return err }
	withDuration := func(d time.Duration) error { _, err := c.CreateWithDuration(ctx, "alice", d); return err }
	cases := []struct {
		name string
		err  error
		want error
		text string
	}{
		{"empty client id", create(""), ErrInvalidClientID,
			"API error 2 (channel: INVALID_CHANNEL_KEY): client_id is empty; it must be 1 to 256 bytes of UTF-8"},
		{"long client id", create(strings.Repeat("x", 257)), ErrInvalidClientID,
			"API error 2 (channel: INVALID_CHANNEL_KEY): client_id is 257 bytes; the limit is 256"},
		{"client id not UTF-8", create("\xff"), ErrInvalidClientID,
			"API error 2 (channel: INVALID_CHANNEL_KEY): client_id is not valid UTF-8"},
		{"zero duration", withDuration(0), ErrInvalidTokenDuration,
			"API error 4 (channel: INVALID_CHANNEL_TOKEN_DURATION): duration is 0s; it must be a whole number of minutes from 1 to 1440"},
		{"duration over a day", withDuration(1441 * time.Minute), ErrInvalidTokenDuration, ""},
		{"duration not whole minutes", withDuration(90 * time.Second), ErrInvalidTokenDuration, ""},
		{"send to empty client id", c.Send(ctx, "", "hi"), ErrInvalidClientID, ""},
		{"empty message", c.Send(ctx, "alice", ""), ErrInvalidMessage,
			"API error 3 (channel: BAD_MESSAGE): message is empty; it must be 1 to 32767 bytes of UTF-8"},
		{"message over 32767 bytes", c.Send(ctx, "alice", strings.Repeat("é", 16384)), ErrInvalidMessage,
			"API error 3 (channel: BAD_MESSAGE): message is 32768 bytes; the limit is 32767"},
		{"JSON over 32767 bytes", c.SendJSON(ctx, "alice", strings.Repeat("x", 32766)), ErrInvalidMessage, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
			var apiErr *APIError
			if !errors.As(tc.err, &apiErr) || apiErr.Err != nil {
				t.Fatalf("want a client-side *APIError, got %#v", tc.err)
			}
			if tc.text != "" && tc.err.Error() != tc.text {
				t.Fatalf("text %q, want %q", tc.err.Error(), tc.text)
			}
		})
	}
	if errors.Is(create(""), ErrInvalidMessage) {
		t.Fatal("an invalid client id must not match ErrInvalidMessage")
	}
}

func TestSendJSONReportsEncodingErrors(t *testing.T) {
	err := offlineClient(t).SendJSON(context.Background(), "alice", make(chan int))
	var unsupported *json.UnsupportedTypeError
	if !errors.As(err, &unsupported) {
		t.Fatalf("got %v, want *json.UnsupportedTypeError", err)
	}
}

func TestNewContextPicksTheClient(t *testing.T) {
	ctx := NewContext(context.Background(), offlineClient(t))
	_, err := Create(ctx, "alice")
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("want UNAVAILABLE from the offline client in ctx, got %v", err)
	}
}

// The tests below need a live channeld: CHANNELD_GRPC_ADDR (and CHANNELD_API_KEY when the server
// has keys). test/backend-go.test.ts runs them against one; without it they skip.
func live(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv(EnvAddr) == "" {
		t.Skip(EnvAddr + " is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLiveCreateAndSend(t *testing.T) {
	ctx := live(t)
	token, err := Create(ctx, "go-sdk-live")
	if err != nil || token == "" {
		t.Fatalf("Create: %q, %v", token, err)
	}
	other, err := CreateWithDuration(ctx, "go-sdk-live", 5*time.Minute)
	if err != nil || other == "" || other == token {
		t.Fatalf("CreateWithDuration: %q, %v (each call mints a new token)", other, err)
	}
	if err := Send(ctx, "go-sdk-live", "plain"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := SendJSON(ctx, "go-sdk-live", map[string]int{"n": 1}); err != nil {
		t.Fatalf("SendJSON: %v", err)
	}
}

// Tokens for go-sdk-token that the server no longer takes; test/backend-go.test.ts mints them.
const (
	envExpiredToken = "CHANNELD_TEST_EXPIRED_TOKEN"
	envForeignToken = "CHANNELD_TEST_FOREIGN_TOKEN"
)

// TestLiveSendByToken sends to the token Create returned, as App Engine apps did, and to tokens
// that are no longer live, which are client ids like any other string. It prints the tokens of
// the channels it filled ("live-token <name> <token>"), so the test driving it can open real
// WebSockets with them afterwards: channeld keeps the messages for the next socket.
func TestLiveSendByToken(t *testing.T) {
	ctx := live(t)
	expired, foreign := os.Getenv(envExpiredToken), os.Getenv(envForeignToken)
	if expired == "" || foreign == "" {
		t.Skip(envExpiredToken + " and " + envForeignToken + " are not set")
	}
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	token, err := c.Create(ctx, "go-sdk-token")
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := c.Create(ctx, "go-sdk-revoked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Service().CloseChannel(ctx, &channelv1.CloseChannelRequest{ClientId: "go-sdk-revoked"}); err != nil {
		t.Fatal(err)
	}
	foreignChannel, err := c.Create(ctx, foreign) // the foreign token as a client id of its own
	if err != nil {
		t.Fatal(err)
	}
	sends := []struct {
		to, message string
		want        error
	}{
		{token, "by token", nil},
		{expired, "to an expired token", nil},
		{revoked, "to a revoked token", nil},
		{foreign, "to the client id that looks like a token", nil},
		{strings.Repeat("A", 300), "x", ErrInvalidClientID},
		{"go-sdk-token", "after the tokens that are not live", nil},
	}
	for _, s := range sends {
		if err := c.Send(ctx, s.to, s.message); !errors.Is(err, s.want) {
			t.Fatalf("Send(%.30s…, %q): %v, want %v", s.to, s.message, err, s.want)
		}
	}
	fmt.Printf("live-token go-sdk-token %s\nlive-token foreign %s\n", token, foreignChannel)
}

func TestMayBeToken(t *testing.T) {
	for s, want := range map[string]bool{
		"user-42":                        false,
		"":                               false,
		strings.Repeat("A", 21):          false,
		strings.Repeat("A", 22):          true,
		"AAAAAAAAAAAA.AAAAAAAAAAAA":      true,
		"AAAAAAAAAAAA.AAAAAAAAAA.AAAAAA": false,
		".AAAAAAAAAAAAAAAAAAAAAAAA":      false,
		"AAAAAAAAAAAAAAAAAAAAAAAA.":      false,
		"visitor@example.com-0123456789": false,
		"AAAAAAAAAAAA AAAAAAAAAAAA":      false,
	} {
		if got := mayBeToken(s); got != want {
			t.Errorf("mayBeToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLiveServerRejectionsBecomeAPIErrors(t *testing.T) {
	ctx := live(t)
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Straight through the stubs, past the client-side checks, so the server is the one refusing.
	_, err = c.Service().CreateChannel(ctx, &channelv1.CreateChannelRequest{ClientId: "alice", DurationMinutes: 5000})
	err = remapError(err)
	if !errors.Is(err, ErrInvalidTokenDuration) || status.Code(errors.Unwrap(err)) != codes.InvalidArgument {
		t.Fatalf("got %v, want ErrInvalidTokenDuration wrapping INVALID_ARGUMENT", err)
	}
	if !strings.Contains(err.Error(), "duration_minutes is 5000") {
		t.Fatalf("the server's detail is lost: %v", err)
	}
	_, err = c.Service().SendMessage(ctx, &channelv1.SendMessageRequest{
		Target: &channelv1.SendMessageRequest_ClientId{ClientId: "alice"}, Message: "",
	})
	if err = remapError(err); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("got %v, want ErrInvalidMessage", err)
	}
}

func TestLiveWrongAPIKeyIsUnauthenticated(t *testing.T) {
	ctx := live(t)
	if os.Getenv(EnvAPIKey) == "" {
		t.Skip(EnvAPIKey + " is not set, so the server has no keys to refuse")
	}
	c, err := NewClient(WithAPIKey("not-the-key"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx, "alice"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("got %v, want UNAUTHENTICATED", err)
	}
}
