package channel

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// App Engine's limits, which channeld keeps.
const (
	MaxClientIDBytes   = 256
	MaxMessageBytes    = 32767
	MinDurationMinutes = 1
	MaxDurationMinutes = 1440
)

// Error codes of App Engine's channel service (ChannelServiceError.ErrorCode).
const (
	CodeInternalError               int32 = 1
	CodeInvalidChannelKey           int32 = 2
	CodeBadMessage                  int32 = 3
	CodeInvalidChannelTokenDuration int32 = 4
)

var codeNames = map[int32]string{
	CodeInternalError:               "INTERNAL_ERROR",
	CodeInvalidChannelKey:           "INVALID_CHANNEL_KEY",
	CodeBadMessage:                  "BAD_MESSAGE",
	CodeInvalidChannelTokenDuration: "INVALID_CHANNEL_TOKEN_DURATION",
}

// APIError is App Engine's error for a rejected channel call, with the same text shape:
// "API error 3 (channel: BAD_MESSAGE): message is 40000 bytes; the limit is 32767".
type APIError struct {
	Service string
	Code    int32
	Detail  string
	// Err is the gRPC status error when the server rejected the call; nil when the client did.
	Err error
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("API error %d (%s: %s)", e.Code, e.Service, codeNames[e.Code])
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches the Err* values by service and code, whatever the detail.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Service == e.Service && t.Code == e.Code
}

func (e *APIError) Unwrap() error { return e.Err }

// Compare with errors.Is. They are App Engine's InvalidChannelClientIdError,
// InvalidChannelTokenDurationError and InvalidMessageError.
var (
	ErrInvalidClientID      error = &APIError{Service: "channel", Code: CodeInvalidChannelKey}
	ErrInvalidTokenDuration error = &APIError{Service: "channel", Code: CodeInvalidChannelTokenDuration}
	ErrInvalidMessage       error = &APIError{Service: "channel", Code: CodeBadMessage}
)

func invalid(code int32, format string, args ...any) error {
	return &APIError{Service: "channel", Code: code, Detail: fmt.Sprintf(format, args...)}
}

// checkText mirrors the server's rule (src/core/validation.ts) so the detail reads the same.
func checkText(code int32, field, value string, maxBytes int) error {
	switch {
	case !utf8.ValidString(value):
		return invalid(code, "%s is not valid UTF-8", field)
	case len(value) == 0:
		return invalid(code, "%s is empty; it must be 1 to %d bytes of UTF-8", field, maxBytes)
	case len(value) > maxBytes:
		return invalid(code, "%s is %d bytes; the limit is %d", field, len(value), maxBytes)
	}
	return nil
}

func checkClientID(clientID string) error {
	return checkText(CodeInvalidChannelKey, "client_id", clientID, MaxClientIDBytes)
}

func checkMessage(message string) error {
	return checkText(CodeBadMessage, "message", message, MaxMessageBytes)
}

func checkDuration(d time.Duration) (int32, error) {
	if d%time.Minute != 0 || d < MinDurationMinutes*time.Minute || d > MaxDurationMinutes*time.Minute {
		return 0, invalid(CodeInvalidChannelTokenDuration, "duration is %s; it must be a whole number of minutes from %d to %d",
			d, MinDurationMinutes, MaxDurationMinutes)
	}
	return int32(d / time.Minute), nil
}

// remapError turns the server's INVALID_ARGUMENT into the matching APIError (its message starts
// with the field name); every other failure stays a gRPC status error (use status.Code on it).
func remapError(err error) error {
	if err == nil {
		return nil
	}
	s, ok := status.FromError(err)
	if !ok || s.Code() != codes.InvalidArgument {
		return err
	}
	var code int32
	switch msg := s.Message(); {
	case strings.HasPrefix(msg, "client_id"):
		code = CodeInvalidChannelKey
	case strings.HasPrefix(msg, "duration_minutes"):
		code = CodeInvalidChannelTokenDuration
	case strings.HasPrefix(msg, "message"):
		code = CodeBadMessage
	default:
		return err
	}
	return &APIError{Service: "channel", Code: code, Detail: s.Message(), Err: err}
}
