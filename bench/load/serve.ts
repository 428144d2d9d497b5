/** The request/reply loop of a generator process: one handler, replies matched by `req`. */
export function serveRequests<R extends { readonly type: string; readonly req?: number }>(
  handle: (request: R) => Promise<unknown>,
  onOther: (message: R) => void = () => undefined,
): void {
  process.on('message', (message: R) => {
    if (message.req === undefined) {
      onOther(message);
      return;
    }
    const req = message.req;
    handle(message).then(
      (value) => process.send?.({ type: 'reply', req, ok: true, value: value ?? null }),
      (err: unknown) => process.send?.({ type: 'reply', req, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  // The coordinator owns this process: when it goes away, so do we.
  process.on('disconnect', () => process.exit(0));
}
