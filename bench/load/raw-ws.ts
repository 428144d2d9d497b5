import { connect, type Socket } from 'node:net';
import { constants, createInflateRaw, inflateRawSync, type InflateRaw } from 'node:zlib';

/**
 * A minimal WebSocket client for load generation: it does the HTTP upgrade by hand and parses only
 * frame headers, handing each text frame's bytes to the handler without decoding them. A full
 * client library (ws) spends more CPU per frame than the uWS server it is measuring.
 */
export interface RawWsHandler {
  /** The server answered 101. */
  onUpgraded(ws: RawWs): void;
  /** One complete text frame: `buf[start, end)`. `nowUs` is when the bytes were read. */
  onText(ws: RawWs, buf: Buffer, start: number, end: number, nowUs: number): void;
  /** The connection ended: refused, closed by the server, or failed. Not called after `destroy()`. */
  onEnd(ws: RawWs, why: string): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** RFC 7692 §7.2.2: the tail a sender strips from each compressed message, put back before inflating. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const RSV1 = 0x40;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

function maskedFrame(opcode: number, payload: Buffer): Buffer {
  // Client frames must be masked; an all-zero mask leaves the payload bytes as they are.
  const len = payload.length;
  const head = len < 126 ? 2 : 4;
  const frame = Buffer.alloc(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = 0x80 | len;
  } else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  }
  payload.copy(frame, head + 4);
  return frame;
}

/** A compressed message waiting for its turn in a context-takeover inflater, or a plain one behind it. */
interface QueuedFrame {
  readonly data: Buffer;
  readonly compressed: boolean;
  readonly nowUs: number;
}

export class RawWs {
  readonly socket: Socket;
  /** Bytes read from the socket so far (headers, frames and their headers: what crossed the wire). */
  wireBytes = 0;
  /** permessage-deflate was negotiated. */
  deflate = false;
  /**
   * With context takeover (uWS's DEDICATED compressor) each message refers back to the ones before
   * it, so one inflater per socket keeps the window, fed in order; with server_no_context_takeover
   * (SHARED) every message inflates on its own, synchronously.
   */
  private inflater: InflateRaw | undefined;
  private inflateQueue: QueuedFrame[] = [];
  private inflateBusy = false;
  private pending: Buffer | undefined;
  private upgraded = false;
  /** Frames read after the upgrade, for the error when the server drops the connection. */
  private frames = 0;
  private ended = false;

  constructor(
    host: string,
    port: number,
    path: string,
    protocols: string | undefined,
    private readonly handler: RawWsHandler,
    /** Index of this socket in its owner's tables. */
    readonly slot: number,
    clock: () => number,
    /** Offer permessage-deflate (RFC 7692) on the upgrade. */
    offerDeflate = false,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    const request =
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      (protocols === undefined ? '' : `Sec-WebSocket-Protocol: ${protocols}\r\n`) +
      (offerDeflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
      '\r\n';
    this.socket.on('connect', () => this.socket.write(request));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk, clock()));
    this.socket.on('error', (err) => this.end(`socket error: ${err.message}`));
    this.socket.on('close', () =>
      this.end(`connection closed by the server ${this.upgraded ? `after the upgrade and ${this.frames} frames` : 'before the upgrade'}, without a close frame`),
    );
  }

  sendText(text: string): void {
    this.socket.write(maskedFrame(OPCODE_TEXT, Buffer.from(text)));
  }

  /** Drops the connection without telling the handler. */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
    this.inflater?.close();
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.inflater?.close();
    this.handler.onEnd(this, why);
  }

  /** Reads the upgrade's Sec-WebSocket-Extensions: what was agreed decides how frames inflate. */
  private negotiate(headers: string): void {
    const line = /^sec-websocket-extensions:\s*(.*)$/im.exec(headers)?.[1] ?? '';
    if (!/permessage-deflate/i.test(line)) return;
    this.deflate = true;
    if (/server_no_context_takeover/i.test(line)) return;
    const bits = /server_max_window_bits=(\d+)/i.exec(line)?.[1];
    const inflater = createInflateRaw({ windowBits: bits === undefined ? 15 : Number(bits) });
    inflater.on('error', (err) => this.end(`permessage-deflate: ${err.message}`));
    this.inflater = inflater;
  }

  private onMessage(data: Buffer, compressed: boolean, nowUs: number): void {
    if (this.inflater !== undefined && (compressed || this.inflateBusy)) {
      // Copied: the chunk's memory is reused by the next read.
      this.inflateQueue.push({ data: Buffer.from(data), compressed, nowUs });
      this.pumpInflate();
      return;
    }
    if (!compressed) {
      this.handler.onText(this, data, 0, data.length, nowUs);
      return;
    }
    let plain: Buffer;
    try {
      plain = inflateRawSync(Buffer.concat([data, DEFLATE_TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      this.end(`permessage-deflate: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.handler.onText(this, plain, 0, plain.length, nowUs);
  }

  /** Inflates the queued messages one at a time, in order: each one's output ends at its flush. */
  private pumpInflate(): void {
    const inflater = this.inflater!;
    while (!this.inflateBusy && this.inflateQueue.length > 0 && !this.ended) {
      const next = this.inflateQueue.shift()!;
      if (!next.compressed) {
        this.handler.onText(this, next.data, 0, next.data.length, next.nowUs);
        continue;
      }
      this.inflateBusy = true;
      const parts: Buffer[] = [];
      const onData = (chunk: Buffer): void => void parts.push(chunk);
      inflater.on('data', onData);
      inflater.write(Buffer.concat([next.data, DEFLATE_TAIL]));
      inflater.flush(constants.Z_SYNC_FLUSH, () => {
        inflater.off('data', onData);
        this.inflateBusy = false;
        if (this.ended) return;
        const plain = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        this.handler.onText(this, plain, 0, plain.length, next.nowUs);
        this.pumpInflate();
      });
    }
  }

  private onData(chunk: Buffer, nowUs: number): void {
    this.wireBytes += chunk.length;
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let pos = 0;
    if (!this.upgraded) {
      const headerEnd = buf.indexOf(HEADER_END);
      if (headerEnd < 0) {
        this.pending = buf;
        return;
      }
      const statusLine = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!statusLine.startsWith('HTTP/1.1 101')) {
        this.end(`upgrade refused: ${statusLine}`);
        return;
      }
      this.upgraded = true;
      this.negotiate(buf.toString('latin1', 0, headerEnd));
      pos = headerEnd + HEADER_END.length;
      this.handler.onUpgraded(this);
    }
    const length = buf.length;
    while (pos + 2 <= length && !this.ended) {
      const b0 = buf[pos]!;
      const b1 = buf[pos + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (pos + 4 > length) break;
        len = buf.readUInt16BE(pos + 2);
        head = 4;
      } else if (len === 127) {
        if (pos + 10 > length) break;
        len = Number(buf.readBigUInt64BE(pos + 2));
        head = 10;
      }
      if ((b1 & 0x80) !== 0) {
        this.end('protocol: the server sent a masked frame');
        return;
      }
      const start = pos + head;
      const end = start + len;
      if (end > length) break;
      if ((b0 & 0x80) === 0) {
        this.end('protocol: fragmented frames are not supported by this generator');
        return;
      }
      const opcode = b0 & 0x0f;
      this.frames++;
      if (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) {
        if (this.deflate) this.onMessage(buf.subarray(start, end), (b0 & RSV1) !== 0, nowUs);
        else this.handler.onText(this, buf, start, end, nowUs);
      } else if (opcode === OPCODE_PING) {
        this.socket.write(maskedFrame(OPCODE_PONG, buf.subarray(start, end)));
      } else if (opcode === OPCODE_CLOSE) {
        const code = len >= 2 ? buf.readUInt16BE(start) : 1005;
        this.end(`closed by the server with ${code} ${buf.toString('utf8', start + 2, end)}`);
        return;
      }
      pos = end;
    }
    // Copy the partial frame: the chunk's memory is reused by the next read otherwise held on to.
    if (pos < length && !this.ended) this.pending = Buffer.from(buf.subarray(pos));
  }
}
