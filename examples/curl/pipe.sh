#!/usr/bin/env bash
# A whole backend in a pipe: every line read from stdin becomes one message to a client id, in
# order, sent in batches of what has arrived (up to 100 lines per call). Prints one line per
# message: its seq, or the error for that line.
#   tail -f build.log | ./pipe.sh alice
#   ./pipe.sh alice < notifications.txt
source "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || usage "CLIENT_ID"
client=$(json_string "$1")
send_batch() {
  local answer
  answer=$(api_call SendMessages "{\"requests\": [$1]}")
  # One result per line: {"sent":{"seq":"…",…}} or {"error":{…}}; no jq needed.
  printf '%s\n' "$answer" | sed -e 's/^{"results":\[//' -e 's/\]}$//' -e 's/},{"\(sent\|error\)"/}\n{"\1"/g'
}
items=''
count=0
while IFS= read -r line || [ -n "$line" ]; do
  items+="${items:+,}{\"client_id\": $client, \"message\": $(json_string "$line")}"
  count=$((count + 1))
  # Send when 100 lines are waiting or nothing more is there to read right now.
  if [ "$count" -ge 100 ] || ! read -r -t 0; then
    send_batch "$items"
    items=''
    count=0
  fi
done
[ "$count" -eq 0 ] || send_batch "$items"
