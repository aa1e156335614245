// OpenTelemetry for alova-atomize: a span per atomized call, a lock-wait histogram, contention counters.
// Call instrumentAtomize() once, after your OpenTelemetry SDK is set up; it returns a function that undoes it.
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { EVENTS } from 'alova-atomize/server';

export function instrumentAtomize({ tracer = trace.getTracer('alova-atomize'), meter = metrics.getMeter('alova-atomize') } = {}) {
  const waitTime = meter.createHistogram('alova_atomize.lock.wait', {
    unit: 'ms',
    description: 'Time from the start of a call to the lock of one of its channels',
  });
  const contended = meter.createCounter('alova_atomize.lock.contended', { description: 'Calls that found their channel held' });
  const timeouts = meter.createCounter('alova_atomize.lock.timeouts', { description: 'Waits for a lock ended by their deadline' });

  // Channel names become attribute values: keep them few (`stock`, not `stock:${id}`), or drop the attribute.
  const listeners = {
    [EVENTS.acquire]: ({ channel, waitedMs }) => waitTime.record(waitedMs, { 'lock.channel': channel }),
    [EVENTS.wait]: ({ channel }) => contended.add(1, { 'lock.channel': channel }),
    [EVENTS.timeout]: ({ channel }) => timeouts.add(1, { 'lock.channel': channel }),
  };
  // One span per send of an atomized method, the wait for its locks included.
  const spans = {
    start(context) {
      context.span = tracer.startSpan('atomize', {
        attributes: { 'lock.channels': context.channels.join(','), 'http.request.method': context.method.type },
      });
    },
    error(context) {
      context.span.recordException(context.error);
      context.span.setStatus({ code: SpanStatusCode.ERROR, message: context.error?.message });
    },
    asyncEnd(context) {
      context.span.end();
    },
  };

  for (const [name, listener] of Object.entries(listeners)) subscribe(name, listener);
  const send = tracingChannel(EVENTS.send);
  send.subscribe(spans);
  return () => {
    for (const [name, listener] of Object.entries(listeners)) unsubscribe(name, listener);
    send.unsubscribe(spans);
  };
}
