import { OPS_PATHS, STATUS_TEXT, type OpsAnswer, type OpsAnswers } from '../metrics/probes.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

function send(res: HttpResponse, answer: OpsAnswer, head: boolean, close: boolean, aborted: () => boolean): void {
  if (aborted()) return;
  res.cork(() => {
    res
      .writeStatus(STATUS_TEXT[answer.status] ?? `${answer.status} Unknown`)
      .writeHeader('content-type', answer.contentType)
      .writeHeader('cache-control', 'no-store');
    // HEAD: the length the GET would have, and no body.
    if (head) res.endWithoutBody(Buffer.byteLength(answer.body), close);
    else res.end(answer.body, close);
  });
}

/**
 * /healthz, /readyz and (unless --metrics-port has it) /metrics on the HTTP port, for GET and
 * HEAD. Mounted before the catch-all route.
 */
export function mountOpsRoutes(app: TemplatedApp, answers: OpsAnswers): void {
  for (const path of Object.values(OPS_PATHS)) {
    if (!answers.serves(path)) continue;
    const handle = (head: boolean) => (res: HttpResponse, req: HttpRequest): void => {
      const close = /\bclose\b/i.test(req.getHeader('connection'));
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const answer = answers.answer(path);
      if (answer instanceof Promise) {
        answer.then(
          (a) => send(res, a, head, close, () => aborted),
          () => send(res, { status: 500, contentType: 'text/plain; charset=utf-8', body: 'internal error\n' }, head, close, () => aborted),
        );
      } else send(res, answer, head, close, () => aborted);
    };
    app.get(path, handle(false));
    app.head(path, handle(true));
  }
}
