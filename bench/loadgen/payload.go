package main

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// monotonicUs is CLOCK_MONOTONIC in microseconds: the clock Node's process.hrtime reads, so a
// receiver process can subtract a payload's timestamp from its own reading.
func monotonicUs() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return ts.Sec*1_000_000 + ts.Nsec/1000
}

// encodePayload is bench/load/payload.ts's format: `<clientIdx>:<n>:<sentAtUs>:` padded with x
// to `size` bytes. Digits, colons and letters only, so it needs no JSON escaping.
func encodePayload(buf []byte, clientIdx, n int, sentAtUs int64, size int) []byte {
	buf = buf[:0]
	buf = strconv.AppendInt(buf, int64(clientIdx), 10)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, sentAtUs, 10)
	buf = append(buf, ':')
	for len(buf) < size {
		buf = append(buf, 'x')
	}
	return buf
}
