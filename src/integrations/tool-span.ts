import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '../conventions/generated.js';

/**
 * Runs a tool call inside `span` and ends it: a thrown error is recorded (`error.type`, the exception,
 * status ERROR) and rethrown unchanged; `onResult` may record what the call returned.
 */
export async function runInToolSpan<R>(
  span: Span,
  run: () => R | Promise<R>,
  onResult: (result: R) => void,
): Promise<R> {
  try {
    const result = await run();
    onResult(result);
    return result;
  } catch (err) {
    span.setAttribute(ATTR_ERROR_TYPE, err instanceof Error && err.name !== 'Error' ? err.name : '_OTHER');
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
