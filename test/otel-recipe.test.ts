/**
 * The OpenTelemetry recipe of docs/observability.md: the doc shows examples/otel-recipe.mjs verbatim,
 * and that file, run with the OpenTelemetry SDK's in-memory exporters against the built package
 * (test/fixtures/otel-run.mjs), records one span per atomized call (an error status for one that
 * timed out), the wait times of the calls that got their lock, and the contention counters.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from './helpers/run-node.js';
import { cleanup, tempDir } from './storage-file/helpers.js';

afterAll(cleanup);

const MARKER = '<!-- examples/otel-recipe.mjs, verbatim (test/otel-recipe.test.ts checks it) -->';

interface Recorded {
  spans: Array<{ name: string; attributes: Record<string, string>; status: number; events: string[]; ms: number }>;
  metrics: Record<string, Array<{ attributes: Record<string, string>; value: number | { count: number; sum: number; min: number } }>>;
  outcomes: string[];
}

describe('the OpenTelemetry recipe (docs/observability.md)', () => {
  it('is shown in the doc exactly as examples/otel-recipe.mjs has it', () => {
    const doc = readFileSync('docs/observability.md', 'utf8');
    const at = doc.indexOf(MARKER);
    expect(at).toBeGreaterThan(-1);
    const block = /^```js\n([\s\S]*?)^```$/m.exec(doc.slice(at + MARKER.length));
    expect(block?.[1]).toBe(readFileSync('examples/otel-recipe.mjs', 'utf8'));
  });

  it('records a span per call, the wait times, and the contention counters of a contended run', async () => {
    const directory = tempDir('otel');
    const { code, stdout, stderr } = await runNode(['test/fixtures/otel-run.mjs', JSON.stringify({ directory })]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { spans, metrics, outcomes } = JSON.parse(stdout) as Recorded;
    expect(outcomes).toEqual(['sent', 'sent', 'LockTimeoutError']);

    // Three calls, three spans (none for the call made after the recipe was undone); the timed-out one
    // ends in error with its exception recorded, after its 150 ms deadline.
    expect(spans).toHaveLength(3);
    const failed = spans.filter((span) => span.status === 2);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ name: 'atomize', attributes: { 'lock.channels': 'stock', 'http.request.method': 'POST' }, events: ['exception'] });
    expect(failed[0]!.ms).toBeGreaterThanOrEqual(140);
    const sent = spans.filter((span) => span.status !== 2);
    expect(sent.map((span) => span.attributes)).toEqual([
      { 'lock.channels': 'stock', 'http.request.method': 'GET' },
      { 'lock.channels': 'stock', 'http.request.method': 'GET' },
    ]);
    // The wait is inside the span: the lock was held at least 250 ms.
    for (const span of sent) expect(span.ms).toBeGreaterThanOrEqual(240);

    // Both calls that got the lock waited for it: 150 ms of the impatient call, then 100 ms more.
    expect(metrics['alova_atomize.lock.wait']).toEqual([{ attributes: { 'lock.channel': 'stock' }, value: expect.objectContaining({ count: 2 }) }]);
    const wait = metrics['alova_atomize.lock.wait']![0]!.value as { count: number; sum: number; min: number };
    expect(wait.min).toBeGreaterThanOrEqual(240);
    // All three found the channel held; one gave up.
    expect(metrics['alova_atomize.lock.contended']).toEqual([{ attributes: { 'lock.channel': 'stock' }, value: 3 }]);
    expect(metrics['alova_atomize.lock.timeouts']).toEqual([{ attributes: { 'lock.channel': 'stock' }, value: 1 }]);
  });
});
