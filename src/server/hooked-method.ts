import { Method, type AlovaGenerics } from 'alova';

/** Runs one send of a hooked method; `signal` aborts when `abort()` is called on it. */
export type RequestHandler = (forceRequest: boolean, signal: AbortSignal) => Promise<unknown>;

const defineHookedMethod = (Base: typeof Method) =>
  class HookedMethod extends Base {
    #handler: RequestHandler;
    #entity: Method;
    #runs = new Set<AbortController>();

    constructor(entity: Method, handler: RequestHandler) {
      super(entity.type, entity.context, entity.url, { ...entity.config }, entity.data);
      this.#handler = handler;
      this.#entity = entity;
      Object.assign(this, { config: { ...entity.config }, uhs: entity.uhs, dhs: entity.dhs });
      // Aborts every send in progress: a wait for the lock stops, a running request is aborted.
      this.abort = Object.assign(() => this.#abortAll(), { a: () => this.#abortAll() });
    }

    send(forceRequest = false): Promise<any> {
      const run = new AbortController();
      this.#runs.add(run);
      return this.#handler(forceRequest, run.signal).finally(() => this.#runs.delete(run));
    }

    #abortAll(): Promise<void> {
      for (const run of this.#runs) run.abort();
      return Promise.resolve(this.#entity.abort());
    }
  };

/** An alova `Method` whose `send` runs under the locks of `atomize`. */
export interface HookedMethod<AG extends AlovaGenerics = any> extends Method<AG> {
  send(forceRequest?: boolean): Promise<AG['Responded']>;
}

/** The HookedMethod class for the `alova` this package resolves. */
export const HookedMethod = defineHookedMethod(Method) as unknown as new <AG extends AlovaGenerics>(
  entity: Method<AG>,
  handler: RequestHandler,
) => HookedMethod<AG>;

const foreign = new WeakMap<object, typeof HookedMethod>();

/**
 * Wraps `entity` in a HookedMethod that is `instanceof` the Method class the entity came from, also
 * when the user's alova is another copy (its CommonJS and ESM builds are two classes).
 */
export const hookMethod = <AG extends AlovaGenerics>(entity: Method<AG>, handler: RequestHandler): HookedMethod<AG> => {
  if (entity instanceof Method) return new HookedMethod(entity, handler);
  const Base = (entity as object).constructor as typeof Method;
  let Hooked = foreign.get(Base);
  if (!Hooked) foreign.set(Base, (Hooked = defineHookedMethod(Base) as unknown as typeof HookedMethod));
  return new Hooked(entity, handler);
};
