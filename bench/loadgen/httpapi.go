package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// httpBackend speaks channeld's HTTP/JSON API (issue 12): POST /channel.v1.ChannelService/<Method>
// on the HTTP port, the request's canonical proto JSON in, the response's out.
type httpBackend struct {
	base   string
	apiKey string
	client *http.Client
}

// errNotFound: the server answered 404, i.e. it has no HTTP API (yet).
var errNotFound = errors.New("HTTP 404")

func newHTTPBackend(e Endpoint) *httpBackend {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     time.Minute,
	}
	return &httpBackend{base: fmt.Sprintf("http://%s:%d/channel.v1.ChannelService/", e.Host, e.HTTPPort), apiKey: e.APIKey, client: &http.Client{Transport: transport, Timeout: time.Minute}}
}

func (h *httpBackend) post(ctx context.Context, method string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.apiKey)
	}
	res, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the reply: %w", method, err)
	}
	if res.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d %s", method, res.StatusCode, bytes.TrimSpace(data[:min(len(data), 300)]))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: reply is not the response's JSON (%v): %s", method, err, data[:min(len(data), 300)])
	}
	return nil
}

type httpSendRequest struct {
	ClientID string `json:"clientId"`
	Message  string `json:"message"`
}

type httpSendResponse struct {
	Seq   json.RawMessage `json:"seq"`
	Epoch string          `json:"epoch"`
}

type httpResult struct {
	Sent  *httpSendResponse `json:"sent"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (h *httpBackend) send(ctx context.Context, m message) error {
	body, _ := json.Marshal(httpSendRequest{ClientID: m.clientID, Message: m.payload})
	var out httpSendResponse
	if err := h.post(ctx, "SendMessage", body, &out); err != nil {
		return err
	}
	if out.Epoch == "" {
		return fmt.Errorf("SendMessage: the reply has no epoch")
	}
	return nil
}

func (h *httpBackend) sendBatch(ctx context.Context, ms []message) ([]error, error) {
	reqs := make([]httpSendRequest, len(ms))
	for i, m := range ms {
		reqs[i] = httpSendRequest{ClientID: m.clientID, Message: m.payload}
	}
	body, _ := json.Marshal(map[string]any{"requests": reqs})
	var out struct {
		Results []httpResult `json:"results"`
	}
	if err := h.post(ctx, "SendMessages", body, &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(ms) {
		return nil, fmt.Errorf("SendMessages: %d results for %d messages", len(out.Results), len(ms))
	}
	errs := make([]error, len(ms))
	for i, r := range out.Results {
		switch {
		case r.Sent != nil:
		case r.Error != nil:
			errs[i] = fmt.Errorf("SendMessages item: %d %s", r.Error.Code, r.Error.Message)
		default:
			errs[i] = fmt.Errorf("SendMessages item: empty result")
		}
	}
	return errs, nil
}

// probe: anything but 404 to an empty batch means the API is there.
func (h *httpBackend) probe(ctx context.Context) bool {
	var out struct{}
	err := h.post(ctx, "SendMessages", []byte(`{"requests":[]}`), &out)
	return !errors.Is(err, errNotFound)
}

func (h *httpBackend) close() { h.client.CloseIdleConnections() }
