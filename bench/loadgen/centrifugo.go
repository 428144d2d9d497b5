package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
)

// centrifugoBackend speaks Centrifugo's server gRPC API (centrifugal.centrifugo.api.CentrifugoApi,
// internal/apiproto/api.proto of Centrifugo v6). Only the few fields the bench needs are encoded,
// with protowire, so no copy of Centrifugo's proto lives here. Each client id has a personal
// channel of the same name, given to its socket as a server-side subscription in the token.
type centrifugoBackend struct {
	conn   *grpc.ClientConn
	secret []byte
	apiKey string
}

const centrifugoService = "/centrifugal.centrifugo.api.CentrifugoApi/"

func newCentrifugoBackend(e Endpoint) (*centrifugoBackend, error) {
	if e.TokenSecret == "" {
		return nil, fmt.Errorf("centrifugo endpoint without a token secret")
	}
	conn, err := grpcConn(e.Host, e.GRPCPort)
	if err != nil {
		return nil, err
	}
	return &centrifugoBackend{conn: conn, secret: []byte(e.TokenSecret), apiKey: e.APIKey}, nil
}

// rawCodec sends and receives already-encoded protobuf bytes.
type rawCodec struct{}

type rawMessage struct{ b []byte }

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*rawMessage).b, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*rawMessage).b = append(v.(*rawMessage).b[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func (b *centrifugoBackend) invoke(ctx context.Context, method string, req []byte) ([]byte, error) {
	if b.apiKey != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "apikey "+b.apiKey)
	}
	var out rawMessage
	if err := b.conn.Invoke(ctx, centrifugoService+method, &rawMessage{b: req}, &out, grpc.ForceCodec(rawCodec{})); err != nil {
		return nil, fmt.Errorf("%s: %s", method, describe(err))
	}
	return out.b, nil
}

// mint signs an HS256 connection JWT per client: sub = client id, and the client's personal
// channel as a server-side subscription (claim "channels").
func (b *centrifugoBackend) mint(_ context.Context, ids []string, _ int) ([]string, error) {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	exp := time.Now().Add(time.Hour).Unix()
	tokens := make([]string, len(ids))
	for i, id := range ids {
		claims, err := json.Marshal(map[string]any{"sub": id, "exp": exp, "channels": []string{id}})
		if err != nil {
			return nil, err
		}
		unsigned := header + "." + base64.RawURLEncoding.EncodeToString(claims)
		mac := hmac.New(sha256.New, b.secret)
		mac.Write([]byte(unsigned))
		tokens[i] = unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	return tokens, nil
}

// SubscribeRequest{channel = 1, user = 2}: subscribes every connection of the user.
func (b *centrifugoBackend) subscribe(ctx context.Context, ids []string, topic string) (int, error) {
	err := parallel(len(ids), 64, func(i int) error {
		var req []byte
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendString(req, topic)
		req = protowire.AppendTag(req, 2, protowire.BytesType)
		req = protowire.AppendString(req, ids[i])
		res, err := b.invoke(ctx, "Subscribe", req)
		if err != nil {
			return err
		}
		return responseError("Subscribe", res)
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}

func (b *centrifugoBackend) probe(_ context.Context, method string) bool {
	return method == "broadcast" || method == "sendMessages"
}

// publishRequest is PublishRequest{channel = 1, data = 2}; data must be JSON, so the payload goes
// as a JSON string (it needs no escaping).
func publishRequest(buf []byte, channel, payload string) []byte {
	buf = protowire.AppendTag(buf, 1, protowire.BytesType)
	buf = protowire.AppendString(buf, channel)
	buf = protowire.AppendTag(buf, 2, protowire.BytesType)
	buf = protowire.AppendVarint(buf, uint64(len(payload)+2))
	buf = append(buf, '"')
	buf = append(buf, payload...)
	return append(buf, '"')
}

// errorField reads Error{code = 1, message = 2}.
func errorField(b []byte) error {
	var code uint64
	var msg string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad Error message")
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return fmt.Errorf("bad Error code")
			}
			code, b = v, b[m:]
		case num == 2 && typ == protowire.BytesType:
			v, m := protowire.ConsumeString(b)
			if m < 0 {
				return fmt.Errorf("bad Error message")
			}
			msg, b = v, b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return fmt.Errorf("bad Error field")
			}
			b = b[m:]
		}
	}
	return fmt.Errorf("code %d: %s", code, msg)
}

// fieldError finds field `errField` (an Error) in a message; nil when it is absent.
func fieldError(b []byte, errField protowire.Number) (error, bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		if num == errField && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, false
			}
			return errorField(v), true
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return nil, false
		}
		b = b[m:]
	}
	return nil, true
}

// responseError: *Response messages carry Error in field 1.
func responseError(method string, res []byte) error {
	err, ok := fieldError(res, 1)
	if !ok {
		return fmt.Errorf("%s: unreadable response", method)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

func (b *centrifugoBackend) send(ctx context.Context, m message) error {
	res, err := b.invoke(ctx, "Publish", publishRequest(nil, m.clientID, m.payload))
	if err != nil {
		return err
	}
	return responseError("Publish", res)
}

// sendBatch is Batch{commands = 1: Command{publish = 4}}; replies come in order,
// Reply{error = 2, publish = 4}.
func (b *centrifugoBackend) sendBatch(ctx context.Context, ms []message) ([]error, error) {
	var req, pub []byte
	for _, m := range ms {
		pub = publishRequest(pub[:0], m.clientID, m.payload)
		var cmd []byte
		cmd = protowire.AppendTag(cmd, 4, protowire.BytesType)
		cmd = protowire.AppendBytes(cmd, pub)
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, cmd)
	}
	res, err := b.invoke(ctx, "Batch", req)
	if err != nil {
		return nil, err
	}
	errs := make([]error, 0, len(ms))
	for len(res) > 0 {
		num, typ, n := protowire.ConsumeTag(res)
		if n < 0 {
			return nil, fmt.Errorf("Batch: unreadable response")
		}
		res = res[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(res)
			if m < 0 {
				return nil, fmt.Errorf("Batch: unreadable reply")
			}
			res = res[m:]
			e, ok := fieldError(v, 2)
			if !ok {
				return nil, fmt.Errorf("Batch: unreadable reply")
			}
			if e != nil {
				e = fmt.Errorf("Batch item: %w", e)
			}
			errs = append(errs, e)
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, res)
		if m < 0 {
			return nil, fmt.Errorf("Batch: unreadable response")
		}
		res = res[m:]
	}
	if len(errs) != len(ms) {
		return nil, fmt.Errorf("Batch: %d replies for %d commands", len(errs), len(ms))
	}
	return errs, nil
}

func (b *centrifugoBackend) broadcast(ctx context.Context, topic, payload string) error {
	return b.send(ctx, message{clientID: topic, payload: payload})
}

func (b *centrifugoBackend) openStream(context.Context) (messageStream, error) {
	return nil, errUnsupported
}

func (b *centrifugoBackend) close() { b.conn.Close() }
