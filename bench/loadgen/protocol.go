package main

// The coordinator's messages (bench/ipc.ts, SenderRequest and SenderMessage), one JSON object a
// line on stdin and stdout. Field names are the TypeScript ones.

// Endpoint is how the generator reaches one server.
type Endpoint struct {
	Kind     string `json:"kind"` // channeld, baseline or centrifugo
	Host     string `json:"host"`
	HTTPPort int    `json:"httpPort"`
	GRPCPort int    `json:"grpcPort"`
	// APIKey, when set, goes out as "authorization: Bearer <key>" (gRPC metadata and HTTP).
	APIKey string `json:"apiKey,omitempty"`
	// TokenSecret signs Centrifugo connection tokens (HS256).
	TokenSecret string `json:"tokenSecret,omitempty"`
}

type RunClient struct {
	ClientID  string `json:"clientId"`
	ClientIdx int    `json:"clientIdx"`
}

// RunSpec is one measured run; see RunSpec in bench/ipc.ts.
type RunSpec struct {
	Kind         string      `json:"kind"` // unary, batch, stream, broadcast, http-unary, http-batch
	Clients      []RunClient `json:"clients"`
	Topic        string      `json:"topic"`
	DurationMs   float64     `json:"durationMs"`
	Rate         float64     `json:"rate"`
	InFlight     int         `json:"inFlight"`
	Batch        int         `json:"batch"`
	MessageBytes int         `json:"messageBytes"`
	UnitsPerCall int         `json:"unitsPerCall"`
	NOffset      int         `json:"nOffset"`
	NStride      int         `json:"nStride"`
	// Topics, when set, are what a broadcast run calls Broadcast on, one topic a call in turn
	// (Topic is then unused), so a run can spread its topics over Redis shards.
	Topics []string `json:"topics,omitempty"`
}

type RunReply struct {
	SentPerClient []int64 `json:"sentPerClient"`
	Calls         int64   `json:"calls"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"firstError"`
	ElapsedMs     float64 `json:"elapsedMs"`
	// SentPerTopic counts successful broadcasts per entry of RunSpec.Topics (empty without them).
	SentPerTopic []int64 `json:"sentPerTopic"`
}

type request struct {
	Type        string    `json:"type"`
	Req         *int      `json:"req"`
	Endpoint    *Endpoint `json:"endpoint"`
	ClientIDs   []string  `json:"clientIds"`
	Concurrency int       `json:"concurrency"`
	Topic       string    `json:"topic"`
	Method      string    `json:"method"`
	Spec        *RunSpec  `json:"spec"`
	Open        bool      `json:"open"`
}

type reply struct {
	Type  string `json:"type"`
	Req   int    `json:"req"`
	OK    bool   `json:"ok"`
	Value any    `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

type sentMessage struct {
	Type  string `json:"type"`
	Units int64  `json:"units"`
}
