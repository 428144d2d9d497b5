package channel

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	channelv1 "github.com/channeld/channeld/gen/go/channel/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const (
	// EnvAddr names the environment variable holding channeld's gRPC address (host:port).
	EnvAddr = "CHANNELD_GRPC_ADDR"
	// EnvAPIKey names the environment variable holding the API key, when the server has keys.
	EnvAPIKey = "CHANNELD_API_KEY"
	// DefaultAddr is where `npm start` serves gRPC.
	DefaultAddr = "127.0.0.1:50051"
)

// Client talks to one channeld server. It is safe for concurrent use; make one per process.
type Client struct {
	conn *grpc.ClientConn
	api  channelv1.ChannelServiceClient
}

type options struct {
	addr     string
	apiKey   string
	dialOpts []grpc.DialOption
}

// Option configures NewClient.
type Option func(*options)

// WithAddress sets the server's gRPC address (host:port), overriding CHANNELD_GRPC_ADDR.
func WithAddress(addr string) Option { return func(o *options) { o.addr = addr } }

// WithAPIKey sets the API key, overriding CHANNELD_API_KEY. An empty key sends no authorization.
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithDialOptions adds gRPC dial options, e.g. grpc.WithTransportCredentials for TLS (the
// default is plaintext, as channeld serves gRPC on loopback out of the box).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// NewClient returns a Client configured by the environment, then by opts. It does not connect:
// the connection is made on the first call and re-made after failures.
func NewClient(opts ...Option) (*Client, error) {
	o := options{addr: os.Getenv(EnvAddr), apiKey: os.Getenv(EnvAPIKey)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.addr == "" {
		o.addr = DefaultAddr
	}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if o.apiKey != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer(o.apiKey)))
	}
	conn, err := grpc.NewClient(o.addr, append(dial, o.dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("channel: client for %s: %w", o.addr, err)
	}
	return &Client{conn: conn, api: channelv1.NewChannelServiceClient(conn)}, nil
}

// Service gives the whole gRPC API (WatchPresence, Broadcast, ...) on this client's connection,
// with its API key.
func (c *Client) Service() channelv1.ChannelServiceClient { return c.api }

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Create mints a token for clientID with the server's default lifetime (120 minutes).
func (c *Client) Create(ctx context.Context, clientID string) (string, error) {
	return c.create(ctx, clientID, 0)
}

// CreateWithDuration mints a token valid for d, a whole number of minutes from 1 to 1440.
func (c *Client) CreateWithDuration(ctx context.Context, clientID string, d time.Duration) (string, error) {
	minutes, err := checkDuration(d)
	if err != nil {
		return "", err
	}
	return c.create(ctx, clientID, minutes)
}

func (c *Client) create(ctx context.Context, clientID string, minutes int32) (string, error) {
	if err := checkClientID(clientID); err != nil {
		return "", err
	}
	res, err := c.api.CreateChannel(ctx, &channelv1.CreateChannelRequest{ClientId: clientID, DurationMinutes: minutes})
	if err != nil {
		return "", remapError(err)
	}
	return res.GetToken(), nil
}

// Send sends message (1 to 32767 bytes of UTF-8) to clientID's channel.
//
// clientID may also be a token returned by Create, as on App Engine: a string that is a live
// token of this server addresses that token's client; any other string, an invalid, expired or
// revoked token included, is a client id (App Engine's service did the same, so a message to a
// dead token reached no one, without an error).
func (c *Client) Send(ctx context.Context, clientID, message string) error {
	tokenShaped := mayBeToken(clientID)
	if !tokenShaped {
		if err := checkClientID(clientID); err != nil {
			return err
		}
	}
	if err := checkMessage(message); err != nil {
		return err
	}
	if tokenShaped {
		// Only the server can tell a token from a client id of the same shape: ask it.
		_, err := c.api.SendMessage(ctx, &channelv1.SendMessageRequest{
			Target:  &channelv1.SendMessageRequest_Token{Token: clientID},
			Message: message,
		})
		if !refusesToken(err) {
			return remapError(err)
		}
		if err := checkClientID(clientID); err != nil {
			return err
		}
	}
	_, err := c.api.SendMessage(ctx, &channelv1.SendMessageRequest{
		Target:  &channelv1.SendMessageRequest_ClientId{ClientId: clientID},
		Message: message,
	})
	return remapError(err)
}

// minTokenChars is 128 bits of URL-safe base64, the least any channeld token carries.
const minTokenChars = 22

// mayBeToken reports whether s has the shape of a channeld token: URL-safe base64 of at least
// 128 bits (a version 1 token has one "." in it). Any other string cannot be a token and goes to
// the client id without asking the server. The rule is loose on purpose: a copy of this package
// in an app keeps recognising the tokens of a newer server, whatever their layout.
func mayBeToken(s string) bool {
	if len(s) < minTokenChars {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_':
		case b == '.' && i > 0 && i < len(s)-1 && dots == 0:
			dots++
		default:
			return false
		}
	}
	return true
}

// refusesToken reports whether channeld refused the token target itself: not a token of this
// server (INVALID_ARGUMENT), or one that expired or was revoked (FAILED_PRECONDITION). Its
// messages for the token field start with the field name, as every field's do.
func refusesToken(err error) bool {
	s, ok := status.FromError(err)
	if !ok || err == nil {
		return false
	}
	refused := s.Code() == codes.InvalidArgument || s.Code() == codes.FailedPrecondition
	return refused && strings.HasPrefix(s.Message(), "token ")
}

// SendJSON sends value encoded as JSON.
func (c *Client) SendJSON(ctx context.Context, clientID string, value interface{}) error {
	m, err := marshal(value)
	if err != nil {
		return err
	}
	return c.Send(ctx, clientID, m)
}

// bearer sends the API key with every call. It allows plaintext connections because channeld's
// default gRPC listener is plaintext on loopback; use TLS (WithDialOptions) across a network.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }
