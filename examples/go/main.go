// Command example-go is a tiny App Engine–style web backend on channeld: its page loads the
// Channel API script from channeld, gets a token minted for the visitor, and can ask the backend to
// send the visitor a message; the backend prints every presence change it is told about.
//
//	go run . -channeld-grpc 127.0.0.1:50051 -channeld-http http://localhost:8080 -listen 127.0.0.1:8081
//
// Flags fall back to CHANNELD_GRPC_ADDR, CHANNELD_HTTP_URL, CHANNELD_API_KEY and LISTEN_ADDR.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	channelv1 "github.com/channeld/channeld/gen/go/channel/v1"
	"github.com/channeld/channeld/sdk/go/channel"
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	listen := flag.String("listen", envOr("LISTEN_ADDR", "127.0.0.1:8081"), "address this backend serves its page on (port 0: any free port)")
	grpcAddr := flag.String("channeld-grpc", envOr(channel.EnvAddr, channel.DefaultAddr), "channeld's gRPC address")
	httpURL := flag.String("channeld-http", envOr("CHANNELD_HTTP_URL", "http://localhost:8080"), "channeld's HTTP URL as browsers reach it")
	apiKey := flag.String("api-key", os.Getenv(channel.EnvAPIKey), "channeld API key, when it has keys")
	flag.Parse()

	client, err := channel.NewClient(channel.WithAddress(*grpcAddr), channel.WithAPIKey(*apiKey))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go watchPresence(ctx, client)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: routes(client, *httpURL), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func routes(client *channel.Client, channeldURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		id := visitorID(w, r)
		// The same call an App Engine app made: channel.Create(ctx, clientID).
		token, err := channel.Create(channel.NewContext(r.Context(), client), id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, map[string]string{"ChanneldURL": channeldURL, "ClientID": id, "Token": token})
	})
	mux.HandleFunc("POST /send", func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("client_id")
		if id == "" {
			id = visitorID(w, r)
		}
		msg := map[string]string{"text": r.FormValue("message"), "from": "example-go"}
		if err := channel.SendJSON(channel.NewContext(r.Context(), client), id, msg); err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, channel.ErrInvalidClientID) || errors.Is(err, channel.ErrInvalidMessage) {
				status = http.StatusBadRequest
			}
			http.Error(w, err.Error(), status)
			return
		}
		fmt.Fprintf(w, "sent to %s\n", id)
	})
	return mux
}

const cookieName = "example_client_id"

// visitorID names the browser for channeld; a cookie keeps it across reloads.
func visitorID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		return c.Value
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := "visitor-" + hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return id
}

// watchPresence prints CONNECTED/DISCONNECTED events, resuming from the last cursor after a break.
func watchPresence(ctx context.Context, client *channel.Client) {
	cursor := ""
	for ctx.Err() == nil {
		stream, err := client.Service().WatchPresence(ctx, &channelv1.WatchPresenceRequest{Snapshot: cursor == "", Cursor: cursor})
		if err == nil {
			for {
				res, err := stream.Recv()
				if err != nil {
					break
				}
				if done := res.GetSnapshotComplete(); done != nil {
					cursor = done.GetCursor()
					fmt.Println("presence: watching")
				}
				if ev := res.GetEvent(); ev != nil {
					cursor = ev.GetCursor()
					fmt.Printf("presence: %s %s (%s)\n", ev.GetClientId(), short(ev.GetState().String(), "PRESENCE_STATE_"), short(ev.GetReason().String(), "PRESENCE_REASON_"))
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func short(s, prefix string) string {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8">
<title>channeld Go example</title>
<script src="{{.ChanneldURL}}/_ah/channel/jsapi"></script>
<p>You are <code id="client-id">{{.ClientID}}</code>. <span id="state">connecting…</span></p>
<form id="send"><input name="message" value="hello from Go"> <button>Ask the backend to send it</button></form>
<ul id="log"></ul>
<script>
  var clientId = {{.ClientID}};
  var token = {{.Token}};
  function show(text) {
    var li = document.createElement('li');
    li.textContent = text;
    document.getElementById('log').appendChild(li);
  }
  var channel = new goog.appengine.Channel(token);
  var socket = channel.open();
  socket.onopen = function () { document.getElementById('state').textContent = 'connected'; };
  socket.onmessage = function (m) { show(m.data); };
  socket.onerror = function (e) { show('error ' + e.code + ' ' + e.description); };
  socket.onclose = function () { document.getElementById('state').textContent = 'closed'; };
  document.getElementById('send').onsubmit = function (e) {
    e.preventDefault();
    var body = new URLSearchParams({ client_id: clientId, message: e.target.message.value });
    fetch('/send', { method: 'POST', body: body });
  };
</script>
`))
